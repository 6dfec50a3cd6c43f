package ledger

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// SwapFileForTest points the writer at another file, to inject write failures.
func SwapFileForTest(w *Writer, path string) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	w.f = f
}

// SortedKeys is an index's content in a comparable form.
func (x *Index) SortedKeys() (latest []string, steps, once []uint64) {
	x.latest.each(func(k uint64, v byte) {
		o, _ := x.getLatest(k)
		latest = append(latest, fmt.Sprintf("%016x=%s", k, o))
	})
	x.steps.each(func(k uint64, _ byte) { steps = append(steps, k) })
	x.once.each(func(k uint64, _ byte) { once = append(once, k) })
	sort.Strings(latest)
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
	return
}

// RechainForTest rewrites prev and hash of every line, as a forger who edited a
// record and then recomputed the chain after it would.
func RechainForTest(t interface{ Fatal(...any) }, lines []string) []byte {
	var out []byte
	prev := ZeroHash
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\n")
		i := strings.LastIndex(l, `,"prev":"`)
		if i < 0 {
			t.Fatal("not a record: " + l)
		}
		rec := []byte(l[:i] + `,"prev":"` + prev + `"`)
		prev = hashOf(rec)
		out = append(out, rec...)
		out = append(out, `,"hash":"`+prev+"\"}\n"...)
	}
	return out
}

// HashStorage is tlog's own storage of a tree, every node as tlog.StoredHashes
// makes them, against which the ledger's compact tree and checkpoints are checked.
type HashStorage []tlog.Hash

func (m HashStorage) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}
