package ledger_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// BenchmarkOpenFromSnapshot: what a restart pays for the index of a ledger holding a
// million execs (about 5 GB of transcripts): loading the snapshot and checking the
// record it ends at. go test -run '^$' -bench OpenFromSnapshot -benchtime 5x ./internal/ledger
func BenchmarkOpenFromSnapshot(b *testing.B) {
	path := filepath.Join(b.TempDir(), "governance.jsonl")
	idx := ledger.NewIndex()
	w, _, err := ledger.Open(path, ledger.Options{Index: idx, Snapshot: ledger.SnapshotPath(path)})
	if err != nil {
		b.Fatal(err)
	}
	const execs = 1_000_000
	for i := range execs {
		e := &ledger.Exec{Runtime: "openclaw", Agent: "main", Session: fmt.Sprintf("sess-%04d", i%1000), CorrelationID: fmt.Sprintf("call_%07d|fc_%d", i, i%977),
			Outcome: "succeeded", Source: ledger.Source{EntryID: fmt.Sprintf("%08x", i)}}
		if _, ok := idx.Admit(e); !ok {
			b.Fatal("not admitted")
		}
		if i%1000 == 0 { // a real ledger behind it, small: the benchmark is about the index
			if _, err := w.Append(e); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.SaveIndex(); err != nil {
		b.Fatal(err)
	}
	w.Close()
	b.ResetTimer()
	for range b.N {
		w, _, err := ledger.Open(path, ledger.Options{Index: ledger.NewIndex(), Snapshot: ledger.SnapshotPath(path)})
		if err != nil || !w.Started().FromSnapshot {
			b.Fatalf("open: %v %+v", err, w.Started())
		}
		w.Close()
	}
}
