package lines_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/clawtrail/clawtrail/internal/lines"
)

func collect(t *testing.T, r io.Reader, max int) []lines.Line {
	t.Helper()
	lr := lines.NewReader(r, max)
	var out []lines.Line
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		l.Bytes = append([]byte(nil), l.Bytes...)
		out = append(out, l)
	}
}

func TestReader(t *testing.T) {
	long := strings.Repeat("x", 1000)
	in := "a\n\n" + long + "\nbc\ntorn"
	for _, name := range []string{"whole", "onebyte"} {
		t.Run(name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(in)
			if name == "onebyte" {
				r = iotest.OneByteReader(r)
			}
			got := collect(t, r, 100)
			want := []lines.Line{
				{Bytes: []byte("a"), Offset: 0, No: 1, Size: 2, Complete: true},
				{Bytes: []byte(""), Offset: 2, No: 2, Size: 1, Complete: true},
				{Offset: 3, No: 3, Size: 1001, Complete: true, TooLong: true},
				{Bytes: []byte("bc"), Offset: 1004, No: 4, Size: 3, Complete: true},
				{Bytes: []byte("torn"), Offset: 1007, No: 5, Size: 4, Complete: false},
			}
			if len(got) != len(want) {
				t.Fatalf("got %d lines, want %d: %+v", len(got), len(want), got)
			}
			for i := range want {
				g, w := got[i], want[i]
				if string(g.Bytes) != string(w.Bytes) || g.Offset != w.Offset || g.No != w.No || g.Size != w.Size || g.Complete != w.Complete || g.TooLong != w.TooLong {
					t.Errorf("line %d = %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestReaderExactLimit(t *testing.T) {
	got := collect(t, strings.NewReader(strings.Repeat("y", 16)+"\n"+strings.Repeat("z", 17)+"\n"), 16)
	if len(got) != 2 || got[0].TooLong || len(got[0].Bytes) != 16 || !got[1].TooLong {
		t.Fatalf("limit handling wrong: %+v", got)
	}
}
