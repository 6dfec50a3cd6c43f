// Package witness observes, through the kernel, the processes an agent runtime
// spawns, so that each exec a transcript reports can be matched to a process
// that really ran: its pid, the exit status the kernel recorded, and the
// namespaces and container it ran in.
//
// A transcript is written by the agent runtime; a model can also write prose
// that looks like a command and its output without anything having run. The
// witness is independent evidence: on Linux it subscribes to the netlink process
// connector (fork, exec and exit events for every process on the host), reads
// /proc/<pid> the moment an exec is reported, and keeps a bounded window of what
// it saw. Match then answers, for one transcript exec, "did the kernel see a
// shell run this command, in this directory, in this time window?".
//
// The answer is "unmatched" only when the witness can vouch for the whole time
// window: it was listening, nothing in that window was evicted, and the kernel
// reported no lost events and no exec whose command line could not be read.
// Otherwise, and when the witness cannot run at all (not Linux, no
// CAP_NET_ADMIN, no connector, not in the initial namespaces), the answer is
// "unavailable": a missing witness must never read as "the command never ran".
package witness

import (
	"errors"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrUnavailable is returned, wrapped with the reason, when the witness cannot
// run on this host.
var ErrUnavailable = errors.New("kernel witness unavailable")

// slack is added on both sides of the time window given to Match: transcript
// timestamps are written by another process, rounded, and taken around (not
// exactly at) the spawn.
const slack = 2 * time.Second

// Defaults for Config.
const (
	defaultWindow   = 15 * time.Minute
	defaultMaxProcs = 200000
)

// maxWindowBytes bounds the memory held by the window's strings (command
// lines, working directories) on top of MaxProcs: agents write long heredocs,
// and 200,000 of them would otherwise be gigabytes.
const maxWindowBytes = 64 << 20

// maxLossSpans bounds the list of time spans in which events were lost.
const maxLossSpans = 4096

// catchUpWait bounds how long Match waits for the reader to process events
// that the kernel queued before Match was called.
const catchUpWait = time.Second

// Config configures a Witness. The zero value is usable.
type Config struct {
	// Window is how long exec and exit events are kept, counted from the exec.
	// A command that runs longer than Window can no longer be matched when its
	// result arrives. Default 15 minutes.
	Window time.Duration
	// MaxProcs bounds the number of exec records kept; the oldest are evicted
	// first. Default 200,000.
	MaxProcs int
	// Logger receives the witness's state changes (started, unavailable, events
	// lost, loss stopped). Default: discarded.
	Logger *slog.Logger
	// Runtime, if set, is the name of the runtime's process as the kernel shows it
	// (/proc/<pid>/comm, what `ps -o comm` prints: "node", "openclaw-gateway"):
	// only a process whose parent has that name can be a transcript's command, so
	// an identical command another program ran is not taken for it, and another
	// program's shell that exited unread does not make a match unavailable.
	Runtime string
}

// Result is the witness's answer for one transcript exec.
type Result struct {
	// Status is "matched", "unmatched" (the witness watched the whole window and
	// saw no such process) or "unavailable" (the witness is not running, or
	// could not vouch for the window: it started later or stopped earlier,
	// events were lost, the window was evicted, or an exec in it that could
	// have been this command exited before its command line could be read).
	Status string `json:"status"`
	PID    int    `json:"pid,omitempty"`
	PPID   int    `json:"ppid,omitempty"`
	// ExitCode is the exit status as the kernel saw it: the exit code, or
	// 128+signal for a process killed by a signal. Nil while still running (or
	// when the kernel dropped its exit event: Stats.Lost says so).
	ExitCode *int   `json:"exit_code,omitempty"`
	Signal   string `json:"signal,omitempty"`
	// Namespaces are the inode numbers of /proc/<pid>/ns/{pid,mnt,net,uts,ipc,
	// user,cgroup}, as read when the exec was reported; a namespace that could
	// not be read (the process was already gone) is absent.
	Namespaces map[string]uint64 `json:"namespaces,omitempty"`
	// Container is the container id found in /proc/<pid>/cgroup, if any.
	Container string `json:"container,omitempty"`
	// HostNamespaces is true when all seven namespaces were read and equal
	// those of pid 1 as seen by the witness: the command ran on the host, not
	// in a container or sandbox. False when they differ or could not be read.
	// (Where pid 1's namespaces cannot be read, the witness's own stand in:
	// the connector only works from the initial pid and user namespaces.)
	HostNamespaces bool `json:"host_namespaces"`
}

// Result statuses.
const (
	statusMatched     = "matched"
	statusUnmatched   = "unmatched"
	statusUnavailable = "unavailable"
)

// Stats are the witness's counters since Start.
type Stats struct {
	// Available is false when Start failed; all other fields are then zero.
	Available bool `json:"available"`
	// Received counts process events read from the kernel (all kinds).
	Received uint64 `json:"received"`
	Execs    uint64 `json:"execs"`
	Exits    uint64 `json:"exits"`
	// Lost counts events the kernel generated that never reached the witness,
	// from gaps in the connector's per-CPU sequence numbers. This is exact for
	// drops after the first event seen on each CPU.
	Lost uint64 `json:"lost"`
	// Overruns counts ENOBUFS errors on the socket: the kernel found the
	// receive buffer full and dropped one or more events.
	Overruns uint64 `json:"overruns"`
	// Unread counts exec events whose command line could not be read because
	// the process had already exited when the witness looked.
	Unread uint64 `json:"unread"`
	// Procs is the number of exec records in the window now.
	Procs int `json:"procs"`
	// Evicted counts records dropped by MaxProcs or the memory bound before
	// their Window expired.
	Evicted uint64 `json:"evicted"`
	// Late counts Match calls that answered unavailable because the reader had
	// not caught up with the kernel within the wait (a heavily loaded machine).
	Late uint64 `json:"late"`
	// Edge counts Match calls that answered unavailable because the only
	// candidate was just outside the window while the window was not fully seen.
	Edge uint64 `json:"edge"`
	// LastLoss is when events were last lost or unreadable (zero if never).
	LastLoss time.Time `json:"last_loss,omitzero"`
}

// Namespace kinds, in the order they are stored.
var nsNames = [numNS]string{"pid", "mnt", "net", "uts", "ipc", "user", "cgroup"}

const numNS = 7

// life is what one process (one pid, from fork to exit) shares across its
// execs: `sh -c 'ls'` execs sh and then, in the same process, ls.
type life struct {
	exited bool
	status uint32 // wait status as the kernel reports it
}

// proc is one exec the kernel reported.
type proc struct {
	at        int64 // exec time, Unix nanoseconds (kernel monotonic clock mapped to wall time)
	pid, ppid int32
	// cmdline is /proc/<pid>/cmdline without its final NUL: argv joined by NUL.
	cmdline   string
	cwd       string
	container string
	ns        [numNS]uint64 // 0 = not read
	comm      string        // only when the cmdline was not read: the name in /proc/<pid>/stat
	argvOK    bool          // cmdline was read
	cwdOK     bool
	truncated bool // cmdline longer than maxCmdline; only a prefix is kept
	life      *life
	// parentComm is the parent's name at exec, read only with Config.Runtime;
	// "" when unknown (the parent was gone).
	parentComm string
	start      uint64 // start time in clock ticks since boot (/proc/<pid>/stat), 0 = not read
	lossGen    uint32 // the reader's loss episode count when the record was made
}

func (p *proc) size() int { return len(p.cmdline) + len(p.cwd) + 160 }

// span is a closed interval of Unix nanoseconds.
type span struct{ from, to int64 }

// Witness observes process execs and exits through the kernel. Its methods
// are safe for concurrent use; a nil *Witness reports unavailable.
type Witness struct {
	log      *slog.Logger
	window   time.Duration
	maxProcs int
	runtime  string // Config.Runtime
	err      error  // non-nil: Start failed, Match reports unavailable

	mu      sync.Mutex
	recs    []*proc // in arrival order; recs[head:] is the window
	ats     []int64 // recs[i].at, contiguous: Match scans times, not pointers
	head    int
	bytes   int
	live    map[int32]*proc // latest exec of each pid not yet exited
	losses  []span          // when events were lost or execs unreadable
	horizon int64           // newest exec time evicted before its Window ended, or start
	started int64           // from here on the witness was listening
	stopped int64           // 0 while running

	hostNS   [numNS]uint64
	hostNSOK bool

	// flush waits until the reader has processed every event the kernel
	// queued before need (Unix ns), or until deadline; false if it could not
	// tell.
	flush func(need int64, deadline time.Time) bool
	// poke wakes the reader so that it sees Close without waiting for its
	// read timeout.
	poke func()

	received, execs, exits, lost, overruns, unread, evicted, late, edge atomic.Uint64
	lastLoss                                                            atomic.Int64
	// unused counts delivered events the witness has no use for (forks and
	// exits of threads, other kinds): zero while the socket filter is attached.
	unused atomic.Uint64

	cancel    func()
	done      chan struct{}
	closeOnce sync.Once

	testDelay atomic.Int64 // tests: nanoseconds the reader sleeps per event
}

func newWitness(cfg Config) *Witness {
	w := &Witness{log: cfg.Logger, window: cfg.Window, maxProcs: cfg.MaxProcs, runtime: cfg.Runtime, live: map[int32]*proc{}}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.window <= 0 {
		w.window = defaultWindow
	}
	if w.maxProcs <= 0 {
		w.maxProcs = defaultMaxProcs
	}
	return w
}

// unavailableWitness is what Start returns alongside its error, so that a
// caller that keeps the value (rather than nil) still gets "unavailable".
func unavailableWitness(cfg Config, err error) *Witness {
	w := newWitness(cfg)
	w.err = err
	return w
}

// Close stops the witness and waits for its goroutine. The window stays
// readable: Match keeps answering for what was seen, and reports unavailable
// for time after the stop.
func (w *Witness) Close() error {
	if w == nil || w.done == nil {
		return nil
	}
	w.closeOnce.Do(func() {
		w.cancel()
		if w.poke != nil {
			w.poke()
		}
	})
	<-w.done
	return nil
}

// Stats returns the witness's counters.
func (w *Witness) Stats() Stats {
	if w == nil || w.err != nil {
		return Stats{}
	}
	s := Stats{
		Available: true,
		Received:  w.received.Load(),
		Execs:     w.execs.Load(),
		Exits:     w.exits.Load(),
		Lost:      w.lost.Load(),
		Overruns:  w.overruns.Load(),
		Unread:    w.unread.Load(),
		Evicted:   w.evicted.Load(),
		Late:      w.late.Load(),
		Edge:      w.edge.Load(),
	}
	if t := w.lastLoss.Load(); t != 0 {
		s.LastLoss = time.Unix(0, t)
	}
	w.mu.Lock()
	w.expireLocked(time.Now().UnixNano())
	s.Procs = len(w.recs) - w.head
	w.mu.Unlock()
	return s
}

// Match finds the process that ran command, as the runtime spawns it (`sh -c
// <command>`, `bash -lc <command>`, or the command's own argv when exec'd
// directly), whose exec time lies in [from-2s, to+2s] and, when cwd is not
// empty, whose working directory at exec was cwd. An exact match of the -c
// argument is preferred over whitespace-normalised equality. A zero to means
// "until now". Among equally good candidates the one exec'd closest to from
// wins. Match first waits (at most 1 s, usually well under a millisecond)
// until the witness has processed every event queued before the window's end.
func (w *Witness) Match(command, cwd string, from, to time.Time) Result {
	if w == nil || w.err != nil || w.done == nil {
		return Result{Status: statusUnavailable}
	}
	now := time.Now()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-w.window)
	}
	if to.Before(from) {
		from, to = to, from
	}
	lo, hi := from.Add(-slack).UnixNano(), to.Add(slack).UnixNano()
	// The kernel may have queued the exec or exit a moment ago; wait (briefly)
	// until the reader has processed everything queued before this call.
	caughtUp := w.flush != nil && w.flush(min(hi, now.UnixNano()), now.Add(catchUpWait))
	in0, in1 := from.UnixNano(), to.UnixNano()

	q := newQuery(command, cwd)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expireLocked(time.Now().UnixNano())
	var best *proc
	var bestKey candKey
	// unsure: an exec whose command line could not be read could have been
	// this command; inside: it happened within [from, to] proper.
	unsure, unsureInside := false, false
	for i, at := range w.ats[w.head:] {
		if at < lo || at > hi {
			continue
		}
		p := w.recs[w.head+i]
		if !w.fromRuntime(p) {
			continue
		}
		if !p.argvOK {
			if q.couldBe(p) {
				unsure = true
				unsureInside = unsureInside || (p.at >= in0 && p.at <= in1)
			}
			continue
		}
		k, ok := q.rank(p)
		if !ok {
			continue
		}
		k.outside = p.at < in0 || p.at > in1
		k.dist = absDiff(p.at, in0)
		if best == nil || k.less(bestKey) {
			best, bestKey = p, k
		}
	}
	switch {
	case best != nil && !bestKey.outside:
		return w.resultLocked(best)
	case best != nil && caughtUp && !unsureInside && w.coveredLocked(in0, in1, in1):
		// Only a candidate in the slack, and nothing inside [from, to] went
		// unseen: clock skew, not a lost exec of the same command.
		return w.resultLocked(best)
	case best == nil && caughtUp && !unsure && w.coveredLocked(lo, hi, in1):
		return Result{Status: statusUnmatched}
	}
	switch {
	case !caughtUp:
		w.late.Add(1)
	case best != nil:
		// The only candidate lies in the slack around the window and something in
		// the window went unseen: it may or may not be this command.
		w.edge.Add(1)
	}
	return Result{Status: statusUnavailable}
}

// fromRuntime reports whether p can be a process the runtime started: always
// without Config.Runtime; with it, when its parent had that name, or when the
// parent is unknown and p went unread (it may have been one).
func (w *Witness) fromRuntime(p *proc) bool {
	if w.runtime == "" || p.parentComm == w.runtime {
		return true
	}
	return p.parentComm == "" && !p.argvOK
}

// coveredLocked reports whether the witness can vouch that no exec in [lo,
// hi] went unseen: it was listening from lo until end (the command's result;
// the slack after it is only for clock skew), nothing exec'd in the span was
// evicted, and no event in it was lost or unreadable.
func (w *Witness) coveredLocked(lo, hi, end int64) bool {
	if lo < w.started || lo <= w.horizon || (w.stopped != 0 && end > w.stopped) {
		return false
	}
	for _, s := range w.losses {
		if s.from <= hi && s.to >= lo {
			return false
		}
	}
	return true
}

func (w *Witness) resultLocked(p *proc) Result {
	r := Result{Status: statusMatched, PID: int(p.pid), PPID: int(p.ppid), Container: p.container}
	if p.life != nil && p.life.exited {
		code, sig := decodeStatus(p.life.status)
		r.ExitCode, r.Signal = &code, sig
	}
	all := true
	for i, ino := range p.ns {
		if ino == 0 {
			all = false
			continue
		}
		if r.Namespaces == nil {
			r.Namespaces = make(map[string]uint64, numNS)
		}
		r.Namespaces[nsNames[i]] = ino
	}
	r.HostNamespaces = all && w.hostNSOK && p.ns == w.hostNS
	return r
}

// addLocked appends an exec record and enforces the bounds.
func (w *Witness) addLocked(p *proc, now int64) {
	w.recs = append(w.recs, p)
	w.ats = append(w.ats, p.at)
	w.bytes += p.size()
	w.live[p.pid] = p
	for len(w.recs)-w.head > w.maxProcs || w.bytes > maxWindowBytes {
		w.evictLocked(true)
	}
	w.expireLocked(now)
}

// expireLocked drops records older than the window, and loss spans that can
// no longer overlap a record in it.
func (w *Witness) expireLocked(now int64) {
	limit := now - int64(w.window)
	for w.head < len(w.recs) && w.recs[w.head].at < limit {
		w.evictLocked(false)
	}
	i := 0
	for i < len(w.losses) && w.losses[i].to < limit-int64(slack) {
		i++
	}
	if i > 0 {
		w.losses = append(w.losses[:0], w.losses[i:]...)
	}
}

func (w *Witness) evictLocked(early bool) {
	p := w.recs[w.head]
	w.recs[w.head] = nil
	w.head++
	w.bytes -= p.size()
	if w.live[p.pid] == p {
		delete(w.live, p.pid)
	}
	// Whatever exec'd up to here may have been dropped: a later Match for that
	// time must not say "unmatched".
	w.horizon = max(w.horizon, p.at)
	if early {
		w.evicted.Add(1)
	}
	// Compact once the dead prefix dominates, so the slice does not grow forever.
	if w.head > 1024 && w.head*2 > len(w.recs) {
		n := copy(w.recs, w.recs[w.head:])
		copy(w.ats, w.ats[w.head:])
		clear(w.recs[n:])
		w.recs, w.ats = w.recs[:n], w.ats[:n]
		w.head = 0
	}
}

// lossLocked records that events in [from, to] may be missing.
func (w *Witness) lossLocked(from, to int64) {
	if from > to {
		from, to = to, from
	}
	w.lastLoss.Store(time.Now().UnixNano())
	if n := len(w.losses); n > 0 && from <= w.losses[n-1].to+int64(time.Second) {
		w.losses[n-1].from = min(w.losses[n-1].from, from)
		w.losses[n-1].to = max(w.losses[n-1].to, to)
		return
	}
	if len(w.losses) >= maxLossSpans {
		// Forgetting a loss span must not make its time look clean: move the
		// horizon past it instead, so Match says unavailable there.
		w.horizon = max(w.horizon, w.losses[0].to)
		w.losses = append(w.losses[:0], w.losses[1:]...)
	}
	w.losses = append(w.losses, span{from, to})
}

// candKey orders match candidates: lower is better.
type candKey struct {
	rank    int  // 0 exact -c argument ... 3 normalised direct argv
	cwdWeak bool // cwd not verified (unread, or the command changes directory)
	outside bool // exec'd in the slack, not within [from, to]
	dist    int64
}

func (a candKey) less(b candKey) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	if a.cwdWeak != b.cwdWeak {
		return !a.cwdWeak
	}
	if a.outside != b.outside {
		return !a.outside
	}
	return a.dist < b.dist
}

// query is one Match request, prepared once for all candidates.
type query struct {
	command string
	norm    string
	words   string // shell words of command joined by NUL, if it is a plain word list
	wordsOK bool
	cwds    []string // acceptable working directories (as given, and resolved)
	// cdLike: the command changes directory itself, so the cwd read a moment
	// after exec may already be the new one.
	cdLike bool
	// comm is what the kernel would name the command's program if the shell
	// exec'd it: the base name of its first word, cut to 15 bytes.
	comm string
}

func newQuery(command, cwd string) *query {
	q := &query{command: command, norm: normalize(command)}
	if ws, ok := shellWords(command); ok {
		q.words, q.wordsOK = strings.Join(ws, "\x00"), true
	}
	if f := strings.Fields(command); len(f) > 0 {
		q.comm = path.Base(f[0])
		if len(q.comm) > 15 {
			q.comm = q.comm[:15]
		}
	}
	if cwd != "" {
		c := filepath.Clean(cwd)
		q.cwds = append(q.cwds, c)
		if r, err := filepath.EvalSymlinks(c); err == nil && r != c {
			q.cwds = append(q.cwds, r)
		}
		for _, f := range strings.Fields(command) {
			if f == "cd" || f == "pushd" {
				q.cdLike = true
				break
			}
		}
	}
	return q
}

// couldBe says whether an exec whose command line could not be read might
// have run the query's command: its comm is unknown, a shell, or the
// command's program; and its cwd, if read, fits.
func (q *query) couldBe(p *proc) bool {
	if p.cwdOK && len(q.cwds) > 0 && !q.cdLike && !containsStr(q.cwds, p.cwd) {
		return false
	}
	return p.comm == "" || shells[p.comm] || p.comm == q.comm
}

// rank says whether p ran the query's command and how well it matches.
func (q *query) rank(p *proc) (candKey, bool) {
	if !p.argvOK {
		return candKey{}, false
	}
	var k candKey
	switch arg, isShell := shellCommand(p.cmdline); {
	case isShell && !p.truncated && arg == q.command:
		k.rank = 0
	case !isShell && q.wordsOK && !p.truncated && p.cmdline == q.words:
		k.rank = 1
	case isShell && normMatch(arg, q.norm, p.truncated):
		k.rank = 2
	case !isShell && normMatch(strings.ReplaceAll(p.cmdline, "\x00", " "), q.norm, p.truncated):
		k.rank = 3
	default:
		return candKey{}, false
	}
	if len(q.cwds) > 0 {
		switch {
		case !p.cwdOK:
			k.cwdWeak = true
		case !containsStr(q.cwds, p.cwd):
			if !q.cdLike {
				return candKey{}, false
			}
			k.cwdWeak = true
		}
	}
	return k, true
}

// normMatch compares whitespace-normalised text; a truncated command line can
// only be compared as a prefix.
func normMatch(s, norm string, truncated bool) bool {
	n := normalize(s)
	if truncated {
		return n != "" && strings.HasPrefix(norm, n)
	}
	return n == norm
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func absDiff(a, b int64) int64 {
	if a > b {
		return a - b
	}
	return b - a
}
