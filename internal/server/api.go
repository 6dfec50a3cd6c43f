package server

import (
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// The JSON API (docs/api.md). Lists are newest first and paged with a cursor: pass a
// page's next_cursor back as cursor to get the next, older page; a page is stable
// while records are appended, since records are never changed or removed.

func writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"internal error encoding the answer"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
}

func hashBytes(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:8]
}

func cursorOf(more bool, seq int64) string {
	if !more {
		return ""
	}
	return strconv.FormatInt(seq, 10)
}

type executionsPage struct {
	Executions []*Execution `json:"executions"`
	Total      int64        `json:"total"`
	NextCursor string       `json:"next_cursor,omitempty"`
	Filter     Filter       `json:"filter"`
}

func (s *Server) apiExecutions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, cursor, limit, err := parseList(q, "agent", "session", "outcome", "verdict", "text", "kind")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	x := s.idx
	x.mu.RLock()
	hits, total, more, file := x.find(x.compile(f, kExec, kClaim), cursor, limit, true)
	x.mu.RUnlock()
	p := executionsPage{Executions: []*Execution{}, Total: total, Filter: f}
	for _, h := range hits {
		e, _, err := execution(file, h, false)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		p.Executions = append(p.Executions, e)
	}
	if len(hits) > 0 {
		p.NextCursor = cursorOf(more, hits[len(hits)-1].seq)
	}
	writeJSON(w, r, http.StatusOK, p)
}

type executionDetail struct {
	*Execution
	Record  json.RawMessage   `json:"record"`
	Updates []json.RawMessage `json:"updates"`
}

func (s *Server) apiExecution(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		s.fail(w, r, http.StatusBadRequest, "seq must be a positive integer")
		return
	}
	d, err := s.detail(seq)
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if d == nil {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("record %d is not in the index (not written yet, or older than the records kept)", seq))
		return
	}
	if d.exec == nil {
		body := map[string]any{"error": fmt.Sprintf("record %d is a %s, not an exec or claim", seq, d.rec.Kind), "kind": d.rec.Kind}
		if d.execSeq != 0 {
			body["exec_seq"] = d.execSeq
		}
		writeJSON(w, r, http.StatusNotFound, body)
		return
	}
	out := executionDetail{Execution: d.exec, Record: d.line, Updates: []json.RawMessage{}}
	for _, u := range d.updates {
		b, err := json.Marshal(u)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		out.Updates = append(out.Updates, b)
	}
	writeJSON(w, r, http.StatusOK, out)
}

// SessionSummary is one session in /api/sessions.
type SessionSummary struct {
	Agent          string `json:"agent"`
	Session        string `json:"session"`
	First          string `json:"first,omitempty"`
	Last           string `json:"last,omitempty"`
	LastSeq        int64  `json:"last_seq"`
	Executions     uint32 `json:"executions"`
	Failures       uint32 `json:"failures"`
	Claims         uint32 `json:"claims"`
	ProviderErrors uint32 `json:"provider_errors"`
	URL            string `json:"url"`
}

func rfc3339(u uint32) string {
	if u == 0 {
		return ""
	}
	return time.Unix(int64(u), 0).UTC().Format(time.RFC3339)
}

func (s *Server) apiSessions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, cursor, limit, err := parseList(q, "agent")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	x := s.idx
	x.mu.RLock()
	var all []SessionSummary
	for _, si := range x.sessions {
		a := x.agents[si.agent].name
		if si.name == "" || (f.Agent != "" && a != f.Agent) || (cursor > 0 && si.lastSeq >= cursor) {
			continue
		}
		all = append(all, SessionSummary{Agent: a, Session: si.name, First: rfc3339(si.first), Last: rfc3339(si.last), LastSeq: si.lastSeq,
			Executions: si.execs, Failures: si.failures, Claims: si.claims, ProviderErrors: si.perrs, URL: sessionPath(a, si.name)})
	}
	x.mu.RUnlock()
	slices.SortFunc(all, func(a, b SessionSummary) int { return cmp.Compare(b.LastSeq, a.LastSeq) })
	out := struct {
		Sessions   []SessionSummary `json:"sessions"`
		NextCursor string           `json:"next_cursor,omitempty"`
	}{Sessions: []SessionSummary{}}
	if len(all) > limit {
		all = all[:limit]
		out.NextCursor = strconv.FormatInt(all[limit-1].LastSeq, 10)
	}
	out.Sessions = append(out.Sessions, all...)
	writeJSON(w, r, http.StatusOK, out)
}

// ClassSummary is one provider-error class in /api/provider-errors.
type ClassSummary struct {
	Class string            `json:"class"`
	Count int64             `json:"count"`
	Hint  string            `json:"hint"`
	Last  string            `json:"last,omitempty"`
	Days  map[string]uint32 `json:"days"` // UTC date -> count, the fortnight ending with the newest error
}

// ProviderError is one failed model call in /api/provider-errors.
type ProviderError struct {
	Seq      int64  `json:"seq"`
	TS       string `json:"ts"`
	Agent    string `json:"agent"`
	Session  string `json:"session"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Class    string `json:"class"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
}

func (s *Server) apiProviderErrors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, cursor, limit, err := parseList(q, "class", "agent", "session")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	x := s.idx
	x.mu.RLock()
	classes, _ := x.providerClasses()
	var lastDay int64
	for d := range x.c.providerDay {
		lastDay = max(lastDay, d)
	}
	hits, total, more, file := x.find(x.compile(f, kProviderError), cursor, limit, true)
	x.mu.RUnlock()
	out := struct {
		Classes    []ClassSummary  `json:"classes"`
		Errors     []ProviderError `json:"errors"`
		Total      int64           `json:"total"`
		NextCursor string          `json:"next_cursor,omitempty"`
	}{Classes: []ClassSummary{}, Errors: []ProviderError{}, Total: total}
	for _, c := range classes {
		cs := ClassSummary{Class: c.Class, Count: c.Count, Hint: c.Hint, Days: map[string]uint32{}}
		cs.Last = rfc3339(c.lastU)
		for i, n := range c.Days {
			if n > 0 {
				cs.Days[time.Unix((lastDay-providerDays+1+int64(i))*86400, 0).UTC().Format(time.DateOnly)] = n
			}
		}
		out.Classes = append(out.Classes, cs)
	}
	for _, h := range hits {
		rec, _, err := readRecord(file, h.r, h.seq)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		out.Errors = append(out.Errors, ProviderError{Seq: rec.Seq, TS: rec.TS, Agent: rec.Agent, Session: rec.Session, Provider: rec.Provider,
			Model: rec.Model, Class: rec.Class, Message: rec.Message, Hint: rec.Hint})
	}
	if len(hits) > 0 {
		out.NextCursor = cursorOf(more, hits[len(hits)-1].seq)
	}
	writeJSON(w, r, http.StatusOK, out)
}

// Integrity is how far the ledger's hash chain has been checked, with the rules of
// `clawtrail verify`, and the first thing verify would flag.
type Integrity struct {
	Ledger           string           `json:"ledger"`
	Intact           bool             `json:"intact"` // no problem found so far
	CaughtUp         bool             `json:"caught_up"`
	Records          int64            `json:"records_verified"`
	LastSeq          int64            `json:"last_seq"`
	Head             string           `json:"head"`
	Bytes            int64            `json:"bytes_verified"`
	Problem          *ledger.Problem  `json:"problem,omitempty"`
	Unverified       int64            `json:"records_unverified"`
	BadLines         int64            `json:"bad_lines"`
	Checkpoint       *checkpointInfo  `json:"last_checkpoint,omitempty"`
	Notices          map[string]int64 `json:"notices"`
	UnmatchedUpdates int64            `json:"unmatched_updates"`
	Rereads          []restart        `json:"rereads,omitempty"`
	ReadError        string           `json:"read_error,omitempty"`
	VerifyCommand    string           `json:"verify_command"`
}

func (s *Server) integrity() Integrity {
	x := s.idx
	x.mu.RLock()
	defer x.mu.RUnlock()
	ch := &x.chain
	i := Integrity{Ledger: s.cfg.Ledger, Intact: ch.problem == nil && ch.readErr == "", CaughtUp: ch.caughtUp,
		Records: ch.verified.Records, LastSeq: ch.verified.LastSeq, Head: ch.verified.Head, Bytes: ch.verified.Size,
		Problem: ch.problem, Unverified: ch.unverified, BadLines: ch.badLines, Checkpoint: x.c.checkpoint,
		Notices: map[string]int64{}, UnmatchedUpdates: x.c.unmatched, Rereads: slices.Clone(ch.restarts), ReadError: ch.readErr}
	for k, v := range x.c.notices {
		i.Notices[k] = v
	}
	i.VerifyCommand = fmt.Sprintf("clawtrail verify --head %s %s", i.Head, s.cfg.Ledger)
	return i
}

func (s *Server) apiIntegrity(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, s.integrity())
}

// Stats is /api/stats: totals over the whole ledger read so far.
type Stats struct {
	Records        int64            `json:"records"`
	Kinds          map[string]int64 `json:"kinds"`
	Executions     ExecStats        `json:"executions"`
	Claims         int64            `json:"claims"`
	ProviderErrors map[string]int64 `json:"provider_errors"`
	Sessions       int64            `json:"sessions"`
	Agents         []string         `json:"agents"`
	FirstExecution string           `json:"first_execution,omitempty"`
	LastExecution  string           `json:"last_execution,omitempty"`
	LastRecordedAt string           `json:"last_recorded_at,omitempty"`
	LedgerBytes    int64            `json:"ledger_bytes"`
	Index          IndexStats       `json:"index"`
	Integrity      Integrity        `json:"integrity"`
	Status         StatusInfo       `json:"status"`
}

// ExecStats counts executions by their latest outcome and verdict.
type ExecStats struct {
	Total       int64            `json:"total"`
	Executed    int64            `json:"executed"`
	Failed      int64            `json:"failed"`
	NotExecuted int64            `json:"not_executed"`
	NoResult    int64            `json:"no_result"`
	Witnessed   int64            `json:"witnessed"`
	Outcomes    map[string]int64 `json:"outcomes"`
	Verdicts    map[string]int64 `json:"verdicts"`
}

// IndexStats describes the in-memory index behind the web view and this API.
type IndexStats struct {
	Rows     int64 `json:"rows"`
	Dropped  int64 `json:"dropped"` // oldest rows dropped to stay within max_rows
	MaxRows  int   `json:"max_rows"`
	CaughtUp bool  `json:"caught_up"`
}

func (s *Server) stats() Stats {
	st := s.status()
	integ := s.integrity()
	x := s.idx
	x.mu.RLock()
	defer x.mu.RUnlock()
	c := &x.c
	sum := x.summary()
	out := Stats{Records: c.records, Kinds: map[string]int64{}, Claims: sum.Claims, ProviderErrors: map[string]int64{},
		Sessions: sum.Sessions, Agents: []string{}, FirstExecution: rfc3339(c.execFirst), LastExecution: rfc3339(c.execLast),
		LedgerBytes: c.bytes, Integrity: integ, Status: st,
		Index: IndexStats{Rows: x.n - x.lo, Dropped: x.lo, MaxRows: x.max, CaughtUp: x.chain.caughtUp}}
	if !c.lastRecorded.IsZero() {
		out.LastRecordedAt = c.lastRecorded.UTC().Format(time.RFC3339Nano)
	}
	for k := 1; k < numKinds; k++ {
		var n int64
		for _, v := range c.byKind[k] {
			n += v
		}
		if n > 0 {
			out.Kinds[kindNames[k]] = n
		}
	}
	out.Executions = ExecStats{Total: sum.Executions, Executed: sum.Executed, Failed: sum.Failed, NotExecuted: sum.NotExecuted,
		NoResult: sum.NoResult, Witnessed: sum.Witnessed, Outcomes: map[string]int64{}, Verdicts: map[string]int64{}}
	for o, n := range c.execOutcome {
		if n > 0 {
			out.Executions.Outcomes[name(outcomeNames, uint8(o))] = n
		}
	}
	for v, n := range c.execVerdict {
		if n > 0 {
			out.Executions.Verdicts[name(verdictNames, uint8(v))] = n
		}
	}
	for cl := 1; cl < numClasses; cl++ {
		if n := c.classes[cl].count; n > 0 {
			out.ProviderErrors[classNames[cl]] = n
		}
	}
	for _, a := range x.agents {
		if a.name != "" {
			out.Agents = append(out.Agents, a.name)
		}
	}
	slices.Sort(out.Agents)
	return out
}

func (s *Server) apiStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, s.stats())
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	st := s.status()
	writeJSON(w, r, statusCode(st.Healthy), st)
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	st := s.status()
	writeJSON(w, r, statusCode(st.Healthy && st.Ready), st)
}

func statusCode(ok bool) int {
	if ok {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}
