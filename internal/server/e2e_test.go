package server_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/server"
)

const chromiumPath = "/usr/bin/chromium"

// chromium returns Debian's chromium. CI installs it (.ci/run), so there a missing
// browser is a failure; on a developer's machine the test says how to get it.
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is not installed at %s: CI must install Debian's chromium (.ci/run)", chromiumPath)
		}
		t.Skipf("skipping the browser test: no %s (apt-get install chromium)", chromiumPath)
	}
	return chromiumPath
}

// demoBodies is a morning of three agents' work, for the browser test and the
// screenshot in docs/.
func demoBodies() []ledger.Body {
	type call struct {
		agent, session, command, outcome string
		exit                             int
		ms                               int64
	}
	calls := []call{
		{"main", "7f3c9a2e-41d0", "git pull --rebase", "succeeded", 0, 812},
		{"main", "7f3c9a2e-41d0", "go test ./...", "nonzero_exit", 1, 48_210},
		{"main", "7f3c9a2e-41d0", "go test ./internal/billing -run TestInvoice", "succeeded", 0, 3_904},
		{"ops", "c81d55b0-9e2a", "kubectl get pods -n prod", "succeeded", 0, 1_220},
		{"ops", "c81d55b0-9e2a", "kubectl rollout restart deploy/api -n prod", "denied", -1, 0},
		{"research", "2b9e0f13-aa07", "pdftotext -layout papers/2406.01234.pdf - | head -60", "succeeded", 0, 231},
		{"research", "2b9e0f13-aa07", "python3 scripts/extract_refs.py papers/2406.01234.pdf", "succeeded", 0, 1_870},
		{"main", "7f3c9a2e-41d0", "npm ci", "timed_out", -1, 300_000},
		{"ops", "c81d55b0-9e2a", "df -h /var/lib/docker", "succeeded", 0, 18},
		{"ops", "c81d55b0-9e2a", "docker system prune -af", "pending_approval", -1, 0},
		{"main", "e04a7d19-03bf", "make lint", "succeeded", 0, 6_511},
		{"research", "2b9e0f13-aa07", "wget -q https://arxiv.org/e-print/2406.01234", "not_found", 127, 12},
		{"main", "e04a7d19-03bf", "git push origin feature/invoices", "succeeded", 0, 2_340},
		{"ops", "c81d55b0-9e2a", "journalctl -u nginx --since -1h | tail -50", "succeeded", 0, 402},
		{"main", "e04a7d19-03bf", "rm -rf build/ && make release", "killed", -1, 61_000},
		{"research", "2b9e0f13-aa07", "sleep 600 && curl -fsS localhost:8080/health", "no_result", -1, 0},
	}
	base := time.Date(2026, 9, 15, 6, 0, 0, 0, time.UTC)
	var out []ledger.Body
	for i, c := range calls {
		at := base.Add(time.Duration(i*37) * time.Minute)
		var exit *int
		if c.exit >= 0 {
			exit = intp(c.exit)
		}
		e := &ledger.Exec{TS: at.Format(time.RFC3339Nano), Runtime: "openclaw", Agent: c.agent, Session: c.session, CorrelationID: fmt.Sprintf("toolu_%02d", i),
			Tool: "exec", Command: c.command, Cwd: "/home/node/.openclaw/workspace-" + c.agent, Outcome: c.outcome, ExitCode: exit,
			StartedAt: at.Format(time.RFC3339Nano), Verdict: verdictOf(c.outcome), Findings: []ledger.Finding{},
			Output: ledger.Output{Text: "…\n", Bytes: 2, SHA256: strings.Repeat("0", 64)},
			Source: ledger.Source{Path: "agents/" + c.agent + "/sessions/" + c.session + ".jsonl", Line: int64(10 + i), Offset: int64(1000 * i), EntryID: fmt.Sprintf("%08x", i)}}
		if c.ms > 0 {
			e.DurationMs = i64p(c.ms)
		}
		if c.agent == "research" {
			e.Tool = "bash"
		}
		out = append(out, e)
		if i == 5 {
			out = append(out, &ledger.ProviderError{TS: at.Add(time.Minute).Format(time.RFC3339Nano), Runtime: "openclaw", Agent: "main", Session: "7f3c9a2e-41d0",
				EntryID: "pe1", Provider: "anthropic", Model: "claude-sonnet", Class: "rate_limit", Message: "429: rate_limit_error",
				Hint: "The provider is throttling: back off, lower concurrency, or raise the rate-limit tier."})
		}
		if i == 12 {
			out = append(out, &ledger.Claim{TS: at.Add(2 * time.Minute).Format(time.RFC3339Nano), Runtime: "openclaw", Agent: "main", Session: "e04a7d19-03bf",
				EntryID: "cl1", ClaimedCommand: "npm publish", Excerpt: "I've published the package with npm publish.", Reason: "no tool call in the turn"})
		}
	}
	return out
}

func TestBrowser(t *testing.T) {
	exe := chromium(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "governance.jsonl")
	bodies := demoBodies()
	writeLedger(t, path, bodies...)
	witnessed := appendRaw(t, path, "exec", strings.Replace(witnessedMembers, `"ts":"2026-09-15T10:20:00Z"`, `"ts":"2026-09-15T15:55:00Z"`, 1))
	records := witnessed
	f := start(t, path, server.Config{Poll: 100 * time.Millisecond}) // the default poll, as in production
	f.waitRecords(records)
	ts := httptest.NewServer(f.h)
	t.Cleanup(ts.Close)
	w, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	appendSync := func(b ledger.Body) int64 {
		t.Helper()
		seq, err := w.Append(b)
		if err == nil {
			err = w.Sync()
		}
		if err != nil {
			t.Fatal(err)
		}
		return seq
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1360, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Any dialog means a transcript's markup ran as script; any exception means the
	// page's own script broke.
	var dialogs, exceptions atomic.Int32
	dialogEvents := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range dialogEvents {
			if err != nil {
				return
			}
			dialogs.Add(1)
			t.Logf("dialog opened: %q", ev.Message)
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	exceptionEvents := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range exceptionEvents {
			if err != nil {
				return
			}
			exceptions.Add(1)
			t.Logf("page exception: %+v", ev.ExceptionDetails)
		}
	}()

	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	waitFor := func(js string, within time.Duration) time.Duration {
		t.Helper()
		t0 := time.Now()
		for time.Since(t0) < within {
			if eval("String("+js+")") == "true" {
				return time.Since(t0)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("%s did not hold within %v", js, within)
		return 0
	}
	rowsJS := `Array.from(document.querySelectorAll('#rows tr')).map(tr => tr.id + '=' + tr.querySelector('.badge').textContent).join(' ')`
	commandOf := func(seq int64) string {
		return eval(fmt.Sprintf(`(document.querySelector('#x%d .command') || {textContent: 'missing'}).textContent`, seq))
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible("#rows tr")); err != nil {
		t.Fatal(err)
	}
	title := eval(`document.title`)
	if title != "Executions · clawtrail" {
		t.Errorf("title = %q", title)
	}
	rows := eval(rowsJS)
	for _, want := range []string{fmt.Sprintf("x%d=WITNESSED", witnessed), "x1=EXECUTED", "x2=EXECUTED", "x5=NOT EXECUTED", "x11=PENDING",
		"x18=NO RESULT", "x15=CLAIMED, NOT RUN"} {
		if !strings.Contains(" "+rows+" ", " "+want+" ") {
			t.Errorf("rows lack %s: %s", want, rows)
		}
	}
	if n := strings.Count(rows, "="); n != 18 {
		t.Errorf("%d rows, want 18 (16 execs, a claim, a witnessed exec)", n)
	}
	waitFor(`document.getElementById('live').textContent === 'live'`, 5*time.Second)

	if os.Getenv("CLAWTRAIL_SCREENSHOT") == "1" {
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "ui.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A record written now shows up without a reload.
	seq := appendSync(&ledger.Exec{TS: "2026-09-15T16:05:00Z", Runtime: "openclaw", Agent: "ops", Session: "c81d55b0-9e2a", CorrelationID: "live1",
		Tool: "exec", Command: "systemctl status nginx", Outcome: "succeeded", ExitCode: intp(0), Verdict: "executed", Findings: []ledger.Finding{}})
	took := waitFor(fmt.Sprintf(`!!document.getElementById('x%d')`, seq), time.Second)
	t.Logf("a new record reached the page %v after it was written", took)
	if got := eval(fmt.Sprintf(`document.querySelector('#x%d .badge').textContent`, seq)); got != "EXECUTED" {
		t.Errorf("live row badge = %q", got)
	}

	// Commands that are markup arrive live (rendered by the page's script)...
	hostile := map[int64]string{}
	for _, cmd := range []string{hostileScript, hostileImg} {
		s := appendSync(&ledger.Exec{TS: "2026-09-15T16:06:00Z", Runtime: "openclaw", Agent: "ops", Session: "c81d55b0-9e2a",
			CorrelationID: "h" + fmt.Sprint(len(hostile)), Tool: "exec", Command: cmd, Outcome: "succeeded", ExitCode: intp(0), Verdict: "executed",
			Output: ledger.Output{Text: cmd}, Findings: []ledger.Finding{}})
		hostile[s] = cmd
	}
	for s, cmd := range hostile {
		waitFor(fmt.Sprintf(`!!document.getElementById('x%d')`, s), time.Second)
		if got := commandOf(s); got != cmd {
			t.Errorf("live row %d shows %q, want the command as text %q", s, got, cmd)
		}
	}
	checkInert := func(where string) {
		t.Helper()
		if n := eval(`String(document.querySelectorAll('main img, main script').length)`); n != "0" {
			t.Errorf("%s: %s img/script elements came from the ledger", where, n)
		}
		if got := eval(`document.title`); got != title && !strings.HasPrefix(got, "Record") {
			t.Errorf("%s: title changed to %q", where, got)
		}
	}
	checkInert("live rows")
	// ...and rendered by the server.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible("#rows tr")); err != nil {
		t.Fatal(err)
	}
	for s, cmd := range hostile {
		if got := commandOf(s); got != cmd {
			t.Errorf("server-rendered row %d shows %q, want %q", s, got, cmd)
		}
	}
	checkInert("server-rendered rows")
	for s, cmd := range hostile {
		if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/exec/%d", ts.URL, s)), chromedp.WaitVisible("pre.cmd")); err != nil {
			t.Fatal(err)
		}
		if got := eval(`document.querySelector('pre.cmd').textContent`); got != cmd {
			t.Errorf("detail of %d shows %q", s, got)
		}
		if got := eval(`document.querySelector('pre.output').textContent`); got != cmd {
			t.Errorf("detail of %d shows output %q", s, got)
		}
		checkInert("detail page")
	}

	// Without script the page is whole: the server rendered every row.
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(ts.URL+"/?agent=ops"), chromedp.WaitVisible("#rows tr")); err != nil {
		t.Fatal(err)
	}
	nodes, err := chromedp.Run(ctx, chromedp.Nodes("#rows tr", chromedp.AtLeast(1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 9 {
		t.Errorf("without script: %d rows for agent ops, want 9", len(nodes))
	}

	time.Sleep(200 * time.Millisecond) // a dialog, if any, has had time to open
	if n := dialogs.Load(); n != 0 {
		t.Errorf("%d JavaScript dialogs opened: markup from the ledger ran as script", n)
	}
	if n := exceptions.Load(); n != 0 {
		t.Errorf("%d exceptions in the page's script", n)
	}
}
