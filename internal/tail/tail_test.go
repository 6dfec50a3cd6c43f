package tail_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/tail"
)

type harness struct {
	t    *testing.T
	path string
	fol  *tail.Follower
	got  []string
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, path: filepath.Join(t.TempDir(), "s.jsonl")}
}

func (h *harness) write(s string, flag int) {
	h.t.Helper()
	f, err := os.OpenFile(h.path, flag|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		h.t.Fatal(err)
	}
	f.Close()
}

func (h *harness) open() {
	h.t.Helper()
	f, err := tail.Open(h.path, 1<<20, nil, tail.Position{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.fol = f
	h.t.Cleanup(func() { f.Close() })
}

func (h *harness) poll() tail.Change {
	h.t.Helper()
	c, err := h.fol.Poll(func(l tail.Line) error {
		h.got = append(h.got, fmt.Sprintf("%d:%s", l.No, l.Bytes))
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) expect(change, want tail.Change, lines ...string) {
	h.t.Helper()
	if change != want {
		h.t.Errorf("change = %v, want %v", change, want)
	}
	if strings.Join(h.got, "|") != strings.Join(lines, "|") {
		h.t.Errorf("lines = %q, want %q", h.got, lines)
	}
	h.got = nil
}

func TestAppendAndPartialLine(t *testing.T) {
	h := newHarness(t)
	h.write("", os.O_TRUNC) // a file that appears before its first line
	h.open()
	h.expect(h.poll(), tail.None)
	h.write("a\nb", os.O_APPEND)
	h.expect(h.poll(), tail.None, "1:a")
	h.write("c\nd\n", os.O_APPEND)
	h.expect(h.poll(), tail.None, "2:bc", "3:d")
	if p := h.fol.Position(); p.Offset != 7 || p.Line != 3 {
		t.Fatalf("position = %+v", p)
	}
}

func TestTruncateAndRewriteInPlace(t *testing.T) {
	h := newHarness(t)
	h.write("one\ntwo\n", os.O_TRUNC)
	h.open()
	h.expect(h.poll(), tail.None, "1:one", "2:two")
	h.write("x\n", os.O_TRUNC) // truncate to less than we read
	h.expect(h.poll(), tail.Rewritten, "1:x")
	h.write("", os.O_TRUNC) // truncate to zero
	h.expect(h.poll(), tail.Rewritten)
	h.write("ONE\nTWO\nTHREE\n", os.O_TRUNC) // rewritten longer, same inode
	h.expect(h.poll(), tail.None, "1:ONE", "2:TWO", "3:THREE")
	h.write("one\nTWO\nTHREE\nFOUR\n", os.O_TRUNC) // same inode, first bytes differ, longer
	h.expect(h.poll(), tail.Rewritten, "1:one", "2:TWO", "3:THREE", "4:FOUR")
}

func TestAtomicReplaceFinishesOldFileFirst(t *testing.T) {
	h := newHarness(t)
	h.write("a\n", os.O_TRUNC)
	h.open()
	h.expect(h.poll(), tail.None, "1:a")
	h.write("b\n", os.O_APPEND) // lands in the old file just before the replace
	tmp := h.path + ".tmp"
	os.WriteFile(tmp, []byte("new1\nnew2\n"), 0o600)
	if err := os.Rename(tmp, h.path); err != nil {
		t.Fatal(err)
	}
	h.expect(h.poll(), tail.Replaced, "2:b", "1:new1", "2:new2")
}

func TestRenameToArchiveAndDelete(t *testing.T) {
	h := newHarness(t)
	h.write("a\n", os.O_TRUNC)
	h.open()
	h.poll()
	h.got = nil
	h.write("b\n", os.O_APPEND)
	os.Rename(h.path, h.path+".reset.2026-09-01T04-00-00.000Z")
	h.expect(h.poll(), tail.Gone, "2:b")
	if !h.fol.Done() {
		t.Fatal("follower not done after its file went away")
	}
}

func TestResumeOnlyOnSameContent(t *testing.T) {
	h := newHarness(t)
	h.write("a\nb\n", os.O_TRUNC)
	h.open()
	h.poll()
	id, pos := h.fol.Identity(), h.fol.Position()
	h.write("c\n", os.O_APPEND)
	f, err := tail.Open(h.path, 1<<20, &id, pos)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	f.Poll(func(l tail.Line) error { got = append(got, fmt.Sprintf("%d:%s", l.No, l.Bytes)); return nil })
	if strings.Join(got, "|") != "3:c" {
		t.Fatalf("resumed read = %q, want only the new line", got)
	}
	// Same inode, different content: the stored position is not trusted.
	h.write("z\ny\nx\nw\n", os.O_TRUNC)
	f2, _ := tail.Open(h.path, 1<<20, &id, pos)
	defer f2.Close()
	got = nil
	f2.Poll(func(l tail.Line) error { got = append(got, string(l.Bytes)); return nil })
	if strings.Join(got, "|") != "z|y|x|w" {
		t.Fatalf("read after rewrite = %q, want the whole file", got)
	}
}

func TestLongLineSkippedNotBuffered(t *testing.T) {
	h := newHarness(t)
	h.write("a\n"+strings.Repeat("x", 3<<20)+"\nb\n", os.O_TRUNC)
	h.open()
	var long int
	h.fol.Poll(func(l tail.Line) error {
		if l.TooLong {
			long++
			return nil
		}
		h.got = append(h.got, string(l.Bytes))
		return nil
	})
	if long != 1 || strings.Join(h.got, "|") != "a|b" {
		t.Fatalf("long = %d, lines = %q", long, h.got)
	}
}
