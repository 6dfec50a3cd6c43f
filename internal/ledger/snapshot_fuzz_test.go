package ledger

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"
)

// FuzzSnapshot: a snapshot file of any content is read or refused, never a panic or
// an index whose entry counts disagree with its header.
func FuzzSnapshot(f *testing.F) {
	x := NewIndex()
	x.Admit(&Exec{Runtime: "openclaw", Agent: "a", Session: "s", CorrelationID: "c", Outcome: "succeeded"})
	x.Admit(&Tool{Runtime: "openclaw", Agent: "a", Session: "s", CorrelationID: "t"})
	path := filepath.Join(f.TempDir(), "i")
	st := State{Records: 2, LastSeq: 2, Head: ZeroHash, Size: 10}
	st.tree.Add(ZeroHash)
	st.tree.Add(ZeroHash)
	if err := writeSnapshot(path, x, st); err != nil {
		f.Fatal(err)
	}
	good, _, err := readSnapshot(path)
	if err != nil || good.latest.n != 1 || good.steps.n != 1 || good.once.n != 1 {
		f.Fatalf("round trip: %+v %v", good, err)
	}
	data, _ := os.ReadFile(path)
	f.Add(data)
	f.Add(data[:len(data)-sha256.Size]) // checksummed in the fuzz function, so the body is explored
	f.Add([]byte(snapshotMagic))
	f.Add([]byte(snapshotMagic + "{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sum := sha256.Sum256(data)
		for _, in := range [][]byte{data, append(data, sum[:]...)} {
			x, _, err := parseSnapshot(in)
			if err == nil && x == nil {
				t.Fatal("no index and no error")
			}
			if err == nil {
				// Whatever was accepted must answer lookups (a full table would loop).
				x.Admit(&Exec{Runtime: "r", Agent: "a", Session: "s", CorrelationID: "new", Outcome: "succeeded"})
				x.Admit(&Tool{Runtime: "r", Agent: "a", Session: "s", CorrelationID: "new"})
			}
		}
	})
}
