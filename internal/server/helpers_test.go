package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/server"
)

func intp(v int) *int     { return &v }
func i64p(v int64) *int64 { return &v }

func verdictOf(outcome string) string {
	switch outcome {
	case "denied", "blocked", "pending_approval":
		return "not_executed"
	case "error", "no_result":
		return "unknown"
	}
	return "executed"
}

// execBody is an exec as the daemon would write it.
func execBody(agent, session, id, command, outcome string, exit *int, at int) *ledger.Exec {
	ts := time.Date(2026, 9, 15, 10, 0, 0, 0, time.UTC).Add(time.Duration(at) * time.Minute).Format(time.RFC3339Nano)
	return &ledger.Exec{TS: ts, Runtime: "openclaw", Agent: agent, Session: session, CorrelationID: id, Tool: "exec",
		Command: command, Cwd: "/work/" + agent, Outcome: outcome, ExitCode: exit, StartedAt: ts, Verdict: verdictOf(outcome),
		Output:   ledger.Output{Text: "output of " + command + "\n", Bytes: int64(len(command) + 11), SHA256: strings.Repeat("ab", 32)},
		Findings: []ledger.Finding{}, Source: ledger.Source{Path: "agents/" + agent + "/sessions/" + session + ".jsonl", Line: int64(at + 1), Offset: int64(at * 100), EntryID: "e" + id}}
}

func updateBody(e *ledger.Exec, outcome string, exit *int) *ledger.ExecUpdate {
	return &ledger.ExecUpdate{TS: e.TS, Runtime: e.Runtime, Agent: e.Agent, Session: e.Session, CorrelationID: e.CorrelationID,
		Outcome: outcome, ExitCode: exit, DurationMs: i64p(4200), EndedAt: e.TS, Verdict: verdictOf(outcome),
		Output: &ledger.Output{Text: "resolved: " + outcome + "\n", Bytes: 20, SHA256: strings.Repeat("cd", 32)},
		Source: ledger.Source{Path: e.Source.Path, Line: e.Source.Line + 50, Offset: e.Source.Offset + 5000, EntryID: "u" + e.CorrelationID}}
}

const (
	hostileScript = `<script>alert(1)</script>`
	hostileImg    = `<img src=x onerror=alert(1)>`
)

// fixtureBodies is a small ledger with one of everything the web view shows. The
// seq of each record is its position + 1; tests below name them.
func fixtureBodies() []ledger.Body {
	pending := execBody("main", "s2", "c4", "deploy --prod", "pending_approval", nil, 3)
	settled := execBody("main", "s1", "c9", "make build", "nonzero_exit", intp(1), 9)
	denied := execBody("main", "s1", "c3", "rm -rf /tmp/x", "denied", nil, 2)
	denied.Findings = []ledger.Finding{{Rule: "destructive-rm", Severity: "high", Message: "rm -rf"}}
	ok := execBody("main", "s1", "c1", "make test", "succeeded", intp(0), 0)
	ok.DurationMs = i64p(1200)
	hostile := execBody("ops", "s3", "c6", hostileScript, "succeeded", intp(0), 6)
	hostile.Output.Text = hostileImg + "\n"
	return []ledger.Body{
		ok, // 1
		execBody("main", "s1", "c2", "ls /nope", "nonzero_exit", intp(2), 1), // 2
		denied,  // 3
		pending, // 4
		updateBody(pending, "succeeded", intp(0)),                     // 5: folds into 4
		execBody("ops", "s3", "c5", "sleep 100", "no_result", nil, 5), // 6
		hostile, // 7
		&ledger.ProviderError{TS: "2026-09-15T10:07:00Z", Runtime: "openclaw", Agent: "main", Session: "s1", EntryID: "p1", Provider: "anthropic", Model: "claude", Class: "rate_limit", Message: "429 too many requests", Hint: "Back off and lower concurrency."},           // 8
		&ledger.ProviderError{TS: "2026-09-15T10:08:00Z", Runtime: "openclaw", Agent: "ops", Session: "s3", EntryID: "p2", Provider: "openai", Model: "gpt", Class: "quota_exhausted", Message: "insufficient_quota", Hint: "Add credit; raising rate limits will not help."}, // 9
		&ledger.Claim{TS: "2026-09-15T10:09:00Z", Runtime: "openclaw", Agent: "main", Session: "s1", EntryID: "k1", ClaimedCommand: "git push --force", Excerpt: "I ran git push --force and it worked.", Reason: "no tool call in the turn"},                                 // 10
		&ledger.Notice{Reason: "orphan_result", Detail: "a result without its call", Runtime: "openclaw", Agent: "main", Session: "s1", CorrelationID: "zz"},                                                                                                                  // 11
		execBody("main", "s2", "c7", "Echo MiXeD Case", "pending_approval", nil, 12), // 12
		settled, // 13
		updateBody(settled, "succeeded", intp(0)), // 14: folds into 13 (found by scanning: nonzero_exit looked settled)
	}
}

// writeLedger appends bodies to the ledger at path (creating it) with the real writer.
func writeLedger(t testing.TB, path string, bodies ...ledger.Body) {
	t.Helper()
	w, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		if _, err := w.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// appendRaw appends one record whose body is given as JSON members, chained and hashed
// as docs/ledger-format.md specifies: for what the typed bodies cannot say (a witness).
func appendRaw(t testing.TB, path, kind, members string) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seq, prev := int64(0), ledger.ZeroHash
	if lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")); len(data) > 0 {
		var last ledger.Record
		if err := json.Unmarshal(lines[len(lines)-1], &last); err != nil {
			t.Fatal(err)
		}
		seq, prev = last.Seq, last.Hash
	}
	seq++
	b := fmt.Sprintf(`{"v":1,"seq":%d,"kind":"%s","recorded_at":"2026-09-15T11:00:00.000000000Z",%s,"prev":"%s"`, seq, kind, members, prev)
	h := sha256.Sum256([]byte("clawtrail-ledger-v1\n" + b + "}"))
	line := b + `,"hash":"` + hex.EncodeToString(h[:]) + "\"}\n"
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		t.Fatal(err)
	}
	return seq
}

const witnessedMembers = `"ts":"2026-09-15T10:20:00Z","runtime":"openclaw","agent":"ops","session":"s3","correlation_id":"c10","tool":"exec",` +
	`"command":"uname -a","cwd":"/","host":"","background":false,"outcome":"succeeded","exit_code":0,"signal":"","duration_ms":3,` +
	`"started_at":"","ended_at":"","output":{"text":"Linux\n","bytes":6,"sha256":"","truncated":false},"verdict":"executed","findings":[],` +
	`"witness":{"status":"matched","pid":4242,"namespaces":{"pid":4026531836},"container":"agent"},` +
	`"source":{"path":"x.jsonl","line":1,"offset":0,"entry_id":"w"}`

type fixture struct {
	t    testing.TB
	path string
	srv  *server.Server
	h    http.Handler
	tok  string
}

// start runs a server over the ledger at path until the test ends.
func start(t testing.TB, path string, cfg server.Config) *fixture {
	t.Helper()
	cfg.Ledger = path
	if cfg.Poll == 0 {
		cfg.Poll = 10 * time.Millisecond
	}
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond, cfg.RateBurst = 1e6, 1e6
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return &fixture{t: t, path: path, srv: srv, h: srv.Handler(), tok: cfg.Token}
}

// fixtureServer writes the fixture ledger and serves it, indexed.
func fixtureServer(t testing.TB, cfg server.Config) *fixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	writeLedger(t, path, fixtureBodies()...)
	appendRaw(t, path, "exec", witnessedMembers) // 15
	f := start(t, path, cfg)
	f.waitRecords(15)
	return f
}

func (f *fixture) get(target string, header ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	return f.do(http.MethodGet, target, header...)
}

func (f *fixture) do(method, target string, header ...string) *httptest.ResponseRecorder {
	f.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func (f *fixture) auth() []string {
	if f.tok == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + f.tok}
}

func (f *fixture) getJSON(target string, v any) {
	f.t.Helper()
	rec := f.get(target, f.auth()...)
	if rec.Code != http.StatusOK {
		f.t.Fatalf("GET %s = %d %s", target, rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		f.t.Fatalf("GET %s: %v in %s", target, err, rec.Body)
	}
}

// waitRecords waits until the index holds n records and has caught up.
func (f *fixture) waitRecords(n int64) {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var st server.Stats
	for time.Now().Before(deadline) {
		f.getJSON("/api/stats", &st)
		if st.Records == n && st.Index.CaughtUp {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.t.Fatalf("index holds %d records (caught up %v), want %d", st.Records, st.Index.CaughtUp, n)
}

func seqsOf(es []*server.Execution) string {
	var s []string
	for _, e := range es {
		s = append(s, strconv.FormatInt(e.Seq, 10))
	}
	return strings.Join(s, ",")
}
