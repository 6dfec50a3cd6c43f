package ledger

import "os"

// SwapFileForTest points the writer at another file, to inject write failures.
func SwapFileForTest(w *Writer, path string) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	w.f = f
}
