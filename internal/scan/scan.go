package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/clawtrail/clawtrail/internal/correlate"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/lines"
	"github.com/clawtrail/clawtrail/internal/transcript/openclaw"
)

// DefaultMaxLine is the longest transcript line read; longer lines are skipped and
// counted. It bounds memory: a scan never holds more than a few such lines at once.
const DefaultMaxLine = 16 << 20

// Options configures a scan.
type Options struct {
	Ledger       string
	Sources      []string
	DefaultAgent string // agent name for a sessions dir outside agents/<id>/ ("main")
	AllTools     bool
	OutputCap    int
	MaxLine      int
	Workers      int
	// Signer, if set, signs the checkpoint a scan that appended anything ends with.
	Signer note.Signer
	// NoClaimChecks skips the claim checks, only to measure their cost
	// (correlate.Options.NoClaimChecks); the CLI has no such flag.
	NoClaimChecks bool
	// Progress, if set, receives progress snapshots about every 200 ms.
	Progress func(Progress)
	Now      func() time.Time
}

// Progress is a snapshot of a running scan.
type Progress struct {
	Files, FilesDone int
	Bytes, BytesDone int64
	Records          int64
	Elapsed          time.Duration
}

// Problem is a line or file that could not be read completely.
type Problem struct {
	Path   string
	Line   int64
	Reason string
}

// Summary is what a scan did.
type Summary struct {
	Files          int
	Bytes          int64
	Lines          int64
	Appended       int64
	ExecsByOutcome map[string]int64 // new exec records
	UpdatesBy      map[string]int64 // new exec_update records, by new outcome
	ProviderErrors map[string]int64 // by class
	Tools          int64
	Notices        int64
	Claims         map[string]int64 // claims of execution not backed by one, by reason
	OtherCalls     int64            // non-shell tool calls seen
	Skipped        []Skipped
	Eras           []Era     // storage era of each agent
	Problems       []Problem // first problems, for the report
	ProblemCount   map[string]int64
	Repair         *ledger.Repair
	Checkpoint     *ledger.Checkpoint // the checkpoint the scan ended with, if it appended anything
	CheckpointSeq  int64
	IndexNote      string // why the index snapshot beside the ledger was not used or not saved
	Elapsed        time.Duration
	LedgerRecords  int64 // records in the ledger after the scan
}

const maxProblemsKept = 50

// Run performs the scan.
func Run(ctx context.Context, opt Options) (*Summary, error) {
	if opt.DefaultAgent == "" {
		opt.DefaultAgent = "main"
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = DefaultMaxLine
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	sum := &Summary{ExecsByOutcome: map[string]int64{}, UpdatesBy: map[string]int64{}, ProviderErrors: map[string]int64{}, ProblemCount: map[string]int64{}, Claims: map[string]int64{}}

	var files []File
	var dbs []Database
	var eras []Era
	for _, src := range opt.Sources {
		found, err := DiscoverAll(src, opt.DefaultAgent)
		if err != nil {
			return nil, err
		}
		files = append(files, found.Files...)
		dbs = append(dbs, found.Databases...)
		eras = append(eras, found.Eras...)
		sum.Skipped = append(sum.Skipped, found.Skipped...)
	}
	groups := groupFiles(files)
	var total int64
	for _, f := range files {
		total += f.Size
	}
	for i := range dbs {
		groups = append(groups, group{db: &dbs[i]})
		total += dbs[i].Size
	}
	sum.Files = len(files) + len(dbs)
	sum.Eras = eras

	var records atomic.Int64
	idx := ledger.NewIndex()
	w, rep, err := ledger.Open(opt.Ledger, ledger.Options{Now: opt.Now, Index: idx, Snapshot: ledger.SnapshotPath(opt.Ledger)})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	sum.Repair = rep
	if rep != nil {
		if _, err := w.Append(&ledger.Notice{Reason: "torn_tail_repaired", Detail: rep.Detail}); err != nil {
			return nil, err
		}
		if err := w.Sync(); err != nil {
			return nil, err
		}
	}
	for _, e := range eras {
		if b, ok := idx.Admit(&ledger.SourceChange{Type: "era", Runtime: openclaw.Runtime, Agent: e.Agent, Path: e.Dir, Detail: e.Era}); ok {
			if _, err := w.Append(b); err != nil {
				return nil, err
			}
			records.Add(1)
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// On any return, stop the readers first, then wait for them: a reader blocked on
	// a group nobody will read anymore leaves through ctx.
	defer func() { cancel(); wg.Wait() }()
	var (
		bytesDone atomic.Int64
		filesDone atomic.Int64
	)
	outs := make([]chan groupOut, len(groups))
	for i := range outs {
		outs[i] = make(chan groupOut, batchesAhead)
	}
	jobs := make(chan int)
	// Encoded batches go back to the readers once written: a batch's buffer holds
	// a few hundred records, and a buffer per record cost more than encoding them.
	// A free list rather than a sync.Pool, which the collector empties every few
	// cycles, and the scan allocates fast enough to run one every few batches.
	buffers := make(freeList, opt.Workers*(batchesAhead+2))
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				readGroup(ctx, groups[i], opt, outs[i], buffers, &bytesDone, &filesDone)
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range groups {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var stopProgress func()
	if opt.Progress != nil {
		stopProgress = ticker(func() {
			opt.Progress(Progress{Files: len(files), FilesDone: int(filesDone.Load()), Bytes: total, BytesDone: bytesDone.Load(), Records: records.Load(), Elapsed: now().Sub(start)})
		})
	}

	for i := range groups {
		for out := range outs[i] {
			for j := range out.bodies {
				enc := &out.bodies[j]
				b, ok := idx.Admit(enc.Body)
				if !ok {
					continue
				}
				var rec ledger.Body = enc
				if b != enc.Body {
					rec = b // turned into an update: encode anew
				}
				if _, err := w.Append(rec); err != nil {
					return nil, err
				}
				count(sum, b)
				records.Add(1)
				if w.Buffered() > 1<<20 {
					if err := w.Flush(); err != nil {
						return nil, err
					}
				}
			}
			if out.buf != nil {
				buffers.put(out.buf)
			}
			sum.Lines += out.lines
			sum.OtherCalls += out.otherCalls
			for _, p := range out.problems {
				sum.ProblemCount[problemKind(p.Reason)]++
				if len(sum.Problems) < maxProblemsKept {
					sum.Problems = append(sum.Problems, p)
				}
			}
			sum.Skipped = append(sum.Skipped, out.skipped...)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	if records.Load() > 0 {
		// Whatever a scan adds is committed to by a checkpoint (signed when a key is
		// configured); a scan that adds nothing adds no checkpoint either.
		cp, seq, err := w.Checkpoint(opt.Signer)
		if err != nil {
			return nil, err
		}
		sum.Checkpoint, sum.CheckpointSeq = cp, seq
	}
	if err := w.Sync(); err != nil {
		return nil, err
	}
	if why := w.Started().Refused; why != "" {
		sum.IndexNote = why + "; the whole ledger was read"
	}
	if err := w.SaveIndex(); err != nil {
		sum.IndexNote = err.Error() + "; the next start reads the whole ledger"
	}
	if stopProgress != nil {
		stopProgress()
		opt.Progress(Progress{Files: len(files), FilesDone: len(files), Bytes: total, BytesDone: total, Records: records.Load(), Elapsed: now().Sub(start)})
	}
	sum.Bytes = bytesDone.Load()
	sum.Appended = records.Load()
	sum.LedgerRecords = w.Seq()
	sum.Elapsed = now().Sub(start)
	return sum, nil
}

func ticker(fn func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				fn()
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}

func count(sum *Summary, b ledger.Body) {
	switch v := b.(type) {
	case *ledger.Exec:
		sum.ExecsByOutcome[v.Outcome]++
	case *ledger.ExecUpdate:
		sum.UpdatesBy[v.Outcome]++
	case *ledger.ProviderError:
		sum.ProviderErrors[v.Class]++
	case *ledger.Tool:
		sum.Tools++
	case *ledger.Notice:
		sum.Notices++
	case *ledger.Claim:
		sum.Claims[v.Reason]++
	}
}

func problemKind(reason string) string {
	kind, _, _ := strings.Cut(reason, ":")
	return kind
}

type group struct {
	files []File
	db    *Database // an SQLite-era database instead of files
}

func groupFiles(files []File) []group {
	var gs []group
	for i, f := range files {
		if i == 0 || files[i-1].Group != f.Group {
			gs = append(gs, group{})
		}
		gs[len(gs)-1].files = append(gs[len(gs)-1].files, f)
	}
	return gs
}

type groupOut struct {
	bodies     []ledger.Encoded // encoded by the reader, so the single writer only chains
	buf        *[]byte          // holds the bodies' bytes; the writer returns it to the pool
	lines      int64
	otherCalls int64
	problems   []Problem
	skipped    []Skipped
}

const batchBodies = 256

// batchesAhead is how many encoded batches a group may have waiting for the writer.
const batchesAhead = 4

// freeList keeps the encode buffers of written batches for reuse; it holds no more
// than its capacity, which is about as many as can be in flight at once.
type freeList chan *[]byte

func (f freeList) get() *[]byte {
	select {
	case b := <-f:
		return b
	default:
		return new([]byte)
	}
}

func (f freeList) put(b *[]byte) {
	select {
	case f <- b:
	default:
	}
}

// readGroup reads the files of one transcript group (archives, then the live file)
// and sends their records in order. It always closes out.
func readGroup(ctx context.Context, g group, opt Options, out chan<- groupOut, buffers freeList, bytesDone, filesDone *atomic.Int64) {
	defer close(out)
	sessions := map[string]*correlate.Session{}
	var order []*correlate.Session
	sessionOf := func(agent, name string) *correlate.Session {
		s := sessions[name]
		if s == nil {
			s = correlate.NewSession(openclaw.Runtime, agent, name, correlate.Options{AllTools: opt.AllTools, OutputCap: opt.OutputCap, NoClaimChecks: opt.NoClaimChecks})
			sessions[name] = s
			order = append(order, s)
		}
		return s
	}
	cur := groupOut{}
	var pending []ledger.Body
	send := func(force bool) bool {
		if !force && len(pending) < batchBodies {
			return true
		}
		if len(pending) > 0 {
			cur.buf = buffers.get()
			need := 0
			for _, b := range pending {
				need += ledger.SizeHint(b)
			}
			// Sized once: growing it record by record copied each batch several times.
			buf := slices.Grow((*cur.buf)[:0], need)
			ends := make([]int, 0, len(pending))
			for _, b := range pending {
				next, err := ledger.AppendJSON(buf, b)
				if err != nil {
					cur.problems = append(cur.problems, Problem{Reason: "cannot encode record: " + err.Error()})
					ends = append(ends, -1)
					continue
				}
				buf = next
				ends = append(ends, len(buf))
			}
			// Sliced once every body is in: appending may have moved the buffer.
			start := 0
			for k, end := range ends {
				if end < 0 {
					continue
				}
				cur.bodies = append(cur.bodies, ledger.Encoded{Body: pending[k], JSON: buf[start:end:end]})
				start = end
			}
			*cur.buf = buf
		}
		clear(pending)
		pending = pending[:0]
		select {
		case out <- cur:
			cur = groupOut{}
			return true
		case <-ctx.Done():
			return false
		}
	}
	if g.db != nil {
		if readDatabase(ctx, *g.db, opt, &cur, &pending, send, bytesDone) {
			send(true)
		}
		filesDone.Add(1)
		return
	}
	for _, f := range g.files {
		ok := readFile(ctx, f, opt, &cur, &pending, NewFeeder(f, opt.MaxLine, sessionOf), send, bytesDone)
		filesDone.Add(1)
		if !ok {
			return
		}
	}
	for _, s := range order {
		pending = s.Finish(pending)
		cur.otherCalls += s.Counts.OtherCalls
	}
	send(true)
}

func readFile(ctx context.Context, f File, opt Options, cur *groupOut, pending *[]ledger.Body, feed *Feeder, send func(bool) bool, bytesDone *atomic.Int64) bool {
	if f.Class == Cold {
		return readCold(ctx, f, cur, pending, feed, send, bytesDone)
	}
	fh, err := os.Open(f.Path)
	if err != nil {
		cur.skipped = append(cur.skipped, Skipped{Path: f.Rel, Reason: fmt.Sprintf("cannot open: %v", errors.Unwrap(err))})
		return true
	}
	defer fh.Close()
	lr := lines.NewReader(fh, opt.MaxLine)
	var last int64
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The file vanished or the disk failed mid-read: what was read stays read.
			cur.problems = append(cur.problems, Problem{Path: f.Rel, Line: l.No, Reason: fmt.Sprintf("read error: %v (records read before it are kept)", err)})
			break
		}
		if l.No&1023 == 0 {
			bytesDone.Add(lr.Offset() - last)
			last = lr.Offset()
			if ctx.Err() != nil {
				return false
			}
		}
		cur.lines++
		if !l.Complete {
			// A writer caught mid-line; the rest arrives later and a later scan reads it.
			cur.problems = append(cur.problems, Problem{Path: f.Rel, Line: l.No, Reason: fmt.Sprintf("incomplete last line: %d bytes without a newline; not read yet", l.Size)})
			break
		}
		var p *Problem
		*pending, p = feed.Line(*pending, l.Bytes, l.No, l.Offset, l.Size, l.TooLong)
		if p != nil {
			cur.problems = append(cur.problems, *p)
		}
		if !send(false) {
			return false
		}
	}
	bytesDone.Add(lr.Offset() - last)
	if feed.Good == 0 && feed.Bad > 0 {
		cur.skipped = append(cur.skipped, Skipped{Path: f.Rel, Reason: fmt.Sprintf("not a transcript: none of its %d lines is an OpenClaw entry", feed.Bad)})
	}
	return true
}
