package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/lines"
)

// errChanged means the bytes already read are no longer what the file holds: the
// ledger was replaced, truncated or rewritten (a writer's rolled-back short write can
// do that too). The index is thrown away and built again from the start, because an
// offset into the old bytes means nothing in the new ones.
var errChanged = errors.New("the ledger changed under the reader (replaced, truncated or rewritten)")

// markLen covers a record's trailing `"hash":"<64 hex>"}` and newline: the bytes
// just before the read position identify the last record read.
const markLen = 80

// ledgerTail is an io.Reader over a ledger that is still being written. It hands out
// bytes only up to the end of the last complete line, so a record being written is
// never seen half-done, and at the end of the file it waits for more instead of
// returning io.EOF. That lets ledger.WalkIdentity, which checks the chain in one pass
// to EOF, run over a live file with exactly `clawtrail verify`'s rules.
type ledgerTail struct {
	f       *os.File
	path    string
	fi      os.FileInfo
	pos     int64  // offset of the first byte not yet handed out
	mark    []byte // the bytes just before pos, compared on every read
	buf     []byte
	pending []byte
	notify  func()       // before each read: the records of the previous one are indexed
	idle    func() error // at the end of the file: nil to look again, io.EOF to stop
}

func newTail(f *os.File, path string, notify func(), idle func() error) (*ledgerTail, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat ledger: %w", err)
	}
	return &ledgerTail{f: f, path: path, fi: fi, buf: make([]byte, markLen+1<<20), notify: notify, idle: idle}, nil
}

// Read implements io.Reader.
func (t *ledgerTail) Read(p []byte) (int, error) {
	for len(t.pending) == 0 {
		if err := t.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, t.pending)
	t.pending = t.pending[n:]
	return n, nil
}

func (t *ledgerTail) fill() error {
	if t.notify != nil {
		t.notify()
	}
	for {
		m := len(t.mark)
		n, err := t.f.ReadAt(t.buf, t.pos-int64(m))
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read ledger: %w", err)
		}
		if n < m || !bytes.Equal(t.buf[:m], t.mark) {
			return errChanged
		}
		data := t.buf[m:n]
		if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
			end := m + i + 1
			t.mark = append(t.mark[:0], t.buf[max(0, end-markLen):end]...)
			t.pending = data[:i+1]
			t.pos += int64(i + 1)
			return nil
		}
		if n == len(t.buf) {
			if len(t.buf) > ledger.MaxLine+markLen+1 {
				// Longer than any record: hand it over so Walk reports it.
				t.pending = data
				t.pos += int64(len(data))
				t.mark = append(t.mark[:0], t.buf[n-markLen:n]...)
				return nil
			}
			t.buf = make([]byte, 2*len(t.buf))
			continue
		}
		// At the end, or in front of a record still being written.
		if err := t.sameFile(); err != nil {
			return err
		}
		if err := t.idle(); err != nil {
			return err
		}
	}
}

func (t *ledgerTail) sameFile() error {
	fi, err := os.Stat(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return errChanged
	}
	if err != nil {
		return fmt.Errorf("stat ledger: %w", err)
	}
	if !os.SameFile(fi, t.fi) {
		return errChanged
	}
	return nil
}

// rewind makes the next read start at off (a line start already handed out).
func (t *ledgerTail) rewind(off int64) error {
	m := min(off, markLen)
	t.mark = t.mark[:0]
	t.pending = nil
	t.pos = off
	if m == 0 {
		return nil
	}
	t.mark = append(t.mark, make([]byte, m)...)
	if _, err := t.f.ReadAt(t.mark, off-m); err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	return nil
}

// Run follows the ledger and keeps the index current until ctx ends; it returns nil
// then. It must be called once. A ledger that does not exist yet is waited for; one
// that is replaced or rewritten is indexed again from the start.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("server: Run called twice")
	}
	defer close(s.done)
	reason := ""
	for {
		err := s.follow(ctx, reason)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errChanged) {
			s.log.Warn("the ledger changed under the reader; indexing it again from the start", "ledger", s.cfg.Ledger)
			reason = errChanged.Error()
			continue
		}
		s.log.Warn("cannot read the ledger; retrying", "ledger", s.cfg.Ledger, "err", err)
		s.idx.setReadError(err)
		reason = err.Error()
		if !s.sleep(ctx, time.Second) {
			return nil
		}
	}
}

// follow indexes one generation of the ledger file: the verified prefix through
// ledger.WalkIdentity (every check of Walk, so of `clawtrail verify`), then, if the
// chain breaks, the rest flagged unverified (the way `clawtrail show` still shows
// what verify rejects).
func (s *Server) follow(ctx context.Context, reason string) error {
	f, err := s.openLedger(ctx)
	if err != nil {
		return err
	}
	s.idx.reset(f, s.now(), reason)
	t, err := newTail(f, s.cfg.Ledger, s.idx.notify, func() error { return s.idle(ctx) })
	if err != nil {
		return err
	}
	var off int64
	_, err = ledger.WalkIdentity(t, func(rec *ledger.Record, line []byte) error {
		indexFields(line, rec)
		s.idx.add(rec, line, off, true)
		off += int64(len(line)) + 1
		return nil
	})
	if err == nil {
		return ctx.Err()
	}
	var p *ledger.Problem
	if !errors.As(err, &p) {
		return err
	}
	s.log.Error("the ledger's hash chain is broken; records after it are shown as unverified", "ledger", s.cfg.Ledger, "problem", p.Error())
	s.idx.setProblem(p)
	if err := t.rewind(p.Offset); err != nil {
		return err
	}
	lr := lines.NewReader(t, ledger.MaxLine)
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return ctx.Err()
		}
		if err != nil {
			return err
		}
		var rec ledger.Record
		if l.TooLong || !l.Complete || json.Unmarshal(l.Bytes, &rec) != nil {
			s.idx.badLine()
			continue
		}
		s.idx.add(&rec, l.Bytes, p.Offset+l.Offset, false)
	}
}

func (s *Server) openLedger(ctx context.Context) (*os.File, error) {
	waiting := false
	for {
		f, err := os.Open(s.cfg.Ledger)
		if err == nil {
			s.idx.setReadError(nil)
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open ledger: %w", err)
		}
		if !waiting {
			s.log.Info("waiting for the ledger to be created", "ledger", s.cfg.Ledger)
			s.idx.setReadError(fmt.Errorf("waiting for %s to be created", s.cfg.Ledger))
			waiting = true
		}
		s.sampleStatus()
		if !s.sleep(ctx, s.cfg.Poll) {
			return nil, ctx.Err()
		}
	}
}

// idle runs whenever the reader has caught up with the file: publish, look at the
// daemon, sleep one poll interval.
func (s *Server) idle(ctx context.Context) error {
	if !s.idx.isCaughtUp() {
		// Building the index of a large ledger leaves behind garbage several times
		// the index's size (every record decoded once). Hand it back to the system
		// now, before saying the index is ready, rather than keep it as heap
		// headroom for the life of the process.
		debug.FreeOSMemory()
	}
	s.idx.publish(true)
	s.sampleStatus()
	if !s.sleep(ctx, s.cfg.Poll) {
		return io.EOF
	}
	return nil
}

func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sampleStatus counts the times the ledger became unwritable: the daemon reports
// health, not a count, so every fall from healthy to failing with an error is one.
func (s *Server) sampleStatus() {
	if s.cfg.Status == nil {
		return
	}
	st := s.cfg.Status()
	if st.Healthy {
		s.wasHealthy.Store(true)
	} else if st.Error != "" && s.wasHealthy.Swap(false) {
		s.writeErrors.Add(1)
	}
}
