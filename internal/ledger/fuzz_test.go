package ledger_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// FuzzWalk feeds the ledger reader arbitrary bytes, seeded with a real ledger and its
// damaged variants: it must never panic, and whatever it accepts must be a chain.
func FuzzWalk(f *testing.F) {
	path := filepath.Join(f.TempDir(), "governance.jsonl")
	w, _, err := ledger.Open(path, ledger.Options{Now: fixedClock()})
	if err != nil {
		f.Fatal(err)
	}
	for _, b := range sampleBodies() {
		w.Append(b)
	}
	w.Close()
	good, _ := os.ReadFile(path)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")))
	f.Add([]byte("{}\n"))
	f.Add([]byte("\x00\xff\n{\"v\":1,\"seq\":1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var seqs []int64
		st, err := ledger.Walk(bytes.NewReader(data), func(r *ledger.Record, _ []byte) error {
			seqs = append(seqs, r.Seq)
			return nil
		})
		var p *ledger.Problem
		if err != nil && !errors.As(err, &p) {
			t.Fatalf("Walk returned a non-Problem error on in-memory input: %v", err)
		}
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Fatalf("accepted seq %d at position %d", s, i)
			}
		}
		if st.Records != int64(len(seqs)) {
			t.Fatalf("state counts %d records, callback saw %d", st.Records, len(seqs))
		}
		// The fast identity walk reaches at least as far, with the same chain.
		lite, _ := ledger.WalkIdentity(bytes.NewReader(data), nil)
		if lite.Records < st.Records || lite.Records == st.Records && lite.Head != st.Head {
			t.Fatalf("WalkIdentity state %+v, Walk state %+v", lite, st)
		}
		_ = ledger.Read(bytes.NewReader(data), func(*ledger.Record) error { return nil }, nil)
	})
}
