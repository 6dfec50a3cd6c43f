package claims

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"
)

// heldOut names a batch of turns written after the rules, to be measured
// before any rule changes (docs/claims.md, "Labelled set"):
//
//	go test -run TestHeldOut -v ./internal/claims -args -heldout=testdata/heldout4.jsonl
var heldOut = flag.String("heldout", "", "JSONL file of held-out labelled turns for TestHeldOut to measure")

type labelled struct {
	ID      string `json:"id"`
	History []struct {
		Command string `json:"command"`
		Outcome string `json:"outcome"`
		Output  string `json:"output"`
	} `json:"history"`
	Calls []string `json:"calls"`
	Text  string   `json:"text"`
	Want  []struct {
		Reason  string `json:"reason"`
		Command string `json:"command"`
	} `json:"want"`
}

func loadLabelled(tb testing.TB) []labelled {
	tb.Helper()
	return loadTurns(tb, "testdata/labelled.jsonl")
}

func loadTurns(tb testing.TB, path string) []labelled {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l labelled
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

func (l *labelled) run() []Claim {
	d := New()
	for _, h := range l.History {
		d.Executed(h.Command, h.Outcome, h.Output)
	}
	return d.Check(l.Text, l.Calls)
}

// score is how well the detector's findings on a set of turns agree with
// the wanted claims: a finding is a true positive when a wanted claim has the
// same reason and the same normalised command. Mismatches are logged, not
// failed: a set measures the rules, it does not pin each answer.
type score struct{ turns, positives, tp, fp, fn int }

func (s score) precision() float64 { return float64(s.tp) / float64(max(1, s.tp+s.fp)) }
func (s score) recall() float64    { return float64(s.tp) / float64(max(1, s.tp+s.fn)) }

func (s score) String() string {
	return fmt.Sprintf("%d turns (%d with claims), %d wanted claims; tp=%d fp=%d fn=%d; precision=%.3f recall=%.3f",
		s.turns, s.positives, s.tp+s.fn, s.tp, s.fp, s.fn, s.precision(), s.recall())
}

func measure(t *testing.T, set []labelled) score {
	t.Helper()
	sc := score{turns: len(set)}
	for _, l := range set {
		got := l.run()
		if len(l.Want) > 0 {
			sc.positives++
		}
		used := make([]bool, len(got))
		for _, w := range l.Want {
			found := false
			for i, g := range got {
				if !used[i] && g.Reason == w.Reason && g.Command == normalizeCommand(w.Command) {
					used[i], found = true, true
					break
				}
			}
			if found {
				sc.tp++
			} else {
				sc.fn++
				t.Logf("%s: missed %s %q", l.ID, w.Reason, w.Command)
			}
		}
		for i, g := range got {
			if !used[i] {
				sc.fp++
				t.Logf("%s: unexpected %s %q (excerpt %q)", l.ID, g.Reason, g.Command, g.Excerpt)
			}
		}
	}
	return sc
}

// TestLabelled runs the whole labelled set and holds the detector to the
// precision and recall issue 5 asks for.
func TestLabelled(t *testing.T) {
	set := loadLabelled(t)
	if len(set) < 160 {
		t.Fatalf("labelled set has %d turns, want at least 160", len(set))
	}
	sc := measure(t, set)
	t.Logf("labelled set: %v", sc)
	if sc.precision() < 0.95 {
		t.Errorf("precision %.3f < 0.95", sc.precision())
	}
	if sc.recall() < 0.90 {
		t.Errorf("recall %.3f < 0.90", sc.recall())
	}
}

// TestHeldOut measures a held-out batch named by -heldout and only reports:
// its first measurement is an estimate of accuracy on new text, whatever it
// is, and goes into docs/claims.md as measured.
func TestHeldOut(t *testing.T) {
	if *heldOut == "" {
		t.Skip("no -heldout file given")
	}
	t.Logf("%s: %v", *heldOut, measure(t, loadTurns(t, *heldOut)))
}

// TestFrozenHeldOut keeps batch 9, written blind to the rules and never tuned on,
// apart from the labelled set: it is the running estimate of accuracy on new text.
// It holds the detector to its first measurement there (precision 0.976, recall
// 0.786), so a change that costs accuracy on text nobody tuned for fails here even
// when the labelled set absorbs it. Rules must not be fitted to this file; a new
// estimate needs a new batch.
func TestFrozenHeldOut(t *testing.T) {
	sc := measure(t, loadTurns(t, "testdata/heldout9.jsonl"))
	t.Logf("held-out batch 9: %v", sc)
	if sc.precision() < 0.95 {
		t.Errorf("precision %.3f on the held-out batch, below 0.95", sc.precision())
	}
	if sc.recall() < 0.78 {
		t.Errorf("recall %.3f on the held-out batch, below its first measurement (0.786)", sc.recall())
	}
}
