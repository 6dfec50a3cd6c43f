// Package correlate pairs a session's tool calls with their results and turns them
// into ledger records: one exec per shell call, exec updates when a backgrounded or
// approval-gated call settles later, provider errors, and notices for results whose
// call never appeared.
//
// Pairing is by call id, never by adjacency: parallel calls come back in any order and
// ids may contain '|'. Everything that reaches a record passes through redaction here,
// before the ledger, because the ledger can never be edited afterwards.
package correlate

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/clawtrail/clawtrail/internal/claims"
	"github.com/clawtrail/clawtrail/internal/event"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/provider"
	"github.com/clawtrail/clawtrail/internal/redact"
)

// DefaultOutputCap is how much output text a record keeps (head and tail).
const DefaultOutputCap = 64 << 10

// Options tunes a Session.
type Options struct {
	AllTools  bool // also record non-shell tool calls as tool records
	OutputCap int  // bytes of output text kept; DefaultOutputCap when 0
	// Known reports whether the ledger already holds an exec with this call id in
	// this session. A result whose call was read before a restart (and is not re-read)
	// then settles that exec instead of being reported as an orphan.
	Known func(callID string) bool
	// NoClaimChecks skips the claim checks (internal/claims). They are always on in
	// the product; this exists only to measure what they cost (issue 5 gives them
	// a budget of 10 % of scan time).
	NoClaimChecks bool
}

// Counts is what a session saw, for summaries.
type Counts struct {
	ShellCalls   int64
	OtherCalls   int64
	Results      int64
	Orphans      int64
	Resolutions  int64
	ProviderErrs int64
	Duplicates   int64
	Claims       int64
}

type call struct {
	event.Call
	at  time.Time
	pos event.Position
	id  string // entry id of the call line
}

// Session is the pairing state of one session. Not safe for concurrent use.
type Session struct {
	runtime, agent, session string
	opt                     Options

	pending   map[string]*call        // call id -> call awaiting its result
	expired   map[string]*call        // call id -> call recorded as no_result; its result may still come
	calls     map[string]*call        // call id -> call of an exec still able to settle
	execs     map[string]*ledger.Exec // call id -> recorded exec still able to settle
	procs     map[string]string       // process slug (and its 8-char prefix) -> call id
	approvals map[string]string       // approval id (and slug) -> call id
	// Entry ids already processed, as 64-bit hashes: a live session's ids are kept
	// for as long as it is followed, and the strings would cost three times as much.
	// The seed is per session; a collision (about 3 in 10^12 at 10,000 entries) would skip
	// one entry.
	seen     map[uint64]struct{}
	seenSeed maphash.Seed
	claims   *claims.Detector // what the session really ran, for checking prose
	order    []string         // pending call ids in call order

	Counts Counts
}

// NewSession starts the state of one session.
func NewSession(runtime, agent, session string, opt Options) *Session {
	if opt.OutputCap <= 0 {
		opt.OutputCap = DefaultOutputCap
	}
	return &Session{runtime: runtime, agent: agent, session: session, opt: opt,
		pending: map[string]*call{}, expired: map[string]*call{}, calls: map[string]*call{}, execs: map[string]*ledger.Exec{}, procs: map[string]string{},
		approvals: map[string]string{}, seen: map[uint64]struct{}{}, seenSeed: maphash.MakeSeed()}
}

// ID is the session's name in records.
func (s *Session) ID() string { return s.session }

// Seen reports whether an entry id was already processed, and marks it. A session
// read twice (an archive and its successor, a rewritten file) adds nothing the second
// time.
func (s *Session) Seen(entryID string) bool {
	k := maphash.String(s.seenSeed, entryID)
	if _, ok := s.seen[k]; ok {
		s.Counts.Duplicates++
		return true
	}
	s.seen[k] = struct{}{}
	return false
}

// Add feeds one event and appends the records it completes to out.
func (s *Session) Add(out []ledger.Body, ev *event.Event) []ledger.Body {
	switch ev.Kind {
	case event.ToolCall:
		c := &call{Call: *ev.Call, at: ev.Time, pos: ev.Pos, id: ev.EntryID}
		if c.Shell {
			s.Counts.ShellCalls++
		} else {
			s.Counts.OtherCalls++
		}
		if _, dup := s.pending[c.ID]; !dup {
			s.order = append(s.order, c.ID)
		}
		s.pending[c.ID] = c
	case event.ToolResult:
		return s.result(out, ev)
	case event.Resolution:
		return s.resolve(out, ev, ev.Resolve)
	case event.AssistantText:
		return s.checkProse(out, ev)
	case event.ProviderError:
		s.Counts.ProviderErrs++
		p := ev.Provider
		class := provider.Classify(p.Message)
		out = append(out, &ledger.ProviderError{TS: ts(ev.Time), Runtime: s.runtime, Agent: s.agent, Session: s.session,
			EntryID: ev.EntryID, Provider: p.Provider, Model: p.Model, Class: string(class),
			Message: redact.String(capText(p.Message, 4096)), Hint: provider.Hint(class), Source: source(ev)})
	}
	return out
}

func (s *Session) result(out []ledger.Body, ev *event.Event) []ledger.Body {
	r := ev.Result
	s.Counts.Results++
	c, ok := s.pending[r.CallID]
	if !ok {
		if c, expired := s.expired[r.CallID]; expired && c.Shell {
			delete(s.expired, r.CallID)
			return append(out, s.lateResult(ev))
		}
		if r.Settles != nil {
			// A poll of a process whose exec we saw settles it even without its own call.
			return s.resolve(out, ev, r.Settles)
		}
		if s.opt.Known != nil && s.opt.Known(r.CallID) {
			return append(out, s.lateResult(ev))
		}
		s.Counts.Orphans++
		return append(out, &ledger.Notice{TS: ts(ev.Time), Reason: "orphan_result",
			Detail:  fmt.Sprintf("tool result (%s) names call %q, which never appeared in this session: possible corruption or forgery", r.ToolName, r.CallID),
			Runtime: s.runtime, Agent: s.agent, Session: s.session, CorrelationID: r.CallID, Source: ptr(source(ev))})
	}
	delete(s.pending, r.CallID)
	if r.Settles != nil {
		out = s.resolve(out, ev, r.Settles)
	}
	if !c.Shell {
		if s.opt.AllTools {
			out = append(out, &ledger.Tool{TS: ts(c.at), Runtime: s.runtime, Agent: s.agent, Session: s.session,
				CorrelationID: c.ID, Tool: c.Name, Outcome: r.Outcome, Source: source(ev)})
		}
		return out
	}
	e := s.newExec(c)
	e.Outcome = r.Outcome
	e.Verdict = event.VerdictOf(r.Outcome)
	e.ExitCode = r.ExitCode
	e.Signal = r.Signal
	e.DurationMs = r.DurationMs
	if r.Cwd != "" {
		e.Cwd = redact.String(r.Cwd)
	}
	end := r.Ended
	if end.IsZero() {
		end = ev.Time
	}
	e.EndedAt = ts(end)
	text := r.Output
	if text == "" && r.Error != "" {
		text = r.Error
	}
	e.Output = s.output(text)
	e.Source = source(ev)
	s.executed(c.Command, r.Outcome, capText(text, 4096))
	switch r.Outcome {
	case event.Running:
		s.await(s.procs, r.ProcessID, c, e)
		e.EndedAt = ""
	case event.PendingApproval:
		s.await(s.approvals, r.ApprovalID, c, e)
		e.EndedAt = ""
	case event.NoResult:
		// A stand-in that transcript repair wrote for a missing result: the call is
		// recorded as having no result, and a real result turning up later settles it.
		e.EndedAt = ""
		s.expired[c.ID] = c
	}
	return append(out, e)
}

// checkProse records the assistant's claims of execution that no real execution in
// this session backs (simulated output), and prose that contradicts a real result.
func (s *Session) checkProse(out []ledger.Body, ev *event.Event) []ledger.Body {
	if s.opt.NoClaimChecks {
		return out
	}
	if s.claims == nil {
		s.claims = claims.New()
	}
	for _, c := range s.claims.Check(ev.Prose.Text, ev.Prose.Calls) {
		s.Counts.Claims++
		out = append(out, &ledger.Claim{TS: ts(ev.Time), Runtime: s.runtime, Agent: s.agent, Session: s.session,
			EntryID: ev.EntryID, ClaimedCommand: redact.String(c.Command), Excerpt: redact.String(c.Excerpt),
			Reason: c.Reason, Source: source(ev)})
	}
	return out
}

// ClaimMemory is the bytes of real output this session keeps for claim checks.
func (s *Session) ClaimMemory() int {
	if s.claims == nil {
		return 0
	}
	return s.claims.Retained()
}

// ForgetOutputs drops the real outputs kept for claim checks (see
// claims.Detector.ForgetOutputs), for a caller following many sessions at once.
func (s *Session) ForgetOutputs() {
	if s.claims != nil {
		s.claims.ForgetOutputs()
	}
}

// executed tells the claim checker about a real execution.
func (s *Session) executed(command, outcome, output string) {
	if s.opt.NoClaimChecks {
		return
	}
	if s.claims == nil {
		s.claims = claims.New()
	}
	s.claims.Executed(command, outcome, output)
}

// await keeps an exec that a later notice will settle, findable by its handle
// (process slug or approval id) and by the handle's first 8 characters, which is
// all some notices carry.
func (s *Session) await(byHandle map[string]string, handle string, c *call, e *ledger.Exec) {
	if handle == "" {
		return
	}
	s.execs[c.ID] = e
	s.calls[c.ID] = c
	byHandle[handle] = c.ID
	if len(handle) > 8 {
		byHandle[handle[:8]] = c.ID
	}
}

// lateResult records the result of a call that is no longer pending here (it was
// expired as no_result, or read before a restart) as an update of the recorded exec.
func (s *Session) lateResult(ev *event.Event) *ledger.ExecUpdate {
	r := ev.Result
	text := r.Output
	if text == "" {
		text = r.Error
	}
	o := s.output(text)
	end := r.Ended
	if end.IsZero() {
		end = ev.Time
	}
	return &ledger.ExecUpdate{Runtime: s.runtime, Agent: s.agent, Session: s.session, CorrelationID: r.CallID,
		Outcome: r.Outcome, ExitCode: r.ExitCode, Signal: r.Signal, DurationMs: r.DurationMs, EndedAt: ts(end),
		Output: &o, Verdict: event.VerdictOf(r.Outcome), Source: source(ev)}
}

func (s *Session) resolve(out []ledger.Body, ev *event.Event, rs *event.Resolve) []ledger.Body {
	var id string
	if rs.ApprovalID != "" {
		id = s.approvals[rs.ApprovalID]
	}
	if id == "" && rs.ProcessID != "" {
		id = s.procs[rs.ProcessID]
	}
	e := s.execs[id]
	if e == nil {
		return out
	}
	s.Counts.Resolutions++
	u := &ledger.ExecUpdate{TS: e.TS, Runtime: s.runtime, Agent: s.agent, Session: s.session, CorrelationID: e.CorrelationID,
		Outcome: rs.Outcome, ExitCode: rs.ExitCode, Signal: rs.Signal, EndedAt: ts(ev.Time),
		Verdict: event.VerdictOf(rs.Outcome), Source: source(ev)}
	if rs.HasOutput {
		o := s.output(rs.Output)
		u.Output = &o
	}
	if c := s.calls[id]; c != nil {
		s.executed(c.Command, rs.Outcome, capText(rs.Output, 4096))
	}
	if event.Final(rs.Outcome) {
		delete(s.execs, id)
		delete(s.calls, id)
	}
	return append(out, u)
}

// Finish ends the session: calls still waiting for a result are recorded as
// no_result, so an exec is never missing from the ledger just because its result is.
func (s *Session) Finish(out []ledger.Body) []ledger.Body {
	for _, id := range s.order {
		c, ok := s.pending[id]
		if !ok {
			continue
		}
		delete(s.pending, id)
		if !c.Shell {
			if s.opt.AllTools {
				out = append(out, &ledger.Tool{TS: ts(c.at), Runtime: s.runtime, Agent: s.agent, Session: s.session,
					CorrelationID: c.ID, Tool: c.Name, Outcome: event.NoResult,
					Source: ledger.Source{Path: c.pos.Path, Line: c.pos.Line, Offset: c.pos.Offset, EntryID: c.id}})
			}
			continue
		}
		out = append(out, s.noResult(c))
	}
	s.order = s.order[:0]
	return out
}

// Expire records calls made before deadline that still have no result as
// no_result. A result that arrives later still settles them (as an exec update).
func (s *Session) Expire(out []ledger.Body, deadline time.Time) []ledger.Body {
	kept := s.order[:0]
	for _, id := range s.order {
		c, ok := s.pending[id]
		if !ok {
			continue
		}
		if c.at.IsZero() || !c.at.Before(deadline) {
			kept = append(kept, id)
			continue
		}
		delete(s.pending, id)
		s.expired[id] = c
		if c.Shell {
			out = append(out, s.noResult(c))
		}
	}
	s.order = kept
	return out
}

// Holds calls fn with the position of every call the session still waits on: calls
// without a result, and execs not yet settled that were called after deadline.
// Reading must resume at or before the oldest of them after a restart, or their
// pairing would be lost. A background exec that has not settled by the deadline stops
// holding (it would otherwise pin the resume point forever): a restart after that
// cannot link its late completion notice any more.
func (s *Session) Holds(deadline time.Time, fn func(event.Position)) {
	for _, c := range s.pending {
		fn(c.pos)
	}
	for id := range s.execs {
		if c, ok := s.calls[id]; ok && (c.at.IsZero() || c.at.After(deadline)) {
			fn(c.pos)
		}
	}
}

// Waiting reports whether the session still waits on anything.
func (s *Session) Waiting() bool { return len(s.pending) > 0 || len(s.execs) > 0 }

func (s *Session) noResult(c *call) *ledger.Exec {
	e := s.newExec(c)
	e.Outcome = event.NoResult
	e.Verdict = event.VerdictOf(event.NoResult)
	e.Output = s.output("")
	e.Source = ledger.Source{Path: c.pos.Path, Line: c.pos.Line, Offset: c.pos.Offset, EntryID: c.id}
	return e
}

func (s *Session) newExec(c *call) *ledger.Exec {
	at := ts(c.at)
	return &ledger.Exec{TS: at, Runtime: s.runtime, Agent: s.agent, Session: s.session, CorrelationID: c.ID,
		Tool: c.Name, Command: redact.String(c.Command), Cwd: redact.String(c.Workdir), Host: c.Host,
		Background: c.Background, StartedAt: at, Findings: []ledger.Finding{}}
}

// output keeps the head and tail of text up to the cap, redacted, and describes the
// whole of it by size and digest.
func (s *Session) output(text string) ledger.Output {
	// Hashed in place: Sum256 only reads, and a []byte(text) conversion would copy
	// the whole output first.
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(text), len(text)))
	o := ledger.Output{Bytes: int64(len(text)), SHA256: hex.EncodeToString(sum[:])}
	if len(text) <= s.opt.OutputCap {
		o.Text = redact.String(text)
		return o
	}
	half := s.opt.OutputCap / 2
	head := text[:runeStart(text, half)]
	tail := text[runeStart(text, len(text)-half):]
	o.Text = redact.String(head) + fmt.Sprintf("\n[... clawtrail: %d bytes omitted ...]\n", len(text)-len(head)-len(tail)) + redact.String(tail)
	o.Truncated = true
	return o
}

// runeStart moves i back to the start of the UTF-8 sequence it falls in.
func runeStart(s string, i int) int {
	for j := 0; j < utf8.UTFMax && i > 0 && i < len(s) && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	return i
}

func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:runeStart(s, n)] + "…"
}

// ts is t.UTC().Format(time.RFC3339Nano), "" for the zero time. Every record
// carries one or two, and the layout-driven Format was a fiftieth of a scan.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(time.RFC3339Nano)
	}
	hour, minute, sec := t.Clock()
	var b [len("2006-01-02T15:04:05.999999999Z")]byte
	digits := func(at, n, v int) {
		for i := at + n - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	digits(0, 4, year)
	b[4] = '-'
	digits(5, 2, int(month))
	b[7] = '-'
	digits(8, 2, day)
	b[10] = 'T'
	digits(11, 2, hour)
	b[13] = ':'
	digits(14, 2, minute)
	b[16] = ':'
	digits(17, 2, sec)
	n := 19
	if ns := t.Nanosecond(); ns != 0 {
		b[19] = '.'
		digits(20, 9, ns)
		n = 29
		for b[n-1] == '0' {
			n--
		}
	}
	b[n] = 'Z'
	return string(b[:n+1])
}

func source(ev *event.Event) ledger.Source {
	return ledger.Source{Path: ev.Pos.Path, Line: ev.Pos.Line, Offset: ev.Pos.Offset, EntryID: ev.EntryID}
}

func ptr[T any](v T) *T { return &v }
