package ledger_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// openIndexed opens path with an index snapshot beside it, as run and scan do.
func openIndexed(t *testing.T, path string) (*ledger.Writer, *ledger.Index) {
	t.Helper()
	idx := ledger.NewIndex()
	w, _, err := ledger.Open(path, ledger.Options{Now: fixedClock(), Index: idx, Snapshot: path + ".index"})
	if err != nil {
		t.Fatal(err)
	}
	return w, idx
}

func admitAll(t *testing.T, w *ledger.Writer, idx *ledger.Index, bodies []ledger.Body) {
	t.Helper()
	for _, b := range bodies {
		if b, ok := idx.Admit(b); ok {
			if _, err := w.Append(b); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func moreBodies() []ledger.Body {
	return []ledger.Body{
		&ledger.Exec{Runtime: "openclaw", Agent: "main", Session: "s2", CorrelationID: "call_20", Tool: "exec", Command: "ls",
			Outcome: "succeeded", ExitCode: intp(0), Verdict: "executed", Findings: []ledger.Finding{}, Source: ledger.Source{Path: "b.jsonl", Line: 3, EntryID: "b3"}},
		&ledger.ProviderError{Runtime: "openclaw", Agent: "main", Session: "s2", EntryID: "b4", Class: "rate_limit", Message: "429"},
	}
}

// Nothing already in the ledger is admitted again, whichever way the index was built.
func assertKnowsAll(t *testing.T, idx *ledger.Index, bodies []ledger.Body) {
	t.Helper()
	for i, b := range bodies {
		if _, ok := b.(*ledger.Notice); ok {
			continue // notices without a correlation id are not deduplicated
		}
		if got, ok := idx.Admit(b); ok {
			t.Errorf("body %d (%T) admitted again as %T: the index forgot it", i, b, got)
		}
	}
}

func TestSnapshotRestartReadsOnlyTheTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	w, idx := openIndexed(t, path)
	if s := w.Started(); s.FromSnapshot || s.Refused != "" || s.Checked != 0 {
		t.Fatalf("new ledger: Started = %+v", s)
	}
	admitAll(t, w, idx, sampleBodies())
	if err := w.SaveIndex(); err != nil {
		t.Fatal(err)
	}
	admitAll(t, w, idx, moreBodies()) // after the snapshot: a crash would leave these to the tail check
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	w.Close()

	w, idx = openIndexed(t, path)
	defer w.Close()
	s := w.Started()
	if !s.FromSnapshot || s.From.LastSeq != 4 || s.Checked != 2 || w.Seq() != 6 {
		t.Fatalf("Started = %+v, seq %d; want the snapshot used at seq 4 and 2 records checked after it", s, w.Seq())
	}
	fi, _ := os.Stat(path)
	if s.From.Size+s.Bytes != fi.Size() {
		t.Fatalf("checked bytes %d+%d, ledger has %d", s.From.Size, s.Bytes, fi.Size())
	}
	assertKnowsAll(t, idx, append(sampleBodies(), moreBodies()...))
}

func TestSnapshotRoundTripsTheIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	w, idx := openIndexed(t, path)
	admitAll(t, w, idx, append(sampleBodies(), moreBodies()...))
	// An outcome change makes an exec_update and a second latest outcome.
	upd := *sampleBodies()[1].(*ledger.Exec)
	upd.Outcome, upd.Source.EntryID = "succeeded", "late"
	admitAll(t, w, idx, []ledger.Body{&upd})
	if err := w.SaveIndex(); err != nil {
		t.Fatal(err)
	}
	l1, s1, o1 := idx.SortedKeys()
	w.Close()

	w, got := openIndexed(t, path)
	defer w.Close()
	l2, s2, o2 := got.SortedKeys()
	if !w.Started().FromSnapshot || !slices.Equal(l1, l2) || !slices.Equal(s1, s2) || !slices.Equal(o1, o2) {
		t.Fatalf("reloaded index differs (from snapshot: %v):\nlatest %v\nvs     %v\nsteps %d/%d once %d/%d", w.Started().FromSnapshot, l1, l2, len(s1), len(s2), len(o1), len(o2))
	}
	if len(l1) != 3 || !strings.Contains(strings.Join(l1, " "), "=succeeded") {
		t.Fatalf("latest = %v, want 3 execs", l1)
	}
}

// A snapshot that cannot be trusted is ignored, the whole ledger is read, and the
// reason is given; the index is then exactly the ledger's.
func TestUntrustedSnapshotFallsBackToFullRead(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, ledgerPath, snap string)
		want   string
	}{
		{"flipped byte in the snapshot", func(t *testing.T, _, snap string) {
			data, _ := os.ReadFile(snap)
			data[len(data)/2] ^= 1
			os.WriteFile(snap, data, 0o600)
		}, "checksum mismatch"},
		{"torn snapshot", func(t *testing.T, _, snap string) {
			data, _ := os.ReadFile(snap)
			os.WriteFile(snap, data[:len(data)-7], 0o600)
		}, "checksum mismatch"},
		{"not a snapshot", func(t *testing.T, _, snap string) {
			os.WriteFile(snap, []byte("hello\x00\xff"), 0o600)
		}, "not an index snapshot"},
		{"ledger cut back before the snapshot", func(t *testing.T, path, _ string) {
			data, _ := os.ReadFile(path)
			cut := bytes.LastIndexByte(data[:len(data)-1], '\n')
			os.WriteFile(path, data[:cut+1], 0o600)
		}, "the ledger has"},
		{"another ledger of the same length", func(t *testing.T, path, _ string) {
			os.Remove(path)
			other := sampleBodies()
			other[0].(*ledger.Exec).CorrelationID = "call_X|fc_2"
			writeLedger(t, path, other)
		}, "another hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "governance.jsonl")
			w, idx := openIndexed(t, path)
			admitAll(t, w, idx, sampleBodies())
			if err := w.SaveIndex(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			c.damage(t, path, path+".index")
			want, _ := os.ReadFile(path)
			n := int64(bytes.Count(want, []byte("\n")))

			w, idx = openIndexed(t, path)
			defer w.Close()
			s := w.Started()
			if s.FromSnapshot || !strings.Contains(s.Refused, c.want) || s.From.Size != 0 || s.Checked != n {
				t.Fatalf("Started = %+v; want the snapshot refused (%q) and all %d records checked", s, c.want, n)
			}
			if c.name == "another ledger of the same length" {
				if got, ok := idx.Admit(sampleBodies()[0]); !ok || got == nil {
					t.Fatal("an exec only the snapshot's ledger held was taken for a duplicate")
				}
			}
		})
	}
}

// The snapshot saves reading, not checking: damage after it is still refused, and a
// torn tail after it is still cut off, at the right offset.
func TestSnapshotKeepsTailChecks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	w, idx := openIndexed(t, path)
	admitAll(t, w, idx, sampleBodies())
	w.SaveIndex()
	admitAll(t, w, idx, moreBodies())
	w.Close()
	orig, _ := os.ReadFile(path)

	os.WriteFile(path, append(bytes.Clone(orig), `{"v":1,"seq":7,"ki`...), 0o600)
	w, rep, err := ledger.Open(path, ledger.Options{Index: ledger.NewIndex(), Snapshot: path + ".index"})
	if err != nil || rep == nil || rep.TornBytes != 18 || !w.Started().FromSnapshot {
		t.Fatalf("torn tail after a snapshot: rep %+v err %v", rep, err)
	}
	w.Close()
	if got, _ := os.ReadFile(path); !bytes.Equal(got, orig) {
		t.Fatal("torn tail not cut back to the last whole record")
	}

	damaged := bytes.Replace(orig, []byte(`"429"`), []byte(`"428"`), 1)
	os.WriteFile(path, damaged, 0o600)
	_, _, err = ledger.Open(path, ledger.Options{Index: ledger.NewIndex(), Snapshot: path + ".index"})
	var p *ledger.Problem
	if !errors.Is(err, ledger.ErrDamaged) || !strings.Contains(err.Error(), "line 6 (seq 6)") {
		t.Fatalf("damage after the snapshot: %v (%v), want ErrDamaged naming line 6", err, errors.As(err, &p))
	}
}
