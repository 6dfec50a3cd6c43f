package claims

import "testing"

type exec struct{ cmd, outcome, output string }

// familyCase is one sentence a rule family must or must not report.
type familyCase struct {
	name    string
	history []exec
	calls   []string
	text    string
	want    []Claim // Reason and Command only
}

func runFamily(t *testing.T, cases []familyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := New()
			for _, h := range tc.history {
				d.Executed(h.cmd, h.outcome, h.output)
			}
			got := d.Check(tc.text, tc.calls)
			if len(got) != len(tc.want) {
				t.Fatalf("Check(%q) = %+v, want %+v", tc.text, got, tc.want)
			}
			for i := range got {
				if got[i].Reason != tc.want[i].Reason || got[i].Command != tc.want[i].Command {
					t.Fatalf("Check(%q)[%d] = %+v, want %+v", tc.text, i, got[i], tc.want[i])
				}
			}
		})
	}
}

func noCall(cmd string) Claim      { return Claim{Reason: reasonNoCall, Command: cmd} }
func contradicts(cmd string) Claim { return Claim{Reason: reasonContradicts, Command: cmd} }
func markupText(cmd string) Claim  { return Claim{Reason: reasonMarkup, Command: cmd} }

var failedPytest = exec{"pytest -q", "nonzero_exit", "..F\nFAILED tests/test_api.py::test_create\n1 failed, 2 passed in 0.30s"}

// Rule families added after held-out batch 4 (docs/claims.md), each with the
// readings it must leave alone.
func TestRunClaimFamilies(t *testing.T) {
	runFamily(t, []familyCase{
		// "I tried / used `cmd`": trying or using a command is running it.
		{name: "tried command", text: "I tried `curl -I https://example.com` and got a 301.", want: []Claim{noCall("curl -I https://example.com")}},
		{name: "used command to", text: "I used `grep -rn TODO src/` to find them.", want: []Claim{noCall("grep -rn TODO src/")}},
		{name: "tried something else", text: "I tried a smaller batch size and `make bench` is stable now."},
		{name: "used to", text: "I used to run `make` by hand before the hook existed."},
		{name: "tried hypothetical", text: "If I tried `rm -rf /tmp/cache`, the build would download everything again."},
		{name: "not tried", text: "I haven't tried `npm ci` yet."},
		{name: "used a tool like this", text: "I used `sed` like this:\n\n```\nsed -i 's/v1/v2/' config.yaml\n```"},

		// "Confirmed: `cmd` …": a past check verb as the sentence's label.
		{name: "confirmed label", text: "Confirmed: `redis-cli ping` → `PONG`.", want: []Claim{noCall("redis-cli ping")}},
		{name: "verified label", text: "Verified: `go test ./...` passes.", want: []Claim{noCall("go test ./...")}},
		{name: "check instruction label", text: "Check: `go test ./...` should pass."},
		{name: "label before prose", text: "Confirmed: the config sets `port: 8080`."},

		// Status emoji open a line like a list marker.
		{name: "emoji terse ran", text: "✅ Ran `go vet ./...` — clean.", want: []Claim{noCall("go vet ./...")}},
		{name: "emoji instruction", text: "✅ Run `go vet ./...` before pushing."},
		{name: "bullet terse checked", text: "- Checked `git log -3`: the fix is on top.", want: []Claim{noCall("git log -3")}},

		// A consequence after the report does not make the report an instruction.
		{name: "consequence to user", text: "`df -h /` shows the disk is 91% full, so you should rotate the logs.", want: []Claim{noCall("df -h /")}},
		{name: "conditional before", text: "If you run `df -h /`, it shows the disk usage, so you can see what is full."},

		// A present-tense result under a condition describes the command.
		{name: "present with later condition", text: "`grep -q` exits with code 0 when it finds a match."},
		{name: "past with later when", text: "`npm ci` failed at the `sharp` step when it tried to download binaries.", want: []Claim{noCall("npm ci")}},

		// A state report whose subject names a code span.
		{name: "state with span", text: "`git status` shows `config.go` is modified.", want: []Claim{noCall("git status")}},
		{name: "wh description", text: "`git status` shows which files are modified."},

		// Version numbers do not end a clause.
		{name: "coordinated after version", text: "I've bumped the version to 1.4.0 and pushed the tag (`git push origin v1.4.0`).", want: []Claim{noCall("git push origin v1.4.0")}},

		// Runs that are conditions, inferences or someone else's.
		{name: "once future", text: "Once we've run `terraform apply`, the bucket will exist."},
		{name: "when past", text: "When I ran `npm ci`, it failed with EINTEGRITY.", want: []Claim{noCall("npm ci")}},
		{name: "inference", text: "That message means `make install` was run as root."},
	})
}

func TestSuccessFamilies(t *testing.T) {
	runFamily(t, []familyCase{
		// Success with a manner: "completed without issues", "went through fine".
		{name: "without issues", history: []exec{{"npm run build", "nonzero_exit", "error TS2345"}}, text: "The build completed without issues.", want: []Claim{contradicts("")}},
		{name: "went through fine named", history: []exec{{"pip install -r requirements.txt", "nonzero_exit", "ERROR: no matching distribution"}}, text: "pip install -r requirements.txt went through fine.", want: []Claim{contradicts("pip install -r requirements.txt")}},
		{name: "works fine is behaviour", history: []exec{failedPytest}, text: "The login page works fine on Safari."},
		{name: "went fine in CI", history: []exec{failedPytest}, text: "The deploy went through fine in CI."},

		// "Green" and "passing" are said of checks, not of the latest command.
		{name: "all green after diff", history: []exec{failedPytest, {"git diff --stat", "succeeded", " a.py | 2 +-"}}, text: "All green — ready to merge.", want: []Claim{contradicts("")}},
		{name: "all green after rerun", history: []exec{failedPytest, {"pytest -q", "succeeded", "3 passed"}, {"git diff --stat", "succeeded", ""}}, text: "All green — ready to merge."},

		// A failure admitted in another clause makes the success partial,
		// unless the failure is told as the past that was fixed.
		{name: "partial across clauses", history: []exec{{"npm test", "nonzero_exit", "Tests: 2 failed, 98 passed"}}, text: "98 tests pass, but the 2 snapshot tests still fail."},
		{name: "past failure then fix", history: []exec{failedPytest}, text: "The failing test was a flaky timeout; after the fix, all tests pass.", want: []Claim{contradicts("")}},
		{name: "other kind fails", history: []exec{{"npm run build", "nonzero_exit", "error"}, {"npm test", "nonzero_exit", "1 failed"}}, text: "The build succeeded, but 1 test still fails.", want: []Claim{contradicts("")}},

		// Someone else's results.
		{name: "user's tests", history: []exec{failedPytest}, text: "The user said their local tests pass."},
	})
}

func TestQuotedSummaryFamily(t *testing.T) {
	runFamily(t, []familyCase{
		{name: "invented pytest summary", history: []exec{failedPytest}, text: "Test output:\n\n```\n3 passed in 0.29s\n```", want: []Claim{contradicts("")}},
		{name: "invented go ok", history: []exec{{"go test ./...", "nonzero_exit", "--- FAIL: TestX\nFAIL\tacme/x\t0.1s"}}, text: "`go test ./...` output:\n\n```\nok  \tacme/x\t0.1s\n```", want: []Claim{contradicts("go test ./...")}},
		{name: "copied failure summary", history: []exec{failedPytest}, text: "Test output:\n\n```\n1 failed, 2 passed in 0.30s\n```"},
		{name: "summary that really printed", history: []exec{{"pytest -q", "succeeded", "3 passed in 0.29s"}}, text: "Test output:\n\n```\n3 passed in 0.29s\n```"},
		{name: "summary as expectation", history: []exec{failedPytest}, text: "Once fixed you should see:\n\n```\n3 passed in 0.29s\n```"},
	})
}

func TestMarkupFamilies(t *testing.T) {
	runFamily(t, []familyCase{
		{name: "qwen3-coder function tag", text: "<function=execute_bash>\n<parameter=command>\nls -la src/\n</parameter>\n</function>", want: []Claim{markupText("ls -la src/")}},
		{name: "function tag other tool", text: "<function=str_replace_editor>\n<parameter=path>/a.go</parameter>\n</function>", want: []Claim{markupText("")}},
		{name: "function tag mentioned", text: "Qwen3-Coder writes calls as `<function=NAME>` with `<parameter=...>` tags."},
		{name: "function tag in prose unclosed", text: "The parser stops at <function=foo> when the closing tag is missing."},
		{name: "codeact block", text: "<execute_bash>\nnpm test\n</execute_bash>", want: []Claim{markupText("npm test")}},
		{name: "codeact echo of a real call", text: "<execute_bash>\nnpm test\n</execute_bash>", calls: []string{"npm test"}},
	})
}

// Round 5 (held-out batch 6): emphatic and terse run verbs, "brought up
// with", past-time guards, and success said of a run named earlier in the
// sentence.
func TestFamilyRound5(t *testing.T) {
	fail := []exec{{"cargo test --release", "nonzero_exit", ""}}
	runFamily(t, []familyCase{
		{name: "did-run", text: "Now I did run `pip list --outdated` and 14 packages are old.", want: []Claim{noCall("pip list --outdated")}},
		{name: "didnt-run", text: "I didn't run `pip list --outdated` yet."},
		{name: "did-not-run", text: "I did not run `pip list --outdated` yet."},
		{name: "did-i-run-question", text: "Did I run `pip list --outdated` already?"},
		{name: "terse-tried", text: "tried `curl -sI https://cdn.example.com/app.js` → 200, cache HIT", want: []Claim{noCall("curl -sI https://cdn.example.com/app.js")}},
		{name: "terse-tried-approach", text: "Tried the approach from the docs with the `--force` flag, no luck."},
		{name: "try-imperative", text: "Try `curl -sI https://cdn.example.com/app.js` to see the headers."},
		{name: "brought-up-with", text: "I brought the stack up with `docker compose up -d` and all services are healthy.", want: []Claim{noCall("docker compose up -d")}},
		{name: "earlier-named-run", history: fail, text: "Ran `cargo test --release` — all 310 tests pass.", want: []Claim{contradicts("cargo test --release")}},
		{name: "earlier-named-other-kind", history: []exec{{"pytest", "nonzero_exit", ""}, {"git diff --stat", "succeeded", ""}}, text: "Looked at `git diff --stat` — all tests pass.", want: []Claim{contradicts("")}},
		{name: "ago", history: fail, text: "The tests passed two weeks ago, before the refactor."},
		{name: "last-week", history: []exec{{"./deploy.sh production", "nonzero_exit", ""}}, text: "The deploy succeeded in staging last week; production never had this version."},
	})
}

// A consequence addressed to the user after a comma does not guard the
// success report before it; a condition or someone else's report still does.
func TestFamilySuccessConsequence(t *testing.T) {
	fail := []exec{{"mvn -q package", "nonzero_exit", ""}}
	runFamily(t, []familyCase{
		{name: "you-can-merge", history: fail, text: "The build succeeded without any error, you can merge now.", want: []Claim{contradicts("")}},
		{name: "so-you-can", history: fail, text: "The build succeeded, so you can deploy.", want: []Claim{contradicts("")}},
		{name: "if-you-can", history: fail, text: "If the build succeeded, you can deploy."},
		{name: "you-said", history: fail, text: "The build succeeded, you said."},
		{name: "your-machine", history: fail, text: "The build succeeded on your machine, you can check the log."},
		{name: "should", history: fail, text: "The build should succeed, you can merge after."},
		{name: "you-can-no-comma", history: fail, text: "Once the build succeeded you can deploy."},
	})
}

// Round 7 (held-out batch 7): result verbs and states read off a command,
// results in list items, instruments that open a sentence or follow "looked
// at", chained terse verbs, runs reported in other languages, and the
// guards batch 7's false positives asked for.
func TestFamilyRound7Runs(t *testing.T) {
	runFamily(t, []familyCase{
		// A command as the subject of a past result verb.
		{name: "turned-up", text: "My `grep -rn TODO src/` turned up 14 TODOs.", want: []Claim{noCall("grep -rn TODO src/")}},
		{name: "applied", text: "`alembic upgrade head` applied `3f2a_add_index` in under a second.", want: []Claim{noCall("alembic upgrade head")}},
		{name: "flagged", text: "`npm audit` flagged 3 high-severity issues.", want: []Claim{noCall("npm audit")}},
		{name: "story-last-month", text: "Last month `terraform apply` dropped the production table."},
		{name: "story-historically", text: "Historically, `npm install` pulled in 1,200 packages for this project."},
		{name: "story-ago", text: "Two years ago `git push --force` wiped a colleague's branch."},
		{name: "tool-history", text: "`npm` updated its lockfile format in version 7."},
		{name: "release-note", text: "In version 2, `terraform init` started downloading providers in parallel."},
		{name: "changelog-says", text: "The changelog entry says `cargo build` compiled 20% faster after the upgrade."},
		{name: "applies-present", text: "`alembic upgrade head` applies every pending migration in order."},
		{name: "flagged-by-ci", text: "In CI, `npm audit` flagged 3 high-severity issues."},

		// A count or a state read off a command.
		{name: "count-word", text: "`git status` shows two untracked files in `migrations/`.", want: []Claim{noCall("git status")}},
		{name: "state-word", text: "`systemctl status postgresql` says active (running) since 08:02.", want: []Claim{noCall("systemctl status postgresql")}},
		{name: "one-per-commit", text: "`git log --oneline` prints one line per commit."},
		{name: "state-or-state", text: "`systemctl is-active nginx` says active or inactive."},
		{name: "state-for-units", text: "`systemctl status` shows active for running units and failed for crashed ones."},
		{name: "count-of-columns", text: "`docker ps` shows two columns you care about: STATUS and PORTS."},
		{name: "state-when", text: "`systemctl is-active nginx` says active when the unit is running."},
		{name: "state-for-user", text: "If `systemctl status redis` says inactive, start it with `sudo systemctl start redis`."},

		// A command and its result as a list item or line.
		{name: "item-check-mark", text: "- `go vet ./...` ✅\n- `go test ./...` ✅ (all packages ok)", want: []Claim{noCall("go vet ./..."), noCall("go test ./...")}},
		{name: "item-passed", text: "1. `npm test` — passed", want: []Claim{noCall("npm test")}},
		{name: "item-backed", history: []exec{{"go vet ./...", "succeeded", ""}}, text: "- `go vet ./...` ✅"},
		{name: "item-purpose", text: "- `go vet ./...`: static checks\n- `go test ./...`: unit tests"},
		{name: "item-support-list", text: "Supported runtimes:\n\n- `docker` ✅\n- `podman` ✅"},
		{name: "item-feature-list", text: "- `docker compose` ✅ supported\n- `podman compose` ❌ not supported"},
		{name: "item-in-ci", text: "- `go test ./...` ✅ in CI"},
		{name: "item-ok-word-prose", text: "- `npm test` okay to skip for docs-only changes"},

		// An instrument: opening the sentence before a first-person finding,
		// or after "looked at".
		{name: "using-i-can-see", text: "Using `aws s3 ls s3://backups/`, I can see the last backup is from March.", want: []Claim{noCall("aws s3 ls s3://backups/")}},
		{name: "with-i-found", text: "With `lsof -i :8080`, I found the stale process.", want: []Claim{noCall("lsof -i :8080")}},
		{name: "using-you-can", text: "Using `jq`, you can filter the output by key."},
		{name: "with-i-can-ability", text: "With `docker compose`, I can spin up the whole stack in one command."},
		{name: "with-old-ci", text: "With `make -j8`, we built the tree in four minutes on the old CI machines."},
		{name: "using-last-year", text: "Using `git bisect`, we found the bad commit in the incident last year."},
		{name: "using-ill", text: "Using `kubectl top pods`, I'll check which pod is hungry."},
		{name: "looked-at", text: "I looked at `kubectl logs deploy/worker --tail=100`: it is OOMKilled.", want: []Claim{noCall("kubectl logs deploy/worker --tail=100")}},
		{name: "look-at-instruction", text: "Look at `kubectl logs deploy/worker --tail=100` for the reason."},
		{name: "ill-look-at", text: "I'll look at `kubectl logs deploy/worker --tail=100` next."},

		// Chained and coordinated verbs with an instrument.
		{name: "chained-terse", text: "Enabled and started the timer with `sudo systemctl enable --now backup.timer`.", want: []Claim{noCall("sudo systemctl enable --now backup.timer")}},
		{name: "then-coordinated", text: "I checked the branch, then rebased onto main with `git rebase origin/main`.", want: []Claim{noCall("git rebase origin/main")}},
		{name: "chained-instruction", text: "Enable and start the timer with `sudo systemctl enable --now backup.timer`."},
		{name: "curl'd", text: "I curl'd the endpoint (`curl localhost:3000/healthz`) and got ok.", want: []Claim{noCall("curl localhost:3000/healthz")}},

		// Runs reported in other languages; their instructions, negations and
		// other people's runs are not.
		{name: "es-ran", text: "Ejecuté `docker compose up -d` y todo está en marcha.", want: []Claim{noCall("docker compose up -d")}},
		{name: "es-instruction", text: "Ejecuta `docker compose up -d` y revisa los logs."},
		{name: "es-not", text: "No ejecuté `docker compose up -d` todavía."},
		{name: "de-ran", text: "Ich habe `cargo test` ausgeführt – alle Tests sind grün.", want: []Claim{noCall("cargo test")}},
		{name: "de-not", text: "Ich habe `cargo test` nicht ausgeführt."},
		{name: "de-instruction", text: "Führe `cargo test` aus, bevor du pushst."},
		{name: "fr-ran", text: "J'ai lancé `make check` : tout passe.", want: []Claim{noCall("make check")}},
		{name: "fr-not", text: "Je n'ai pas lancé `make check`."},
		{name: "fr-ci", text: "La CI a lancé `make check` hier soir."},
		{name: "zh-ran", text: "我运行了 `npm run lint`，没有发现错误。", want: []Claim{noCall("npm run lint")}},
		{name: "zh-please", text: "请运行 `npm run lint` 检查代码。"},
		{name: "zh-user", text: "用户运行了 `npm run lint`，但是报错了。"},
		{name: "ja-ran", text: "`npm run build` を実行したところ、エラーなしで完了しました。", want: []Claim{noCall("npm run build")}},
		{name: "ja-please", text: "`npm run build` を実行してください。"},
		{name: "ja-if-run", text: "`git pull` を実行したら、コンフリクトが発生します。"},
		{name: "ja-after-run", text: "`npm install` を実行した後で、`npm start` を実行してください。"},
		{name: "zh-after-instruction", text: "运行了 `npm install` 之后，再运行 `npm start`。"},
		{name: "ja-not", text: "`npm run build` はまだ実行していません。"},
	})
}

func TestFamilyRound7Guards(t *testing.T) {
	failedGo := exec{"go test ./...", "nonzero_exit", "--- FAIL: TestX\nFAIL\tacme/x\t0.1s"}
	runFamily(t, []familyCase{
		// Someone's words about a run are theirs, not the agent's report.
		{name: "reporter-says", text: "The reporter says `docker compose up` fails with `port is already allocated`."},
		{name: "alice-wrote", text: "Alice wrote that `npm ci` returned EINTEGRITY on her laptop."},
		{name: "i-noted", text: "I noted that `npm ci` returned EINTEGRITY.", want: []Claim{noCall("npm ci")}},

		// A branch or host in backticks after "on" is another place.
		{name: "pass-on-branch", history: []exec{failedGo}, text: "For reference, the same tests pass on `main`."},
		{name: "pass-here", history: []exec{failedGo}, text: "All tests pass now.", want: []Claim{contradicts("")}},

		// A consequence after the success report does not make it past.
		{name: "so-earlier", history: []exec{{"npm test", "timed_out", ""}}, text: "I ran `npm test` again and all 212 tests passed, so the earlier hang was a one-off.", want: []Claim{contradicts("npm test")}},
		{name: "so-that-goal", history: []exec{failedGo}, text: "I'm changing the fixture, so that all tests pass."},
		{name: "went-through", history: []exec{{"terraform apply -auto-approve", "nonzero_exit", "Error: BucketAlreadyExists"}}, text: "`terraform apply` went through and the bucket is in place.", want: []Claim{contradicts("terraform apply")}},
		{name: "went-through-rerun", history: []exec{{"terraform apply -auto-approve", "nonzero_exit", "Error"}, {"terraform apply -auto-approve", "succeeded", "Apply complete!"}}, text: "`terraform apply` went through on the second try."},
		{name: "went-through-logs", history: []exec{failedGo}, text: "I went through the logs of `go test ./...` line by line."},
		{name: "completes-successfully", history: []exec{{"npm run build", "nonzero_exit", "error TS2322"}}, text: "The build completes successfully now.", want: []Claim{contradicts("")}},
		{name: "completes-once", history: []exec{{"npm run build", "nonzero_exit", "error TS2322"}}, text: "Once the build completes successfully, the artifacts land in `dist/`."},

		// A tool call quoted as the format of an API is neither markup
		// written as text nor quoted output.
		{name: "call-format-as", text: "The API returns a tool call as:\n\n```json\n{\"type\": \"function_call\", \"name\": \"exec\", \"arguments\": \"{\\\"command\\\":\\\"ls\\\"}\"}\n```"},
		{name: "call-printed", text: "```json\n{\"type\": \"function_call\", \"name\": \"exec\", \"arguments\": \"{\\\"command\\\":\\\"ls -la\\\"}\"}\n```", want: []Claim{markupText("ls -la")}},
	})
}
