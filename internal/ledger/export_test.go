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
