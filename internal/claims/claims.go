// Package claims tells commands an agent really executed from commands it
// only says it executed.
//
// Models write "I ran `uname -a` and got ..." with invented output and no
// tool call, print tool-call markup as plain text instead of making the call,
// and report "all tests pass" after a run that failed (the user reports are
// collected in shared/reference/anchors.md §6.3). The transcript holds both
// sides of that story: the prose of each assistant message and the tool calls
// and results around it. A Detector follows one session, learns what really
// ran from Executed, and Check reads each assistant message's prose for claims
// the session does not back.
//
// A finding from this package is an accusation that the agent misreported its
// own work, and a noisy detector gets switched off, so every rule prefers
// silence: prose addressed to the user (instructions, suggestions,
// explanations), intent ("I'll run"), hypotheticals and quotes are not
// claims; a claimed command matches an executed one under every loose
// reading a model uses when retelling it; quoted output is judged only when
// there is enough of it. docs/claims.md lists the rules and what they miss.
package claims

import (
	"hash/maphash"
	"math"
	"math/bits"
	"strings"
	"sync"
	"unicode/utf8"
)

// Claim is a statement in assistant prose that the session does not back.
type Claim struct {
	Command string // the claimed command, normalised (trimmed; "" when the claim names no command, e.g. "all tests pass")
	Excerpt string // <= 200 bytes of the prose around the claim, valid UTF-8
	Reason  string // "no_call" | "contradicts_result" | "tool_markup_as_text"
}

const (
	reasonNoCall      = "no_call"
	reasonContradicts = "contradicts_result"
	reasonMarkup      = "tool_markup_as_text"
)

// Bounds that keep a Detector's memory and a Check's work proportional to
// what matters, whatever a transcript holds.
const (
	maxExecs        = 4096 // executions remembered per session, newest kept
	maxClaims       = 64   // claims reported per message
	maxExcerpt      = 200
	maxSentenceScan = 4096 // longer "sentences" are data, not prose
	// maxLookups bounds reconciliations per message (each walks the
	// session's executions); a message naming more commands than this is
	// data, not a report, and the rest of it is not read.
	maxLookups = 1024
	// maxMarkup bounds the tool-call candidates examined per message.
	maxMarkup = 256
	// maxAnalyses bounds the sentences read closely per message; real
	// messages have a few dozen candidate sentences.
	maxAnalyses = 2048
)

// Detector holds what one session really executed so far. Not safe for concurrent use.
type Detector struct {
	execs []execRec
	// known holds each command run so far, so that a command run again, as
	// most are, shares its record instead of being stored anew: a daemon keeps
	// thousands of sessions' histories.
	known      cmdTable
	knownReset bool // known was dropped for a new map at least once
	out        outputIndex
	// What a success claim could contradict: a command whose latest run
	// failed, a kind of work whose latest run failed, or a failed latest
	// run. When none holds, success words cannot be findings and Check does
	// not look for them.
	failedCmds   map[string]bool // canonical command -> its latest run failed
	failedCats   category        // kinds whose latest run failed
	latestFailed bool
	walk         uint64 // numbers the walks over execs that visit each command once (execCmd.walked)
	// dropped counts the executions compacted out of execs, so that
	// execs[i] is execution number dropped+i of the session. catLatest holds,
	// per category bit, 1 + the number of the latest execution of that kind
	// (0: none yet): latestOf answers from it instead of walking the history
	// back, which on every success clause cost as much as the rest of it.
	dropped   int
	catLatest [numCats]int
}

const numCats = 8 // the bits of category in use

type execRec struct {
	*execCmd // shared by every run of the same command
	// plainLen is len(canon) of a plainCandidate command, else 0: plainExecIn
	// passes over runs too long for the clause, as most are, without
	// following the pointer.
	plainLen uint32
	head     uint16 // pairHash of canon's first two bytes, when plainLen > 0
	// failed and notRun are failedOutcome and notRunOutcome of the run's
	// outcome, kept instead of the outcome's string: the record is half the
	// size (16 bytes), and the history (up to maxExecs of them per session)
	// is walked on every success clause and every lookup.
	failed, notRun bool
}

// execCmd is one distinct executed command. Its kinds of work are known at
// once (failedCats needs them on every exec); the segments, the expensive part
// of the analysis, wait for a Check that compares a claim with it. Most
// sessions' execs are never compared with anything: working them out on every
// new command was half of Executed's time.
type execCmd struct {
	info   cmdInfo // canon always; segs once split
	split  bool    // info.segs is worked out
	cats   category
	plain  bool   // plainCandidate(info.canon), worked out once rather than per clause
	walked uint64 // the Detector's walk that last visited this command
	// inFailed: failedCmds holds this command. Every exec of the command goes
	// through this record (until known is reset), so the map is written only
	// when the answer changes rather than on every exec.
	inFailed bool
}

func newExecCmd(canon string) *execCmd {
	x := &execCmd{info: cmdInfo{canon: canon}, plain: plainCandidate(canon)}
	cats := needleCats(canon)
	x.cats = cats&^runnerWord | runnerPath(canon)
	if mayRunner(canon, cats) {
		x.cats |= segRunners(x.prepared().segs)
	}
	return x
}

// mayRunner is mayNameRunner(canon), given needleCats(canon): without quotes
// or backslashes it is whether canon holds a runner word, which the walk for
// the categories has found.
func mayRunner(canon string, cats category) bool {
	if hasQuoting(canon) {
		return mayNameRunner(canon)
	}
	return cats&runnerWord != 0
}

// canonCategories is commandCategories of a canonical command, splitting it
// only when it may name a runner.
func canonCategories(canon string) category {
	raw := needleCats(canon)
	cats := raw&^runnerWord | runnerPath(canon)
	if mayRunner(canon, raw) {
		cats |= segRunners(commandSegments(canon, 0))
	}
	return cats
}

// prepared returns the command prepared for matching, splitting it first if no
// Check has needed it yet.
func (x *execCmd) prepared() *cmdInfo {
	if !x.split {
		x.split = true
		x.info.segs = commandSegments(x.info.canon, 0)
	}
	return &x.info
}

// cmdTable maps canonical commands to their records (Detector.known). It is a
// map written out so that a new command, as a third of a scan's execs are, is
// hashed once (a map hashes it to look it up and again to insert it), and
// growing moves stored hashes instead of hashing every command again: the
// map's two hashes and its growth were half of Executed.
type cmdTable struct {
	slots []cmdSlot // open addressing, linear probing; len 0 or a power of two
	n     int
}

type cmdSlot struct {
	h uint64
	x *execCmd // nil: empty; its canon is the key
}

var cmdSeed = maphash.MakeSeed()

// find returns canon's record, or nil; and canon's hash, for add.
func (t *cmdTable) find(canon string) (*execCmd, uint64) {
	h := maphash.String(cmdSeed, canon)
	if len(t.slots) == 0 {
		return nil, h
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.x == nil {
			return nil, h
		}
		if s.h == h && s.x.info.canon == canon {
			return s.x, h
		}
	}
}

// add inserts x, whose canon has hash h and is not in t.
func (t *cmdTable) add(h uint64, x *execCmd) {
	if 4*(t.n+1) > 3*len(t.slots) {
		old := t.slots
		t.slots = make([]cmdSlot, max(16, 2*len(old)))
		for _, s := range old {
			if s.x != nil {
				t.put(s)
			}
		}
	}
	t.put(cmdSlot{h, x})
	t.n++
}

func (t *cmdTable) put(s cmdSlot) {
	mask := uint64(len(t.slots) - 1)
	i := s.h & mask
	for t.slots[i].x != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

// New returns a Detector for one session.
func New() *Detector { return &Detector{} }

// Executed records a real shell execution of this session (from the transcript's tool calls/results), in order.
// outcome is one of succeeded, nonzero_exit, timed_out, killed, not_found, denied, blocked, pending_approval, running, error, no_result.
func (d *Detector) Executed(command, outcome, output string) {
	canon := canonCommand(command)
	if canon == "" {
		return
	}
	x, h := d.known.find(canon)
	if x == nil {
		x = newExecCmd(canon)
		// A record made after known was reset may be of a command failedCmds
		// holds. Before that, every command failedCmds holds has its record in
		// known, so a new one is not among them and the lookup is saved.
		x.inFailed = d.knownReset && len(d.failedCmds) > 0 && d.failedCmds[canon]
		if d.known.n >= maxExecs {
			d.knownReset = true
			d.known = cmdTable{} // bounded like the history itself
		}
		d.known.add(h, x)
	}
	if len(d.execs) == maxExecs {
		// The oldest quarter goes at once: shifting the history by one for every exec
		// of a long session moved all of it each time.
		d.execs = d.execs[:copy(d.execs, d.execs[maxExecs/4:])]
		d.dropped += maxExecs / 4
	}
	for cats, n := x.cats, d.dropped+len(d.execs)+1; cats != 0; cats &= cats - 1 {
		d.catLatest[bits.TrailingZeros16(uint16(cats))] = n
	}
	failed := failedOutcome(outcome)
	rec := execRec{execCmd: x, failed: failed, notRun: notRunOutcome(outcome)}
	if x.plain {
		rec.plainLen = uint32(min(len(canon), math.MaxUint32))
		rec.head = pairHash(canon[0], canon[1])
	}
	d.execs = append(d.execs, rec)
	d.latestFailed = failed
	if failed {
		d.failedCats |= x.cats
		if !x.inFailed && len(d.failedCmds) < maxExecs {
			if d.failedCmds == nil {
				d.failedCmds = make(map[string]bool)
			}
			d.failedCmds[canon] = true
			x.inFailed = true
		}
	} else {
		d.failedCats &^= x.cats
		if x.inFailed {
			delete(d.failedCmds, canon)
			x.inFailed = false
		}
	}
	if output != "" {
		d.out.add(output)
	}
}

// Retained is the bytes of real output the detector keeps for recognising quotes.
func (d *Detector) Retained() int { return d.out.retained() }

// ForgetOutputs drops the kept outputs, for a caller bounding memory across many
// sessions. Quoted output is no longer judged invented in this session afterwards:
// it might quote what was forgotten, and precision comes first.
func (d *Detector) ForgetOutputs() { d.out.forget() }

// failedOutcome reports outcomes that contradict a claim of success. Denied
// and blocked commands never ran, so "it completed successfully" is as false
// after them as after a non-zero exit.
// outstanding reports whether some latest run failed.
func (d *Detector) outstanding() bool {
	return d.latestFailed || d.failedCats != 0 || len(d.failedCmds) > 0
}

func failedOutcome(o string) bool {
	switch o {
	case "nonzero_exit", "timed_out", "killed", "not_found", "error", "denied", "blocked":
		return true
	}
	return false
}

func notRunOutcome(o string) bool { return o == "denied" || o == "blocked" }

// Check examines one assistant message's prose (text blocks joined with "\n", thinking excluded) together with the
// shell commands that the SAME message requested as real tool calls (callsInTurn), and returns the claims it finds that are
// not backed by a real execution in this session. Precision matters more than recall.
//
// Call Check for a message before recording the results of its own calls:
// output quoted in a message that also makes the call cannot have come from
// that call.
func (d *Detector) Check(text string, callsInTurn []string) []Claim {
	open := d.outstanding()
	// After a failure the success words' positions are needed whenever the
	// message is read, and finding them answers the gate's success-word test
	// too: asking the gate first searched the text for them twice.
	var successAt []int
	if open {
		successAt = successPositions(text)
	}
	if len(successAt) == 0 && !mayClaim(text, false) {
		return nil
	}
	c := newChecker()
	c.d, c.text, c.rawCalls, c.budget, c.open = d, text, callsInTurn, maxScanBudget, open
	if open {
		c.successAt = successAt
		c.successWords = len(c.successAt) > 0
	}
	c.run()
	claims := c.claims
	c.release()
	return claims
}

// checkers keeps checkers between Checks for their buffers: a scan checks
// millions of short messages, and allocating a checker and its buffers for
// each was most of what a message without a claim cost after the gate.
var checkers = sync.Pool{New: func() any { return new(checker) }}

func newChecker() *checker { return checkers.Get().(*checker) }

// release returns c to the pool, keeping only its buffers, and those only
// when small: one huge message must not pin its buffers for good.
func (c *checker) release() {
	const keep = 4096
	*c = checker{
		shapeBuf:   c.shapeBuf[:0],
		offBuf:     c.offBuf[:0],
		wordBuf:    c.wordBuf[:0],
		guardBuf:   c.guardBuf[:0],
		splitBuf:   c.splitBuf[:0],
		boundBuf:   c.boundBuf[:0],
		lineCmd:    c.lineCmd[:0],
		spanBuf:    c.spanBuf[:0],
		sentBuf:    c.sentBuf[:0],
		introSpans: c.introSpans[:0],
		infoBuf:    c.infoBuf[:0],
	}
	if cap(c.shapeBuf) > keep || cap(c.offBuf) > keep || cap(c.wordBuf) > keep || cap(c.guardBuf) > keep ||
		cap(c.splitBuf) > keep || cap(c.boundBuf) > keep || cap(c.lineCmd) > keep || cap(c.spanBuf) > keep || cap(c.sentBuf) > 256 ||
		cap(c.introSpans) > keep || cap(c.infoBuf) > 256 {
		return
	}
	checkers.Put(c)
}

// mayClaim is the cheap gate in front of the parser. Almost all assistant
// prose holds no claim, and this runs on every message, so each test is a
// substring search whose first byte is rare in English prose (a backtick,
// '<', '"', an upper-case letter, 'x'): those compile to vectorised byte
// scans that skip most of the text. Needles starting with common letters
// cost several times more and are kept to the few success words.
func mayClaim(text string, anyFailure bool) bool {
	if strings.IndexByte(text, '`') >= 0 || strings.Contains(text, "~~~") {
		return true // inline commands and fenced blocks
	}
	if strings.IndexByte(text, '<') >= 0 && hasMarkupTag(text) {
		return true
	}
	if strings.IndexByte(text, '"') >= 0 && hasJSONCall(text) {
		return true
	}
	if hasRunClaim(text) {
		return true // "I ran git status", "I've run the tests"
	}
	return anyFailure && hasSuccessStem(text)
}

func hasMarkupTag(text string) bool {
	return strings.Contains(text, "invoke") || strings.Contains(text, "function_calls") ||
		strings.Contains(text, "tool_call") || strings.Contains(text, "tool_use") ||
		strings.Contains(text, "<function=") || strings.Contains(text, "execute_bash")
}

func hasJSONCall(text string) bool {
	return strings.Contains(text, `"command"`) || strings.Contains(text, `"cmd"`) || strings.Contains(text, `\"command`)
}

// hasRunClaim finds a run verb shortly after a first-person pronoun, or a
// terse "Ran"/"executed". Lower-case "we ran" mid-sentence without any
// backtick is not looked for: the scan for 'I' and 'W' is what keeps the
// gate fast.
func hasRunClaim(s string) bool {
	if strings.Contains(s, "Ran ") || strings.Contains(s, "xecuted") {
		return true
	}
	for _, p := range [...]byte{'I', 'W'} {
		for i := 0; ; {
			j := strings.IndexByte(s[i:], p)
			if j < 0 {
				break
			}
			i += j + 1
			w := s[i:min(len(s), i+48)]
			if strings.Contains(w, "ran ") || strings.Contains(w, "run ") {
				return true
			}
		}
	}
	return false
}

// hasSuccessStem reports text that may contain a success phrase. The
// lower-case stems are chosen for the speed of their first bytes ("gree",
// not "reen"); capitalised and upper-case forms are cheap to add.
func hasSuccessStem(s string) bool {
	for _, stem := range successStems {
		if strings.Contains(s, stem) {
			return true
		}
	}
	for _, stem := range mannerStems {
		for off := 0; ; {
			i := strings.Index(s[off:], stem)
			if i < 0 {
				break
			}
			if mannerAt(s, off+i, stem) {
				return true
			}
			off += i + len(stem)
		}
	}
	return false
}

var successStems = []string{"pass", "ucce", "gree", "clea", "erro", "xit", "Pass", "PASS", "Gree", "Clea", "Erro", "ERRO"}

// mannerStems are the words of "completed without issues" and "went through
// fine". "without" and "fine" are common in prose, so an occurrence counts
// only with the words that make it a success phrase around it: otherwise
// every sentence holding "without" would be read closely after a failure.
// Each stem starts with a letter that is rare in English ('w', 'f'):
// strings.Index skips to the first byte, and a frequent one ("ithout",
// "smooth") makes it fall back to a byte-by-byte compare that doubled the
// cost of reading plain prose after a failure. Every stem is one more pass
// over every message while a run has failed (about 8 µs per 64 KiB), so
// "went smoothly" has none of its own; it is still read when another
// success word brings its sentence in. "`terraform apply` went through" has
// none either: the rules find it after the command span (sentInfo.wentThrough),
// because a stem starting at the backtick cost a compare at every code span
// and one starting at 'w' a compare at every "with".
var mannerStems = []string{"without ", "fine"}

func mannerAt(s string, i int, stem string) bool {
	if stem == "without " {
		after := s[i+len(stem):]
		after = strings.TrimPrefix(after, "any ")
		for _, w := range [...]string{"issue", "problem", "fail", "a hitch"} {
			if strings.HasPrefix(after, w) {
				return true
			}
		}
		return false
	}
	before := strings.TrimRight(s[max(0, i-16):i], " ")
	before = strings.TrimSuffix(before, " through")
	for _, w := range [...]string{"completed", "finished", "ran", "went", "installed", "built", "deployed", "applied", "upgraded", "migrated"} {
		if strings.HasSuffix(before, w) {
			return true
		}
	}
	return false
}

// successPositions returns the sorted offsets of success words in text.
// It is one walk over the bytes rather than one vectorised search per stem:
// most messages are a few sentences, where fourteen searches cost more in
// calls than in bytes, and on long prose the walk costs what they do.
func successPositions(text string) []int {
	var out []int
	// Every stem is at least three bytes long, so each occurrence puts its
	// first two bytes or its second and third at an odd offset: looking at
	// the pairs at odd offsets only, and at the two starts they may belong
	// to, halves the walk (the first pairs alone, at every offset, was one
	// bit test per byte).
	for q := 1; q+1 < len(text); q += 2 {
		if b := text[q+1]; stemInner[text[q]][b>>6]&(1<<(b&63)) == 0 {
			continue
		}
		for i := q - 1; i <= q; i++ {
			t := &stemStart[text[i]]
			for _, k := range t {
				if k == 0 {
					break
				}
				stem := allStems[k-1]
				if text[i+1] != stem[1] || !strings.HasPrefix(text[i:], stem) {
					continue
				}
				if int(k) <= len(successStems) || mannerAt(text, i, stem) {
					out = append(out, i)
				}
				break
			}
		}
	}
	return out
}

// stemStart holds, per byte, the index+1 in allStems of each stem starting
// with it, or 0. No two stems begin with the same two bytes (checked here),
// so a position starts at most one stem; and no stem overlaps itself, so
// every occurrence is one that searching for each stem in turn also finds.
var (
	allStems  = append(append([]string(nil), successStems...), mannerStems...)
	stemStart = func() (t [256][2]uint8) {
		for i, s := range allStems {
			c := s[0]
			switch {
			case t[c][0] == 0:
				t[c][0] = uint8(i + 1)
			case t[c][1] == 0:
				t[c][1] = uint8(i + 1)
			default:
				panic("claims: more than two stems start with " + string(c))
			}
		}
		for i, a := range allStems {
			for j, b := range allStems {
				if i != j && a[:2] == b[:2] {
					panic("claims: stems " + a + " and " + b + " start alike")
				}
			}
		}
		return t
	}()
	// stemInner marks the first two and the second and third bytes of each
	// stem: by the first byte of the pair, its second byte.
	stemInner = func() (t [256][4]uint64) {
		for _, s := range allStems {
			if len(s) < 3 {
				panic("claims: a success stem must be at least three bytes: " + s)
			}
			for _, p := range []string{s[0:2], s[1:3]} {
				t[p[0]][p[1]>>6] |= 1 << (p[1] & 63)
			}
		}
		return t
	}()
)

// checker is the state of one Check call.
type checker struct {
	d        *Detector
	text     string
	rawCalls []string
	calls    []*cmdInfo // parsed lazily
	parsed   bool
	catsDone bool     // callCats and anyCall are worked out
	callCats category // kinds of work of this turn's calls
	anyCall  bool     // this turn makes a call
	claims   []Claim
	budget   int // bytes the substring fallback may still scan
	lookups  int // reconciliations done
	analyses int // sentences analysed
	fences   []fence
	// successWords: the session has a failure and the message has a
	// success word somewhere, so sentences must be checked for success
	// claims.
	successWords bool
	open         bool  // some latest execution failed
	runAt        []int // offsets of run-verb triggers in text
	successAt    []int // offsets of success words in text, when successWords
	shapeBuf     []byte
	offBuf       []int
	wordBuf      []word
	guardBuf     []word   // implicitGuard's words; it may run for an earlier sentence
	splitBuf     [][2]int // checkSuccess's clause splits, reused
	boundBuf     [][2]int // checkSuccess's clauses, reused
	lineCmd      []int8   // per span of the current line: 0 unknown, 1 command-like, -1 not
	spanBuf      []span   // run's spans of the current line
	sentBuf      []sent   // run's sentences of the current line
	introSent    sent     // run's introduction to a fence: the last sentence of the line before
	introSpans   []span   // introSent's spans
	infoBuf      []sentInfo
}

// spent reports whether this Check has done all the work it may.
func (c *checker) spent() bool {
	return c.lookups >= maxLookups || c.analyses >= maxAnalyses || len(c.claims) >= maxClaims
}

// callCategories returns the kinds of work this turn's calls do, together,
// and whether it makes any call. A success clause asks it of every Check that
// reaches latestOf; parsing the calls whole for it was most of latestOf's cost.
func (c *checker) callCategories() (category, bool) {
	if !c.catsDone {
		c.catsDone = true
		for _, s := range c.rawCalls {
			if canon := canonCommand(s); canon != "" {
				c.anyCall = true
				c.callCats |= canonCategories(canon)
			}
		}
	}
	return c.callCats, c.anyCall
}

func (c *checker) callInfos() []*cmdInfo {
	if !c.parsed {
		c.parsed = true
		for _, s := range c.rawCalls {
			if info := newCmdInfo(s); info.canon != "" {
				c.calls = append(c.calls, &info)
			}
		}
	}
	return c.calls
}

func (c *checker) add(reason, command string, start, end int) {
	if len(c.claims) >= maxClaims {
		return
	}
	command = normalizeCommand(command)
	for _, x := range c.claims {
		if x.Reason == reason && x.Command == command {
			return
		}
	}
	c.claims = append(c.claims, Claim{Command: command, Excerpt: excerpt(c.text, start, end), Reason: reason})
}

// excerpt returns at most maxExcerpt bytes of text around [start, end),
// preferring to keep the start of the claim, cut at rune boundaries and
// stripped of invalid UTF-8.
func excerpt(text string, start, end int) string {
	start = max(0, min(start, len(text)))
	end = max(start, min(end, len(text)))
	if end-start > maxExcerpt {
		end = start + maxExcerpt
	}
	slack := maxExcerpt - (end - start)
	lo := max(0, start-slack/2)
	hi := min(len(text), end+(slack-(start-lo)))
	if hi-lo < maxExcerpt {
		lo = max(0, hi-maxExcerpt)
	}
	for lo < hi && !utf8.RuneStart(text[lo]) {
		lo++
	}
	for hi < len(text) && hi > lo && !utf8.RuneStart(text[hi]) {
		hi--
	}
	s := text[lo:hi]
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	return strings.TrimSpace(s)
}

// verdict is how a claimed command relates to what the session executed.
type verdict int

const (
	backed   verdict = iota
	unbacked         // nothing like it ran
	neverRan         // it was requested but denied or blocked
)

// lookup reconciles a claimed command with this turn's calls and the
// session's executions.
func (c *checker) lookup(cmd string) verdict {
	if c.spent() {
		return backed
	}
	c.lookups++
	info := newCmdInfo(cmd)
	if info.canon == "" {
		return backed
	}
	calls := c.callInfos()
	for _, e := range calls {
		if info.matches(e) {
			return backed
		}
	}
	sawNotRun := false
	for i := len(c.d.execs) - 1; i >= 0; i-- {
		e := &c.d.execs[i]
		if info.matches(e.prepared()) {
			if !e.notRun {
				return backed
			}
			sawNotRun = true
		}
	}
	if sawNotRun {
		return neverRan
	}
	if len(info.segs) > 1 {
		all := make([]*cmdInfo, 0, len(calls)+len(c.d.execs))
		all = append(all, calls...)
		for i := range c.d.execs {
			all = append(all, c.d.execs[i].prepared())
		}
		if segsCovered(info.segs, all) {
			return backed
		}
	}
	return unbacked
}

// latestMatching returns the most recent execution the claimed command
// names, or nil.
func (c *checker) latestMatching(cmd string) *execRec {
	if c.spent() {
		return nil
	}
	c.lookups++
	info := newCmdInfo(cmd)
	for i := len(c.d.execs) - 1; i >= 0; i-- {
		if info.matches(c.d.execs[i].prepared()) {
			return &c.d.execs[i]
		}
	}
	return nil
}

// callMatches reports whether this turn requests the named command.
func (c *checker) callMatches(cmd string) bool {
	info := newCmdInfo(cmd)
	for _, e := range c.callInfos() {
		if info.matches(e) {
			return true
		}
	}
	return false
}
