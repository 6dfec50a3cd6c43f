package claims

import (
	"strings"
	"testing"
)

func TestJSONCall(t *testing.T) {
	cases := []struct {
		in     string
		cmd    string
		isCall bool
	}{
		{`{"name":"exec","arguments":{"command":"ls -la"}}`, "ls -la", true},
		{`{"name": "shell", "arguments": {"command": ["bash", "-lc", "rg -n TODO src"]}}`, "rg -n TODO src", true},
		{`{"name": "exec_command", "arguments": {"cmd": "cargo clippy"}}`, "cargo clippy", true},
		{`{"type": "function", "function": {"name": "exec", "arguments": "{\"command\": \"ls\"}"}}`, "ls", true},
		{`{"name": "web_search", "arguments": {"query": "x"}}`, "", true},
		{`{"name": "web", "scripts": {"test": "vitest"}}`, "", false},
		{`{"name": "exec"`, "", false},
		{`not json`, "", false},
	}
	for _, c := range cases {
		cmd, ok := jsonCall(c.in)
		if cmd != c.cmd || ok != c.isCall {
			t.Errorf("jsonCall(%s) = %q, %v; want %q, %v", c.in, cmd, ok, c.cmd, c.isCall)
		}
	}
}

// TestOutstandingFailure follows the state that decides whether success
// words are looked for at all.
func TestOutstandingFailure(t *testing.T) {
	d := New()
	if d.outstanding() {
		t.Fatal("new detector has an outstanding failure")
	}
	d.Executed("go test ./...", "nonzero_exit", "FAIL")
	if !d.outstanding() {
		t.Fatal("failed test run not outstanding")
	}
	if got := d.Check("All tests pass.", nil); len(got) != 1 || got[0].Reason != reasonContradicts {
		t.Fatalf("after a failed run: %+v", got)
	}
	d.Executed("go test ./...", "succeeded", "ok")
	if d.outstanding() {
		t.Fatal("re-run that succeeded left the failure outstanding")
	}
	if got := d.Check("All tests pass.", nil); len(got) != 0 {
		t.Fatalf("after a passing re-run: %+v", got)
	}
}

// TestCallInTurnSilencesSuccess: a message that makes the test call cannot
// have seen its result, so its success words are a prediction, not a report.
func TestCallInTurnSilencesSuccess(t *testing.T) {
	d := New()
	d.Executed("pytest -q", "nonzero_exit", "1 failed")
	if got := d.Check("Fixed it; all tests pass now.", []string{"pytest -q"}); len(got) != 0 {
		t.Fatalf("got %+v", got)
	}
	if got := d.Check("Fixed it; all tests pass now.", nil); len(got) != 1 {
		t.Fatalf("without the call: got %+v", got)
	}
}

func TestExecutedBounded(t *testing.T) {
	d := New()
	// 40 outputs over the per-output cap overflow the total cap; many small
	// executions overflow the execution window.
	big := strings.Repeat("line of output that is long enough\n", maxOutputKeep/30)
	for i := range 40 {
		d.Executed("echo big "+strings.Repeat("x", i), "succeeded", big+strings.Repeat("y", i))
	}
	for i := range maxExecs + 100 {
		d.Executed("echo "+strings.Repeat("x", i%10), "succeeded", "")
	}
	// 4,236 executions: the window dropped its oldest quarter once, when full.
	if want := 40 + maxExecs + 100 - maxExecs/4; len(d.execs) != want {
		t.Errorf("kept %d executions, want %d", len(d.execs), want)
	}
	if last := d.execs[len(d.execs)-1].info.canon; last != "echo "+strings.Repeat("x", (maxExecs+99)%10) {
		t.Errorf("newest execution kept is %q", last)
	}
	if d.out.size > maxOutputTotal {
		t.Errorf("kept %d bytes of output, more than %d", d.out.size, maxOutputTotal)
	}
	total := 0
	for _, s := range d.out.texts {
		total += len(s)
	}
	if total != d.out.size {
		t.Errorf("size accounting %d != %d", d.out.size, total)
	}
}

func TestJudgeQuote(t *testing.T) {
	d := New()
	d.Executed("kubectl get pods", "succeeded", "NAME    READY   STATUS             RESTARTS   AGE\n\x1b[31mweb-7d9\x1b[0m   0/1     CrashLoopBackOff   12         1h")
	c := &checker{d: d, budget: maxScanBudget}
	cases := []struct {
		quote string
		want  quoteVerdict
	}{
		{"NAME READY STATUS RESTARTS AGE\nweb-7d9 0/1 CrashLoopBackOff 12 1h", quoteFound},
		{"NAME READY\nweb-7d9   0/1   CrashLoopBackOff", quoteFound},         // columns cut
		{"NAME READY STATUS RESTARTS AGE\n...\nweb-7d9 0/1 ...", quoteFound}, // elided
		{"web-7d9   0/1   CrashLoopBackOff", quoteTooSmall},
		{"NAME READY STATUS RESTARTS AGE\nweb-7d9 1/1 Running 0 1h", quoteInvented},
		{"ok", quoteTooSmall},
		{"Server listening on http://0.0.0.0:3000 and ready", quoteInvented},
	}
	for _, tc := range cases {
		if got := c.judgeQuote(tc.quote, false); got != tc.want {
			t.Errorf("judgeQuote(%q) = %v, want %v", tc.quote, got, tc.want)
		}
	}
}
