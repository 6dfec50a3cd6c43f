package sqlitesource

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"
)

// MaxColdLine caps one JSONL line of a cold archive; MaxColdWindow caps the
// zstd window the decoder accepts. Together they bound ReadCold's memory
// whatever the archive claims (zstd's own recommendation for decoders is to
// support 8 MB windows; Node's defaults stay well below the cap).
const (
	MaxColdLine   = 64 << 20
	MaxColdWindow = 128 << 20
)

// maxColdLine is MaxColdLine; a variable so a test can lower it.
var maxColdLine = MaxColdLine

// LongLinesError is returned by ReadCold after the whole archive was read when
// some lines were longer than MaxColdLine and so were not passed to fn.
type LongLinesError struct {
	Path  string
	Lines []int // 1-based line numbers
}

func (e *LongLinesError) Error() string {
	return fmt.Sprintf("%s: %d line(s) longer than %d bytes skipped (first: line %d)", e.Path, len(e.Lines), maxColdLine, e.Lines[0])
}

// ReadCold streams a cold-storage archive sessions/cold/<sha256>.jsonl.zst and
// calls fn for each non-empty JSONL line, without its line ending. The line
// slice is only valid during the call (fn copies what it keeps). Memory is
// bounded by MaxColdWindow + MaxColdLine. A final line without '\n' is still a
// line: the archive is a finished file, not one being appended to.
//
// A line over MaxColdLine is skipped, the rest is read, and a *LongLinesError
// is returned at the end. A damaged or truncated zstd stream stops the read
// with an error after the lines before the damage were delivered.
func ReadCold(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := zstd.NewReader(bufio.NewReaderSize(f, 256<<10),
		zstd.WithDecoderConcurrency(1), // streaming: no goroutine fan-out, one window in memory
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(MaxColdWindow),
		zstd.WithDecoderMaxMemory(MaxColdWindow),
	)
	if err != nil {
		return err
	}
	defer zr.Close()

	br := bufio.NewReaderSize(zr, 256<<10)
	var (
		line    []byte // the current line, copied out of bufio's buffer
		lineNo  int
		tooLong bool // the current line passed MaxColdLine: skip to its end
		long    []int
	)
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > maxColdLine+1 { // +1: the '\n'
				tooLong, line = true, line[:0]
			} else {
				line = append(line, chunk...)
			}
		}
		if err == nil || (err == io.EOF && (len(line) > 0 || tooLong)) {
			lineNo++
			if tooLong {
				long = append(long, lineNo)
			} else if l := trimEOL(line); len(l) > 0 {
				if ferr := fn(l); ferr != nil {
					return ferr
				}
			}
			line, tooLong = line[:0], false
			if cap(line) > 1<<20 {
				line = nil // do not keep one huge line's buffer for the rest
			}
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(long) > 0 {
				return &LongLinesError{Path: path, Lines: long}
			}
			return nil
		default:
			return fmt.Errorf("%s: %w", path, err)
		}
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}
