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
	"syscall"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

var crashKills = flag.Int("crash-kills", 25, "SIGKILLs in TestCrashExactlyOnce")

// buildBinary builds the real clawtrail binary once per test run (with -race when the
// tests run with it).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "clawtrail")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return bin
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
	s.lines = []string{fmt.Sprintf(`{"type":"session","version":3,"id":%q,"timestamp":"2026-09-01T10:00:00.000Z","cwd":"/w"}`, s.id)}
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
		code := 0
		if w.rng.IntN(4) == 0 {
			code = 1 + w.rng.IntN(3)
		}
		call := fmt.Sprintf(`{"type":"message","id":"a%07d","timestamp":"2026-09-01T10:00:01.000Z","message":{"role":"assistant","content":[{"type":"toolCall","id":%q,"name":"exec","arguments":{"command":"step %d"}}],"stopReason":"toolUse"}}`, w.n, callID, w.n)
		res := fmt.Sprintf(`{"type":"message","id":"r%07d","message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":"out"}],"details":{"status":"completed","exitCode":%d,"durationMs":1},"isError":false}}`, w.n, callID, code)
		outcome := "succeeded"
		if code != 0 {
			outcome = "nonzero_exit"
		}
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

	withSnapshot := 0 // restarts that found an index snapshot to start from
	start := func() *exec.Cmd {
		if _, err := os.Stat(ledger.SnapshotPath(ledgerPath)); err == nil {
			withSnapshot++
		}
		cmd := exec.Command(bin, "run", "--source", state, "--ledger", ledgerPath, "--listen", "off", "--sweep", "100ms", "--index-every", "150ms", "--log-level", "error")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	killRng := rand.New(rand.NewPCG(3, 4))
	cmd := start()
	// Let the first run write an index snapshot, so that the restarts below start from
	// one (and from stale ones) however slow this machine is.
	for deadline := time.Now().Add(20 * time.Second); ; {
		w.step()
		if _, err := os.Stat(ledger.SnapshotPath(ledgerPath)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the daemon wrote no index snapshot within 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for kill := 0; kill < *crashKills; kill++ {
		deadline := time.Now().Add(time.Duration(20+killRng.IntN(150)) * time.Millisecond)
		for time.Now().Before(deadline) {
			w.step()
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		cmd = start()
	}
	for range 200 {
		w.step()
	}
	w.completeAll()
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// Catch up once, then compare.
	final := exec.Command(bin, "run", "--once", "--source", state, "--ledger", ledgerPath, "--log-level", "error")
	final.Stderr = os.Stderr
	if err := final.Run(); err != nil {
		t.Fatalf("final catch-up: %v", err)
	}

	f, err := os.Open(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[string]int{}
	latest := map[string]string{}
	if _, err := ledger.Walk(f, func(r *ledger.Record, _ []byte) error {
		k := r.Session + "/" + r.CorrelationID
		switch r.Kind {
		case ledger.KindExec:
			count[k]++
			latest[k] = r.Outcome
		case ledger.KindExecUpdate:
			latest[k] = r.Outcome
		}
		return nil
	}); err != nil {
		t.Fatalf("ledger does not verify after %d kills: %v", *crashKills, err)
	}
	var missing, doubled, wrong []string
	for k, o := range w.want {
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
		if _, ok := w.want[k]; !ok {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(doubled)
	if len(missing)+len(doubled)+len(wrong)+len(extra) > 0 {
		t.Fatalf("after %d kills, %d execs: missing %d %v, doubled %d %v, wrong %v, unexpected %v",
			*crashKills, len(w.want), len(missing), head(missing), len(doubled), head(doubled), head(wrong), head(extra))
	}
	if withSnapshot == 0 {
		t.Fatal("no restart found an index snapshot: the test did not exercise starting from one")
	}
	t.Logf("%d execs exactly once after %d SIGKILLs (%d restarts from an index snapshot)", len(w.want), *crashKills, withSnapshot)
}

func head(s []string) []string {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
