package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

var crashKills = flag.Int("crash-kills", 25, "SIGKILLs in TestCrashExactlyOnce")

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

// buildBinary builds the real clawtrail binary once per test run (with -race when
// the tests run with it); TestMain removes it.
func buildBinary(t *testing.T) string {
	t.Helper()
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "clawtrail-bin-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "clawtrail")
		args := []string{"build", "-o", built.bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			built.err = fmt.Errorf("go build: %w", err)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// openclawWriter behaves like OpenClaw towards its transcripts: appends with partial
// writes, in-place rewrites, atomic replaces and renames into reset archives.
type openclawWriter struct {
	t        *testing.T
	dir      string
	rng      *rand.Rand
	sessions []*simSession
	want     map[string]string // session/call -> outcome
	n        int
}

type simSession struct {
	id      string
	file    string
	lines   []string
	partial string // the written part of an unterminated last line
	pending string // that line, whole
}

func (w *openclawWriter) newSession() *simSession {
	w.n++
	s := &simSession{id: fmt.Sprintf("sess-%04d", w.n)}
	s.file = filepath.Join(w.dir, s.id+".jsonl")
	s.lines = []string{headerLine(s.id, "2026-09-01T10:00:00.000Z")}
	w.writeAll(s)
	return s
}

func (w *openclawWriter) writeAll(s *simSession) {
	if err := os.WriteFile(s.file, []byte(strings.Join(s.lines, "\n")+"\n"+s.partial), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

func (w *openclawWriter) appendRaw(s *simSession, data string) {
	f, err := os.OpenFile(s.file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(data); err != nil {
		w.t.Fatal(err)
	}
}

func (w *openclawWriter) step() {
	if len(w.sessions) == 0 || w.rng.IntN(40) == 0 {
		w.sessions = append(w.sessions, w.newSession())
	}
	s := w.sessions[w.rng.IntN(len(w.sessions))]
	switch r := w.rng.IntN(100); {
	case r < 3 && s.partial == "":
		// Atomic replace with the same entries (repair): temp file + rename.
		tmp := s.file + ".repair.tmp"
		os.WriteFile(tmp, []byte(strings.Join(s.lines, "\n")+"\n"), 0o600)
		if err := os.Rename(tmp, s.file); err != nil {
			w.t.Fatal(err)
		}
	case r < 6 && s.partial == "":
		// In-place full rewrite (truncate, then write the whole file).
		w.writeAll(s)
	case r < 8 && s.partial == "":
		// Reset: the file becomes an archive; the session continues in a new file.
		archive := s.file + ".reset." + time.Now().UTC().Format("2006-01-02T15-04-05.000Z")
		if err := os.Rename(s.file, archive); err != nil {
			w.t.Fatal(err)
		}
		for i, x := range w.sessions {
			if x == s {
				w.sessions[i] = w.newSession()
			}
		}
	default:
		w.complete(s)
		w.n++
		callID := fmt.Sprintf("call_%05d|fc_%d", w.n, w.rng.IntN(1000))
		call, res, outcome := execLines(w.rng, w.n, callID, "2026-09-01T10:00:01.000Z")
		w.want[s.id+"/"+callID] = outcome
		s.lines = append(s.lines, call)
		if w.rng.IntN(5) == 0 {
			// Leave the result half written, as a writer caught mid-line would.
			k := 1 + w.rng.IntN(len(res)-1)
			w.appendRaw(s, call+"\n"+res[:k])
			s.partial, s.pending = res[:k], res
			return
		}
		s.lines = append(s.lines, res)
		w.appendRaw(s, call+"\n"+res+"\n")
	}
}

// complete finishes a half-written line.
func (w *openclawWriter) complete(s *simSession) {
	if s.partial == "" {
		return
	}
	w.appendRaw(s, s.pending[len(s.partial):]+"\n")
	s.lines = append(s.lines, s.pending)
	s.partial, s.pending = "", ""
}

func (w *openclawWriter) completeAll() {
	for _, s := range w.sessions {
		w.complete(s)
	}
}

func TestCrashExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	sessions := filepath.Join(state, "agents", "main", "sessions")
	os.MkdirAll(sessions, 0o755)
	ledgerPath := filepath.Join(dir, "governance.jsonl")
	w := &openclawWriter{t: t, dir: sessions, rng: rand.New(rand.NewPCG(1, 2)), want: map[string]string{}}

	rig := &crashRig{t: t, bin: bin, state: state, ledger: ledgerPath, rng: rand.New(rand.NewPCG(3, 4))}
	rig.start()
	// Let the first run write an index snapshot, so that the restarts below start from
	// one (and from stale ones) however slow this machine is.
	rig.awaitSnapshot(w.step)
	rig.killRepeatedly(*crashKills, func(until time.Time) {
		for time.Now().Before(until) {
			w.step()
		}
	})
	for range 200 {
		w.step()
	}
	w.completeAll()
	time.Sleep(300 * time.Millisecond)
	rig.kill()
	rig.catchUp()
	checkExactlyOnce(t, bin, ledgerPath, w.want, *crashKills)
	if rig.fromSnapshot == 0 {
		t.Fatal("no restart found an index snapshot: the test did not exercise starting from one")
	}
	t.Logf("%d of %d restarts started from an index snapshot", rig.fromSnapshot, *crashKills)
}

// headerLine is a session header as OpenClaw writes it.
func headerLine(id, ts string) string {
	return fmt.Sprintf(`{"type":"session","version":3,"id":%q,"timestamp":%q,"cwd":"/w"}`, id, ts)
}

// execLines is an exec tool call and its result, one time in four with a
// nonzero exit, and the outcome the ledger must end up with.
func execLines(rng *rand.Rand, n int, callID, ts string) (call, res, outcome string) {
	code := 0
	if rng.IntN(4) == 0 {
		code = 1 + rng.IntN(3)
	}
	call = fmt.Sprintf(`{"type":"message","id":"a%07d","timestamp":%q,"message":{"role":"assistant","content":[{"type":"toolCall","id":%q,"name":"exec","arguments":{"command":"step %d"}}],"stopReason":"toolUse"}}`, n, ts, callID, n)
	res = fmt.Sprintf(`{"type":"message","id":"r%07d","message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":"out"}],"details":{"status":"completed","exitCode":%d,"durationMs":1},"isError":false}}`, n, callID, code)
	outcome = "succeeded"
	if code != 0 {
		outcome = "nonzero_exit"
	}
	return call, res, outcome
}

// crashRig runs the real `clawtrail run` over a state dir and kills it with
// SIGKILL at random moments, as an OOM killer or a power cut would.
type crashRig struct {
	t                  *testing.T
	bin, state, ledger string
	rng                *rand.Rand
	cmd                *exec.Cmd
	fromSnapshot       int // starts that found an index snapshot beside the ledger
	startedAt          time.Time
}

func (r *crashRig) start() {
	r.t.Helper()
	if _, err := os.Stat(ledger.SnapshotPath(r.ledger)); err == nil {
		r.fromSnapshot++
	}
	r.cmd = exec.Command(r.bin, "run", "--source", r.state, "--ledger", r.ledger, "--listen", "off", "--sweep", "100ms",
		"--index-every", "150ms", "--log-level", "error")
	r.cmd.Stderr = os.Stderr
	if err := r.cmd.Start(); err != nil {
		r.t.Fatalf("start clawtrail run: %v", err)
	}
	r.startedAt = time.Now()
}

// awaitSnapshot calls work until the running daemon has written an index snapshot.
func (r *crashRig) awaitSnapshot(work func()) {
	r.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		work()
		if _, err := os.Stat(ledger.SnapshotPath(r.ledger)); err == nil {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatal("the daemon wrote no index snapshot within 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *crashRig) kill() {
	r.cmd.Process.Signal(syscall.SIGKILL)
	r.cmd.Wait()
}

// killRepeatedly lets the daemon run for 20-170 ms (work is called with the end of
// that time), kills it and starts it again, n times.
func (r *crashRig) killRepeatedly(n int, work func(until time.Time)) {
	for range n {
		work(time.Now().Add(time.Duration(20+r.rng.IntN(150)) * time.Millisecond))
		r.kill()
		r.start()
	}
}

// catchUp reads whatever the last daemon left unread, once.
func (r *crashRig) catchUp() {
	r.t.Helper()
	final := exec.Command(r.bin, "run", "--once", "--source", r.state, "--ledger", r.ledger, "--log-level", "error")
	final.Stderr = os.Stderr
	if err := final.Run(); err != nil {
		r.t.Fatalf("final catch-up: %v", err)
	}
}

// ledgerExecs counts the exec records per session/call and their latest outcome
// (updates folded in); err is the chain's first fault.
func ledgerExecs(path string) (count map[string]int, latest map[string]string, err error) {
	count, latest = map[string]int{}, map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return count, latest, err
	}
	defer f.Close()
	_, err = ledger.Walk(f, func(r *ledger.Record, _ []byte) error {
		k := r.Session + "/" + r.CorrelationID
		switch r.Kind {
		case ledger.KindExec:
			count[k]++
			latest[k] = r.Outcome
		case ledger.KindExecUpdate:
			latest[k] = r.Outcome
		}
		return nil
	})
	return count, latest, err
}

// checkExactlyOnce fails unless the ledger verifies (with `clawtrail verify`, the
// real binary) and holds every wanted exec once, with its outcome, and no other.
func checkExactlyOnce(t *testing.T, bin, ledgerPath string, want map[string]string, kills int) {
	t.Helper()
	if out, err := exec.Command(bin, "verify", ledgerPath).CombinedOutput(); err != nil {
		t.Fatalf("clawtrail verify after %d kills: %v\n%s", kills, err, out)
	}
	count, latest, err := ledgerExecs(ledgerPath)
	if err != nil {
		t.Fatalf("ledger does not verify after %d kills: %v", kills, err)
	}
	var missing, doubled, wrong []string
	for k, o := range want {
		switch {
		case count[k] == 0:
			missing = append(missing, k)
		case count[k] > 1:
			doubled = append(doubled, fmt.Sprintf("%s x%d", k, count[k]))
		case latest[k] != o:
			wrong = append(wrong, fmt.Sprintf("%s: %s, want %s", k, latest[k], o))
		}
	}
	var extra []string
	for k := range count {
		if _, ok := want[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(doubled)
	sort.Strings(wrong)
	sort.Strings(extra)
	if len(missing)+len(doubled)+len(wrong)+len(extra) > 0 {
		t.Fatalf("after %d kills, %d execs: missing %d %v, doubled %d %v, wrong %d %v, unexpected %d %v",
			kills, len(want), len(missing), head(missing), len(doubled), head(doubled), len(wrong), head(wrong), len(extra), head(extra))
	}
	t.Logf("%d execs exactly once after %d SIGKILLs; clawtrail verify passes", len(want), kills)
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
