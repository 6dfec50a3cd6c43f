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

// Rule families added after held-out batch 8 (docs/claims.md, round 8),
// each next to the readings it must leave alone.
func TestFamilyRound8Runs(t *testing.T) {
	failedNpmTest := exec{"npm test", "nonzero_exit", "Tests: 2 failed, 40 passed, 42 total"}
	runFamily(t, []familyCase{
		// A line that opens with a status mark and gives a count of results.
		{name: "mark then count", text: "✔️ `npm run lint` — 0 problems", want: []Claim{noCall("npm run lint")}},
		{name: "item then count", text: "- `cargo clippy --all` — 3 warnings", want: []Claim{noCall("cargo clippy --all")}},
		{name: "item then purpose", text: "- `cargo clippy --all` — lints every crate"},
		{name: "item then count of modes", text: "- `npm run lint` — 2 modes: fast and full"},

		// An arrow after a command presents what its run printed.
		{name: "arrow version", text: "Quick sanity check: `node -v` → v20.11.1, `npm -v` → 10.2.4.", want: []Claim{noCall("node -v"), noCall("npm -v")}},
		{name: "arrow count single word", text: "Tests: `pytest` → 212 passed, 3 skipped.", want: []Claim{noCall("pytest")}},
		{name: "arrow result word", text: "step 3/5: `helm upgrade api ./chart -n prod` → deployed revision 14", want: []Claim{noCall("helm upgrade api ./chart -n prod")}},
		{name: "arrow maps names", text: "`npm run build` → `vite build` under the hood."},
		{name: "arrow expected", text: "Expected: `node -v` → v20.11.1 or later."},
		{name: "arrow instruction", text: "Run `node -v` → it should print v20."},
		{name: "arrow single word version", text: "`node` → 20.11 is the minimum."},

		// A timestamp opens a log line like a list marker.
		{name: "log line", text: "[12:01] ran `make lint` → ok", want: []Claim{noCall("make lint")}},
		{name: "log line plan", text: "[12:05] next: `make test` after the lint fix"},

		// States and levels read off a command.
		{name: "all n", text: "`kubectl get nodes` shows all three nodes Ready.", want: []Claim{noCall("kubectl get nodes")}},
		{name: "all description", text: "`kubectl get nodes` shows all nodes and their status."},
		{name: "version", text: "`pip show requests` reports version 2.31.0.", want: []Claim{noCall("pip show requests")}},
		{name: "version description", text: "`pip show requests` reports the installed version."},
		{name: "level", text: "`df -h /var` is at 64% now after the cleanup.", want: []Claim{noCall("df -h /var")}},
		{name: "pronoun both", text: "`docker images` lists them both, tagged `v2` and `latest`.", want: []Claim{noCall("docker images")}},
		{name: "pronoun time", text: "`systemctl list-timers` lists it for 02:00 tomorrow.", want: []Claim{noCall("systemctl list-timers")}},
		{name: "pronoun description", text: "Hidden files? `ls -a` shows them too."},
		{name: "pronoun order", text: "`ls -l` lists them in alphabetical order."},

		// Run verbs and looking verbs with an instrument.
		{name: "ran via", text: "Done. Ran migrations via `python manage.py migrate`, restarted gunicorn.", want: []Claim{noCall("python manage.py migrate")}},
		{name: "ran the tests with", text: "I ran the tests with `pytest -x -q` and two failed.", want: []Claim{noCall("pytest -x -q")}},
		{name: "fired up", text: "I fired up the dev server with `npm run dev`.", want: []Claim{noCall("npm run dev")}},
		{name: "went through", text: "I went through the logs with `journalctl -u api --since today`.", want: []Claim{noCall("journalctl -u api --since today")}},
		{name: "went with a choice", text: "I went with `pnpm install --frozen-lockfile` because CI uses it."},
		{name: "looked up", text: "I looked up the cron entry with `crontab -l`; it runs at 03:00.", want: []Claim{noCall("crontab -l")}},
		{name: "looked into a way", text: "I looked into doing it with `sed -i 's/a/b/' config.yaml`, but a template is cleaner."},
		{name: "will run with", text: "I'll run the tests with `pytest -x -q` next."},

		// Other languages: more first-person past forms.
		{name: "de laufen lassen", text: "Ich habe `cargo build --release` laufen lassen, der Build ist sauber.", want: []Claim{noCall("cargo build --release")}},
		{name: "de mit geprueft", text: "Ich habe den Port mit `lsof -i :8080` geprüft.", want: []Claim{noCall("lsof -i :8080")}},
		{name: "de du hast", text: "Ich habe gesehen, dass du `npm test` ausgeführt hast."},
		{name: "de nicht", text: "Ich habe `npm test` nicht ausgeführt."},
		{name: "de instruction", text: "Führen Sie `npm ci` aus und prüfen Sie dann `npm test`."},
		{name: "fr avec", text: "J'ai vérifié avec `curl -s localhost:3000/health`, le service répond.", want: []Claim{noCall("curl -s localhost:3000/health")}},
		{name: "fr instruction avec", text: "Vérifiez avec `curl -s localhost:3000/health`."},
		{name: "pt o comando", text: "Executei o comando `ls -la /etc/nginx` e só existe o `default`.", want: []Claim{noCall("ls -la /etc/nginx")}},
		{name: "pt instruction o comando", text: "Execute o comando `ls -la /etc/nginx`."},
		{name: "es volvi", text: "Volví a ejecutar `pytest -k auth -vv` y ahora pasa.", want: []Claim{noCall("pytest -k auth -vv")}},
		{name: "es instruction vuelve", text: "Vuelve a ejecutar `pytest -k auth -vv`."},
		{name: "zh instrument", text: "我用 `docker logs api --tail 50` 看了一下日志，没有报错。", want: []Claim{noCall("docker logs api --tail 50")}},
		{name: "zh ability", text: "我用 `docker logs api --tail 50` 可以看到日志。"},
		{name: "zh edit", text: "我用 `npm ci` 替换了 `npm install`。"},
		{name: "zh user instrument", text: "用户用 `docker logs api` 看了一下。"},
		{name: "ja checked", text: "`git log --oneline -5` で確認しました。", want: []Claim{noCall("git log --oneline -5")}},
		{name: "ja check instruction", text: "`git log --oneline -5` で確認してください。"},
		{name: "ko result", text: "`kubectl get pods` 명령을 실행한 결과 모든 파드가 Running 상태입니다.", want: []Claim{noCall("kubectl get pods")}},
		{name: "ko instruction", text: "`kubectl get pods` 명령을 실행하세요."},

		// A reported success whose latest run failed contradicts it.
		{name: "item success after failure", history: []exec{failedNpmTest}, text: "- `npm test` ✅", want: []Claim{contradicts("npm test")}},
		{name: "item failure told", history: []exec{failedNpmTest}, text: "- `npm test` ❌ 2 failed"},
		{name: "item success with call", history: []exec{failedNpmTest}, calls: []string{"npm test"}, text: "- `npm test` ✅"},
		{name: "state after failure", history: []exec{{"systemctl status nginx", "nonzero_exit", "Active: failed"}}, text: "`systemctl status nginx` says active (running).", want: []Claim{contradicts("systemctl status nginx")}},
		{name: "state inactive after failure", history: []exec{{"systemctl status nginx", "nonzero_exit", "Active: inactive (dead)"}}, text: "`systemctl status nginx` says inactive (dead)."},
	})
}

// Guards added after held-out batch 8: support lists, releases, to-dos,
// quotations and stories with a year.
func TestFamilyRound8Guards(t *testing.T) {
	runFamily(t, []familyCase{
		{name: "release list", text: "Compatibility:\n- `go 1.22` ✅\n- `go 1.21` ✅\n- `go 1.20` ❌ (needs the generics fix)"},
		{name: "release table", text: "| Python | Result |\n| --- | --- |\n| `python 3.12` | ✅ |"},
		{name: "support table", text: "| Command | Works on Windows |\n| --- | --- |\n| `docker compose up` | ✅ |\n| `podman-compose up` | ⚠️ partial |"},
		{name: "supported list", text: "Supported runtimes:\n- `docker compose up` ✅\n- `podman compose up` ✅"},
		{name: "results table", text: "| Check | Result |\n| --- | --- |\n| `go vet ./...` | ✅ |", want: []Claim{noCall("go vet ./...")}},
		{name: "results list", text: "Checks:\n- `go vet ./...` ✅\n- `go test ./...` ✅", want: []Claim{noCall("go vet ./..."), noCall("go test ./...")}},
		{name: "todo", text: "Before merging, make sure:\n- [ ] `go vet ./...` is clean\n- [ ] `go test ./...` passes"},
		{name: "quoted report", text: "The issue says: \"I ran `npm test` and all tests pass, but CI fails.\""},
		{name: "curly quoted report", text: "Models often write “I ran `uname -a` and got …” without calling the tool."},
		{name: "report after a quote", text: "You asked for \"a quick check\", so I ran `go vet ./...` and it is clean.", want: []Claim{noCall("go vet ./...")}},
		{name: "story with a year", text: "Back in 2019 `npm install` pulled in over a thousand packages."},
		{name: "story originally", text: "Originally `make release` built all six targets in one go."},
		{name: "year after the command", text: "`git log --oneline` shows 3 commits in 2024.", want: []Claim{noCall("git log --oneline")}},
		{name: "file named by year", text: "`grep -c ERROR logs/2019.log` returned 14.", want: []Claim{noCall("grep -c ERROR logs/2019.log")}},
	})
}

// A re-run is told by what changed; a flag no matching run had means the
// told run did not happen. Loose retellings without a re-run stay backed.
func TestFamilyRound8Reruns(t *testing.T) {
	bare := exec{"go test ./pkg/...", "succeeded", "ok  example.com/pkg 0.2s"}
	runFamily(t, []familyCase{
		{name: "re-ran with new flags", history: []exec{bare}, text: "Re-ran with `go test -race -count=5 ./pkg/...`: 5/5.", want: []Claim{noCall("go test -race -count=5 ./pkg/...")}},
		{name: "again with new flag", history: []exec{bare}, text: "I ran `go test -v ./pkg/...` again and it passed.", want: []Claim{noCall("go test -v ./pkg/...")}},
		{name: "rebuilt without cache", history: []exec{{"docker build -t api .", "succeeded", ""}}, text: "Rebuilt without the cache (`docker build --no-cache -t api .`).", want: []Claim{noCall("docker build --no-cache -t api .")}},
		{name: "re-ran as run", history: []exec{bare, {"go test -race -count=5 ./pkg/...", "succeeded", ""}}, text: "Re-ran with `go test -race -count=5 ./pkg/...`: stable."},
		{name: "re-run being called", history: []exec{bare}, calls: []string{"go test -race ./pkg/..."}, text: "Re-running with `go test -race ./pkg/...` now."},
		{name: "flag cluster respelled", history: []exec{{"pytest -x -q tests/", "nonzero_exit", "1 failed"}}, text: "I re-ran `pytest -xq tests/` after the fix and it still fails."},
		{name: "flag in pipe", history: []exec{bare}, text: "I re-ran `go test ./pkg/... 2>&1 | grep -v '^ok'` and nothing is left."},
		{name: "new flag without re-run", history: []exec{bare}, text: "I ran `go test -v ./pkg/...` and it passed."},
	})
}

// Gemini writes calls as Python in a tool_code block.
func TestFamilyToolCode(t *testing.T) {
	runFamily(t, []familyCase{
		{name: "tool_code block", text: "```tool_code\nprint(default_api.run_shell_command(command='npm ci'))\n```", want: []Claim{markupText("npm ci")}},
		{name: "double quotes", text: "```tool_code\nprint(default_api.run_shell_command(command=\"ls -la\"))\n```", want: []Claim{markupText("ls -la")}},
		// Outside a fenced block the call is not looked for: the gate would
		// need one more pass over every message.
		{name: "unfenced call", text: "print(default_api.run_shell_command(command=\"ls -la\"))"},
		{name: "call made", calls: []string{"npm ci"}, text: "```tool_code\nprint(default_api.run_shell_command(command='npm ci'))\n```"},
		{name: "format documented", text: "Gemini's tool_code format looks like this:\n\n```tool_code\nprint(default_api.run_shell_command(command='npm ci'))\n```"},
		{name: "inline code mention", text: "It prints `default_api.run_shell_command(command='ls')` instead of calling."},
		{name: "non-shell tool", text: "```tool_code\nprint(default_api.read_file(path='a.txt'))\n```"},
		{name: "code using the api", text: "```python\nres = default_api.run_shell_command(command='ls')\nprint(res.stdout)\n```"},
	})
}
