// Package tail follows one transcript file through what OpenClaw really does to it:
// appends, a partial last line completed later, in-place rewrites and truncation,
// atomic replacement (a new inode under the same name), renames into archives and
// deletion.
//
// A Follower only ever consumes complete lines, so its position is always the end of
// a line and can be stored and resumed. File identity is device + inode plus a digest
// of the first bytes, so a rewrite that keeps the inode, or an inode reused by a new
// file, is recognised and the file is read again from the start (the caller
// deduplicates by entry id).
package tail

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/clawtrail/clawtrail/internal/lines"
)

// FingerprintSize is how many leading bytes identify a file's content.
const FingerprintSize = 256

// Identity tells one file's content apart from another's.
type Identity struct {
	Dev, Ino uint64
	// Fingerprint digests the first FPLen bytes (FPLen < FingerprintSize only while
	// the file is shorter).
	Fingerprint [sha256.Size]byte
	FPLen       int
}

// Position is where a Follower stands: the end of the last consumed line.
type Position struct {
	Offset int64
	Line   int64 // lines consumed so far
}

// Change is what Poll noticed about the file besides new lines.
type Change int

const (
	// None: the file only grew, or not at all.
	None Change = iota
	// Rewritten: the file was truncated or rewritten in place; it is read again from
	// the start.
	Rewritten
	// Replaced: another file now has the name (atomic replace, or a rename away and a
	// new file); the old one was read to its end first, the new one from the start.
	Replaced
	// Gone: the name no longer exists; the open file was read to its end and the
	// Follower is finished.
	Gone
)

func (c Change) String() string {
	return [...]string{"none", "rewritten", "replaced", "gone"}[c]
}

// Line is one complete line handed to the caller.
type Line struct {
	Bytes   []byte // valid only during the callback
	Offset  int64
	No      int64
	Size    int64
	TooLong bool // longer than the limit: Bytes is nil
}

// Follower follows one path. Not safe for concurrent use.
type Follower struct {
	path    string
	f       *os.File
	id      Identity
	pos     Position
	maxLine int
	done    bool
	// restarted: a resume position was given but the file is no longer the one it
	// belonged to, so reading starts over (lines may come again).
	restarted bool
	// size and mtime at the last poll: the fingerprint is re-checked when either changes.
	size  int64
	mtime time.Time
}

// Open starts following path. If resume is non-nil and the file's identity equals
// resume's, reading continues at pos; otherwise it starts at the beginning.
func Open(path string, maxLine int, resume *Identity, pos Position) (*Follower, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	t := &Follower{path: path, f: f, maxLine: maxLine}
	id, err := identify(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	t.id = id
	t.size = -1
	if resume != nil {
		if sameFile(*resume, id) && resumable(*resume, id, f, pos) {
			t.pos = pos
		} else {
			t.restarted = true
		}
	}
	return t, nil
}

// Path is the followed path.
func (t *Follower) Path() string { return t.path }

// Position is the end of the last consumed line.
func (t *Follower) Position() Position { return t.pos }

// Identity is the identity of the file being read.
func (t *Follower) Identity() Identity { return t.id }

// ResumeRejected reports whether Open was given a position for another file (or
// another content under the same inode) and started from the beginning instead.
func (t *Follower) ResumeRejected() bool { return t.restarted }

// Done reports whether the file is gone and fully read.
func (t *Follower) Done() bool { return t.done }

// Close releases the file.
func (t *Follower) Close() error { return t.f.Close() }

// Poll reads every complete line appended since the last call and passes each to fn.
// It returns what changed. If fn fails, Poll stops and the position stays at the end
// of the last line fn accepted.
func (t *Follower) Poll(fn func(Line) error) (Change, error) {
	if t.done {
		return Gone, nil
	}
	change := None
	cur, statErr := os.Stat(t.path)
	if statErr == nil && !sameInode(cur, t.id) {
		// Another file has the name. Finish the one we hold (it may be an archive now),
		// then switch to the new file.
		if err := t.readTo(fn, -1); err != nil {
			return None, err
		}
		nf, err := os.Open(t.path)
		if err != nil {
			return None, err
		}
		id, err := identify(nf)
		if err != nil {
			nf.Close()
			return None, err
		}
		t.f.Close()
		t.f, t.id, t.pos, t.size = nf, id, Position{}, -1
		change = Replaced
	} else if statErr != nil {
		if !errors.Is(statErr, os.ErrNotExist) {
			return None, statErr
		}
		if err := t.readTo(fn, -1); err != nil {
			return None, err
		}
		t.done = true
		return Gone, nil
	}
	fi, err := t.f.Stat()
	if err != nil {
		return change, err
	}
	size := fi.Size()
	if size != t.size || !fi.ModTime().Equal(t.mtime) {
		id, err := identify(t.f)
		if err != nil {
			return change, err
		}
		// Shrunk below what we read, or the first bytes changed: rewritten in place.
		if t.pos.Offset > 0 && (size < t.pos.Offset || !prefixConsistent(t.id, id, t.f)) {
			t.pos = Position{}
			change = Rewritten
		}
		t.id = id
		t.mtime = fi.ModTime()
	}
	t.size = size
	return change, t.readTo(fn, size)
}

// Grown is a cheap check (one fstat of the open file) for a sweep over many idle
// files: it reports whether the file's size or mtime changed since the last Poll.
// A rename or replacement of the name is not seen here; file events and an
// occasional full Poll catch those.
func (t *Follower) Grown() bool {
	// A raw fstat allocates nothing: with thousands of idle files the garbage
	// collector, not the syscalls, would otherwise be the sweep's main cost.
	var st syscall.Stat_t
	if err := syscall.Fstat(int(t.f.Fd()), &st); err != nil {
		return true
	}
	return st.Size != t.size || !time.Unix(st.Mtim.Sec, st.Mtim.Nsec).Equal(t.mtime)
}

// Size is the file size seen at the last Poll.
func (t *Follower) Size() int64 { return t.size }

// readTo consumes complete lines from the position up to size (-1: to EOF).
func (t *Follower) readTo(fn func(Line) error, size int64) error {
	if size < 0 {
		fi, err := t.f.Stat()
		if err != nil {
			return err
		}
		size = fi.Size()
	}
	if size <= t.pos.Offset {
		return nil
	}
	// A small append needs a small buffer: thousands of followers stay cheap.
	buf := int(min(size-t.pos.Offset+1, 256<<10))
	lr := lines.NewReaderSize(io.NewSectionReader(t.f, t.pos.Offset, size-t.pos.Offset), t.maxLine, buf)
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", t.path, err)
		}
		if !l.Complete {
			// The writer is mid-line: leave it for the next poll, when it is whole.
			return nil
		}
		line := Line{Bytes: l.Bytes, Offset: t.pos.Offset, No: t.pos.Line + 1, Size: l.Size, TooLong: l.TooLong}
		if err := fn(line); err != nil {
			return err
		}
		t.pos.Offset += l.Size
		t.pos.Line++
	}
}

func identify(f *os.File) (Identity, error) {
	fi, err := f.Stat()
	if err != nil {
		return Identity{}, err
	}
	var id Identity
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.Dev, id.Ino = uint64(st.Dev), st.Ino
	}
	buf := make([]byte, FingerprintSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return Identity{}, err
	}
	id.FPLen = n
	id.Fingerprint = sha256.Sum256(buf[:n])
	return id, nil
}

func sameInode(fi os.FileInfo, id Identity) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || uint64(st.Dev) == id.Dev && st.Ino == id.Ino
}

func sameFile(a, b Identity) bool { return a.Dev == b.Dev && a.Ino == b.Ino }

// resumable checks that the content recorded in old is still the prefix of the file.
func resumable(old, cur Identity, f *os.File, pos Position) bool {
	fi, err := f.Stat()
	if err != nil || fi.Size() < pos.Offset {
		return false
	}
	return prefixConsistent(old, cur, f)
}

// prefixConsistent reports whether the bytes old fingerprinted are still the file's
// first bytes (the file may have grown since).
func prefixConsistent(old, cur Identity, f *os.File) bool {
	if old.FPLen == cur.FPLen {
		return old.Fingerprint == cur.Fingerprint
	}
	if old.FPLen > cur.FPLen {
		return false
	}
	buf := make([]byte, old.FPLen)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	sum := sha256.Sum256(buf)
	return bytes.Equal(sum[:], old.Fingerprint[:])
}

// SameContent reports whether the follower reads the same file old identified: same
// device and inode, and old's fingerprinted bytes still its first bytes. An inode
// number reused by a new file fails the second test.
func SameContent(old Identity, f *Follower) bool {
	return sameFile(old, f.id) && prefixConsistent(old, f.id, f.f)
}
