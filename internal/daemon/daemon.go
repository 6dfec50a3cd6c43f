// Package daemon is the live sidecar: it follows every OpenClaw transcript as it is
// written and turns what it reads into ledger records within milliseconds, and a crash
// at any instant loses and doubles nothing.
//
// The order of work is the guarantee: lines are read, paired and admitted against the
// ledger's index; records are written and fsynced; only then may the positions hint
// move past those lines. A restart reads the ledger back (repairing a torn tail),
// resumes each file at or before the oldest call still waiting for its result, and
// lets the index drop whatever it already holds.
package daemon

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/mod/sumdb/note"

	"github.com/clawtrail/clawtrail/internal/correlate"
	"github.com/clawtrail/clawtrail/internal/event"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/scan"
	"github.com/clawtrail/clawtrail/internal/sqlitesource"
	"github.com/clawtrail/clawtrail/internal/tail"
	"github.com/clawtrail/clawtrail/internal/transcript/openclaw"
	"github.com/clawtrail/clawtrail/internal/witness"
)

// Config configures the daemon.
type Config struct {
	Sources       []string
	Ledger        string
	DefaultAgent  string
	AllTools      bool
	OutputCap     int
	MaxLine       int
	NoResultAfter time.Duration // a call without a result becomes no_result after this long
	Reconcile     time.Duration // full rediscovery and stat sweep, in case an event was missed
	IndexEvery    time.Duration // save the index snapshot at most this often (default 1 minute)
	// CheckpointEvery is how often, at most, a checkpoint record commits to what was
	// appended since the last one (default 10 minutes; also at shutdown).
	CheckpointEvery time.Duration
	// Signer, if set, signs the checkpoints.
	Signer      note.Signer
	ClaimMemory int  // bytes of real output kept across sessions for claim checks (default 64 MiB)
	Once        bool // stop when caught up
	Logger      *slog.Logger
	Now         func() time.Time
	// OnCommit, if set, is called after records are durable, with the last seq.
	OnCommit func(seq int64)
	// Witness, if set, is asked for the kernel's view of every exec (run --witness).
	Witness *witness.Witness
}

// Status is what supervisors and the HTTP endpoints see.
type Status struct {
	Healthy    bool      `json:"healthy"`
	Error      string    `json:"error,omitempty"`
	Ready      bool      `json:"ready"`
	Files      int       `json:"files"`
	LagBytes   int64     `json:"lag_bytes"`
	Records    int64     `json:"records"`
	LastRecord time.Time `json:"last_record,omitempty"`
	Problems   int64     `json:"problems"`
	// Agents is the storage era found for every agent directory.
	Agents []AgentStatus `json:"agents,omitempty"`
	// Warnings name the sources found but not audited: an agent directory with
	// no readable transcripts, a transcript database that does not open. Sorted.
	Warnings []string `json:"warnings,omitempty"`
}

// AgentStatus is the storage era of one agent directory.
type AgentStatus struct {
	Agent string `json:"agent"`
	Dir   string `json:"dir"` // relative to its source
	Era   string `json:"era"` // jsonl, sqlite, both, none
}

// Daemon follows sources into the ledger. Create with New, run with Run.
type Daemon struct {
	cfg Config
	log *slog.Logger

	w   *ledger.Writer
	idx *ledger.Index

	files    map[string]*followed        // by path
	dbs      map[string]*followedDB      // SQLite-era databases, by path
	finished map[[2]uint64]tail.Identity // files read to their end (archives), by device and inode
	sessions map[string]*liveSession
	hints    *positions
	watched  map[string]bool
	// agents already warned about having nothing to read
	warnedEmpty map[string]bool
	dbErrors    map[string]string // transcript databases that did not open, by path: why
	watcher     *fsnotify.Watcher

	queue   []ledger.Body // admitted, not yet durable
	held    []ledger.Body // with --witness: derived, waiting until the witness can judge
	failing string        // the current write error, "" when healthy
	retryAt time.Time
	backoff time.Duration
	savedAt time.Time
	// the index snapshot last written: at this seq and ledger size, at this time
	idxSeq   int64
	idxSize  int64
	idxAt    time.Time
	cpSeq    int64 // the ledger's last seq when the last checkpoint was written (or at start)
	cpAt     time.Time
	problems int64
	turnEnd  time.Time // reading stops for this turn after it (zero: no limit)
	dbDirty  bool      // a transcript database was written
	turns    uint64    // commits so far: the clock for which sessions were fed last

	mu     sync.Mutex
	status Status
}

type followed struct {
	file  scan.File
	fol   *tail.Follower
	feed  *scan.Feeder
	sess  *liveSession
	dirty bool
}

type liveSession struct {
	s     *correlate.Session
	files int // followers feeding it
	key   string
	used  uint64 // the turn that last fed it
}

// New returns a daemon for cfg.
func New(cfg Config) *Daemon {
	if cfg.DefaultAgent == "" {
		cfg.DefaultAgent = "main"
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = scan.DefaultMaxLine
	}
	if cfg.NoResultAfter <= 0 {
		cfg.NoResultAfter = 30 * time.Minute
	}
	if cfg.Reconcile <= 0 {
		cfg.Reconcile = 5 * time.Second
	}
	if cfg.ClaimMemory <= 0 {
		cfg.ClaimMemory = 64 << 20
	}
	if cfg.IndexEvery <= 0 {
		cfg.IndexEvery = time.Minute
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = 10 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Daemon{cfg: cfg, log: cfg.Logger, files: map[string]*followed{}, finished: map[[2]uint64]tail.Identity{},
		sessions: map[string]*liveSession{}, watched: map[string]bool{}, dbs: map[string]*followedDB{}, warnedEmpty: map[string]bool{}, dbErrors: map[string]string{}}
}

// Status reports the daemon's state; safe for concurrent use.
func (d *Daemon) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

func (d *Daemon) positionsPath() string { return d.cfg.Ledger + ".positions" }

// Run follows the sources until ctx ends (or, with Once, until caught up). It returns
// after the records of every line read are durable.
func (d *Daemon) Run(ctx context.Context) error {
	d.idx = ledger.NewIndex()
	opened := time.Now()
	w, rep, err := ledger.Open(d.cfg.Ledger, ledger.Options{Now: d.cfg.Now, Index: d.idx, Snapshot: ledger.SnapshotPath(d.cfg.Ledger)})
	if err != nil {
		return err
	}
	d.w = w
	defer w.Close()
	st := w.Started()
	d.idxSeq, d.idxSize = st.From.LastSeq, st.From.Size
	d.cpSeq, d.cpAt = w.Seq(), time.Now()
	if st.FromSnapshot && st.Bytes < indexBytes {
		d.idxAt = time.Now()
	} // else the first commit saves one: this start was slow, the next need not be
	if st.Refused != "" {
		d.log.Warn("index snapshot not used; read the whole ledger", "reason", st.Refused)
	}
	d.log.Info("ledger read back", "records", w.Seq(), "checked", st.Checked, "checked_bytes", st.Bytes,
		"from_snapshot", st.FromSnapshot, "took", time.Since(opened).Round(time.Millisecond))
	if rep != nil {
		d.log.Warn("ledger tail repaired", "detail", rep.Detail)
		d.queue = append(d.queue, &ledger.Notice{Reason: "torn_tail_repaired", Detail: rep.Detail})
	}
	hints, err := loadPositions(d.positionsPath())
	if err != nil {
		d.log.Warn("positions hint ignored", "err", err)
	}
	d.hints = hints

	if !d.cfg.Once {
		if watcher, err := fsnotify.NewWatcher(); err != nil {
			d.log.Warn("file events unavailable; relying on the periodic sweep", "err", err)
		} else {
			d.watcher = watcher
			defer watcher.Close()
		}
	}
	d.reconcile()
	d.reportVanished()
	d.pollAll()
	d.commit()
	if d.cfg.Once {
		for d.failing == "" && d.pollAll() > 0 {
			d.commit()
		}
		d.release(true)
		d.commit()
		d.checkpoint(true)
		d.savePositions(true)
		d.saveIndex(true)
		if d.failing != "" {
			return fmt.Errorf("ledger not writable: %s", d.failing)
		}
		return ctx.Err()
	}
	d.setReady(true)
	d.log.Info("following", "files", len(d.files), "ledger", d.cfg.Ledger)

	sweep := time.NewTicker(d.cfg.Reconcile)
	defer sweep.Stop()
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	kick := make(chan struct{}, 1) // files left with unread lines: another turn soon
	var settle <-chan time.Time    // held execs waiting for the witness; only with one
	if d.cfg.Witness != nil {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		settle = t.C
	}
	// A commit's WAL frames (the file events) are written before the commit is
	// visible: SQLite publishes it in the memory-mapped -shm afterwards, which
	// makes no file event, and with synchronous=FULL only after an fsync, which a
	// busy disk can stretch to seconds. A poll right after the event can be too
	// early, so the databases written to are polled again after 2, 4, 8 … ms, up
	// to the sweep interval (11 cheap polls in the first 4 s), after which the
	// sweep polls them anyway.
	recheck := time.NewTimer(time.Hour)
	recheck.Stop()
	defer recheck.Stop()
	var recheckDelay time.Duration
	sweeps := 0
	var events <-chan fsnotify.Event
	var errs <-chan error
	if d.watcher != nil {
		events, errs = d.watcher.Events, d.watcher.Errors
	}
	for {
		d.turnEnd = time.Time{}
		select {
		case <-ctx.Done():
			d.release(true)
			d.commit()
			d.checkpoint(true)
			d.savePositions(true)
			d.saveIndex(true)
			for _, f := range d.dbs {
				f.db.Close()
			}
			if d.failing != "" {
				return fmt.Errorf("stopped with records not written: %s", d.failing)
			}
			return nil
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			d.turnEnd = time.Now().Add(turnBudget)
			d.onEvent(ev)
			// Take the events already queued (a bounded number, so a busy writer cannot
			// keep the loop from noticing shutdown), then do the work once.
			for more, n := true, 0; more && n < 512; n++ {
				select {
				case ev, ok := <-events:
					if !ok {
						events, more = nil, false
						continue
					}
					d.onEvent(ev)
				default:
					more = false
				}
			}
			if d.failing == "" {
				d.pollDirty()
				if d.dbDirty {
					d.dbDirty = false
					d.pollDBs(ctx, false, true)
					recheckDelay = dbRecheckFirst
					recheck.Reset(recheckDelay)
				}
			}
			d.commit()
		case <-recheck.C:
			if d.failing == "" {
				d.pollRecheck(ctx, 2*recheckDelay >= d.cfg.Reconcile)
			}
			d.commit()
			if 2*recheckDelay < d.cfg.Reconcile {
				recheckDelay *= 2
				recheck.Reset(recheckDelay)
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflowed event queue means events were lost: sweep everything.
			d.log.Warn("file events lost; sweeping", "err", err)
			d.turnEnd = time.Now().Add(turnBudget)
			d.reconcile()
			d.pollAll()
			d.commit()
		case <-sweep.C:
			d.turnEnd = time.Now().Add(turnBudget)
			sweeps++
			if d.failing == "" {
				// Most sweeps only fstat the open files; every twelfth one also
				// rediscovers and stats every name, for renames no event reported.
				if sweeps%12 == 0 {
					d.reconcile()
					d.pollAll()
					d.checkDBSessions(ctx)
				} else {
					d.pollGrown()
				}
				d.expire()
			}
			d.commit()
			d.checkpoint(false) // records appended before a quiet spell are covered too
		case <-retry.C:
			d.commit()
		case <-settle:
			d.release(false)
			d.commit()
		case <-kick:
			d.turnEnd = time.Now().Add(turnBudget)
			if d.failing == "" {
				d.pollDirty()
			}
			d.commit()
		}
		if d.failing == "" && d.anyDirty() {
			select {
			case kick <- struct{}{}:
			default:
			}
		}
		if d.failing != "" {
			retry.Reset(time.Until(d.retryAt))
		}
	}
}

func (d *Daemon) onEvent(ev fsnotify.Event) {
	if f, ok := d.files[ev.Name]; ok {
		f.dirty = true
		return
	}
	for path, f := range d.dbs {
		// A commit writes the -wal file next to the database (or the database
		// itself, in rollback-journal mode).
		if ev.Name == path+"-wal" || ev.Name == path {
			f.dirty, f.recheck, d.dbDirty = true, true, true
			return
		}
	}
	if filepath.Base(filepath.Dir(ev.Name)) == "agent" && filepath.Base(ev.Name) != filepath.Base(sqlitesource.DBRelPath) {
		// An agent's agent/ directory also holds auth profiles, caches and models
		// the gateway rewrites often: only its transcript database matters here.
		return
	}
	if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Rename) {
		// A new transcript, agent or sessions dir: discover it now rather than at the
		// next sweep, so a session's first lines are as fast as its later ones.
		d.reconcile()
		for _, f := range d.files {
			if filepath.Dir(f.file.Path) == filepath.Dir(ev.Name) {
				f.dirty = true
			}
		}
	}
}

// reconcile discovers transcripts and starts following the new ones.
func (d *Daemon) reconcile() {
	var agents []AgentStatus
	var warnings []string
	for _, src := range d.cfg.Sources {
		d.watch(src)
		d.watch(filepath.Join(src, "agents"))
		found, err := scan.DiscoverAll(src, d.cfg.DefaultAgent)
		if err != nil {
			continue
		}
		for _, e := range found.Eras {
			d.admit([]ledger.Body{&ledger.SourceChange{Type: "era", Runtime: openclaw.Runtime, Agent: e.Agent, Path: e.Dir, Detail: e.Era}})
			agents = append(agents, AgentStatus{Agent: e.Agent, Dir: e.Dir, Era: e.Era})
			// The agent directory, its agent/ and sessions/ are watched so that a
			// database or first transcript created there is followed at once, not
			// at the next rediscovery.
			for _, sub := range []string{"", "agent", "sessions"} {
				d.watch(filepath.Join(src, filepath.FromSlash(e.Dir), sub))
			}
			if e.Era != "none" {
				delete(d.warnedEmpty, e.Dir)
				continue
			}
			warnings = append(warnings, fmt.Sprintf("agent %s (%s) has no readable transcripts (neither JSONL nor SQLite): nothing of it is audited", e.Agent, e.Dir))
			if !d.warnedEmpty[e.Dir] {
				d.warnedEmpty[e.Dir] = true
				d.log.Warn("agent has no readable transcripts: nothing of it is audited", "agent", e.Agent, "dir", e.Dir)
			}
		}
		for _, db := range found.Databases {
			d.watch(filepath.Dir(db.Path))
			if _, ok := d.dbs[db.Path]; !ok {
				d.followDB(db)
			}
			if why, ok := d.dbErrors[db.Path]; ok {
				warnings = append(warnings, fmt.Sprintf("agent %s: the transcript database %s does not open: %s", db.Agent, db.Rel, why))
			}
		}
		files := found.Files
		for _, f := range files {
			if f.Class == scan.Cold {
				// Compressed, immutable archives of events moved out of the
				// database: `scan` reads them; the daemon saw them live in the database.
				continue
			}
			d.watch(filepath.Dir(filepath.Dir(f.Path)))
			d.watch(filepath.Dir(f.Path))
			if _, ok := d.files[f.Path]; ok {
				continue
			}
			d.follow(f)
		}
	}
	sort.Strings(warnings)
	d.mu.Lock()
	d.status.Files, d.status.Agents, d.status.Warnings = len(d.files), agents, warnings
	d.mu.Unlock()
}

func (d *Daemon) watch(dir string) {
	if d.watcher == nil || d.watched[dir] {
		return
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return
	}
	if err := d.watcher.Add(dir); err != nil {
		d.log.Warn("cannot watch directory; the sweep still covers it", "dir", dir, "err", err)
	}
	d.watched[dir] = true
}

func (d *Daemon) follow(f scan.File) {
	fol, err := tail.Open(f.Path, d.cfg.MaxLine, nil, tail.Position{})
	if err != nil {
		d.log.Warn("cannot open transcript", "path", f.Path, "err", err)
		return
	}
	id := fol.Identity()
	key := [2]uint64{id.Dev, id.Ino}
	if old, ok := d.finished[key]; ok && tail.SameContent(old, fol) || d.followsIdentity(id) {
		// An archive we already read to its end under its live name.
		fol.Close()
		return
	}
	if h, ok := d.hints.lookup(f.Path, id); ok && tail.SameContent(h.ID, fol) {
		d.hints.take(h)
		if h.Done {
			fol.Close()
			d.finished[key] = h.ID
			return
		}
		fol.Close()
		fol, err = tail.Open(f.Path, d.cfg.MaxLine, &h.ID, tail.Position{Offset: h.Offset, Line: h.Line})
		if err != nil {
			d.log.Warn("cannot open transcript", "path", f.Path, "err", err)
			return
		}
	}
	ff := &followed{file: f, fol: fol, dirty: true}
	ff.feed = scan.NewFeeder(f, d.cfg.MaxLine, func(agent, name string) *correlate.Session {
		return d.session(ff, agent, name)
	})
	d.files[f.Path] = ff
}

// reportVanished records a gap for every file the last run was following that is
// gone now: whatever was written to it after the last line read can no longer be
// read by anyone.
func (d *Daemon) reportVanished() {
	for _, h := range d.hints.vanished() {
		if _, ok := d.files[h.Path]; ok {
			continue // replaced or rewritten at the same path: read again from its start
		}
		rel, agent := h.Rel, h.Agent
		if rel == "" {
			rel = h.Path
		}
		if agent == "" {
			agent = d.cfg.DefaultAgent
		}
		detail := fmt.Sprintf("the transcript was not found at start (deleted or moved while clawtrail was not running); it had been read to byte %d (line %d)", h.Offset, h.Line)
		if h.Size > h.Offset {
			detail += fmt.Sprintf(" of at least %d; the rest was never read", h.Size)
		} else {
			detail += "; anything written to it after that was never read"
		}
		d.log.Warn("transcript vanished while not running; recording a gap", "path", rel, "read_to", h.Offset)
		d.admit([]ledger.Body{&ledger.SourceChange{Type: "gap", Runtime: openclaw.Runtime, Agent: agent, Path: rel, Detail: detail}})
	}
}

func (d *Daemon) followsIdentity(id tail.Identity) bool {
	for _, f := range d.files {
		if other := f.fol.Identity(); other.Dev == id.Dev && other.Ino == id.Ino {
			return true
		}
	}
	return false
}

func (d *Daemon) session(f *followed, agent, name string) *correlate.Session {
	key := agent + "\x00" + name
	ls := d.sessions[key]
	if ls == nil {
		ls = &liveSession{key: key}
		ls.s = correlate.NewSession(openclaw.Runtime, agent, name, correlate.Options{
			AllTools: d.cfg.AllTools, OutputCap: d.cfg.OutputCap,
			Known: func(callID string) bool { return d.idx.Known(openclaw.Runtime, agent, name, callID) },
		})
		d.sessions[key] = ls
	}
	ls.used = d.turns
	if f.sess != ls {
		if f.sess != nil {
			f.sess.files--
		}
		ls.files++
		f.sess = ls
	}
	return ls.s
}

func (d *Daemon) overBudget() bool {
	return !d.turnEnd.IsZero() && time.Now().After(d.turnEnd)
}

func (d *Daemon) anyDirty() bool {
	for _, f := range d.files {
		if f.dirty {
			return true
		}
	}
	return false
}

func (d *Daemon) pollDirty() int {
	n := 0
	for _, f := range d.files {
		if f.dirty {
			n += d.poll(f)
		}
	}
	return n
}

// pollGrown polls the files whose size or mtime changed.
func (d *Daemon) pollGrown() {
	d.pollDBs(context.Background(), false, false)
	for _, f := range d.files {
		if f.dirty || f.fol.Grown() {
			d.poll(f)
		}
	}
}

// pollAll polls every followed file and returns how many lines were read.
func (d *Daemon) pollAll() int {
	n := d.pollDBs(context.Background(), true, false)
	for _, f := range d.files {
		n += d.poll(f)
	}
	var lag int64
	for _, f := range d.files {
		if size := f.fol.Size(); size > f.fol.Position().Offset {
			lag += size - f.fol.Position().Offset
		}
	}
	d.mu.Lock()
	d.status.LagBytes = lag
	d.mu.Unlock()
	return n
}

// turnBudget bounds the reading done in one turn of the loop, so that a burst of
// writes neither starves the other files nor delays shutdown: what is left is read in
// the next turn.
const turnBudget = 100 * time.Millisecond

var errBudget = errors.New("poll budget used")

func (d *Daemon) poll(f *followed) int {
	f.dirty = false
	n := 0
	var out []ledger.Body
	if d.overBudget() {
		f.dirty = true
		return 0
	}
	change, err := f.fol.Poll(func(l tail.Line) error {
		if n&63 == 63 && d.overBudget() {
			f.dirty = true
			return errBudget
		}
		n++
		var p *scan.Problem
		out, p = f.feed.Line(out, l.Bytes, l.No, l.Offset, l.Size, l.TooLong)
		if p != nil {
			d.problems++
			d.log.Warn("transcript line skipped", "path", p.Path, "line", p.Line, "reason", p.Reason)
		}
		return nil
	})
	if change == tail.Rewritten || change == tail.Replaced {
		d.log.Info("transcript rewritten; reading it again", "path", f.file.Rel, "change", change.String())
		f.feed.Reset()
		d.queue = append(d.queue, &ledger.SourceChange{Type: sourceType(change), Runtime: openclaw.Runtime, Agent: f.file.Agent, Path: f.file.Rel,
			Detail: fmt.Sprintf("the transcript was %s; entries already recorded are not recorded again", change)})
	}
	if errors.Is(err, errBudget) {
		err = nil
	} else if err != nil {
		d.log.Warn("cannot read transcript", "path", f.file.Rel, "err", err)
	}
	d.admit(out)
	if f.fol.Done() || (f.file.Class == scan.Archive && err == nil && !f.dirty) {
		d.finish(f, change == tail.Gone)
	}
	return n
}

func sourceType(c tail.Change) string {
	if c == tail.Replaced {
		return "replaced"
	}
	return "reset"
}

// finish ends following a file that is gone or an archive read to its end; its
// session ends with it unless another file still feeds it.
func (d *Daemon) finish(f *followed, gone bool) {
	id := f.fol.Identity()
	d.finished[[2]uint64{id.Dev, id.Ino}] = id
	if gone {
		d.queue = append(d.queue, &ledger.SourceChange{Type: "archived", Runtime: openclaw.Runtime, Agent: f.file.Agent, Path: f.file.Rel,
			Detail: "the transcript was renamed or deleted; it was read to its end"})
	}
	if ls := f.sess; ls != nil {
		ls.files--
		if ls.files <= 0 && gone {
			d.admit(ls.s.Finish(nil))
			delete(d.sessions, ls.key)
		}
	}
	f.fol.Close()
	delete(d.files, f.file.Path)
}

// commitBatch bounds the records held in memory while catching up on a large
// backlog: past it they are made durable before reading on.
const commitBatch = 4096

func (d *Daemon) admit(bodies []ledger.Body) {
	if d.cfg.Witness != nil {
		d.held = append(d.held, bodies...)
		d.release(false)
		return
	}
	d.admitNow(bodies)
}

func (d *Daemon) admitNow(bodies []ledger.Body) {
	for _, b := range bodies {
		if b, ok := d.idx.Admit(b); ok {
			d.queue = append(d.queue, b)
		}
	}
	if len(d.queue) >= commitBatch && d.failing == "" {
		d.commit()
	}
}

// witnessSettle is how long after an exec's result the witness is asked: only once
// the window (and its slack) has passed can it say a command never ran.
const witnessSettle = 2100 * time.Millisecond

// release passes held records on in order, each exec once the witness can judge it
// (or at once when all is true: shutdown). Records after a held exec wait with it,
// so that an update never reaches the index before its exec.
func (d *Daemon) release(all bool) {
	now := time.Now()
	n := 0
	for ; n < len(d.held); n++ {
		e, ok := d.held[n].(*ledger.Exec)
		if !ok {
			continue
		}
		if !all && e.Verdict == event.Executed && now.Before(witnessReadyAt(e)) {
			break
		}
		witnessExec(d.cfg.Witness, e)
	}
	if n == 0 {
		return
	}
	ready := d.held[:n]
	d.held = append([]ledger.Body(nil), d.held[n:]...)
	d.admitNow(ready)
}

func witnessReadyAt(e *ledger.Exec) time.Time {
	end, err := time.Parse(time.RFC3339Nano, e.EndedAt)
	if err != nil {
		return time.Time{}
	}
	return end.Add(witnessSettle)
}

// expire records calls whose result has not come within NoResultAfter.
func (d *Daemon) expire() {
	deadline := d.cfg.Now().Add(-d.cfg.NoResultAfter)
	for _, ls := range d.sessions {
		d.admit(ls.s.Expire(nil, deadline))
	}
}

// commit makes the queued records durable. On failure (disk full, read-only ledger)
// nothing torn is left behind, the records stay queued, reading pauses, and a retry
// follows with backoff.
func (d *Daemon) commit() {
	if len(d.queue) == 0 {
		return
	}
	if d.failing != "" && d.cfg.Now().Before(d.retryAt) {
		return
	}
	var err error
	for _, b := range d.queue {
		if _, err = d.w.Append(b); err != nil {
			break
		}
	}
	if err == nil {
		err = d.w.Sync()
	}
	if err != nil {
		msg := err.Error()
		if d.failing != msg {
			d.log.Error("ledger write failed; holding records and retrying", "err", err, "queued", len(d.queue))
		}
		d.failing = msg
		if d.backoff == 0 {
			d.backoff = 100 * time.Millisecond
		} else if d.backoff < 10*time.Second {
			d.backoff *= 2
		}
		d.retryAt = d.cfg.Now().Add(d.backoff)
		d.mu.Lock()
		d.status.Healthy, d.status.Error = false, msg
		d.mu.Unlock()
		return
	}
	if d.failing != "" {
		d.log.Info("ledger writable again; caught up", "records", len(d.queue))
	}
	d.failing, d.backoff = "", 0
	d.queue = d.queue[:0]
	if d.cfg.OnCommit != nil {
		d.cfg.OnCommit(d.w.Seq())
	}
	now := d.cfg.Now()
	d.mu.Lock()
	d.status.Healthy, d.status.Error = true, ""
	d.status.Records = d.w.Seq()
	d.status.LastRecord = now
	d.status.Problems = d.problems
	d.mu.Unlock()
	d.checkpoint(false)
	d.savePositions(false)
	d.saveIndex(false)
	d.turns++
	d.trimClaimMemory()
}

// trimClaimMemory bounds the real outputs kept, across all sessions, for recognising
// output quoted in prose (each session keeps up to 8 MB of its own). Following a
// thousand busy sessions would otherwise hold gigabytes; the sessions fed longest ago
// forget theirs first.
func (d *Daemon) trimClaimMemory() {
	claimMemory := d.cfg.ClaimMemory
	total := 0
	for _, ls := range d.sessions {
		total += ls.s.ClaimMemory()
	}
	if total <= claimMemory {
		return
	}
	byAge := make([]*liveSession, 0, len(d.sessions))
	for _, ls := range d.sessions {
		if ls.s.ClaimMemory() > 0 {
			byAge = append(byAge, ls)
		}
	}
	slices.SortFunc(byAge, func(a, b *liveSession) int { return cmp.Compare(a.used, b.used) })
	for _, ls := range byAge {
		if total <= claimMemory*3/4 {
			break
		}
		total -= ls.s.ClaimMemory()
		ls.s.ForgetOutputs()
	}
}

// checkpoint appends a checkpoint record once CheckpointEvery has passed since the
// last one (or on force, at shutdown), if anything was appended since. A failure is
// logged, not fatal: the records themselves are durable, and the next checkpoint
// covers them.
func (d *Daemon) checkpoint(force bool) {
	if len(d.queue) > 0 || d.failing != "" || d.w.Seq() == d.cpSeq {
		return
	}
	if !force && time.Since(d.cpAt) < d.cfg.CheckpointEvery {
		return
	}
	d.cpAt = time.Now()
	_, seq, err := d.w.Checkpoint(d.cfg.Signer)
	if err == nil {
		err = d.w.Sync()
	}
	if err != nil {
		d.log.Warn("checkpoint not written; the next one will cover these records", "err", err)
		return
	}
	d.cpSeq = seq
	if d.cfg.OnCommit != nil {
		d.cfg.OnCommit(seq)
	}
	d.mu.Lock()
	d.status.Records = seq
	d.mu.Unlock()
}

// Index snapshots are written at most every Config.IndexEvery while running (and at
// shutdown), or sooner once this much was appended: a restart then checks at most
// about that much of the ledger's tail. Writing one takes the loop's time in
// proportion to the records held.
const indexBytes = 64 << 20

// saveIndex writes the ledger's index snapshot when the ledger has moved on enough
// since the last one. Only with nothing queued: the snapshot must not hold an
// admitted record the ledger does not (after a crash it would be taken for a
// duplicate and lost).
func (d *Daemon) saveIndex(force bool) {
	seq, size := d.w.Seq(), d.w.Size()
	if len(d.queue) > 0 || d.failing != "" || seq == d.idxSeq {
		return
	}
	if !force && time.Since(d.idxAt) < d.cfg.IndexEvery && size-d.idxSize < indexBytes {
		return
	}
	d.idxAt = time.Now()
	if err := d.w.SaveIndex(); err != nil {
		d.log.Warn("index snapshot not saved (a restart will read more of the ledger)", "err", err)
		return
	}
	d.idxSeq, d.idxSize = seq, size
}

// savePositions writes the hint: for every file the end of what was read, pulled
// back to the oldest call still waiting for its result there.
func (d *Daemon) savePositions(force bool) {
	now := d.cfg.Now()
	if !force && now.Sub(d.savedAt) < time.Second {
		return
	}
	if len(d.queue) > 0 || len(d.held) > 0 {
		return // never ahead of the ledger
	}
	held := map[string]event.Position{}
	deadline := now.Add(-d.cfg.NoResultAfter)
	for _, ls := range d.sessions {
		ls.s.Holds(deadline, func(p event.Position) {
			// Offsets order lines in a file; a database session's events have
			// offset 0 and their seq as line.
			if cur, ok := held[p.Path]; !ok || p.Offset < cur.Offset || p.Offset == cur.Offset && p.Line < cur.Line {
				held[p.Path] = p
			}
		})
	}
	var out []position
	for _, f := range d.files {
		pos := f.fol.Position()
		if h, ok := held[f.file.Rel]; ok && h.Offset < pos.Offset {
			pos = tail.Position{Offset: h.Offset, Line: h.Line - 1}
		}
		out = append(out, position{Path: f.file.Path, ID: f.fol.Identity(), Offset: pos.Offset, Line: pos.Line,
			Rel: f.file.Rel, Agent: f.file.Agent, Size: f.fol.Size()})
	}
	for _, id := range d.finished {
		out = append(out, position{ID: id, Done: true})
	}
	var dbs []dbPosition
	for _, f := range d.dbs {
		dbs = append(dbs, f.position(held))
	}
	if err := savePositions(d.positionsPath(), out, dbs); err != nil {
		d.log.Warn("positions hint not saved (a restart will read more)", "err", err)
		return
	}
	d.savedAt = now
}

func (d *Daemon) setReady(v bool) {
	d.mu.Lock()
	d.status.Ready = v
	d.status.Healthy = d.failing == ""
	d.mu.Unlock()
}
