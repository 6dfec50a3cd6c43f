package server_test

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/server"
)

func TestExecutionsPage(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	rec := f.get("/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	// Rows newest first, each with its provenance badge.
	rows := regexp.MustCompile(`<tr id="x(\d+)" class="row-([a-z-]+)">`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[1]+":"+r[2])
	}
	want := "15:witnessed 13:executed 12:pending 10:claimed 7:executed 6:no-result 4:executed 3:not-executed 2:executed 1:executed"
	if strings.Join(got, " ") != want {
		t.Errorf("rows = %s\nwant   %s", strings.Join(got, " "), want)
	}
	for _, badge := range []string{"WITNESSED", "EXECUTED", "NOT EXECUTED", "PENDING", "NO RESULT", "CLAIMED, NOT RUN", "(tool: exec)"} {
		if !strings.Contains(body, badge) {
			t.Errorf("page lacks badge %q", badge)
		}
	}
	// The hostile command is text, never markup.
	if strings.Contains(body, hostileScript) || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the <script> command is not escaped")
	}
	if !strings.Contains(body, `<script src="/static/app.js" defer></script>`) || strings.Count(body, "<script") != 1 {
		t.Errorf("the page must load exactly one script, from a file")
	}
	if !strings.Contains(body, `data-stream="/api/stream?after=15"`) {
		t.Errorf("rows do not carry the live stream URL starting after the newest record")
	}
	if !strings.Contains(body, "<svg") || !strings.Contains(body, `class="fail"`) {
		t.Errorf("no chart with failures")
	}
	for h, v := range map[string]string{
		"Content-Security-Policy": "default-src 'self'", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
	} {
		if !strings.Contains(rec.Header().Get(h), v) {
			t.Errorf("%s = %q, want it to contain %q", h, rec.Header().Get(h), v)
		}
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP does not forbid framing")
	}
	if rec := f.do(http.MethodHead, "/"); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD / = %d with %d bytes", rec.Code, rec.Body.Len())
	}
}

// TestWitness: the writer's own witness member decides the badge.
func TestWitness(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	seen := execBody("main", "s1", "w1", "uname -a", "succeeded", intp(0), 0)
	seen.Witness = &ledger.Witness{Status: "matched", PID: 77, Namespaces: map[string]uint64{"pid": 4026531836}}
	unseen := execBody("main", "s1", "w2", "id", "succeeded", intp(0), 1)
	unseen.Witness = &ledger.Witness{Status: "unmatched"}
	writeLedger(t, path, seen, unseen)
	f := start(t, path, server.Config{})
	f.waitRecords(2)
	var p struct {
		Executions []*server.Execution `json:"executions"`
	}
	f.getJSON("/api/executions", &p)
	if len(p.Executions) != 2 || p.Executions[0].Badge != "EXECUTED" || p.Executions[1].Badge != "WITNESSED" ||
		!strings.Contains(string(p.Executions[1].Witness), `"pid":77`) {
		t.Errorf("executions = %+v", p.Executions)
	}
	if page := f.get("/exec/2").Body.String(); !strings.Contains(page, "witness: unmatched") {
		t.Errorf("detail page does not show the witness status")
	}
}

func TestExecutionsFilters(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	for _, tc := range []struct{ query, want string }{
		{"", "15,13,12,10,7,6,4,3,2,1"},
		{"agent=ops", "15,7,6"},
		{"agent=nobody", ""},
		{"session=s2", "12,4"},
		{"session=s", "15,13,12,10,7,6,4,3,2,1"}, // a prefix
		{"agent=main&session=s3", ""},
		{"outcome=succeeded", "15,13,7,4,1"}, // 4 and 13 by their latest update
		{"outcome=pending_approval", "12"},
		{"outcome=nonzero_exit", "2"},
		{"verdict=not_executed", "12,3"},
		{"verdict=unknown", "6"},
		{"kind=claim", "10"},
		{"kind=exec&agent=main&verdict=executed", "13,4,2,1"},
		{"text=MAKE", "13,1"},
		{"text=mixed+case", "12"},
		{"text=" + url.QueryEscape("<script>"), "7"},
		{"text=" + url.QueryEscape(".*[("), ""},
		{"text=push", "10"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var p struct {
				Executions []*server.Execution `json:"executions"`
				Total      int64               `json:"total"`
			}
			f.getJSON("/api/executions?"+tc.query, &p)
			if got := seqsOf(p.Executions); got != tc.want {
				t.Errorf("seqs = %q, want %q", got, tc.want)
			}
			if n := int64(len(strings.Split(tc.want, ","))); tc.want != "" && p.Total != n {
				t.Errorf("total = %d, want %d", p.Total, n)
			}
			// The page shows the same rows.
			rec := f.get("/?" + tc.query)
			if got := len(regexp.MustCompile(`<tr id="x\d+"`).FindAllString(rec.Body.String(), -1)); got != len(p.Executions) {
				t.Errorf("page shows %d rows, API %d", got, len(p.Executions))
			}
		})
	}
}

func TestHostileFilters(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	long := strings.Repeat("a", 300)
	for _, q := range []string{
		"outcome=" + url.QueryEscape(hostileScript),
		"verdict=maybe",
		"kind=notice",
		"agent=a&agent=b",
		"text=" + long,
		"session=%ff%fe",
		"text=a%00b",
		"cursor=-1",
		"cursor=abc",
		"cursor=99999999999999999999999",
		"limit=0",
		"limit=100000",
		"limit=1e3",
	} {
		t.Run(q, func(t *testing.T) {
			rec := f.get("/api/executions?" + q)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("API = %d, want 400: %s", rec.Code, rec.Body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Errorf("API error is not JSON with a message: %s", rec.Body)
			}
			if strings.Contains(rec.Body.String(), "<script>") {
				t.Errorf("API echoes markup unescaped: %s", rec.Body)
			}
			page := f.get("/?" + q)
			if page.Code != http.StatusBadRequest || !strings.Contains(page.Body.String(), `class="error-banner"`) {
				t.Errorf("page = %d without an error banner", page.Code)
			}
			if strings.Contains(page.Body.String(), hostileScript) {
				t.Errorf("page echoes the filter unescaped")
			}
			if strings.HasPrefix(q, "cursor") || strings.HasPrefix(q, "limit") {
				return // the stream takes neither
			}
			if rec := f.get("/api/stream?" + q); rec.Code != http.StatusBadRequest {
				t.Errorf("stream = %d, want 400", rec.Code)
			}
		})
	}
	// A hostile text filter is accepted and shown back as text in the form.
	rec := f.get("/?text=" + url.QueryEscape(`"><script>alert(1)</script>`))
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"><script>alert(1)`) ||
		!strings.Contains(rec.Body.String(), `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("text filter not echoed safely (status %d)", rec.Code)
	}
	for _, p := range []string{"/exec/abc", "/exec/-4", "/api/executions/0", "/api/executions/1e3"} {
		if rec := f.get(p); rec.Code != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", p, rec.Code)
		}
	}
	if rec := f.get("/session/" + strings.Repeat("x", 300) + "/s1"); rec.Code != http.StatusBadRequest {
		t.Errorf("long session path = %d, want 400", rec.Code)
	}
}

func TestPagination(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		var p struct {
			Executions []*server.Execution `json:"executions"`
			Total      int64               `json:"total"`
			NextCursor string              `json:"next_cursor"`
		}
		f.getJSON("/api/executions?limit=3&cursor="+cursor, &p)
		if p.Total != 10 {
			t.Errorf("total = %d, want 10 on every page", p.Total)
		}
		seen = append(seen, seqsOf(p.Executions))
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if got := strings.Join(seen, "|"); got != "15,13,12|10,7,6|4,3,2|1" {
		t.Errorf("pages = %s", got)
	}
	// The page links to the next one, and that one back to the newest.
	rec := f.get("/?limit=3&agent=main")
	m := regexp.MustCompile(`href="(/\?[^"]*cursor=[^"]*)">older`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatal("no link to older rows")
	}
	next := f.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if !strings.Contains(next.Body.String(), `id="x4"`) || strings.Contains(next.Body.String(), `id="x13"`) ||
		!strings.Contains(next.Body.String(), "← newest") || strings.Contains(next.Body.String(), "data-stream") {
		t.Errorf("second page is wrong: %s", next.Body)
	}
}

func TestExecutionDetail(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	var d struct {
		server.Execution
		Record  json.RawMessage   `json:"record"`
		Updates []json.RawMessage `json:"updates"`
	}
	f.getJSON("/api/executions/4", &d)
	if d.Outcome != "succeeded" || d.Provenance != "executed" || d.UpdateSeq != 5 || *d.ExitCode != 0 || *d.DurationMs != 4200 ||
		d.Output == nil || d.Output.Text != "resolved: succeeded\n" || len(d.Updates) != 1 || d.Source.EntryID != "uc4" {
		t.Errorf("exec 4 with its update folded in = %+v (%d updates)", d.Execution, len(d.Updates))
	}
	var rec ledger.Record
	if err := json.Unmarshal(d.Record, &rec); err != nil || rec.Outcome != "pending_approval" || rec.Hash != d.Hash {
		t.Errorf("raw record = %s", d.Record)
	}
	f.getJSON("/api/executions/13", &d)
	if d.Outcome != "succeeded" || d.UpdateSeq != 14 {
		t.Errorf("exec 13 (update found by scanning) = outcome %s update %d", d.Outcome, d.UpdateSeq)
	}
	f.getJSON("/api/executions/15", &d)
	if d.Provenance != "witnessed" || !strings.Contains(string(d.Witness), `"pid":4242`) {
		t.Errorf("witnessed exec = %s %s", d.Provenance, d.Witness)
	}

	r := f.get("/api/executions/5")
	if r.Code != http.StatusNotFound || !strings.Contains(r.Body.String(), `"exec_seq":4`) {
		t.Errorf("an update's seq = %d %s, want 404 naming its exec", r.Code, r.Body)
	}
	if r := f.get("/api/executions/99"); r.Code != http.StatusNotFound {
		t.Errorf("unknown seq = %d", r.Code)
	}

	page := f.get("/exec/7").Body.String()
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "agents/ops/sessions/s3.jsonl:7",
		"record hash"} {
		if !strings.Contains(page, want) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	if strings.Contains(page, hostileImg) || strings.Contains(page, hostileScript) {
		t.Errorf("detail page shows markup from the transcript unescaped")
	}
	page = f.get("/exec/5").Body.String()
	if !strings.Contains(page, `href="/exec/4"`) {
		t.Errorf("an update's page does not link to its exec")
	}
	if r := f.get("/exec/8"); r.Code != http.StatusOK || !strings.Contains(r.Body.String(), "rate_limit") {
		t.Errorf("a provider error's page = %d", r.Code)
	}
	if r := f.get("/exec/99"); r.Code != http.StatusNotFound {
		t.Errorf("unknown record page = %d", r.Code)
	}
}

func TestSessions(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	page := f.get("/session/main/s1")
	if page.Code != http.StatusOK {
		t.Fatalf("timeline = %d", page.Code)
	}
	body := page.Body.String()
	// Oldest first: calls, results, the provider error with its hint, the claim.
	order := []string{"make test", "ls /nope", "rm -rf /tmp/x", "rate_limit", "Back off", "git push --force", "orphan_result", "make build", "result: succeeded"}
	last := -1
	for _, s := range order {
		i := strings.Index(body, s)
		if i < 0 || i < last {
			t.Errorf("timeline: %q missing or out of order", s)
		}
		last = i
	}
	if r := f.get("/session/main/nope"); r.Code != http.StatusNotFound {
		t.Errorf("unknown session = %d", r.Code)
	}
	var out struct {
		Sessions []server.SessionSummary `json:"sessions"`
	}
	f.getJSON("/api/sessions", &out)
	var got []string
	for _, s := range out.Sessions {
		got = append(got, fmt.Sprintf("%s/%s:%d/%d/%d/%d", s.Agent, s.Session, s.Executions, s.Failures, s.Claims, s.ProviderErrors))
	}
	if strings.Join(got, " ") != "ops/s3:3/0/0/1 main/s1:4/1/1/1 main/s2:2/0/0/0" {
		t.Errorf("sessions = %v", got)
	}
	f.getJSON("/api/sessions?agent=main&limit=1", &out)
	if len(out.Sessions) != 1 || out.Sessions[0].Session != "s1" || out.Sessions[0].URL != "/session/main/s1" {
		t.Errorf("sessions of main, first page = %+v", out.Sessions)
	}
}

func TestProviderErrors(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	page := f.get("/providers").Body.String()
	for _, want := range []string{"rate_limit", "quota_exhausted", "Back off and lower concurrency.", "Add credit; raising rate limits will not help.", "insufficient_quota"} {
		if !strings.Contains(page, want) {
			t.Errorf("providers page lacks %q", want)
		}
	}
	var out struct {
		Classes []server.ClassSummary  `json:"classes"`
		Errors  []server.ProviderError `json:"errors"`
		Total   int64                  `json:"total"`
	}
	f.getJSON("/api/provider-errors", &out)
	if len(out.Classes) != 2 || out.Classes[0].Class != "rate_limit" || out.Classes[0].Days["2026-09-15"] != 1 || out.Total != 2 {
		t.Errorf("classes = %+v total %d", out.Classes, out.Total)
	}
	f.getJSON("/api/provider-errors?class=quota_exhausted", &out)
	if len(out.Errors) != 1 || out.Errors[0].Seq != 9 || out.Errors[0].Hint == "" {
		t.Errorf("quota errors = %+v", out.Errors)
	}
	if r := f.get("/api/provider-errors?class=cosmic_rays"); r.Code != http.StatusBadRequest {
		t.Errorf("unknown class = %d", r.Code)
	}
}

func TestStatsAndIntegrity(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	var st server.Stats
	f.getJSON("/api/stats", &st)
	if st.Records != 15 || st.Executions.Total != 9 || st.Executions.Executed != 6 || st.Executions.Witnessed != 1 ||
		st.Executions.Failed != 1 || st.Executions.NotExecuted != 2 || st.Executions.NoResult != 1 || st.Claims != 1 ||
		st.Kinds["exec_update"] != 2 || st.ProviderErrors["rate_limit"] != 1 || st.Sessions != 3 {
		t.Errorf("stats = %+v", st)
	}
	data, _ := os.ReadFile(f.path)
	var last ledger.Record
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	_ = json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	var in server.Integrity
	f.getJSON("/api/integrity", &in)
	if !in.Intact || in.Records != 15 || in.LastSeq != 15 || in.Head != last.Hash || in.Bytes != int64(len(data)) || in.Notices["orphan_result"] != 1 {
		t.Errorf("integrity = %+v", in)
	}
	page := f.get("/integrity").Body.String()
	if !strings.Contains(page, "Chain verified: 15 records") || !strings.Contains(page, "clawtrail verify --head "+last.Hash) {
		t.Errorf("integrity page does not say the chain is verified")
	}
}

func TestBrokenChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	writeLedger(t, path, fixtureBodies()...)
	data, _ := os.ReadFile(path)
	// Someone edits the command of record 3 after the fact.
	data = []byte(strings.Replace(string(data), `"command":"rm -rf /tmp/x"`, `"command":"rm -rf /tmp/y"`, 1))
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f := start(t, path, server.Config{})
	f.waitRecords(14)
	var in server.Integrity
	f.getJSON("/api/integrity", &in)
	if in.Intact || in.Problem == nil || in.Problem.Seq != 3 || in.Records != 2 || in.Unverified != 12 {
		t.Fatalf("integrity = %+v", in)
	}
	var p struct {
		Executions []*server.Execution `json:"executions"`
	}
	f.getJSON("/api/executions", &p)
	for _, e := range p.Executions {
		if (e.Seq >= 3) != e.Unverified {
			t.Errorf("exec %d unverified = %v", e.Seq, e.Unverified)
		}
	}
	page := f.get("/integrity").Body.String()
	if !strings.Contains(page, "The hash chain is broken") || !strings.Contains(page, "hash mismatch") {
		t.Errorf("integrity page does not show the problem")
	}
	if !strings.Contains(f.get("/").Body.String(), "UNVERIFIED") || !strings.Contains(f.get("/").Body.String(), "chain broken") {
		t.Errorf("executions page does not flag unverified rows")
	}
}

func TestHealth(t *testing.T) {
	var st atomic.Value
	st.Store(server.StatusInfo{Healthy: true, Ready: false, Files: 3, LagBytes: 99})
	f := fixtureServer(t, server.Config{Status: func() server.StatusInfo { return st.Load().(server.StatusInfo) }})
	check := func(path string, want int) {
		t.Helper()
		rec := f.get(path)
		var got server.StatusInfo
		if rec.Code != want || json.Unmarshal(rec.Body.Bytes(), &got) != nil || got.Files != 3 {
			t.Errorf("GET %s = %d %s, want %d", path, rec.Code, rec.Body, want)
		}
		if rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("GET %s: content type %q", path, rec.Header().Get("Content-Type"))
		}
	}
	check("/healthz", 200)
	check("/readyz", 503)
	st.Store(server.StatusInfo{Healthy: true, Ready: true, Files: 3})
	check("/readyz", 200)
	st.Store(server.StatusInfo{Healthy: false, Error: "disk full", Ready: true, Files: 3})
	check("/healthz", 503)
	check("/readyz", 503)
	if !strings.Contains(f.get("/").Body.String(), "unhealthy") {
		t.Errorf("page does not show the daemon unhealthy")
	}
}

func TestStandaloneHealthWaitsForLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	f := start(t, path, server.Config{})
	deadline := time.Now().Add(5 * time.Second)
	for f.get("/healthz").Code != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("healthz is not 503 while the ledger does not exist")
		}
		time.Sleep(5 * time.Millisecond)
	}
	writeLedger(t, path, fixtureBodies()[:3]...)
	f.waitRecords(3)
	if r := f.get("/readyz"); r.Code != http.StatusOK {
		t.Errorf("readyz once indexed = %d %s", r.Code, r.Body)
	}
}

func TestReadOnly(t *testing.T) {
	f := fixtureServer(t, server.Config{})
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions, "TRACE"} {
		for _, p := range []string{"/", "/api/executions", "/metrics", "/healthz", "/login"} {
			rec := f.do(m, p)
			if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s = %d (Allow %q), want 405", m, p, rec.Code, rec.Header().Get("Allow"))
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "/api/stats", strings.NewReader("x=1"))
	req.RemoteAddr = "192.0.2.1:1"
	rec := &recorder{header: http.Header{}}
	f.h.ServeHTTP(rec, req)
	if rec.code != http.StatusRequestEntityTooLarge {
		t.Errorf("GET with a body = %d, want 413", rec.code)
	}
	if r := f.get("/api/executions?text=" + strings.Repeat("a", 5000)); r.Code != http.StatusRequestURITooLong {
		t.Errorf("long query = %d, want 414", r.Code)
	}
	if r := f.get("/nope"); r.Code != http.StatusNotFound {
		t.Errorf("unknown path = %d", r.Code)
	}
	if r := f.get("/static/app.js"); r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/javascript") {
		t.Errorf("script = %d %q", r.Code, r.Header().Get("Content-Type"))
	} else if r2 := f.get("/static/app.js", "If-None-Match", r.Header().Get("ETag")); r2.Code != http.StatusNotModified {
		t.Errorf("script revalidation = %d, want 304", r2.Code)
	}
	if r := f.get("/static/../server.go"); r.Code == http.StatusOK {
		t.Errorf("static path escape = %d", r.Code)
	}
}

// recorder is a ResponseWriter for requests httptest.NewRequest will not build.
type recorder struct {
	header http.Header
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.code = code }

func TestAuth(t *testing.T) {
	f := fixtureServer(t, server.Config{Token: "s3cret-token"})
	for _, p := range []string{"/", "/api/executions", "/api/stream", "/metrics", "/healthz", "/readyz", "/exec/1", "/integrity"} {
		rec := f.get(p)
		if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("GET %s without a token = %d, want 401", p, rec.Code)
		}
		if rec := f.get(p, "Authorization", "Bearer wrong"); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token = %d", p, rec.Code)
		}
		if rec := f.get(p, "Cookie", "clawtrail_session=forged"); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET %s with a forged cookie = %d", p, rec.Code)
		}
	}
	if rec := f.get("/api/stats"); !strings.Contains(rec.Header().Get("Content-Type"), "json") {
		t.Errorf("API refusal is not JSON")
	}
	if rec := f.get("/api/stats", "Authorization", "Bearer s3cret-token"); rec.Code != http.StatusOK {
		t.Errorf("bearer = %d", rec.Code)
	}
	if rec := f.get("/static/style.css"); rec.Code != http.StatusOK {
		t.Errorf("stylesheet needs no token, got %d", rec.Code)
	}

	link := f.srv.LoginPath()
	if !strings.HasPrefix(link, "/login?t=") || strings.Contains(link, "s3cret-token") {
		t.Fatalf("login path = %q", link)
	}
	if rec := f.get("/login?t=wrong"); rec.Code != http.StatusUnauthorized {
		t.Errorf("wrong login code = %d", rec.Code)
	}
	rec := f.get(link)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/" {
		t.Fatalf("login = %d -> %q", rec.Code, rec.Header().Get("Location"))
	}
	cookie := rec.Result().Cookies()
	if len(cookie) != 1 || !cookie[0].HttpOnly || cookie[0].Name != "clawtrail_session" || cookie[0].Value == "" {
		t.Fatalf("cookie = %+v", cookie)
	}
	if rec := f.get("/", "Cookie", cookie[0].Name+"="+cookie[0].Value); rec.Code != http.StatusOK {
		t.Errorf("page with the session cookie = %d", rec.Code)
	}
	if rec := f.get(link); rec.Code != http.StatusUnauthorized {
		t.Errorf("a login link used twice = %d, want 401", rec.Code)
	}
	if next := f.srv.LoginPath(); next == link || next == "" {
		t.Errorf("no new login link after the first was used")
	}
}

func TestRateLimit(t *testing.T) {
	f := fixtureServer(t, server.Config{RatePerSecond: 0.001, RateBurst: 1000})
	n := 0
	for ; n < 2000; n++ {
		if rec := f.get("/api/stats"); rec.Code == http.StatusTooManyRequests {
			if rec.Header().Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			break
		}
	}
	if n < 900 || n > 1000 {
		t.Errorf("refused after %d requests, want about the burst of 1000 (less the start-up polls)", n)
	}
	if rec := f.get("/healthz"); rec.Code != http.StatusOK {
		t.Errorf("probes are rate limited: %d", rec.Code)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/stats", nil)
	req.RemoteAddr = "198.51.100.7:1"
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("another client is limited too: %d", rec.Code)
	}
}

// The integrity page names the last checkpoint, whose size and root the chain check
// has vouched for, and whether it is signed (whose signature only verify --key says).
func TestIntegrityShowsTheLastCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	writeLedger(t, path, fixtureBodies()...)
	skey, _, err := note.GenerateKey(rand.Reader, "gw-1")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	w, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, seq, err := w.Checkpoint(signer)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	f := start(t, path, server.Config{})
	f.waitRecords(seq)
	var in struct {
		Intact bool
		Last   struct {
			Seq      int64 `json:"seq"`
			TreeSize int64 `json:"tree_size"`
			Signed   bool  `json:"signed"`
		} `json:"last_checkpoint"`
	}
	f.getJSON("/api/integrity", &in)
	if !in.Intact || in.Last.Seq != seq || in.Last.TreeSize != seq-1 || !in.Last.Signed {
		t.Errorf("integrity = %+v, want the signed checkpoint at seq %d over %d records", in, seq, seq-1)
	}
	if page := f.get("/integrity").Body.String(); !strings.Contains(page, fmt.Sprintf("#%d: %d records", seq, seq-1)) || !strings.Contains(page, "signed (check whose") {
		t.Errorf("integrity page does not show the signed checkpoint")
	}
}
