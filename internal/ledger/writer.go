package ledger

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked is returned by Open when another process writes the ledger.
var ErrLocked = errors.New("ledger is locked by another writer")

// ErrDamaged is returned by Open when the chain is broken before its last line: that is
// not a crash artefact but damage or tampering, and appending would bury it.
var ErrDamaged = errors.New("ledger is damaged")

// Writer is the ledger's single appender. Not safe for concurrent use.
type Writer struct {
	path string
	f    *os.File
	lock *os.File
	enc  *encoder
	now  func() time.Time

	buf []byte
	// Appended but not yet written.
	seq  int64
	head string
	tree Tree
	// Durable on disk.
	diskSeq  int64
	diskHead string
	diskSize int64
	diskTree Tree
	// The background fsync in flight, if any (see Flush), the offset the last fsync
	// started at, and an error a background fsync returned that Sync has yet to report.
	bgSync   chan error
	syncFrom int64
	bgErr    error

	idx      *Index
	snapshot string
	start    Start
}

// Options tunes Open.
type Options struct {
	// Now replaces time.Now for recorded_at (tests).
	Now func() time.Time
	// Index, if set, is filled with what the ledger holds. With Snapshot it may come
	// from the index snapshot at that path (see Writer.SaveIndex), in which case only
	// the records after the snapshot are checked and learnt. Index must be empty
	// (NewIndex).
	Index    *Index
	Snapshot string
}

// Start says how Open read the ledger back.
type Start struct {
	FromSnapshot bool   // the index came from the snapshot
	Refused      string // why a snapshot there was not used; "" if used or absent
	From         State  // where checking began: the snapshot's state, or the start
	Checked      int64  // records checked (and learnt) at open
	Bytes        int64  // bytes of them
}

// Repair describes what Open found and fixed.
type Repair struct {
	TornBytes int64  // bytes of an incomplete last record that were cut off
	Detail    string // the problem, in words
}

// Open opens (creating if needed) the ledger at path for appending. It takes the
// exclusive writer lock, checks the whole chain, and cuts off a torn last record left
// by a crash. The caller should record a returned Repair as a Notice, so a repair is
// never silent.
func Open(path string, opt Options) (*Writer, *Repair, error) {
	lock, err := acquireLock(path)
	if err != nil {
		return nil, nil, err
	}
	w, rep, err := open(path, lock, opt)
	if err != nil {
		lock.Close()
		return nil, nil, err
	}
	return w, rep, nil
}

func open(path string, lock *os.File, opt Options) (*Writer, *Repair, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open ledger: %w", err)
	}
	start := Start{From: State{Head: ZeroHash}}
	if opt.Index != nil && opt.Snapshot != "" {
		x, st, err := readSnapshot(opt.Snapshot)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			start.Refused = fmt.Sprintf("index snapshot %s unusable: %v", opt.Snapshot, err)
		default:
			if err := checkTip(f, st); err != nil {
				start.Refused = fmt.Sprintf("index snapshot %s does not match the ledger: %v", opt.Snapshot, err)
				break
			}
			*opt.Index = *x
			start.FromSnapshot, start.From = true, st
		}
	}
	if _, err := f.Seek(start.From.Size, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("seek ledger: %w", err)
	}
	var learn func(*Record, []byte) error
	if opt.Index != nil {
		learn = func(r *Record, _ []byte) error {
			opt.Index.Learn(r)
			return nil
		}
	}
	st, werr := walk(f, learn, false, start.From)
	start.Checked, start.Bytes = st.Records-start.From.Records, st.Size-start.From.Size
	var rep *Repair
	if werr != nil {
		var p *Problem
		if !errors.As(werr, &p) {
			f.Close()
			return nil, nil, werr
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("stat ledger: %w", err)
		}
		// Only an unterminated last line is a crash artefact we may cut off.
		if !strings.HasPrefix(p.Reason, "torn") || p.Offset != st.Size {
			f.Close()
			return nil, nil, fmt.Errorf("%w: %s: %v; run 'clawtrail verify %s' (nothing was appended)", ErrDamaged, path, p, path)
		}
		rep = &Repair{TornBytes: fi.Size() - st.Size, Detail: fmt.Sprintf("cut off an incomplete record of %d bytes after seq %d at offset %d (a write was interrupted)", fi.Size()-st.Size, st.LastSeq, st.Size)}
		if err := f.Truncate(st.Size); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("repair torn ledger tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("repair torn ledger tail: %w", err)
		}
	}
	if _, err := f.Seek(st.Size, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("seek ledger: %w", err)
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	w := &Writer{path: path, f: f, lock: lock, enc: newEncoder(), now: now,
		seq: st.LastSeq, head: st.Head, tree: st.tree, diskSeq: st.LastSeq, diskHead: st.Head, diskSize: st.Size, diskTree: st.tree, syncFrom: st.Size,
		idx: opt.Index, snapshot: opt.Snapshot, start: start}
	if st.Size == 0 {
		// A new ledger's directory entry must survive a crash too.
		if err := syncDir(filepath.Dir(path)); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	return w, rep, nil
}

// Append encodes b as the next record and buffers it; it reaches the disk at the next
// Flush or Sync. It returns the record's seq.
func (w *Writer) Append(b Body) (int64, error) {
	buf, h, err := w.enc.appendRecord(w.buf, w.seq+1, w.now(), w.head, b)
	if err != nil {
		return 0, err
	}
	if err := w.tree.Add(h); err != nil {
		return 0, err
	}
	w.buf = buf
	w.seq++
	w.head = h
	return w.seq, nil
}

// Buffered is the number of bytes appended but not yet written.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes the buffered records. On a failed or short write (disk full, I/O
// error) it cuts the file back to the last complete record and drops the buffered
// records, so the ledger never keeps a torn record; the caller must append them again.
func (w *Writer) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	if err != nil {
		w.rollback()
		return fmt.Errorf("write ledger %s: %w", w.path, err)
	}
	w.diskSize += int64(n)
	w.diskSeq, w.diskHead, w.diskTree = w.seq, w.head, w.tree
	w.buf = w.buf[:0]
	w.syncInBackground()
	return nil
}

// backgroundSyncEvery is how much is written between fsyncs started in the
// background while a writer appends in bulk.
const backgroundSyncEvery = 64 << 20

// syncInBackground starts an fsync on its own goroutine once backgroundSyncEvery
// was written since the last one started, one at a time. A scan appends hundreds of
// megabytes and then syncs once; that one fsync waited 0.3 s for a 500 MB ledger
// (on this project's VM; 47 ms when the file had been synced every 64 MB meanwhile)
// with both cores idle. Durability still comes from Sync, which waits for it and
// reports its error: an fsync error is reported once per open file, so one seen in
// the background must not be lost.
func (w *Writer) syncInBackground() {
	if w.bgSync != nil {
		select {
		case err := <-w.bgSync:
			w.bgSync = nil
			w.bgErr = cmp.Or(w.bgErr, err)
		default:
			return
		}
	}
	if w.diskSize-w.syncFrom < backgroundSyncEvery {
		return
	}
	w.syncFrom = w.diskSize
	done := make(chan error, 1)
	f := w.f
	go func() { done <- f.Sync() }()
	w.bgSync = done
}

// waitBackground waits for the background fsync in flight, if any, and returns
// (and forgets) any error a background fsync returned.
func (w *Writer) waitBackground() error {
	if w.bgSync != nil {
		w.bgErr = cmp.Or(w.bgErr, <-w.bgSync)
		w.bgSync = nil
	}
	err := w.bgErr
	w.bgErr = nil
	return err
}

func (w *Writer) rollback() {
	// Best effort: if even the truncate fails, Open's torn-tail repair finishes the job.
	_ = w.f.Truncate(w.diskSize)
	_, _ = w.f.Seek(w.diskSize, io.SeekStart)
	w.buf = w.buf[:0]
	w.seq, w.head, w.tree = w.diskSeq, w.diskHead, w.diskTree
}

// Sync writes the buffered records and makes them durable.
func (w *Writer) Sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	w.syncFrom = w.diskSize
	err := cmp.Or(w.waitBackground(), w.f.Sync())
	if err != nil {
		return fmt.Errorf("fsync ledger %s: %w", w.path, err)
	}
	return nil
}

// Started says how Open read the ledger back.
func (w *Writer) Started() Start { return w.start }

// SaveIndex writes the index snapshot (Options.Snapshot) for the ledger as it is now,
// so that the next Open reads only what follows. The caller promises that the index
// holds exactly what the ledger holds: every body it admitted has been appended (a
// body admitted but not yet appended would be taken for a duplicate after a crash and
// lost). Buffered records are made durable first.
func (w *Writer) SaveIndex() error {
	if w.idx == nil || w.snapshot == "" {
		return nil
	}
	if err := w.Sync(); err != nil {
		return err
	}
	// seq counts records from 1 without gaps, so the record count is the last seq.
	st := State{Records: w.diskSeq, LastSeq: w.diskSeq, Head: w.diskHead, Size: w.diskSize, tree: w.diskTree}
	if err := writeSnapshot(w.snapshot, w.idx, st); err != nil {
		return fmt.Errorf("save index snapshot: %w", err)
	}
	return nil
}

// Seq is the seq of the last appended record.
func (w *Writer) Seq() int64 { return w.seq }

// Size is the durable size of the ledger in bytes.
func (w *Writer) Size() int64 { return w.diskSize }

// Close syncs and releases the ledger and its lock.
func (w *Writer) Close() error {
	err := w.Sync()
	w.waitBackground() // when Sync failed before it waited: never close under an fsync
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close ledger: %w", cerr)
	}
	w.lock.Close()
	return err
}

// acquireLock takes an exclusive flock on <ledger>.lock. flock is released by the
// kernel when the process dies, so a killed writer never leaves a stale lock; the pid
// written into the file lets the refusal name the holder.
func acquireLock(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open ledger lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if pid == "" {
				pid = "unknown"
			}
			return nil, fmt.Errorf("%w: %s is held by pid %s", ErrLocked, name, pid)
		}
		return nil, fmt.Errorf("lock ledger: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open ledger dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync ledger dir: %w", err)
	}
	return nil
}
