// Package lines reads newline-terminated records from a stream with bounded memory.
//
// Transcripts and the ledger are JSON Lines files that can hold a line far larger than
// any sensible buffer (a tool output of 100 MiB) or no final newline (a writer caught
// mid-line). bufio.Scanner fails the whole stream on the first such line; this reader
// skips an oversized line without holding it, reports it, and goes on, and tells a
// complete last line from a torn one.
package lines

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Line is one record of the stream.
type Line struct {
	Bytes    []byte // without the '\n'; valid until the next call to Next
	Offset   int64  // offset of the first byte
	No       int64  // 1-based line number
	Size     int64  // length including the '\n', when terminated
	TooLong  bool   // longer than the limit: Bytes is nil, Size is its length
	Complete bool   // ended by '\n' (false only for a torn last line)
}

// Reader yields the lines of r.
type Reader struct {
	br     *bufio.Reader
	max    int
	buf    []byte
	offset int64
	no     int64
}

// NewReader returns a Reader that holds at most max bytes of one line.
func NewReader(r io.Reader, max int) *Reader { return NewReaderSize(r, max, 256<<10) }

// NewReaderSize is NewReader with a read buffer of about size bytes.
func NewReaderSize(r io.Reader, max, size int) *Reader {
	if max < size {
		size = max
	}
	if size < 16 {
		size = 16
	}
	return &Reader{br: bufio.NewReaderSize(r, size), max: max}
}

// Offset is the offset just past the last line returned.
func (r *Reader) Offset() int64 { return r.offset }

// Next returns the next line. It returns io.EOF after the last line; a final line
// without '\n' is returned once with Complete false.
func (r *Reader) Next() (Line, error) {
	r.buf = r.buf[:0]
	start := r.offset
	tooLong := false
	var n int64
	for {
		chunk, err := r.br.ReadSlice('\n')
		n += int64(len(chunk))
		if !tooLong {
			if len(r.buf)+len(chunk) > r.max+1 {
				tooLong = true
				r.buf = r.buf[:0]
			} else if err == nil && len(r.buf) == 0 {
				// Common case: the whole line is in bufio's buffer; no copy.
				r.offset += n
				r.no++
				return Line{Bytes: chunk[:len(chunk)-1], Offset: start, No: r.no, Size: n, Complete: true}, nil
			} else {
				r.buf = grow(r.buf, len(chunk), r.max+1)
				r.buf = append(r.buf, chunk...)
			}
		}
		switch {
		case err == nil:
			r.offset += n
			r.no++
			l := Line{Offset: start, No: r.no, Size: n, Complete: true, TooLong: tooLong}
			if !tooLong {
				l.Bytes = r.buf[:len(r.buf)-1]
			}
			return l, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if n == 0 {
				return Line{}, io.EOF
			}
			r.offset += n
			r.no++
			l := Line{Offset: start, No: r.no, Size: n, TooLong: tooLong}
			if !tooLong {
				l.Bytes = bytes.Clone(r.buf)
			}
			return l, nil
		default:
			return Line{}, err
		}
	}
}

// grow makes room for n more bytes, doubling (append grows large slices by only a
// quarter, which for one 16 MiB line would allocate five times that), but never
// beyond limit.
func grow(b []byte, n, limit int) []byte {
	if len(b)+n <= cap(b) {
		return b
	}
	c := 2 * cap(b)
	if c < len(b)+n {
		c = len(b) + n
	}
	if c > limit {
		c = limit
	}
	nb := make([]byte, len(b), c)
	copy(nb, b)
	return nb
}
