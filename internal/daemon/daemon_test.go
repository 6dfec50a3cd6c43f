package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/daemon"
	"github.com/clawtrail/clawtrail/internal/ledger"
)

// Lines as OpenClaw 2026.7 writes them.
func header(id string) string {
	return fmt.Sprintf(`{"type":"session","version":3,"id":%q,"timestamp":"2026-09-01T10:00:00.000Z","cwd":"/w"}`, id)
}

func call(entry, id, cmd string, at time.Time) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"timestamp":%q,"message":{"role":"assistant","content":[{"type":"toolCall","id":%q,"name":"exec","arguments":{"command":%q}}],"stopReason":"toolUse"}}`, entry, at.UTC().Format(time.RFC3339Nano), id, cmd)
}

func result(entry, id string, code int) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":"out %s"}],"details":{"status":"completed","exitCode":%d,"durationMs":5},"isError":false}}`, entry, id, id, code)
}

type env struct {
	t        *testing.T
	state    string
	sessions string
	ledger   string
	cancel   context.CancelFunc
	done     chan error
	d        *daemon.Daemon
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	e := &env{t: t, state: filepath.Join(dir, "state"), ledger: filepath.Join(dir, "governance.jsonl")}
	e.sessions = filepath.Join(e.state, "agents", "main", "sessions")
	if err := os.MkdirAll(e.sessions, 0o755); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) start(mod ...func(*daemon.Config)) {
	e.t.Helper()
	cfg := daemon.Config{Sources: []string{e.state}, Ledger: e.ledger, Reconcile: 200 * time.Millisecond}
	for _, m := range mod {
		m(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan error, 1)
	e.d = daemon.New(cfg)
	go func() { e.done <- e.d.Run(ctx) }()
	e.t.Cleanup(e.stop)
	// Wait until the daemon follows the files present now.
	e.waitFor("daemon ready", func() bool { return e.d.Status().Ready })
}

func (e *env) stop() {
	if e.cancel == nil {
		return
	}
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			e.t.Errorf("daemon stopped with %v", err)
		}
	case <-time.After(2 * time.Second):
		e.t.Error("daemon did not stop within 2 s")
	}
	e.cancel = nil
}

func (e *env) appendLines(name string, lines ...string) {
	e.t.Helper()
	f, err := os.OpenFile(filepath.Join(e.sessions, name), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(strings.Join(lines, "\n") + "\n")
}

func (e *env) records() []ledger.Record {
	f, err := os.Open(e.ledger)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []ledger.Record
	if _, err := ledger.Walk(f, func(r *ledger.Record, _ []byte) error { out = append(out, *r); return nil }); err != nil {
		e.t.Fatalf("ledger does not verify: %v", err)
	}
	return out
}

// execs renders the exec records (with updates folded) as sorted "session/call:outcome".
func (e *env) execs() string {
	latest := map[string]string{}
	count := map[string]int{}
	for _, r := range e.records() {
		k := r.Session + "/" + r.CorrelationID
		switch r.Kind {
		case ledger.KindExec:
			count[k]++
			latest[k] = r.Outcome
		case ledger.KindExecUpdate:
			latest[k] = r.Outcome
		}
	}
	var out []string
	for k, o := range latest {
		s := k + ":" + o
		if count[k] != 1 {
			s += fmt.Sprintf("(x%d)", count[k])
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.t.Fatalf("timed out waiting for %s", what)
}

func (e *env) waitExecs(want string) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		if got = e.execs(); got == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("execs:\n got %s\nwant %s", got, want)
}

var t0 = time.Now()

func TestFollowsNewSessionsAndLines(t *testing.T) {
	e := newEnv(t)
	e.appendLines("s1.jsonl", header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0))
	e.start()
	e.waitExecs("s1/c1:succeeded")
	// A new agent and session appear without a restart; a partial line is completed later.
	other := filepath.Join(e.state, "agents", "ops", "sessions")
	os.MkdirAll(other, 0o755)
	os.WriteFile(filepath.Join(other, "s2.jsonl"), []byte(header("s2")+"\n"+call("a1", "c2", "make", t0)+"\n"), 0o600)
	r := result("r1", "c2", 2)
	f, _ := os.OpenFile(filepath.Join(other, "s2.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(r[:40])
	time.Sleep(100 * time.Millisecond)
	f.WriteString(r[40:] + "\n")
	f.Close()
	e.waitExecs("s1/c1:succeeded s2/c2:nonzero_exit")
}

func TestRewriteReplaceAndArchiveAddNothingTwice(t *testing.T) {
	e := newEnv(t)
	lines := []string{header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0)}
	e.appendLines("s1.jsonl", lines...)
	e.start()
	e.waitExecs("s1/c1:succeeded")
	p := filepath.Join(e.sessions, "s1.jsonl")
	// In-place rewrite (a v2 -> v3 migration rewrites the header) with one more entry.
	rewritten := strings.Replace(header("s1"), `"version":3`, `"version":3,"migrated":true`, 1)
	os.WriteFile(p, []byte(strings.Join(append([]string{rewritten}, append(lines[1:], call("a2", "c2", "pwd", t0), result("r2", "c2", 0))...), "\n")+"\n"), 0o600)
	e.waitExecs("s1/c1:succeeded s1/c2:succeeded")
	// Truncate to zero, then the full rewrite.
	os.WriteFile(p, nil, 0o600)
	time.Sleep(50 * time.Millisecond)
	os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	// Atomic replace: temp + rename, same entries plus a new one.
	tmp := p + ".repair.tmp"
	os.WriteFile(tmp, []byte(strings.Join(append(lines, call("a3", "c3", "id", t0), result("r3", "c3", 0)), "\n")+"\n"), 0o600)
	os.Rename(tmp, p)
	e.waitExecs("s1/c1:succeeded s1/c2:succeeded s1/c3:succeeded")
	// Reset: the transcript becomes an archive with an unanswered call; a new session begins.
	e.appendLines("s1.jsonl", call("a4", "c4", "sleep 1000", t0))
	time.Sleep(50 * time.Millisecond)
	os.Rename(p, p+".reset.2026-09-01T04-00-00.123Z")
	e.appendLines("s2.jsonl", header("s2"), call("b1", "d1", "whoami", t0), result("q1", "d1", 0))
	e.waitExecs("s1/c1:succeeded s1/c2:succeeded s1/c3:succeeded s1/c4:no_result s2/d1:succeeded")
	e.stop()
	e.restartAppendsNothing()
}

// restartAppendsNothing starts the stopped daemon again over sources it has read:
// nothing may be recorded twice.
func (e *env) restartAppendsNothing() {
	e.t.Helper()
	before := len(e.records())
	e.start()
	time.Sleep(300 * time.Millisecond)
	if after := len(e.records()); after != before {
		e.t.Fatalf("restart appended %d records", after-before)
	}
}

func TestRestartKeepsPendingCallsAndResumes(t *testing.T) {
	e := newEnv(t)
	e.appendLines("s1.jsonl", header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0), call("a2", "c2", "make", t0))
	e.start()
	e.waitExecs("s1/c1:succeeded")
	e.stop()
	// The result lands while the daemon is down.
	e.appendLines("s1.jsonl", result("r2", "c2", 1))
	e.start()
	e.waitExecs("s1/c1:succeeded s1/c2:nonzero_exit")
	for _, r := range e.records() {
		if r.Kind == ledger.KindNotice {
			t.Fatalf("unexpected notice %+v: the pending call was lost across the restart", r)
		}
	}
}

func TestNoResultAfterWaitThenLateResult(t *testing.T) {
	e := newEnv(t)
	old := time.Now().Add(-time.Hour)
	e.appendLines("s1.jsonl", header("s1"), call("a1", "c1", "deploy", old))
	e.start(func(c *daemon.Config) { c.NoResultAfter = time.Minute })
	e.waitExecs("s1/c1:no_result")
	e.appendLines("s1.jsonl", result("r1", "c1", 0))
	e.waitExecs("s1/c1:succeeded")
	e.stop()
	// And after a restart the late result is not reported as an orphan or recorded again.
	e.start(func(c *daemon.Config) { c.NoResultAfter = time.Minute })
	time.Sleep(300 * time.Millisecond)
	e.waitExecs("s1/c1:succeeded")
}

func TestStopsWithinTwoSecondsUnderLoad(t *testing.T) {
	e := newEnv(t)
	e.start()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e.appendLines(fmt.Sprintf("s%d.jsonl", i%10), call(fmt.Sprintf("a%d", i), fmt.Sprintf("c%d", i), "true", t0), result(fmt.Sprintf("r%d", i), fmt.Sprintf("c%d", i), 0))
		}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	e.stop()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("stop took %v", d)
	}
	close(stop)
	wg.Wait()
}

// A transcript deleted while the daemon was down may have held lines it never read:
// the ledger says so with a source gap, once, however often the daemon restarts.
func TestDeletedWhileDownIsAGap(t *testing.T) {
	e := newEnv(t)
	e.appendLines("s1.jsonl", header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0))
	e.appendLines("s2.jsonl", header("s2"), call("b1", "c2", "make", t0), result("r2", "c2", 0))
	e.start()
	e.waitExecs("s1/c1:succeeded s2/c2:succeeded")
	e.stop()
	e.appendLines("s2.jsonl", call("b3", "c3", "make deploy", t0), result("r3", "c3", 0))
	if err := os.Remove(filepath.Join(e.sessions, "s2.jsonl")); err != nil {
		t.Fatal(err)
	}
	gaps := func() []ledger.Record {
		var out []ledger.Record
		for _, r := range e.records() {
			if r.Kind == ledger.KindSource && r.Type == "gap" {
				out = append(out, r)
			}
		}
		return out
	}
	for restart := 0; restart < 2; restart++ {
		e.start()
		e.waitFor("a gap record", func() bool { return len(gaps()) > 0 })
		e.stop()
	}
	g := gaps()
	if len(g) != 1 || g[0].Path != "agents/main/sessions/s2.jsonl" || g[0].Agent != "main" || !strings.Contains(g[0].Detail, "read to byte") {
		t.Fatalf("gap records = %+v; want one for s2 saying how far it was read", g)
	}
	if got := e.execs(); got != "s1/c1:succeeded s2/c2:succeeded" {
		t.Fatalf("execs = %s", got)
	}
}

// A transcript replaced (new inode) at the same path while the daemon was down is read
// again from its start; that is not a gap.
func TestReplacedWhileDownIsNotAGap(t *testing.T) {
	e := newEnv(t)
	e.appendLines("s1.jsonl", header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0))
	e.start()
	e.waitExecs("s1/c1:succeeded")
	e.stop()
	path := filepath.Join(e.sessions, "s1.jsonl")
	tmp := path + ".tmp"
	lines := strings.Join([]string{header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0), call("a2", "c2", "pwd", t0), result("r2", "c2", 0)}, "\n") + "\n"
	if err := os.WriteFile(tmp, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitExecs("s1/c1:succeeded s1/c2:succeeded")
	e.stop()
	for _, r := range e.records() {
		if r.Kind == ledger.KindSource && r.Type == "gap" {
			t.Fatalf("unexpected gap %+v", r)
		}
	}
}

// The daemon commits to what it appended with a checkpoint every CheckpointEvery
// while records keep coming, and once more at shutdown; a restart with nothing new
// adds none.
func TestCheckpointsWhileRunningAndAtShutdown(t *testing.T) {
	e := newEnv(t)
	e.appendLines("s1.jsonl", header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0))
	e.start(func(c *daemon.Config) { c.CheckpointEvery = 200 * time.Millisecond })
	e.waitExecs("s1/c1:succeeded")
	time.Sleep(300 * time.Millisecond)
	e.appendLines("s1.jsonl", call("a2", "c2", "make", t0), result("r2", "c2", 2))
	e.waitExecs("s1/c1:succeeded s1/c2:nonzero_exit")
	e.waitFor("a checkpoint after c2", func() bool {
		recs := e.records()
		return recs[len(recs)-1].Kind == ledger.KindCheckpoint
	})
	e.stop()
	recs := e.records()
	var cps []ledger.Record
	for _, r := range recs {
		if r.Kind == ledger.KindCheckpoint {
			cps = append(cps, r)
		}
	}
	// Walk (in records) has checked each one's size and root against the records
	// before it.
	if len(cps) < 2 || recs[len(recs)-1].Kind != ledger.KindCheckpoint {
		t.Fatalf("%d checkpoints, last record %s; want one after each batch and the ledger ending with one", len(cps), recs[len(recs)-1].Kind)
	}
	e.restartAppendsNothing()
}
