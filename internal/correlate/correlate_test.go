package correlate

import (
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/event"
	"github.com/clawtrail/clawtrail/internal/ledger"
)

// A result that transcript repair inserted for a missing one records the exec as
// no_result (the command may or may not have run); should the real result still turn
// up, it settles the exec instead of being reported as an orphan.
func TestSyntheticResultThenRealOne(t *testing.T) {
	s := NewSession("openclaw", "main", "s1", Options{})
	at := time.Date(2026, 7, 2, 8, 0, 0, 0, time.UTC)
	var out []ledger.Body
	out = s.Add(out, &event.Event{Kind: event.ToolCall, EntryID: "a1", Time: at, Call: &event.Call{ID: "c1", Name: "exec", Shell: true, Command: "npm publish"}})
	out = s.Add(out, &event.Event{Kind: event.ToolResult, EntryID: "r1", Time: at.Add(time.Second), Result: &event.Result{CallID: "c1", ToolName: "exec", Outcome: event.NoResult, Output: "No result provided"}})
	code := 0
	out = s.Add(out, &event.Event{Kind: event.ToolResult, EntryID: "r2", Time: at.Add(2 * time.Second), Result: &event.Result{CallID: "c1", ToolName: "exec", Outcome: event.Succeeded, ExitCode: &code, Output: "+ pkg@1.0.0"}})
	out = s.Finish(out)
	if len(out) != 2 {
		t.Fatalf("records = %d (%+v), want an exec and its update", len(out), out)
	}
	e, ok := out[0].(*ledger.Exec)
	if !ok || e.Outcome != event.NoResult || e.Verdict != event.Unknown || e.EndedAt != "" {
		t.Fatalf("first record = %+v, want exec no_result, verdict unknown, no end", out[0])
	}
	u, ok := out[1].(*ledger.ExecUpdate)
	if !ok || u.Outcome != event.Succeeded || u.CorrelationID != "c1" {
		t.Fatalf("second record = %+v, want exec_update succeeded", out[1])
	}
	if s.Counts.Orphans != 0 {
		t.Fatalf("orphans = %d", s.Counts.Orphans)
	}
}

// FuzzTS: the hand-written timestamp is exactly what time.Format writes.
func FuzzTS(f *testing.F) {
	for _, v := range []int64{0, 1, 1770349446955000000, 1770349446000000000, 1770349446100000000, -62135596800000000, 253402300799999999} {
		f.Add(v/1e9, v%1e9)
	}
	f.Fuzz(func(t *testing.T, sec, nsec int64) {
		tm := time.Unix(sec, nsec)
		want := ""
		if !tm.IsZero() {
			want = tm.UTC().Format(time.RFC3339Nano)
		}
		if got := ts(tm); got != want {
			t.Fatalf("ts(%v) = %q, want %q", tm, got, want)
		}
	})
}
