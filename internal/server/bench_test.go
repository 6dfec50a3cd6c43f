package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/server"
)

// The web view's budget on a ledger of a million records: first page under 100 ms of
// server time, filtered queries under 300 ms, RSS under 150 MB once the index is
// built. Run with
//
//	go test -run '^$' -bench WebView1M ./internal/server/
//
// The index is built twice: in this process for the query timings, and in a fresh
// child process (this test binary again) for the memory numbers, so that the
// generator's garbage and the benchmark's own allocations do not count.

const benchRecords = 1_000_000

func TestMain(m *testing.M) {
	if path := os.Getenv("CLAWTRAIL_BENCH_CHILD"); path != "" {
		if err := benchChild(path); err != nil {
			fmt.Fprintln(os.Stderr, "bench child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var benchCommands = []string{
	"git status", "git diff --stat", "git log --oneline -20", "go test ./...", "go vet ./...", "make build", "make lint",
	"npm ci", "npm run test -- --watch=false", "pytest -q tests/", "python3 scripts/report.py --week %d", "ls -la /var/log",
	"cat /etc/os-release", "df -h", "du -sh node_modules", "docker ps --format '{{.Names}}'", "docker logs api-%d --tail 100",
	"kubectl get pods -n prod", "kubectl describe pod api-%d -n prod", "kubectl rollout status deploy/api -n prod",
	"curl -fsS http://localhost:8080/health", "curl -s https://api.example.com/v1/orders/%d", "grep -R TODO src | wc -l",
	"find . -name '*.go' | xargs wc -l", "tar czf backup-%d.tgz data/", "rm -rf build/ dist/", "sed -i 's/v1/v2/' config.yaml",
	"jq '.items | length' out/%d.json", "psql -c 'select count(*) from orders'", "redis-cli info memory", "systemctl status nginx",
	"journalctl -u api --since -1h | tail -50", "terraform plan -out plan-%d", "aws s3 ls s3://backups/", "ssh deploy@web-%d uptime",
	"pip install -r requirements.txt", "cargo build --release", "wget -q https://example.org/data/%d.csv", "head -c 4096 /dev/urandom | sha256sum",
}

// writeBenchLedger writes n records with the real writer: mostly execs of a few
// agents across many sessions, with updates, provider errors, claims and notices
// in about the proportions a busy deployment shows.
func writeBenchLedger(tb testing.TB, path string, n int) {
	tb.Helper()
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	w, _, err := ledger.Open(path, ledger.Options{Now: func() time.Time { return at }})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	agents := []string{"main", "ops", "research", "ci"}
	session := func(a, i int) string {
		return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", a*7919+i, i, a, i%4096, i*104729)
	}
	type open struct{ e *ledger.Exec }
	var pending []open
	outcomes := []string{"succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded",
		"succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "succeeded", "nonzero_exit", "nonzero_exit", "running",
		"pending_approval", "denied", "timed_out", "no_result", "killed", "not_found", "error", "blocked"}
	for i := range n {
		at = at.Add(2 * time.Second)
		ts := at.Add(-time.Second).Format(time.RFC3339Nano)
		a := rng.IntN(len(agents))
		agent, sess := agents[a], session(a, rng.IntN(600))
		src := ledger.Source{Path: "agents/" + agent + "/sessions/" + sess + ".jsonl", Line: int64(i%5000 + 1), Offset: int64(i%5000) * 700, EntryID: strconv.FormatInt(int64(i)*2654435761%0xffffffff, 16)}
		var b ledger.Body
		switch r := rng.IntN(100); {
		case r < 3:
			b = &ledger.ProviderError{TS: ts, Runtime: "openclaw", Agent: agent, Session: sess, EntryID: src.EntryID, Provider: "anthropic",
				Model: "claude-sonnet", Class: []string{"rate_limit", "overloaded", "timeout", "quota_exhausted", "budget_cap", "auth"}[rng.IntN(6)],
				Message: "429 rate_limit_error: too many tokens", Hint: "Back off, lower concurrency, or raise the rate-limit tier.", Source: src}
		case r < 4:
			b = &ledger.Claim{TS: ts, Runtime: "openclaw", Agent: agent, Session: sess, EntryID: src.EntryID, ClaimedCommand: "npm publish",
				Excerpt: "I have published the package.", Reason: "no tool call in the turn", Source: src}
		case r < 12 && len(pending) > 0:
			j := rng.IntN(len(pending))
			e := pending[j].e
			pending = slices.Delete(pending, j, j+1)
			exit := rng.IntN(2)
			b = &ledger.ExecUpdate{TS: e.TS, Runtime: e.Runtime, Agent: e.Agent, Session: e.Session, CorrelationID: e.CorrelationID,
				Outcome: []string{"succeeded", "nonzero_exit"}[exit], ExitCode: &exit, DurationMs: i64p(int64(rng.IntN(90_000))), EndedAt: ts,
				Output: &ledger.Output{Text: "done\n", Bytes: 5, SHA256: strings.Repeat("5", 64)}, Verdict: "executed", Source: src}
		default:
			cmd := benchCommands[rng.IntN(len(benchCommands))]
			if strings.Contains(cmd, "%d") {
				cmd = fmt.Sprintf(cmd, rng.IntN(1000))
			}
			outcome := outcomes[rng.IntN(len(outcomes))]
			e := &ledger.Exec{TS: ts, Runtime: "openclaw", Agent: agent, Session: sess, CorrelationID: fmt.Sprintf("toolu_%014x", i), Tool: "exec",
				Command: cmd, Cwd: "/home/node/.openclaw/workspace-" + agent, Outcome: outcome, StartedAt: ts, EndedAt: ts, Verdict: verdictOf(outcome),
				Output: ledger.Output{Text: "ok\n", Bytes: 3, SHA256: strings.Repeat("a", 64)}, Findings: []ledger.Finding{}, Source: src}
			switch outcome {
			case "succeeded", "nonzero_exit":
				e.ExitCode, e.DurationMs = intp(rng.IntN(2)), i64p(int64(rng.IntN(20_000)))
			case "running", "pending_approval", "no_result":
				if len(pending) < 10_000 {
					pending = append(pending, open{e})
				}
			}
			b = e
		}
		if _, err := w.Append(b); err != nil {
			tb.Fatal(err)
		}
		if i%4096 == 4095 {
			if err := w.Flush(); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
}

// benchQueries are what an operator does first: open the page, then narrow it down.
var benchQueries = []struct{ name, target string }{
	{"first-page-html", "/"},
	{"first-page-api", "/api/executions"},
	{"filter-agent-outcome", "/api/executions?agent=ops&outcome=nonzero_exit"},
	{"filter-text", "/api/executions?text=kubectl+rollout"},
	{"filter-text-rare-html", "/?text=backup-999.tgz"},
	{"filter-session-prefix", "/api/executions?session=00001ef"},
	{"filter-verdict-deep-page", "/api/executions?verdict=not_executed&cursor=500000"},
	{"stats", "/api/stats"},
	{"providers", "/providers"},
}

func buildIndex(tb testing.TB, path string) (*server.Server, time.Duration, func()) {
	tb.Helper()
	t0 := time.Now()
	// Unlimited rate: this measures the server's work, not its limiter.
	srv, err := server.New(server.Config{Ledger: path, RatePerSecond: 1e9, RateBurst: 1 << 30})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Run(ctx) }()
	h := srv.Handler()
	for {
		req := httptest.NewRequest(http.MethodGet, "/api/stats", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var st server.Stats
		if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
			tb.Fatal(err)
		}
		if st.Index.CaughtUp && st.Records == benchRecords {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return srv, time.Since(t0), func() { cancel(); <-done }
}

func serve(h http.Handler, target string) int {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func BenchmarkWebView1M(b *testing.B) {
	// CLAWTRAIL_BENCH_LEDGER keeps the generated ledger for the next run.
	path := os.Getenv("CLAWTRAIL_BENCH_LEDGER")
	if path == "" {
		path = filepath.Join(b.TempDir(), "governance.jsonl")
	}
	if _, err := os.Stat(path); err != nil {
		t0 := time.Now()
		writeBenchLedger(b, path, benchRecords)
		b.Logf("wrote %d records in %v", benchRecords, time.Since(t0).Round(time.Millisecond))
	}
	fi, _ := os.Stat(path)
	b.Logf("ledger: %d records, %.0f MB", benchRecords, float64(fi.Size())/1e6)

	b.Run("rss", func(b *testing.B) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CLAWTRAIL_BENCH_CHILD="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("child: %v", err)
		}
		var r benchReport
		if err := json.Unmarshal(out, &r); err != nil {
			b.Fatalf("child said %q: %v", out, err)
		}
		b.ReportMetric(r.BuildSeconds, "build-s")
		b.ReportMetric(r.RSSMB, "rss-MB")
		b.ReportMetric(r.RSSUsedMB, "rss-after-queries-MB")
		b.ReportMetric(r.PeakMB, "peak-rss-MB")
		b.ReportMetric(r.HeapMB, "heap-MB")
		b.ReportMetric(r.FirstPageMs, "first-page-ms")
		b.Logf("fresh process: index of %d records built in %.1f s; RSS %.0f MB (Go heap in use %.0f MB), %.0f MB after 180 queries, peak %.0f MB; first page %.1f ms",
			benchRecords, r.BuildSeconds, r.RSSMB, r.HeapMB, r.RSSUsedMB, r.PeakMB, r.FirstPageMs)
		if r.RSSMB >= 150 || r.RSSUsedMB >= 150 {
			b.Errorf("RSS = %.0f MB after the index build, %.0f MB after queries; budget 150 MB", r.RSSMB, r.RSSUsedMB)
		}
	})

	srv, build, stop := buildIndex(b, path)
	defer stop()
	b.Logf("index built in this process in %v", build.Round(time.Millisecond))
	h := srv.Handler()
	for _, q := range benchQueries {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if code := serve(h, q.target); code != http.StatusOK {
					b.Fatalf("GET %s = %d", q.target, code)
				}
			}
		})
	}
}

type benchReport struct {
	BuildSeconds float64 `json:"build_s"`
	RSSMB        float64 `json:"rss_mb"`      // right after the index is built
	RSSUsedMB    float64 `json:"rss_used_mb"` // after 180 queries
	PeakMB       float64 `json:"peak_mb"`     // the most the process ever held
	HeapMB       float64 `json:"heap_mb"`
	FirstPageMs  float64 `json:"first_page_ms"`
}

// benchChild builds the index in a process that does nothing else and reports what
// it costs, as `clawtrail run` would start on a big ledger.
func benchChild(path string) error {
	var tb fatalTB
	srv, build, stop := buildIndex(&tb, path)
	defer stop()
	// The first page, as the operator opening the UI right after the start sees it.
	t0 := time.Now()
	if code := serve(srv.Handler(), "/"); code != http.StatusOK {
		return fmt.Errorf("first page = %d", code)
	}
	first := time.Since(t0)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := benchReport{BuildSeconds: build.Seconds(), RSSMB: procStatus("VmRSS"), HeapMB: float64(ms.HeapInuse) / (1 << 20),
		FirstPageMs: float64(first.Microseconds()) / 1000}
	// Then an operator's session: every query of the benchmark, twenty times.
	for range 20 {
		for _, q := range benchQueries {
			if code := serve(srv.Handler(), q.target); code != http.StatusOK {
				return fmt.Errorf("GET %s = %d", q.target, code)
			}
		}
	}
	r.RSSUsedMB, r.PeakMB = procStatus("VmRSS"), procStatus("VmHWM")
	return json.NewEncoder(os.Stdout).Encode(r)
}

// procStatus reads a memory figure of this process from /proc, in MB.
func procStatus(key string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// fatalTB lets buildIndex run outside a test: a failure panics the child.
type fatalTB struct{ testing.TB }

func (fatalTB) Helper()                   {}
func (fatalTB) Fatal(args ...any)         { panic(fmt.Sprint(args...)) }
func (fatalTB) Fatalf(f string, a ...any) { panic(fmt.Sprintf(f, a...)) }
