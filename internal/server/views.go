package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/server/ui"
)

// parsePages parses every page with the shared layout. html/template escapes each
// value for where it lands (text, attribute, URL), which is what keeps a command
// like <script>… as text.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"duration": formatDuration,
		"short":    func(h string) string { return clip(h, 12) },
		"num":      formatCount,
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"executions", "exec", "session", "providers", "integrity", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(ui.Templates, "templates/layout.html", "templates/rows.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

type staticFile struct {
	body  []byte
	ctype string
	etag  string
}

func loadStatic() (map[string]staticFile, error) {
	files := map[string]staticFile{}
	err := fs.WalkDir(ui.Static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(ui.Static, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		ctype := "application/octet-stream"
		switch {
		case strings.HasSuffix(name, ".js"):
			ctype = "text/javascript; charset=utf-8"
		case strings.HasSuffix(name, ".css"):
			ctype = "text/css; charset=utf-8"
		case strings.HasSuffix(name, ".svg"):
			ctype = "image/svg+xml"
		}
		files[name] = staticFile{body: body, ctype: ctype, etag: fmt.Sprintf(`"%x"`, hashBytes(body))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	return files, nil
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := s.static[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.ctype)
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// frame is what every page shows around its content.
type frame struct {
	Title  string
	Nav    string
	Chain  pill
	Health pill
	Ready  pill
}

type pill struct{ Text, Class string }

func (s *Server) frame(title, nav string) frame {
	f := frame{Title: title, Nav: nav}
	st := s.status()
	x := s.idx
	x.mu.RLock()
	problem, caughtUp, readErr := x.chain.problem, x.chain.caughtUp, x.chain.readErr
	x.mu.RUnlock()
	switch {
	case problem != nil:
		f.Chain = pill{"chain broken", "bad"}
	case readErr != "":
		f.Chain = pill{"ledger unreadable", "bad"}
	case !caughtUp:
		f.Chain = pill{"verifying…", "warn"}
	default:
		f.Chain = pill{"chain verified", "good"}
	}
	if st.Healthy {
		f.Health = pill{"healthy", "good"}
	} else {
		f.Health = pill{"unhealthy", "bad"}
	}
	if st.Ready {
		f.Ready = pill{"caught up", "good"}
	} else {
		f.Ready = pill{fmt.Sprintf("catching up (%s behind)", formatBytes(st.LagBytes)), "warn"}
	}
	return f
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error("render page", "page", page, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

type errorView struct {
	frame
	Code    int
	Message string
}

// fail answers an error: JSON for the API, metrics and probes, a page for people.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, r, code, map[string]string{"error": msg})
		return
	}
	s.render(w, r, code, "error", errorView{frame: frame{Title: http.StatusText(code), Chain: pill{"", ""}}, Code: code, Message: msg})
}

func wantsJSON(r *http.Request) bool {
	p := r.URL.Path
	return strings.HasPrefix(p, "/api/") || p == "/metrics" || p == "/healthz" || p == "/readyz"
}

// failErr maps an error from a query to its answer.
func (s *Server) failErr(w http.ResponseWriter, r *http.Request, err error) {
	var q *queryError
	switch {
	case errors.As(err, &q):
		s.fail(w, r, http.StatusBadRequest, q.msg)
	case errors.Is(err, errChanged):
		s.fail(w, r, http.StatusServiceUnavailable, "the ledger is being read again; retry in a moment")
	default:
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
		s.fail(w, r, http.StatusInternalServerError, "could not read the ledger")
	}
}

type option struct {
	Value    string
	Selected bool
}

func options(names []string, selected string) []option {
	var out []option
	for _, n := range names[1 : len(names)-1] {
		out = append(out, option{n, n == selected})
	}
	return out
}

type summary struct {
	Executions, Executed, Failed, NotExecuted, NoResult, Witnessed, Claims, ProviderErrors, Sessions, Records int64
	Dropped                                                                                                   int64
}

func (x *index) summary() summary {
	c := &x.c
	var s summary
	for _, n := range c.execOutcome {
		s.Executions += n
	}
	for o, n := range c.execOutcome {
		if failed(uint8(o)) {
			s.Failed += n
		}
	}
	s.Executed = c.execVerdict[code(verdictNames, "executed")]
	s.NotExecuted = c.execVerdict[code(verdictNames, "not_executed")]
	s.NoResult = c.execVerdict[code(verdictNames, "unknown")]
	s.Witnessed = c.witnessed
	for _, n := range c.byKind[kClaim] {
		s.Claims += n
	}
	for _, cs := range c.classes {
		s.ProviderErrors += cs.count
	}
	for i := range x.sessions {
		if x.sessions[i].execs+x.sessions[i].claims+x.sessions[i].perrs > 0 {
			s.Sessions++
		}
	}
	s.Records = c.records
	s.Dropped = x.lo
	return s
}

type executionsView struct {
	frame
	F         Filter
	Outcomes  []option
	Verdicts  []option
	Kinds     []option
	Agents    []string
	Rows      []*Execution
	Total     int64
	Limit     int
	NextURL   string
	NewestURL string
	StreamURL string
	Error     string
	Sum       summary
	Chart     chartView
	Paged     bool
}

func (s *Server) handleExecutions(w http.ResponseWriter, r *http.Request) {
	v := executionsView{frame: s.frame("Executions", "exec")}
	q := r.URL.Query()
	f, err := parseFilter(q, "agent", "session", "outcome", "verdict", "text", "kind")
	cursor, limit, perr := parsePage(q)
	if err == nil {
		err = perr
	}
	code := http.StatusOK
	var hits []hit
	var more bool
	var file *os.File
	x := s.idx
	x.mu.RLock()
	if err == nil {
		hits, v.Total, more, file = x.find(x.compile(f, kExec, kClaim), cursor, limit, true)
	}
	v.Sum = x.summary()
	v.Chart = x.chart()
	for _, a := range x.agents {
		if a.name != "" {
			v.Agents = append(v.Agents, a.name)
		}
	}
	last := int64(0)
	if x.n > x.lo {
		last = x.seqAt(x.n - 1)
	}
	x.mu.RUnlock()
	if err != nil {
		var q *queryError
		if !errors.As(err, &q) {
			s.failErr(w, r, err)
			return
		}
		v.Error, code = q.msg, http.StatusBadRequest
	}
	v.F, v.Limit, v.Paged = f, limit, cursor > 0
	v.Outcomes = options(outcomeNames, f.Outcome)
	v.Verdicts = options(verdictNames, f.Verdict)
	v.Kinds = []option{{ledger.KindExec, f.Kind == ledger.KindExec}, {ledger.KindClaim, f.Kind == ledger.KindClaim}}
	for _, h := range hits {
		e, _, err := execution(file, h, false)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		v.Rows = append(v.Rows, e)
	}
	vals := f.Values()
	if more && len(hits) > 0 {
		next := f.Values()
		next.Set("cursor", strconv.FormatInt(hits[len(hits)-1].seq, 10))
		if limit != defaultLimit {
			next.Set("limit", strconv.Itoa(limit))
		}
		v.NextURL = "/?" + next.Encode()
	}
	if v.Paged {
		v.NewestURL = "/?" + vals.Encode()
	}
	if !v.Paged && v.Error == "" {
		vals.Set("after", strconv.FormatInt(last, 10))
		v.StreamURL = "/api/stream?" + vals.Encode()
	}
	s.render(w, r, code, "executions", v)
}

type updateView struct {
	Seq        int64
	Outcome    string
	Verdict    string
	ExitCode   *int
	DurationMs *int64
	EndedAt    string
	RecordedAt string
	Source     *ledger.Source
}

type recordView struct {
	frame
	Seq        int64
	Kind       string
	E          *Execution
	Rec        *record
	Pretty     string
	Raw        string
	Updates    []updateView
	ExecSeq    int64 // for an exec_update: its exec
	SessionURL string
	Unverified bool
}

func (s *Server) handleRecord(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		s.fail(w, r, http.StatusBadRequest, "the record number must be a positive integer")
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
	v := recordView{frame: s.frame(fmt.Sprintf("Record %d", seq), "exec"), Seq: seq, Kind: d.rec.Kind, E: d.exec, Rec: d.rec,
		Raw: string(d.line), ExecSeq: d.execSeq, SessionURL: sessionPath(d.rec.Agent, d.rec.Session), Unverified: d.unverified}
	var pretty bytes.Buffer
	if json.Indent(&pretty, d.line, "", "  ") == nil {
		v.Pretty = pretty.String()
	}
	for _, u := range d.updates {
		v.Updates = append(v.Updates, updateView{Seq: u.Seq, Outcome: u.Outcome, Verdict: u.Verdict, ExitCode: u.ExitCode,
			DurationMs: u.DurationMs, EndedAt: u.EndedAt, RecordedAt: u.RecordedAt, Source: u.Source})
	}
	s.render(w, r, http.StatusOK, "exec", v)
}

// recordDetail is one record with what belongs to it: for an exec, its folded view
// and every update; for an update, its exec.
type recordDetail struct {
	rec        *record
	line       []byte
	exec       *Execution
	updates    []*record
	execSeq    int64
	unverified bool
}

func (s *Server) detail(seq int64) (*recordDetail, error) {
	x := s.idx
	x.mu.RLock()
	abs, ok := x.bySeq(seq)
	if !ok {
		x.mu.RUnlock()
		return nil, nil
	}
	h := x.hitOf(abs, x.rowAt(abs))
	f := x.f
	type rel struct {
		r   row
		seq int64
	}
	var related []rel
	switch {
	case h.r.kind == kExec && h.r.flags&flagUpdated != 0:
		// Its updates follow it in the same session.
		for a := abs + 1; a < x.n; a++ {
			if r := x.rowAt(a); r.kind == kExecUpdate && r.sess == h.r.sess {
				related = append(related, rel{*r, x.seqAt(a)})
			}
		}
	case h.r.kind == kExecUpdate:
		for a := abs - 1; a >= x.lo; a-- {
			if r := x.rowAt(a); r.kind == kExec && r.sess == h.r.sess && r.flags&flagUpdated != 0 {
				related = append(related, rel{*r, x.seqAt(a)})
			}
		}
	}
	x.mu.RUnlock()

	rec, line, err := readRecord(f, h.r, h.seq)
	if err != nil {
		return nil, err
	}
	d := &recordDetail{rec: rec, line: line, unverified: h.r.flags&flagUnverified != 0}
	if h.r.kind == kExec || h.r.kind == kClaim {
		if d.exec, _, err = execution(f, h, true); err != nil {
			return nil, err
		}
	}
	for _, r := range related {
		other, _, err := readRecord(f, r.r, r.seq)
		if err != nil {
			return nil, err
		}
		if other.Runtime != rec.Runtime || other.CorrelationID != rec.CorrelationID {
			continue
		}
		if h.r.kind == kExec {
			d.updates = append(d.updates, other)
		} else {
			d.execSeq = other.Seq
			break
		}
	}
	return d, nil
}

type entryView struct {
	Seq        int64
	Kind       string
	Time       string
	Provenance string
	Badge      string
	Tool       string
	Title      string
	Detail     string
	Hint       string
	Unverified bool
}

type sessionView struct {
	frame
	Agent, Session          string
	Execs, Failures, Claims uint32
	ProviderErrors          uint32
	First, Last             string
	Entries                 []entryView
	EarlierURL              string
	ExecsURL                string
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	agent, session := r.PathValue("agent"), r.PathValue("session")
	if len(agent) > maxFilterLen || len(session) > maxFilterLen {
		s.fail(w, r, http.StatusBadRequest, "agent or session too long")
		return
	}
	cursor, limit, err := parsePage(r.URL.Query())
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	if r.URL.Query().Get("limit") == "" {
		limit = maxLimit
	}
	x := s.idx
	x.mu.RLock()
	a, ok := x.agentIDs[agent]
	var id uint32
	if ok {
		id, ok = x.agents[a].sessions[session]
	}
	if !ok {
		x.mu.RUnlock()
		s.fail(w, r, http.StatusNotFound, "no such session in the ledger")
		return
	}
	si := x.sessions[id]
	m := &matcher{x: x, agent: -1, sessSet: make([]uint64, (len(x.sessions)+63)/64)}
	m.sessSet[id/64] |= 1 << (id % 64)
	hits, _, more, f := x.find(m, cursor, limit, false)
	x.mu.RUnlock()

	v := sessionView{frame: s.frame("Session "+session, "exec"), Agent: agent, Session: session, Execs: si.execs, Failures: si.failures,
		Claims: si.claims, ProviderErrors: si.perrs, First: unixTime(si.first), Last: unixTime(si.last)}
	v.ExecsURL = "/?" + Filter{Agent: agent, Session: session}.Values().Encode()
	for i := len(hits) - 1; i >= 0; i-- { // oldest first: a timeline reads down
		e, err := s.entry(f, hits[i])
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		v.Entries = append(v.Entries, e)
	}
	if more && len(hits) > 0 {
		v.EarlierURL = sessionPath(agent, session) + "?cursor=" + strconv.FormatInt(hits[len(hits)-1].seq, 10)
	}
	s.render(w, r, http.StatusOK, "session", v)
}

// entry is one line of a session timeline.
func (s *Server) entry(f *os.File, h hit) (entryView, error) {
	rec, _, err := readRecord(f, h.r, h.seq)
	if err != nil {
		return entryView{}, err
	}
	e := entryView{Seq: rec.Seq, Kind: rec.Kind, Time: displayTime(rec.TS, rec.RecordedAt), Unverified: h.r.flags&flagUnverified != 0}
	switch h.r.kind {
	case kExec, kClaim:
		ex, _, err := execution(f, h, false)
		if err != nil {
			return entryView{}, err
		}
		e.Provenance, e.Badge, e.Tool, e.Title = ex.Provenance, ex.Badge, ex.Tool, ex.CommandDisplay
		if h.r.kind == kExec {
			e.Detail = outcomeLine(ex.Outcome, ex.ExitCode, ex.DurationMs, ex.Cwd)
			if ex.UpdateSeq != 0 {
				e.Detail += fmt.Sprintf(" · resolved by #%d", ex.UpdateSeq)
			}
		} else {
			e.Detail = clip(ex.Excerpt, 300)
		}
	case kExecUpdate:
		e.Title = "result: " + rec.Outcome
		e.Detail = outcomeLine(rec.Outcome, rec.ExitCode, rec.DurationMs, "") + " · call " + rec.CorrelationID
	case kProviderError:
		e.Title = rec.Class + " from " + rec.Provider + " " + rec.Model
		e.Detail = clip(rec.Message, 300)
		e.Hint = rec.Hint
	case kTool:
		e.Title = "tool " + rec.Tool
		e.Detail = rec.Outcome
	case kNotice:
		e.Title = "notice: " + rec.Reason
		e.Detail = clip(rec.Detail, 300)
	default:
		e.Title = rec.Kind
		e.Detail = clip(rec.Detail, 300)
	}
	return e, nil
}

func outcomeLine(outcome string, exit *int, dur *int64, cwd string) string {
	parts := []string{outcome}
	if exit != nil {
		parts = append(parts, "exit "+strconv.Itoa(*exit))
	}
	if dur != nil {
		parts = append(parts, formatDuration(dur))
	}
	if cwd != "" {
		parts = append(parts, "in "+cwd)
	}
	return strings.Join(parts, " · ")
}

type classView struct {
	Class string
	Count int64
	Hint  string
	Last  string
	Days  []uint32
	lastU uint32
}

type providerErrorView struct {
	Seq        int64
	Time       string
	Agent      string
	Session    string
	SessionURL string
	Provider   string
	Model      string
	Class      string
	Message    string
	Hint       string
}

type providersView struct {
	frame
	Days    []string
	Classes []classView
	Recent  []providerErrorView
	Total   int64
	NextURL string
	Class   string
}

const providerDays = 14

func (s *Server) handleProviders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, cursor, limit, err := parseList(q, "class", "agent", "session")
	if err != nil {
		s.failErr(w, r, err)
		return
	}
	x := s.idx
	x.mu.RLock()
	classes, days := x.providerClasses()
	hits, total, more, file := x.find(x.compile(f, kProviderError), cursor, limit, true)
	x.mu.RUnlock()
	v := providersView{frame: s.frame("Provider errors", "providers"), Classes: classes, Days: days, Total: total, Class: f.Class}
	for _, h := range hits {
		pe, err := providerError(file, h)
		if err != nil {
			s.failErr(w, r, err)
			return
		}
		v.Recent = append(v.Recent, pe)
	}
	if more && len(hits) > 0 {
		next := f.Values()
		next.Set("cursor", strconv.FormatInt(hits[len(hits)-1].seq, 10))
		v.NextURL = "/providers?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "providers", v)
}

// providerClasses counts provider errors per class and per day, over the fortnight
// ending with the newest one. Callers hold mu for reading.
func (x *index) providerClasses() ([]classView, []string) {
	var lastDay int64
	for d := range x.c.providerDay {
		lastDay = max(lastDay, d)
	}
	var days []string
	for d := lastDay - providerDays + 1; d <= lastDay; d++ {
		days = append(days, time.Unix(d*86400, 0).UTC().Format("01-02"))
	}
	var out []classView
	for c := 1; c < numClasses; c++ {
		cs := x.c.classes[c]
		if cs.count == 0 {
			continue
		}
		cv := classView{Class: classNames[c], Count: cs.count, Hint: cs.hint, Last: unixTime(cs.last), lastU: cs.last}
		for d := lastDay - providerDays + 1; d <= lastDay; d++ {
			cv.Days = append(cv.Days, x.c.providerDay[d][c])
		}
		out = append(out, cv)
	}
	return out, days
}

func providerError(f *os.File, h hit) (providerErrorView, error) {
	rec, _, err := readRecord(f, h.r, h.seq)
	if err != nil {
		return providerErrorView{}, err
	}
	return providerErrorView{Seq: rec.Seq, Time: displayTime(rec.TS, rec.RecordedAt), Agent: rec.Agent, Session: rec.Session,
		SessionURL: sessionPath(rec.Agent, rec.Session), Provider: rec.Provider, Model: rec.Model, Class: rec.Class,
		Message: rec.Message, Hint: rec.Hint}, nil
}

type integrityView struct {
	frame
	I Integrity
}

func (s *Server) handleIntegrity(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "integrity", integrityView{frame: s.frame("Ledger integrity", "integrity"), I: s.integrity()})
}

func unixTime(u uint32) string {
	if u == 0 {
		return ""
	}
	return time.Unix(int64(u), 0).UTC().Format("2006-01-02 15:04:05")
}

func formatDuration(ms *int64) string {
	if ms == nil {
		return ""
	}
	d := time.Duration(*ms) * time.Millisecond
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", *ms)
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	default:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	}
}

func formatBytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// formatCount writes 1234567 as 1,234,567.
func formatCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
