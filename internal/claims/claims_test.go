package claims

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
)

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
	f, err := os.Open("testdata/labelled.jsonl")
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
			tb.Fatalf("labelled.jsonl:%d: %v", n, err)
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

// TestLabelled runs the whole labelled set and holds the detector to the
// precision and recall issue 5 asks for. Per-turn mismatches are logged, not
// failed: the set measures the rules, it does not pin each answer.
func TestLabelled(t *testing.T) {
	set := loadLabelled(t)
	if len(set) < 160 {
		t.Fatalf("labelled set has %d turns, want at least 160", len(set))
	}
	var tp, fp, fn, positives int
	for _, l := range set {
		got := l.run()
		if len(l.Want) > 0 {
			positives++
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
				tp++
			} else {
				fn++
				t.Logf("%s: missed %s %q", l.ID, w.Reason, w.Command)
			}
		}
		for i, g := range got {
			if !used[i] {
				fp++
				t.Logf("%s: unexpected %s %q (excerpt %q)", l.ID, g.Reason, g.Command, g.Excerpt)
			}
		}
	}
	precision := float64(tp) / float64(max(1, tp+fp))
	recall := float64(tp) / float64(max(1, tp+fn))
	t.Logf("labelled set: %d turns (%d with claims), %d wanted claims; tp=%d fp=%d fn=%d; precision=%.3f recall=%.3f",
		len(set), positives, tp+fn, tp, fp, fn, precision, recall)
	if precision < 0.95 {
		t.Errorf("precision %.3f < 0.95", precision)
	}
	if recall < 0.90 {
		t.Errorf("recall %.3f < 0.90", recall)
	}
}
