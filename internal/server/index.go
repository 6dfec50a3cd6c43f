package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"os"
	"sync"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// The index keeps one small row per ledger record so that a million records fit in a
// few tens of megabytes: the fields the UI filters and pages on, and where the record
// sits in the file. Everything else (output, hashes, source position) is read from the
// ledger by offset when a page shows it; the ledger is append-only, so an offset, once
// read, stays valid for the life of the file.
//
// Rows live in fixed blocks so that growth never copies the whole table and the
// oldest rows can be dropped a block at a time when MaxIndex is reached.

const (
	blockBits = 12
	blockSize = 1 << blockBits
	blockMask = blockSize - 1

	// maxText bounds the search text kept per row. A longer command is still found:
	// when its kept prefix does not match, the filter reads the record from the file.
	maxText = 256

	// ringSize bounds the recent events the live stream can replay to a client that
	// reconnects; one further behind is told to reload.
	ringSize = 4096

	numKinds    = 10
	numOutcomes = 13
	numVerdicts = 5
	numClasses  = 8

	maxFindingKeys = 200 // distinct {rule, severity} label pairs before "other"
	maxNoticeKeys  = 32
	minuteWindow   = 24 * 60 // minutes of per-minute chart buckets kept (a chart under a day uses them)
)

// Row flags.
const (
	flagWitnessed  = 1 << iota // the OS witness matched the exec
	flagUpdated                // an exec_update resolved the exec later; the latest is in index.updates
	flagUnverified             // read after the chain's first problem: shown, not vouched for
	flagLongText               // the search text was cut at maxText bytes
)

// row is what the index keeps per record (32 bytes). Its seq is not stored: while
// the chain holds, the record at position abs has seq abs+1 (index.seqAt).
type row struct {
	off     int64  // offset of the record's line in the ledger
	size    uint32 // line length without the '\n'
	ts      uint32 // unix seconds of ts, else of recorded_at; 0 when unknown
	sess    uint32 // session number (index.sessions)
	text    uint32 // offset of the lowercased search text in the block's arena
	tlen    uint16
	kind    uint8
	outcome uint8 // exec, exec_update, tool: the outcome (folded for exec); provider_error: the class
	verdict uint8
	flags   uint8
}

type block struct {
	rows [blockSize]row
	text []byte // search texts of the block's rows, ASCII-lowercased
}

type agentInfo struct {
	name     string
	sessions map[string]uint32
}

// sessionInfo sums up one (agent, session); records without a session (a source
// change, a notice about the ledger) belong to the agent's "" session.
type sessionInfo struct {
	agent                                 uint32
	name                                  string
	first, last                           uint32 // unix seconds
	lastSeq                               int64
	execs, failures, claims, perrs, other uint32
}

type bucket [2]uint32 // executions, failures

type classStat struct {
	count   int64
	hint    string // the newest record's hint: the plain-words advice for this class
	last    uint32
	lastSeq int64
}

type findingKey struct{ rule, severity string }

type checkpointInfo struct {
	Seq      int64  `json:"seq"`
	TreeSize int64  `json:"tree_size"`
	Root     string `json:"root"`
	// Signed: it carries a signed note. The chain check here has vouched for its
	// size and root; only `clawtrail verify --key` can say whose signature it is.
	Signed bool `json:"signed"`
}

// counts are totals over every record read in this generation, including rows
// MaxIndex has since dropped: metrics and stats describe the ledger, not the window.
type counts struct {
	records      int64
	byKind       [numKinds][numOutcomes]int64 // records_total{kind,outcome}
	execOutcome  [numOutcomes]int64           // execs by their latest outcome
	execVerdict  [numVerdicts]int64
	witnessed    int64
	classes      [numClasses]classStat
	findings     map[findingKey]int64
	notices      map[string]int64
	minute, hour map[int64]bucket
	maxMinute    int64
	providerDay  map[int64][numClasses]uint32
	execFirst    uint32
	execLast     uint32
	lastRecorded time.Time
	checkpoint   *checkpointInfo
	bytes        int64 // offset just past the last record read
	unmatched    int64 // exec_updates whose exec was not found among the rows
}

// chainState is what the integrity page reports: how far the hash chain has been
// checked, with ledger.Walk's rules, and the first thing `clawtrail verify` would flag.
type chainState struct {
	verified   ledger.State
	problem    *ledger.Problem
	unverified int64 // records read after the problem
	badLines   int64 // lines after the problem that are not records at all
	restarts   []restart
	readErr    string
	caughtUp   bool
	started    time.Time
}

type restart struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

type streamEvent struct {
	seq int64 // the record that caused it (an exec, a claim, or an update of an exec)
	abs int64 // the row to show
}

// index is safe for concurrent use: one goroutine (Server.Run) adds, handlers read.
type index struct {
	mu   sync.RWMutex
	seed maphash.Seed
	max  int

	f      *os.File // the ledger being indexed; handlers read details from it
	blocks []*block
	first  int64 // absolute number of blocks[0].rows[0]
	lo, n  int64 // live rows are [lo, n)

	agentIDs map[string]uint32
	agents   []agentInfo
	sessions []sessionInfo

	open    map[uint64]int64 // exec identity -> row, for execs still likely to be updated
	updates map[int64]int64  // exec row -> row of its latest exec_update
	oddSeq  map[int64]int64  // row -> seq, for rows after a chain break whose seq is not abs+1

	gen      int64 // bumped by reset: a stream that sees it change starts over
	ring     [ringSize]streamEvent
	events   int64 // events ever put in ring
	ringLost int64 // seq of the newest event pushed out of ring
	changed  chan struct{}
	dirty    bool

	c     counts
	chain chainState
}

func newIndex(max int) *index {
	x := &index{seed: maphash.MakeSeed(), max: max}
	x.resetLocked(nil, time.Now())
	return x
}

// reset starts a new generation over f (nil: no ledger yet). Readers see an empty
// index that fills up again; the restart history is kept.
func (x *index) reset(f *os.File, now time.Time, reason string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.f
	restarts := x.chain.restarts
	if reason != "" {
		restarts = append(restarts, restart{At: now.UTC(), Reason: reason})
		if len(restarts) > 5 {
			restarts = restarts[len(restarts)-5:]
		}
	}
	x.resetLocked(f, now)
	x.chain.restarts = restarts
	x.gen++
	x.dirty = true
	x.publishLocked(false)
	if old != nil && old != f {
		// A handler may still be reading a detail from it; it will get an error and
		// the next request sees the new generation.
		old.Close()
	}
}

func (x *index) resetLocked(f *os.File, now time.Time) {
	x.f = f
	x.blocks = nil
	x.first, x.lo, x.n = 0, 0, 0
	x.agentIDs = map[string]uint32{}
	x.agents = nil
	x.sessions = nil
	x.open = map[uint64]int64{}
	x.updates = map[int64]int64{}
	x.oddSeq = map[int64]int64{}
	x.events, x.ringLost = 0, 0
	if x.changed == nil {
		x.changed = make(chan struct{})
	}
	x.c = counts{findings: map[findingKey]int64{}, notices: map[string]int64{}, minute: map[int64]bucket{},
		hour: map[int64]bucket{}, providerDay: map[int64][numClasses]uint32{}}
	x.chain = chainState{verified: ledger.State{Head: ledger.ZeroHash}, started: now}
}

func (x *index) key(runtime, agent, session, callID string) uint64 {
	var h maphash.Hash
	h.SetSeed(x.seed)
	for _, p := range [...]string{runtime, agent, session, callID} {
		h.WriteString(p)
		h.WriteByte(0)
	}
	return h.Sum64()
}

func (x *index) rowAt(abs int64) *row {
	i := abs - x.first
	return &x.blocks[i>>blockBits].rows[i&blockMask]
}

func (x *index) blockOf(abs int64) *block { return x.blocks[(abs-x.first)>>blockBits] }

// sessionOf interns (agent, session). Callers hold mu for writing.
func (x *index) sessionOf(agent, session string) uint32 {
	a, ok := x.agentIDs[agent]
	if !ok {
		a = uint32(len(x.agents))
		x.agentIDs[agent] = a
		x.agents = append(x.agents, agentInfo{name: agent, sessions: map[string]uint32{}})
	}
	s, ok := x.agents[a].sessions[session]
	if !ok {
		s = uint32(len(x.sessions))
		x.agents[a].sessions[session] = s
		x.sessions = append(x.sessions, sessionInfo{agent: a, name: session})
	}
	return s
}

// add indexes one record read from the ledger at off. verified says whether the hash
// chain vouches for it (false after the chain's first problem).
func (x *index) add(rec *ledger.Record, line []byte, off int64, verified bool) {
	x.mu.Lock()
	defer x.mu.Unlock()

	k := code(kindNames, rec.Kind)
	r := row{off: off, size: uint32(len(line)), kind: k, ts: recordTime(rec)}
	if !verified {
		r.flags |= flagUnverified
	}
	c := &x.c
	c.records++
	c.byKind[k][code(outcomeNames, rec.Outcome)]++
	c.bytes = off + int64(len(line)) + 1
	if t, err := time.Parse(time.RFC3339Nano, rec.RecordedAt); err == nil {
		c.lastRecorded = t
	}
	if verified {
		x.chain.verified = ledger.State{Records: x.chain.verified.Records + 1, LastSeq: rec.Seq, Head: rec.Hash, Size: c.bytes}
	} else {
		x.chain.unverified++
	}

	sess := x.sessionOf(rec.Agent, rec.Session)
	r.sess = sess
	si := &x.sessions[sess]
	if r.ts != 0 {
		if si.first == 0 || r.ts < si.first {
			si.first = r.ts
		}
		if r.ts > si.last {
			si.last = r.ts
		}
	}
	si.lastSeq = rec.Seq

	var text string
	switch k {
	case kExec:
		r.outcome = code(outcomeNames, rec.Outcome)
		r.verdict = code(verdictNames, rec.Verdict)
		if witnessMatched(line) {
			r.flags |= flagWitnessed
			c.witnessed++
		}
		text = rec.Command
		c.execOutcome[r.outcome]++
		c.execVerdict[r.verdict]++
		si.execs++
		if failed(r.outcome) {
			si.failures++
		}
		x.chartAdd(r.ts, 1, b2u(failed(r.outcome)))
		for _, f := range rec.Findings {
			fk := findingKey{f.Rule, f.Severity}
			if _, ok := c.findings[fk]; !ok && len(c.findings) >= maxFindingKeys {
				fk = findingKey{"other", "other"}
			}
			c.findings[fk]++
		}
	case kExecUpdate:
		r.outcome = code(outcomeNames, rec.Outcome)
		r.verdict = code(verdictNames, rec.Verdict)
		si.other++
	case kClaim:
		text = rec.ClaimedCommand
		si.claims++
	case kProviderError:
		r.outcome = code(classNames, rec.Class)
		text = rec.Provider + " " + rec.Model + " " + rec.Message
		cs := &c.classes[r.outcome]
		cs.count++
		if rec.Hint != "" {
			cs.hint = rec.Hint
		}
		cs.last, cs.lastSeq = r.ts, rec.Seq
		day := int64(r.ts) / 86400
		d := c.providerDay[day]
		d[r.outcome]++
		c.providerDay[day] = d
		si.perrs++
	case kTool:
		r.outcome = code(outcomeNames, rec.Outcome)
		text = rec.Tool
		si.other++
	case kNotice:
		text = rec.Reason + " " + rec.Detail
		reason := rec.Reason
		if _, ok := c.notices[reason]; !ok && len(c.notices) >= maxNoticeKeys {
			reason = "other"
		}
		c.notices[reason]++
		si.other++
	case kSource:
		text = rec.Type + " " + rec.Path
		si.other++
	case kCheckpoint:
		c.checkpoint = &checkpointInfo{Seq: rec.Seq, TreeSize: rec.TreeSize, Root: rec.Root, Signed: rec.Note != ""}
	default:
		si.other++
	}

	abs := x.push(r, text)
	if rec.Seq != abs+1 {
		x.oddSeq[abs] = rec.Seq
	}
	switch k {
	case kExec:
		if unsettled(r.outcome) {
			x.open[x.key(rec.Runtime, rec.Agent, rec.Session, rec.CorrelationID)] = abs
		}
		x.event(rec.Seq, abs)
	case kClaim:
		x.event(rec.Seq, abs)
	case kExecUpdate:
		x.fold(rec, abs, sess)
	}
	x.evict()
	x.dirty = true
}

// fold applies an exec_update to its exec: the latest update wins, so the exec's row
// takes the new outcome and verdict, and the counts move with it.
func (x *index) fold(rec *ledger.Record, upd int64, sess uint32) {
	key := x.key(rec.Runtime, rec.Agent, rec.Session, rec.CorrelationID)
	target := int64(-1)
	if abs, ok := x.open[key]; ok && abs >= x.lo && abs < upd && x.rowAt(abs).sess == sess {
		target = abs
	} else {
		target = x.findExec(rec, sess, upd)
	}
	if target < 0 {
		x.c.unmatched++
		return
	}
	t := x.rowAt(target)
	u := x.rowAt(upd)
	c := &x.c
	si := &x.sessions[sess]
	c.execOutcome[t.outcome]--
	c.execOutcome[u.outcome]++
	c.execVerdict[t.verdict]--
	c.execVerdict[u.verdict]++
	if was, is := failed(t.outcome), failed(u.outcome); was != is {
		if is {
			si.failures++
			x.chartAdd(t.ts, 0, 1)
		} else {
			si.failures--
			x.chartSub(t.ts)
		}
	}
	t.outcome, t.verdict = u.outcome, u.verdict
	t.flags |= flagUpdated
	x.updates[target] = upd
	if unsettled(u.outcome) {
		x.open[key] = target
	} else {
		delete(x.open, key)
	}
	x.event(rec.Seq, target)
}

// findExec looks for an update's exec among the rows when the map of unsettled execs
// does not have it (an update of an exec that looked settled, which is rare): newest
// first, same session, confirmed by reading the candidate's identity from the file.
// It gives up after maxCandidates reads, since it runs with the index locked.
func (x *index) findExec(rec *ledger.Record, sess uint32, before int64) int64 {
	const maxCandidates = 4096
	tried := 0
	for abs := before - 1; abs >= x.lo && tried < maxCandidates; abs-- {
		r := x.rowAt(abs)
		if r.kind != kExec || r.sess != sess {
			continue
		}
		tried++
		line, err := readLine(x.f, r.off, r.size)
		if err != nil {
			return -1
		}
		var id struct {
			Runtime       string `json:"runtime"`
			CorrelationID string `json:"correlation_id"`
		}
		if json.Unmarshal(line, &id) == nil && id.Runtime == rec.Runtime && id.CorrelationID == rec.CorrelationID {
			return abs
		}
	}
	return -1
}

func (x *index) push(r row, text string) int64 {
	abs := x.n
	i := abs - x.first
	if int(i>>blockBits) == len(x.blocks) {
		x.blocks = append(x.blocks, &block{text: make([]byte, 0, 16<<10)})
	}
	b := x.blocks[i>>blockBits]
	if text != "" {
		if len(text) > maxText {
			text = text[:maxText]
			r.flags |= flagLongText
		}
		r.text, r.tlen = uint32(len(b.text)), uint16(len(text))
		b.text = appendLower(b.text, text)
	}
	b.rows[i&blockMask] = r
	x.n++
	if i&blockMask == blockMask {
		// The block is full: give back the arena's spare capacity.
		b.text = append(make([]byte, 0, len(b.text)), b.text...)
	}
	return abs
}

// evict drops the oldest rows beyond max, a whole block's memory at a time.
func (x *index) evict() {
	if x.n-x.lo <= int64(x.max) {
		return
	}
	x.lo = x.n - int64(x.max)
	if x.lo-x.first < blockSize {
		return
	}
	for x.lo-x.first >= blockSize {
		x.blocks[0] = nil
		x.blocks = x.blocks[1:]
		x.first += blockSize
	}
	for k, abs := range x.open {
		if abs < x.lo {
			delete(x.open, k)
		}
	}
	for abs := range x.updates {
		if abs < x.lo {
			delete(x.updates, abs)
		}
	}
	for abs := range x.oddSeq {
		if abs < x.lo {
			delete(x.oddSeq, abs)
		}
	}
}

// seqAt is the seq of the record at row abs.
func (x *index) seqAt(abs int64) int64 {
	if len(x.oddSeq) > 0 {
		if s, ok := x.oddSeq[abs]; ok {
			return s
		}
	}
	return abs + 1
}

func (x *index) event(seq, abs int64) {
	slot := &x.ring[x.events%ringSize]
	if x.events >= ringSize {
		x.ringLost = slot.seq
	}
	*slot = streamEvent{seq: seq, abs: abs}
	x.events++
}

func (x *index) chartAdd(ts uint32, execs, fails uint32) {
	if ts == 0 {
		return
	}
	c := &x.c
	if c.execFirst == 0 || ts < c.execFirst {
		c.execFirst = ts
	}
	if ts > c.execLast {
		c.execLast = ts
	}
	m := int64(ts) / 60
	if m > c.maxMinute {
		c.maxMinute = m
	}
	if m > c.maxMinute-minuteWindow {
		b := c.minute[m]
		b[0] += execs
		b[1] += fails
		c.minute[m] = b
		if len(c.minute) > 2*minuteWindow {
			for k := range c.minute {
				if k <= c.maxMinute-minuteWindow {
					delete(c.minute, k)
				}
			}
		}
	}
	h := int64(ts) / 3600
	b := c.hour[h]
	b[0] += execs
	b[1] += fails
	c.hour[h] = b
}

func (x *index) chartSub(ts uint32) {
	if ts == 0 {
		return
	}
	m := int64(ts) / 60
	if b, ok := x.c.minute[m]; ok && b[1] > 0 {
		b[1]--
		x.c.minute[m] = b
	}
	h := int64(ts) / 3600
	if b, ok := x.c.hour[h]; ok && b[1] > 0 {
		b[1]--
		x.c.hour[h] = b
	}
}

// publish wakes the live streams if anything was added since the last call, and
// records whether the reader has caught up with the file.
func (x *index) publish(caughtUp bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.publishLocked(caughtUp)
}

func (x *index) isCaughtUp() bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.chain.caughtUp
}

// notify wakes the live streams if anything was added since they last woke.
func (x *index) notify() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.dirty {
		close(x.changed)
		x.changed = make(chan struct{})
		x.dirty = false
	}
}

func (x *index) publishLocked(caughtUp bool) {
	if x.dirty || caughtUp != x.chain.caughtUp {
		close(x.changed)
		x.changed = make(chan struct{})
		x.dirty = false
	}
	x.chain.caughtUp = caughtUp
}

func (x *index) setProblem(p *ledger.Problem) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.chain.problem = p
}

func (x *index) setReadError(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if err == nil {
		x.chain.readErr = ""
	} else {
		x.chain.readErr = err.Error()
	}
}

func (x *index) badLine() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.chain.badLines++
}

// recordTime is the record's own time (when the call was made), falling back to when
// clawtrail wrote it, in unix seconds; 0 when neither parses.
func recordTime(rec *ledger.Record) uint32 {
	for _, s := range [2]string{rec.TS, rec.RecordedAt} {
		if s == "" {
			continue
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			u := t.Unix()
			if u <= 0 {
				return 0
			}
			if u > 1<<32-1 {
				return 1<<32 - 1
			}
			return uint32(u)
		}
	}
	return 0
}

// witnessMatched reports whether an exec line carries witness.status "matched". The
// search is exact on structure: inside a JSON string every '"' is escaped, so `,"`
// can only be the start of a member.
func witnessMatched(line []byte) bool {
	return bytes.Contains(line, []byte(`,"witness":{"status":"matched"`))
}

func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// readLine reads the record line at off.
func readLine(f *os.File, off int64, size uint32) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("read ledger at %d: no ledger open", off)
	}
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("read ledger at %d: %w", off, err)
	}
	return buf, nil
}
