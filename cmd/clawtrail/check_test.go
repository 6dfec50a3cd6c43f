package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/isolation"
)

// ckRun runs the CLI in-process the way main does and returns what it printed and
// the exit status main would have used.
func ckRun(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	code = exitCode(err, &errOut)
	return out.String(), errOut.String(), code
}

// freeAddr is a loopback address nothing listens on: a port the kernel just handed
// out and that was closed again.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startRun runs `clawtrail run` in-process with args, serving HTTP on a free
// loopback address, until the test ends, and returns the address. The daemon must
// stop cleanly when the test is over.
func startRun(t *testing.T, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"run", "--listen", addr}, args...), func(string) string { return "" }, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return addr
}

func TestCheckIsolationSelfJSON(t *testing.T) {
	out, errOut, code := ckRun(t, nil, "check", "isolation", "--json")
	var rep isolation.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not a report: %v\n%s\nstderr: %s", err, out, errOut)
	}
	if rep.PID != os.Getpid() {
		t.Errorf("pid %d, want this process %d", rep.PID, os.Getpid())
	}
	ids := map[string]bool{}
	for _, c := range rep.Checks {
		ids[c.ID] = true
	}
	for _, id := range []string{"container.runtime", "ns.pid", "ns.net", "user.root", "caps.effective", "socket.docker", "source.readonly"} {
		if !ids[id] {
			t.Errorf("no %s check in the report", id)
		}
	}
	if want := isolation.ExitCode(rep.Worst()); code != want {
		t.Errorf("exit %d, want %d for worst severity %s", code, want, rep.Worst())
	}
}

func TestCheckIsolationTextEndsWithWorst(t *testing.T) {
	out, _, code := ckRun(t, nil, "check", "isolation")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "worst: ") || !strings.HasSuffix(last, fmt.Sprintf("(exit %d)", code)) {
		t.Errorf("last line %q does not name the worst severity and exit %d", last, code)
	}
	if !strings.HasPrefix(lines[0], fmt.Sprintf("isolation of pid %d ", os.Getpid())) {
		t.Errorf("first line %q", lines[0])
	}
}

func sourceCheck(t *testing.T, out string) isolation.Check {
	t.Helper()
	var rep isolation.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not a report: %v\n%s", err, out)
	}
	for _, c := range rep.Checks {
		if c.ID == "source.readonly" {
			return c
		}
	}
	t.Fatal("no source.readonly check")
	return isolation.Check{}
}

func TestCheckIsolationSources(t *testing.T) {
	dir := t.TempDir() // writable: the sidecar could alter what it audits
	out, _, _ := ckRun(t, nil, "check", "isolation", "--json", "--source", dir)
	if c := sourceCheck(t, out); !strings.HasPrefix(c.Verdict, "writable") || c.Severity != isolation.Medium {
		t.Errorf("--source %s: %s %q, want a medium 'writable' finding", dir, c.Severity, c.Verdict)
	}
	// Without --source, the state dir the daemon would follow is the one checked.
	out, _, _ = ckRun(t, map[string]string{"OPENCLAW_STATE_DIR": dir}, "check", "isolation", "--json")
	if c := sourceCheck(t, out); !strings.HasPrefix(c.Verdict, "writable") {
		t.Errorf("OPENCLAW_STATE_DIR=%s: verdict %q, want the state dir checked", dir, c.Verdict)
	}
	// ... but not for another process, whose filesystem is not ours.
	out, _, _ = ckRun(t, map[string]string{"OPENCLAW_STATE_DIR": dir}, "check", "isolation", "--json", "--pid", fmt.Sprint(os.Getpid()))
	if c := sourceCheck(t, out); c.Verdict != "no sources given" {
		t.Errorf("--pid with OPENCLAW_STATE_DIR: verdict %q, want no sources", c.Verdict)
	}
}

func TestCheckIsolationNoSuchProcess(t *testing.T) {
	// Above the largest pid_max Linux allows (2^22), so it can never exist.
	const pid = 1<<22 + 1
	out, errOut, code := ckRun(t, nil, "check", "isolation", "--pid", fmt.Sprint(pid))
	if code != exitInput {
		t.Errorf("exit %d, want %d", code, exitInput)
	}
	if out != "" || !strings.Contains(errOut, fmt.Sprintf("no process with pid %d", pid)) {
		t.Errorf("stdout %q, stderr %q: want no report and a clear message", out, errOut)
	}
}

func TestCheckUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"check"}, "Usage: clawtrail check"},
		{[]string{"check", "nope"}, `unknown check "nope"`},
		{[]string{"check", "isolation", "extra"}, "takes no arguments"},
		{[]string{"check", "isolation", "--pid", "-4"}, "not a process id"},
		{[]string{"check", "config"}, "takes one file"},
		{[]string{"check", "config", "clawtrail.yaml"}, "config files are not supported yet: clawtrail.yaml was not read"},
		{[]string{"health", "x"}, "takes no arguments"},
		{[]string{"health", "--timeout", "0s"}, "must be positive"},
	} {
		_, errOut, code := ckRun(t, nil, c.args...)
		if code != exitUsage || !strings.Contains(errOut, c.msg) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, code, errOut, c.msg)
		}
	}
	if out, _, code := ckRun(t, nil, "help", "check"); code != 0 || !strings.Contains(out, "check isolation") {
		t.Errorf("help check: exit %d, %q", code, out)
	}
}

func TestHealth(t *testing.T) {
	var status atomic.Int32 // the daemon's answer, changed between requests
	status.Store(http.StatusOK)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Has("slow") {
			select {
			case <-time.After(5 * time.Second):
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(int(status.Load()))
		fmt.Fprintln(w, `{"healthy":true}`)
	}))
	defer srv.Close()
	url := srv.URL + "/healthz"
	env := map[string]string{"CLAWTRAIL_TOKEN": "s3cret"}

	if out, errOut, code := ckRun(t, env, "health", "--url", url); code != 0 || !strings.HasPrefix(out, "healthy: ") {
		t.Errorf("200: exit %d, %q %q", code, out, errOut)
	}
	if _, _, code := ckRun(t, nil, "health", "--url", url, "--token", "s3cret"); code != 0 {
		t.Errorf("--token: exit %d", code)
	}
	if _, errOut, code := ckRun(t, nil, "health", "--url", url); code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("no token: exit %d, %q; want 1 naming the 401", code, errOut)
	}
	status.Store(http.StatusServiceUnavailable)
	if _, errOut, code := ckRun(t, env, "health", "--url", url); code != 1 || !strings.Contains(errOut, "503") {
		t.Errorf("503: exit %d, %q", code, errOut)
	}
	status.Store(http.StatusOK)
	start := time.Now()
	if _, _, code := ckRun(t, env, "health", "--url", url+"?slow", "--timeout", "200ms"); code != 1 {
		t.Errorf("a hung daemon: exit %d, want 1", code)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("--timeout 200ms took %v", d)
	}
	closed := "http://" + freeAddr(t) + "/healthz"
	if _, _, code := ckRun(t, env, "health", "--url", closed); code != 1 {
		t.Errorf("nothing listening: exit %d, want 1", code)
	}
}

// TestHealthAgainstDaemon asks the real daemon's /healthz, with the token taken
// from the environment as a container health check does.
func TestHealthAgainstDaemon(t *testing.T) {
	dir := t.TempDir()
	sessions := filepath.Join(dir, "state", "agents", "main", "sessions")
	if err := os.MkdirAll(sessions, 0o700); err != nil {
		t.Fatal(err)
	}
	addr := startRun(t, "--source", filepath.Join(dir, "state"), "--ledger", filepath.Join(dir, "governance.jsonl"),
		"--token", "tok", "--log-level", "error")
	env := map[string]string{"CLAWTRAIL_TOKEN": "tok"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errOut, code := ckRun(t, env, "health", "--url", "http://"+addr+"/healthz")
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon never healthy: %s", errOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, _, code := ckRun(t, nil, "health", "--url", "http://"+addr+"/healthz"); code != 1 {
		t.Errorf("without the token: exit %d, want 1", code)
	}
}
