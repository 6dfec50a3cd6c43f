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
