package ledger

import (
	"fmt"
	"os"
	"sort"
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
	for k, o := range x.latest {
		latest = append(latest, fmt.Sprintf("%016x=%s", k, o))
	}
	for k := range x.steps {
		steps = append(steps, k)
	}
	for k := range x.once {
		once = append(once, k)
	}
	sort.Strings(latest)
	sort.Slice(steps, func(i, j int) bool { return steps[i] < steps[j] })
	sort.Slice(once, func(i, j int) bool { return once[i] < once[j] })
	return
}
