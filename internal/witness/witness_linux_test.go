//go:build linux

package witness

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain doubles as the load generator: under load, the processes are
// started by a child process, as an agent runtime is a process of its own.
// That keeps the spawning out of this process's scheduler and CPU time.
func TestMain(m *testing.M) {
	if spec := os.Getenv("CLAWTRAIL_WITNESS_SPAWNER"); spec != "" {
		os.Exit(spawnerMain(spec))
	}
	if n := os.Getenv("CLAWTRAIL_WITNESS_THREADS"); n != "" {
		os.Exit(threadsMain(n))
	}
	os.Exit(m.Run())
}

// spawnerSpec is passed to the child in CLAWTRAIL_WITNESS_SPAWNER.
type spawnerSpec struct {
	Rate   int    `json:"rate"` // per second; 0 = as fast as possible
	Count  int    `json:"count"`
	Prefix string `json:"prefix"`
	Dir    string `json:"dir"`
	Report bool   `json:"report"` // print one line per process
	// MaxDur stops starting new processes after this long (0: no limit), so
	// that a slow or busy machine does not stretch the test run.
	MaxDur time.Duration `json:"max_dur"`
}

func spawnerMain(spec string) int {
	var sp spawnerSpec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	n := spawnAtRate(sp.Rate, sp.Count, sp.MaxDur, sp.Dir, func(i int) string { return loadCommand(sp.Prefix, i) }, func(r ran) {
		if sp.Report {
			mu.Lock()
			fmt.Fprintf(out, "%d %d %d %d %s\n", r.pid, r.exit, r.from.UnixNano(), r.to.UnixNano(), r.command)
			mu.Unlock()
		}
	})
	fmt.Fprintf(out, "total %d\n", n)
	out.Flush()
	return 0
}

// loadCommand is unique per process, so a match cannot be another's, and
// exits with a code that varies so exit codes are checked under load too.
func loadCommand(prefix string, i int) string {
	return ": " + prefix + "-" + strconv.Itoa(i) + "; exit " + strconv.Itoa(i%7)
}

// spawnChild runs the spawner in a child process and returns what it ran.
func spawnChild(t testing.TB, sp spawnerSpec) (rs []ran, total int, childPID int, elapsed time.Duration) {
	t.Helper()
	b, _ := json.Marshal(sp)
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), "CLAWTRAIL_WITNESS_SPAWNER="+string(b))
	var stdout strings.Builder
	c.Stdout, c.Stderr = &stdout, os.Stderr
	start := time.Now()
	if err := c.Run(); err != nil {
		t.Fatalf("spawner: %v", err)
	}
	elapsed = time.Since(start)
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if n, ok := strings.CutPrefix(line, "total "); ok {
			total, _ = strconv.Atoi(n)
			continue
		}
		f := strings.SplitN(line, " ", 5)
		if len(f) != 5 {
			t.Fatalf("spawner line %q", line)
		}
		var r ran
		r.pid, _ = strconv.Atoi(f[0])
		r.exit, _ = strconv.Atoi(f[1])
		from, _ := strconv.ParseInt(f[2], 10, 64)
		to, _ := strconv.ParseInt(f[3], 10, 64)
		r.from, r.to, r.command, r.dir = time.Unix(0, from), time.Unix(0, to), f[4], sp.Dir
		rs = append(rs, r)
	}
	return rs, total, c.Process.Pid, elapsed
}

// startWitness starts a witness for one test, or skips when this host cannot
// run one (CLAWTRAIL_WITNESS_REQUIRE=1 turns the skip into a failure, for CI).
func startWitness(t testing.TB, cfg Config) *Witness {
	t.Helper()
	return startWitnessOpt(t, cfg, testOptions{})
}

func startWitnessOpt(t testing.TB, cfg Config, opt testOptions) *Witness {
	t.Helper()
	if os.Geteuid() != 0 && os.Getenv("CLAWTRAIL_WITNESS_REQUIRE") == "" {
		t.Skip("kernel witness tests need root (CAP_NET_ADMIN for the netlink process connector, CLONE_NEW* for namespaces); CI runs them as root")
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := start(ctx, cfg, opt)
	if err != nil {
		cancel()
		if errors.Is(err, ErrUnavailable) && os.Getenv("CLAWTRAIL_WITNESS_REQUIRE") == "" {
			t.Skipf("kernel witness cannot run here: %v", err)
		}
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		w.Close()
	})
	return w
}

// ran is one process the test started the way an agent runtime does.
type ran struct {
	command, dir string
	pid          int
	from, to     time.Time
	exit         int // as the parent's wait saw it: code or 128+signal
}

func runShell(t testing.TB, dir, command string, attr *syscall.SysProcAttr) ran {
	t.Helper()
	r, err := runShellErr(dir, command, attr)
	if err != nil {
		t.Fatalf("sh -c %q: %v", command, err)
	}
	return r
}

func runShellErr(dir, command string, attr *syscall.SysProcAttr) (ran, error) {
	c := exec.Command("sh", "-c", command)
	c.Dir, c.SysProcAttr = dir, attr
	r := ran{command: command, dir: dir, from: time.Now()}
	err := c.Run()
	r.to = time.Now()
	if c.ProcessState == nil {
		return r, err
	}
	r.pid = c.Process.Pid
	ws := c.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		r.exit = 128 + int(ws.Signal())
	} else {
		r.exit = ws.ExitStatus()
	}
	return r, nil
}

func selfNS(t testing.TB) map[string]uint64 {
	ns, ok := readNS("/proc/self")
	if !ok {
		t.Fatal("cannot read /proc/self/ns")
	}
	m := map[string]uint64{}
	for i, v := range ns {
		m[nsNames[i]] = v
	}
	return m
}

// onHost is what HostNamespaces should say for a process in our namespaces.
func onHost(t testing.TB) bool {
	self, _ := readNS("/proc/self")
	host, ok := readNS("/proc/1")
	return !ok || self == host
}

func checkMatched(t *testing.T, w *Witness, r ran, wantSig string) Result {
	t.Helper()
	got := w.Match(r.command, r.dir, r.from, r.to)
	if got.Status != statusMatched {
		t.Fatalf("Match(%q) = %+v; want matched (pid %d)", r.command, got, r.pid)
	}
	if got.PID != r.pid {
		t.Errorf("Match(%q).PID = %d; want %d", r.command, got.PID, r.pid)
	}
	if got.PPID != os.Getpid() {
		t.Errorf("Match(%q).PPID = %d; want %d (this test)", r.command, got.PPID, os.Getpid())
	}
	if got.ExitCode == nil || *got.ExitCode != r.exit {
		t.Errorf("Match(%q).ExitCode = %v; want %d", r.command, ptrStr(got.ExitCode), r.exit)
	}
	if got.Signal != wantSig {
		t.Errorf("Match(%q).Signal = %q; want %q", r.command, got.Signal, wantSig)
	}
	return got
}

func ptrStr(p *int) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(*p)
}

// expectUnmatched checks a Match that must not find anything. It must be
// "unmatched" — unless the witness had a reason to say it cannot vouch for
// the window (an exec it could not read that might have been the command, a
// counted loss), which on a loaded machine is legitimate and logged.
func expectUnmatched(t *testing.T, w *Witness, command, cwd string, from, to time.Time) {
	t.Helper()
	got := w.Match(command, cwd, from, to)
	switch got.Status {
	case statusUnmatched:
		return
	case statusUnavailable:
		if why := unsureWhy(w, command, cwd, from, to); why != "" {
			t.Logf("Match(%q) unavailable rather than unmatched: %s", command, why)
			return
		}
	}
	t.Errorf("Match(%q, %q) = %+v; want unmatched", command, cwd, got)
}

// unsureWhy says why the witness cannot vouch for a window, if it cannot.
func unsureWhy(w *Witness, command, cwd string, from, to time.Time) string {
	q := newQuery(command, cwd)
	lo, hi := from.Add(-slack).UnixNano(), to.Add(slack).UnixNano()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.recs[w.head:] {
		if p.at >= lo && p.at <= hi && !p.argvOK && q.couldBe(p) && w.fromRuntime(p) {
			return fmt.Sprintf("pid %d (comm %q) exec'd at %v and was gone before its command line could be read",
				p.pid, p.comm, time.Unix(0, p.at).Format("15:04:05.000000"))
		}
	}
	for _, l := range w.losses {
		if l.from <= hi && l.to >= lo {
			return fmt.Sprintf("events lost between %v and %v", time.Unix(0, l.from).Format("15:04:05.000000"), time.Unix(0, l.to).Format("15:04:05.000000"))
		}
	}
	return "" // in particular not "started too late": the tests wait for that
}

// TestMatchShellCommands starts shells the way OpenClaw's exec tool does and
// checks each is found with the exit status the kernel recorded.
func TestMatchShellCommands(t *testing.T) {
	t.Parallel()
	w := startWitness(t, Config{})
	dir := t.TempDir()
	self, host := selfNS(t), onHost(t)
	time.Sleep(slack) // so that "unmatched" can be vouched for: the witness was running

	cases := []struct {
		command string
		exit    int
		sig     string
	}{
		// Each shell lives a few milliseconds at least: a shell that exits
		// within the reader's wake-up latency cannot be read (TestLoad covers
		// those, and how they are accounted for).
		{"sleep 0.02; exit 3", 3, ""},
		{"sleep 0.02; echo hello >/dev/null", 0, ""},
		{"sleep 0.02; false", 1, ""},
		{"sleep 0.02; kill -TERM $$", 143, "SIGTERM"},
		{"ls -la /usr/bin", 0, ""},      // the shell execs ls in the same process
		{"/bin/sleep 0.05", 0, ""},      // ditto; the shell's argv is gone before the exit
		{"sleep 0.01; exit 42", 42, ""}, // a child process, then the shell's own exit
	}
	for _, c := range cases {
		r := runShell(t, dir, c.command, nil)
		if r.exit != c.exit {
			t.Fatalf("%q exited %d; want %d", c.command, r.exit, c.exit)
		}
		if w.Match(r.command, r.dir, r.from, r.to).Status == statusUnavailable {
			// On a busy machine a shell that exec'd `ls` can be gone before it is
			// read; the witness then rightly refuses to judge. Anything else fails.
			if why := unsureWhy(w, r.command, r.dir, r.from, r.to); why != "" {
				t.Logf("%q not judged on this busy machine: %s", c.command, why)
				continue
			}
		}
		got := checkMatched(t, w, r, c.sig)
		for k, v := range self {
			if got.Namespaces[k] != v {
				t.Errorf("%q: namespace %s = %d; want ours, %d", c.command, k, got.Namespaces[k], v)
			}
		}
		if got.HostNamespaces != host {
			t.Errorf("%q: HostNamespaces = %v; want %v", c.command, got.HostNamespaces, host)
		}
		if got.Container != "" {
			t.Errorf("%q: Container = %q; want none", c.command, got.Container)
		}
	}

	// The same command in another directory is not this one.
	r := runShell(t, dir, "sleep 0.02; exit 7", nil)
	other := t.TempDir()
	expectUnmatched(t, w, r.command, other, r.from, r.to)
	// Without a cwd, or through a symlink to it, it is.
	if got := w.Match(r.command, "", r.from, r.to); got.Status != statusMatched || got.PID != r.pid {
		t.Errorf("Match without cwd = %+v; want pid %d", got, r.pid)
	}
	link := filepath.Join(other, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if got := w.Match(r.command, link, r.from, r.to); got.Status != statusMatched || got.PID != r.pid {
		t.Errorf("Match through a symlinked cwd = %+v; want pid %d", got, r.pid)
	}
	// Whitespace differences (a runtime trimming or re-indenting) still match.
	if got := w.Match("  sleep 0.02;\texit 7\n", dir, r.from, r.to); got.Status != statusMatched || got.PID != r.pid {
		t.Errorf("Match of the whitespace-normalised command = %+v; want pid %d", got, r.pid)
	}
	// A time window that does not contain the exec does not match it.
	later := r.to.Add(10 * time.Second)
	if got := w.Match(r.command, dir, later, later.Add(time.Second)); got.Status == statusMatched {
		t.Errorf("Match outside the time window = %+v; want no match", got)
	}
}

// TestBashLogin: `bash -lc <command>` is the other form runtimes use.
func TestBashLogin(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	w := startWitness(t, Config{})
	dir := t.TempDir()
	cmd := "echo from-bash-login >/dev/null; exit 5"
	c := exec.Command("bash", "-lc", cmd)
	c.Dir = dir
	from := time.Now()
	_ = c.Run()
	to := time.Now()
	got := w.Match(cmd, dir, from, to)
	if got.Status != statusMatched || got.PID != c.Process.Pid || got.ExitCode == nil || *got.ExitCode != 5 {
		t.Errorf("Match(bash -lc) = %+v (exit %s); want pid %d exit 5", got, ptrStr(got.ExitCode), c.Process.Pid)
	}
}

// TestDirectExec: a runtime that execs the command without a shell.
func TestDirectExec(t *testing.T) {
	t.Parallel()
	w := startWitness(t, Config{})
	dir := t.TempDir()
	time.Sleep(slack)
	// cat waits on stdin, so it lives until we close it; then it fails on
	// the missing file: exit 1.
	c := exec.Command("/bin/cat", "-", "hello world")
	c.Dir = dir
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	from := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	stdin.Close()
	_ = c.Wait()
	to := time.Now()
	for _, cmd := range []string{`/bin/cat - 'hello world'`, `/bin/cat - "hello world"`, `/bin/cat - hello world`} {
		got := w.Match(cmd, dir, from, to)
		if got.Status != statusMatched || got.PID != c.Process.Pid || got.ExitCode == nil || *got.ExitCode != 1 {
			t.Errorf("Match(%q) = %+v (exit %s); want pid %d exit 1", cmd, got, ptrStr(got.ExitCode), c.Process.Pid)
		}
	}
	expectUnmatched(t, w, `/bin/cat - 'hello  world'`, dir, from, to)
}

// TestNamespaces: commands run in fresh namespaces (what a sandbox does) are
// matched by their host pid, and their namespaces are reported as not ours.
func TestNamespaces(t *testing.T) {
	t.Parallel()
	w := startWitness(t, Config{})
	dir := t.TempDir()
	self := selfNS(t)
	attr := &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS | syscall.CLONE_NEWNET | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC}
	// In its pid namespace the shell is pid 1; `echo $$` proves it, and the
	// witness must still report the host pid.
	out := filepath.Join(dir, "inner-pid")
	// The sleep keeps the shell alive long enough to be read while other tests
	// and packages load the machine (as in TestMatchShellCommands).
	r := runShell(t, dir, "sleep 0.05; hostname sandboxed; echo $$ >"+out+"; exit 4", attr)
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != "1" {
		t.Fatalf("inner pid = %q; want 1 (is CLONE_NEWPID working?)", b)
	}
	got := checkMatched(t, w, r, "")
	for _, k := range []string{"pid", "net", "uts", "ipc", "mnt"} {
		if got.Namespaces[k] == 0 || got.Namespaces[k] == self[k] {
			t.Errorf("unshared namespace %s = %d; want a new one (ours %d)", k, got.Namespaces[k], self[k])
		}
	}
	for _, k := range []string{"user", "cgroup"} {
		if got.Namespaces[k] != self[k] {
			t.Errorf("shared namespace %s = %d; want ours, %d", k, got.Namespaces[k], self[k])
		}
	}
	if got.HostNamespaces {
		t.Error("HostNamespaces = true for a command in new namespaces")
	}

	// Plain, next to it: our namespaces.
	p := runShell(t, dir, "sleep 0.02", nil)
	got = checkMatched(t, w, p, "")
	for k, v := range self {
		if got.Namespaces[k] != v {
			t.Errorf("plain: namespace %s = %d; want ours, %d", k, got.Namespaces[k], v)
		}
	}
	if got.HostNamespaces != onHost(t) {
		t.Errorf("plain: HostNamespaces = %v; want %v", got.HostNamespaces, onHost(t))
	}
}

// TestRunningThenExited: a match before the exit has no exit code; after the
// exit it has the kernel's.
func TestRunningThenExited(t *testing.T) {
	t.Parallel()
	w := startWitness(t, Config{})
	dir := t.TempDir()
	cmd := "sleep 0.3; exit 2"
	c := exec.Command("sh", "-c", cmd)
	c.Dir = dir
	from := time.Now()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	got := w.Match(cmd, dir, from, time.Time{})
	if got.Status != statusMatched || got.PID != c.Process.Pid || got.ExitCode != nil {
		t.Errorf("Match while running = %+v (exit %s); want pid %d, no exit code", got, ptrStr(got.ExitCode), c.Process.Pid)
	}
	_ = c.Wait()
	to := time.Now()
	got = w.Match(cmd, dir, from, to)
	if got.ExitCode == nil || *got.ExitCode != 2 {
		t.Errorf("Match after exit = %+v (exit %s); want exit 2", got, ptrStr(got.ExitCode))
	}
}

// TestNeverRan: a command a transcript claims but that never ran is
// unmatched; for time the witness did not watch, the answer is unavailable.
func TestNeverRan(t *testing.T) {
	before := time.Now().Add(-time.Minute)
	w := startWitness(t, Config{})
	dir := t.TempDir()
	time.Sleep(slack + 100*time.Millisecond) // so that from-slack is after Start
	from := time.Now()
	ran := runShell(t, dir, "/bin/sleep 0.2", nil) // something did run, just not the claim
	to := time.Now()
	expectUnmatched(t, w, "uname -a", dir, from, to)
	if got := w.Match("uname -a", dir, before, before.Add(time.Second)); got.Status != statusUnavailable {
		t.Errorf("Match before Start = %+v; want unavailable", got)
	}
	w.Close()
	r2 := time.Now().Add(time.Second)
	if got := w.Match("uname -a", dir, from, r2); got.Status != statusUnavailable {
		t.Errorf("Match extending past Close = %+v; want unavailable", got)
	}
	if got := w.Match(ran.command, dir, from, to); got.Status != statusMatched || got.PID != ran.pid {
		t.Errorf("Match after Close of what was seen = %+v; want matched", got)
	}
}

// TestEviction: the window is bounded by MaxProcs and by time, and an evicted
// exec is "unavailable", never "unmatched".
func TestEviction(t *testing.T) {
	const max, window = 20, 2 * time.Second
	w := startWitness(t, Config{MaxProcs: max, Window: window})
	dir := t.TempDir()
	var rs []ran
	for i := range 60 {
		rs = append(rs, runShell(t, dir, loadCommand("evict", i), nil))
	}
	last := runShell(t, dir, "sleep 0.02; exit 1", nil)
	checkMatched(t, w, last, "")
	st := w.Stats()
	if st.Procs > max {
		t.Errorf("Procs = %d; want at most MaxProcs %d", st.Procs, max)
	}
	if st.Evicted < 60-max {
		t.Errorf("Evicted = %d; want at least %d", st.Evicted, 60-max)
	}
	if got := w.Match(rs[0].command, dir, rs[0].from, rs[0].to); got.Status != statusUnavailable {
		t.Errorf("Match of an evicted exec = %+v; want unavailable", got)
	}
	// Time: after the window, our records are gone, and whatever is left
	// (other processes on this host) is younger than the window.
	time.Sleep(window + 200*time.Millisecond)
	w.Stats()
	w.mu.Lock()
	limit := time.Now().Add(-window).UnixNano()
	for _, p := range w.recs[w.head:] {
		if p.at < limit-int64(time.Second) {
			t.Errorf("record of pid %d from %v still in a %v window", p.pid, time.Unix(0, p.at), window)
		}
	}
	w.mu.Unlock()
	if got := w.Match(last.command, dir, last.from, last.to); got.Status != statusUnavailable {
		t.Errorf("Match after the window = %+v; want unavailable", got)
	}
}

// countingHandler counts log records by level.
type countingHandler struct{ warn, info atomic.Int64 }

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	switch r.Level {
	case slog.LevelWarn:
		h.warn.Add(1)
	case slog.LevelInfo:
		h.info.Add(1)
	}
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// spawnAtRate runs total sh -c commands at about rate per second (0: as
// fast as possible) from a pool of workers, for at most maxDur (0: no limit),
// and returns how many it started.
// done receives each one that ran.
func spawnAtRate(rate, total int, maxDur time.Duration, dir string, command func(int) string, done func(ran)) int {
	jobs := make(chan int) // unbuffered: i is dispatched when a worker starts it
	var wg sync.WaitGroup
	workers := max(8, 4*runtime.NumCPU())
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				r, err := runShellErr(dir, command(i), nil)
				if err == nil && done != nil {
					done(r)
				}
			}
		})
	}
	start := time.Now()
	for i := range total {
		if maxDur > 0 && time.Since(start) > maxDur {
			total = i
			break
		}
		if rate > 0 {
			if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(rate))); d > 0 {
				time.Sleep(d)
			}
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return total
}

// loadOutcome counts how processes started under load were answered.
type loadOutcome struct{ matched, noExit, unavailable, unmatched, wrong int }

// checkLoad checks every process started under load: it must be matched with
// the right pid and exit code, or be accounted for by a loss the witness
// counted — unavailable (its exec was dropped or unreadable), or matched
// without an exit code (its exit was dropped). Never unmatched, never wrong.
func checkLoad(t *testing.T, w *Witness, rs []ran) loadOutcome {
	t.Helper()
	var o loadOutcome
	for _, r := range rs {
		got := w.Match(r.command, r.dir, r.from, r.to)
		switch {
		case got.Status == statusMatched && got.PID == r.pid && got.ExitCode != nil && *got.ExitCode == r.exit:
			o.matched++
		case got.Status == statusMatched && got.PID == r.pid && got.ExitCode == nil:
			o.noExit++
		case got.Status == statusUnavailable:
			o.unavailable++
		case got.Status == statusUnmatched:
			o.unmatched++
			if o.unmatched <= 3 {
				t.Errorf("under load: %q (pid %d) unmatched: a process that ran must never be reported as not run", r.command, r.pid)
			}
		default:
			o.wrong++
			if o.wrong <= 3 {
				t.Errorf("under load: %q (pid %d exit %d) = %+v (exit %s)", r.command, r.pid, r.exit, got, ptrStr(got.ExitCode))
			}
		}
	}
	st := w.Stats()
	// Seen + dropped = all: every exec not matched is a dropped event (Lost),
	// an exec seen too late to read its command line (Unread), a record
	// evicted by MaxProcs (Evicted), a Match the reader was too far behind to
	// answer (Late), or one whose only candidate sat at the window's edge while
	// the window was not fully seen (Edge); every missing exit is a dropped event.
	if uint64(o.unavailable) > st.Lost+st.Unread+st.Evicted+st.Late+st.Edge {
		t.Errorf("%d processes unavailable, but only %d events lost, %d execs unread, %d records evicted, %d late and %d edge matches were counted",
			o.unavailable, st.Lost, st.Unread, st.Evicted, st.Late, st.Edge)
	}
	if uint64(o.noExit) > st.Lost {
		t.Errorf("%d processes without exit code, but only %d events lost were counted", o.noExit, st.Lost)
	}
	return o
}

// TestLoad: 2,000 short-lived shells started as fast as this machine can by
// another process (capped at 12 s: a busy 2-core machine starts ~100-150 a
// second). Every one is seen or accounted as dropped.
func TestLoad(t *testing.T) {
	t.Parallel()
	w := startWitness(t, Config{})
	dir := t.TempDir()
	rs, n, child, el := spawnChild(t, spawnerSpec{Count: 2000, Prefix: "load", Dir: dir, Report: true, MaxDur: 12 * time.Second})
	if len(rs) != n {
		t.Fatalf("only %d of %d processes ran", len(rs), n)
	}
	mstart := time.Now()
	o := checkLoad(t, w, rs)
	mdur := time.Since(mstart)
	st := w.Stats()
	t.Logf("%d processes in %v (%.0f/s): matched %d, no exit %d, unavailable %d (Match: %v each); stats %+v",
		n, el.Round(time.Millisecond), float64(n)/el.Seconds(), o.matched, o.noExit, o.unavailable, mdur/time.Duration(max(1, len(rs))), st)
	if o.matched < n/2 {
		t.Errorf("only %d of %d matched", o.matched, n)
	}
	if got := w.Match(rs[0].command, dir, rs[0].from, rs[0].to); got.Status == statusMatched && got.PPID != child {
		t.Errorf("PPID = %d; want the spawner, %d", got.PPID, child)
	}
}

// TestForcedDrops makes the kernel drop events (a minimal receive buffer and
// a slowed reader) and checks that the drops are counted, logged once per
// episode, and turn into "unavailable", never "unmatched".
func TestForcedDrops(t *testing.T) {
	t.Parallel()
	h := &countingHandler{}
	// The kernel rounds a 1-byte buffer up to its minimum: a few events.
	w := startWitnessOpt(t, Config{Logger: slog.New(h)}, testOptions{rcvBuf: 1})
	w.testDelay.Store(int64(time.Millisecond))
	dir := t.TempDir()
	rs, _, _, _ := spawnChild(t, spawnerSpec{Count: 200, Prefix: "drop", Dir: dir, Report: true})
	w.testDelay.Store(0)
	o := checkLoad(t, w, rs)
	st := w.Stats()
	t.Logf("matched %d, no exit %d, unavailable %d; stats %+v; warnings logged %d", o.matched, o.noExit, o.unavailable, st, h.warn.Load())
	if st.Overruns == 0 || st.Lost == 0 {
		t.Fatalf("no drops with a minimal buffer and a slow reader: Overruns %d, Lost %d", st.Overruns, st.Lost)
	}
	if o.unavailable+o.noExit == 0 {
		t.Error("events were lost but every process matched with its exit: the test did not exercise loss")
	}
	if h.warn.Load() == 0 {
		t.Error("no warning logged for lost events")
	}
	if h.warn.Load() > int64(st.Overruns) || h.warn.Load() > 10 {
		t.Errorf("%d warnings for %d overruns: want one per loss episode", h.warn.Load(), st.Overruns)
	}
}

// TestSustainedLoad is the load test: 2,000 processes per second for
// 10 s, or as close as the machine gets. Too long for every CI run;
// CLAWTRAIL_WITNESS_LOAD=1 enables it.
func TestSustainedLoad(t *testing.T) {
	if os.Getenv("CLAWTRAIL_WITNESS_LOAD") == "" {
		t.Skip("set CLAWTRAIL_WITNESS_LOAD=1 for the 10 s load test at 2,000 processes/s")
	}
	const maxProcs = 1000 // below the processes started, so eviction runs under load
	w := startWitness(t, Config{MaxProcs: maxProcs})
	dir := t.TempDir()
	var peakProcs int
	var peakHeap uint64
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				peakProcs = max(peakProcs, w.Stats().Procs)
				runtime.ReadMemStats(&ms)
				peakHeap = max(peakHeap, ms.HeapInuse)
			}
		}
	}()
	rs, n, _, el := spawnChild(t, spawnerSpec{Rate: 2000, Count: 20000, MaxDur: 10 * time.Second, Prefix: "sustained", Dir: dir, Report: true})
	close(stop)
	<-stopped
	o := checkLoad(t, w, rs)
	st := w.Stats()
	t.Logf("%d processes in %v (%.0f/s): matched %d, no exit %d, unavailable %d; peak procs %d, peak heap %d MiB; stats %+v",
		n, el.Round(time.Millisecond), float64(n)/el.Seconds(), o.matched, o.noExit, o.unavailable, peakProcs, peakHeap>>20, st)
	if peakProcs > maxProcs {
		t.Errorf("window held %d procs; MaxProcs is %d", peakProcs, maxProcs)
	}
}

// TestOverhead measures the witness's CPU cost at (up to) 500 execs/s for
// 5 s: this process's CPU time (getrusage RUSAGE_SELF: all threads, so the
// Go runtime's share is included) with the witness, minus the same run
// without it. The execs come from a child process, so neither run pays for
// spawning. A machine that cannot start 500 processes a second is measured
// at the rate it reaches, and the cost per exec is scaled to 500/s.
func TestOverhead(t *testing.T) {
	if os.Getenv("CLAWTRAIL_WITNESS_LOAD") == "" {
		t.Skip("set CLAWTRAIL_WITNESS_LOAD=1 to measure the witness's CPU overhead (10 s)")
	}
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("overhead is meaningless under -race or -cover")
	}
	const rate, dur = 500, 5 * time.Second
	measure := func(withWitness bool) (cpu time.Duration, execs uint64, el time.Duration, csw int64) {
		var w *Witness
		if withWitness {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var err error
			if w, err = Start(ctx, Config{}); err != nil {
				t.Skipf("witness unavailable: %v", err)
			}
			defer w.Close()
		}
		runtime.GC()
		before, sw0 := rusage(), switches()
		_, n, _, el := spawnChild(t, spawnerSpec{Rate: rate, Count: int(rate * dur.Seconds()), MaxDur: dur, Prefix: "overhead", Dir: t.TempDir()})
		cpu, csw = rusage()-before, switches()-sw0
		execs = uint64(n)
		if w != nil {
			st := w.Stats()
			execs = st.Execs // the spawner's and everything else on the host
			t.Logf("witness stats: %+v", st)
		}
		return cpu, execs, el, csw
	}
	base, _, el0, sw0 := measure(false)
	with, execs, el1, sw1 := measure(true)
	over := max(0, with-base*time.Duration(el1)/time.Duration(el0))
	achieved := float64(execs) / el1.Seconds()
	perExec := over / time.Duration(max(1, execs))
	pct := 100 * over.Seconds() / el1.Seconds()
	at500 := 100 * (perExec * rate).Seconds()
	t.Logf("baseline %v CPU in %v; with witness %v CPU in %v, %d execs (%.0f/s): witness %v = %.2f%% of one core, %v per exec, %.1f%% of one core at %d execs/s",
		base, el0.Round(time.Millisecond), with, el1.Round(time.Millisecond), execs, achieved, over.Round(time.Millisecond), pct, perExec.Round(time.Microsecond), at500, rate)
	// Context switches of this process's threads (each wake-up of a blocked
	// thread is one): less noisy on a shared host than CPU time.
	t.Logf("context switches per exec: %.2f (baseline %d, with witness %d)", float64(sw1-sw0)/float64(max(1, execs)), sw0, sw1)
	if at500 > 5 {
		t.Errorf("witness overhead %.1f%% of one core at %d execs/s; target < 5%%", at500, rate)
	}
}

// TestIdleOverhead measures the witness's CPU cost on a host where nothing
// execs: what the daemon pays most of the time.
func TestIdleOverhead(t *testing.T) {
	if os.Getenv("CLAWTRAIL_WITNESS_LOAD") == "" {
		t.Skip("set CLAWTRAIL_WITNESS_LOAD=1 to measure the witness's idle CPU overhead (10 s)")
	}
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("overhead is meaningless under -race or -cover")
	}
	const dur = 5 * time.Second
	runtime.GC()
	before, t0 := rusage(), time.Now()
	time.Sleep(dur)
	base, el0 := rusage()-before, time.Since(t0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := Start(ctx, Config{})
	if err != nil {
		t.Skipf("witness unavailable: %v", err)
	}
	defer w.Close()
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	before, t0 = rusage(), time.Now()
	time.Sleep(dur)
	with, el1 := rusage()-before, time.Since(t0)
	st := w.Stats()
	over := max(0, with-base*time.Duration(el1)/time.Duration(el0))
	t.Logf("idle: baseline %v CPU in %v; with witness %v CPU in %v (%d execs on the host meanwhile): witness %.2f%% of one core",
		base, el0.Round(time.Millisecond), with, el1.Round(time.Millisecond), st.Execs, 100*over.Seconds()/el1.Seconds())
}

// switches counts the voluntary and involuntary context switches of all this
// process's threads so far.
func switches() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw + ru.Nivcsw
}

func rusage() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestProcParsers(t *testing.T) {
	if got := nsInode([]byte("net:[4026531840]")); got != 4026531840 {
		t.Errorf("nsInode = %d", got)
	}
	if got := nsInode([]byte("garbage")); got != 0 {
		t.Errorf("nsInode(garbage) = %d", got)
	}
	if ppid, comm, start := parseStat([]byte("123 (a) b) c) S 77 123 123 0 -1 4194560 140 0 0 0 0 0 0 0 20 0 1 0 987654 1234 56")); ppid != 77 || comm != "a) b) c" || start != 987654 {
		t.Errorf("parseStat = %d, %q, %d", ppid, comm, start)
	}
	b, _ := os.ReadFile("/proc/self/stat")
	if ppid, comm, start := parseStat(b); start == 0 || int(ppid) != os.Getppid() || comm != filepath.Base(os.Args[0])[:min(15, len(filepath.Base(os.Args[0])))] {
		t.Errorf("parseStat(/proc/self/stat) = %d, %q; want %d", ppid, comm, os.Getppid())
	}
}

// TestUnprivileged runs the witness the way it must not be trusted to run,
// for real, by re-running this test binary in a child: as nobody, and as
// root in a new user namespace.
//
// As nobody: older kernels require CAP_NET_ADMIN to listen, so Start must
// fail with ErrUnavailable naming it; recent ones (this 6.18 one) accept
// unprivileged listeners, and then the witness must work for the user's own
// processes. In a new user namespace the kernel ignores the subscription
// without an answer: Start must fail with ErrUnavailable, and the Witness it
// returns must answer "unavailable".
func TestUnprivileged(t *testing.T) {
	switch os.Getenv("CLAWTRAIL_WITNESS_UNPRIV") {
	case "nobody":
		w, err := Start(context.Background(), Config{})
		if err != nil {
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
				t.Fatalf("Start as nobody: err = %v; want ErrUnavailable naming CAP_NET_ADMIN", err)
			}
			t.Logf("UNAVAILABLE: %v", err)
			return
		}
		defer w.Close()
		dir := t.TempDir()
		r := runShell(t, dir, "sleep 0.05; exit 6", nil)
		got := w.Match(r.command, dir, r.from, r.to)
		if got.Status != statusMatched || got.PID != r.pid {
			t.Fatalf("as nobody: Match = %+v; want pid %d", got, r.pid)
		}
		t.Logf("LISTENING: unprivileged listener accepted; matched pid %d exit %s", got.PID, ptrStr(got.ExitCode))
		return
	case "userns":
		start := time.Now()
		w, err := Start(context.Background(), Config{})
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Start in a user namespace: err = %v; want ErrUnavailable", err)
		}
		now := time.Now()
		if r := w.Match("ls", "/", now.Add(-time.Second), now); r.Status != statusUnavailable {
			t.Errorf("Match = %+v; want unavailable", r)
		}
		if st := w.Stats(); st.Available {
			t.Errorf("Stats = %+v; want not available", st)
		}
		if err := w.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		t.Logf("UNAVAILABLE after %v: %v", time.Since(start).Round(time.Millisecond), err)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("re-runs itself as nobody and in a user namespace: needs root")
	}
	t.Parallel()
	// The go test binary lives in a root-only directory: copy it somewhere
	// nobody can execute it.
	dir := t.TempDir()
	for d := dir; strings.HasPrefix(d, os.TempDir()) && d != os.TempDir(); d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	bin := filepath.Join(dir, "witness.test")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "tmp") // the child's TMPDIR, writable by nobody
	if err := os.Mkdir(tmp, 0o777); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(tmp, 0o1777)
	child := func(mode string, attr *syscall.SysProcAttr) string {
		c := exec.Command(bin, "-test.run=^TestUnprivileged$", "-test.v")
		c.Dir = dir
		c.Env = append(os.Environ(), "CLAWTRAIL_WITNESS_UNPRIV="+mode, "TMPDIR="+tmp)
		c.SysProcAttr = attr
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		return string(out)
	}
	out := child("nobody", &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}})
	if !strings.Contains(out, "UNAVAILABLE") && !strings.Contains(out, "LISTENING") {
		t.Errorf("as nobody: no verdict:\n%s", out)
	}
	t.Logf("as nobody:\n%s", out)
	out = child("userns", &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
	})
	if !strings.Contains(out, "UNAVAILABLE") {
		t.Errorf("in a user namespace: no verdict:\n%s", out)
	}
	t.Logf("in a user namespace:\n%s", out)
}

// TestRuntimeParent: with Config.Runtime, only a process whose parent has the
// runtime's name is the transcript's command. Two programs run the same shell
// command in the same directory; the witness takes the runtime's, and none when
// the runtime named ran nothing.
func TestRuntimeParent(t *testing.T) {
	bin := t.TempDir()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, name := range []string{"fakeruntime", "otherprog"} {
		if err := os.Symlink(sh, filepath.Join(bin, name)); err != nil {
			t.Fatal(err)
		}
	}
	w := startWitness(t, Config{Runtime: "fakeruntime"})
	dir := t.TempDir()
	time.Sleep(slack + 100*time.Millisecond)
	// The sleep keeps each shell alive long enough to be read on a busy machine.
	command := fmt.Sprintf("echo runtime-parent-%d; sleep 0.1; exit 3", time.Now().UnixNano())
	// As a runtime spawns it: the parent forks `sh -c <command>` (the trailing
	// `true` keeps the outer shell from exec'ing it in its own place).
	spawn := func(parent string) int {
		c := exec.Command(filepath.Join(bin, parent), "-c", "sh -c '"+command+"'; true")
		c.Dir = dir
		if err := c.Run(); err != nil {
			t.Fatalf("%s: %v", parent, err)
		}
		return c.Process.Pid
	}
	from := time.Now()
	other := spawn("otherprog")
	runtimePID := spawn("fakeruntime")
	spawn("otherprog")
	to := time.Now()
	got := w.Match(command, dir, from, to)
	if why := unsureWhy(w, command, dir, from, to); got.Status == statusUnavailable && why != "" {
		t.Skipf("the runtime's shell could not be judged on this busy machine: %s", why)
	}
	if got.Status != statusMatched || got.PPID != runtimePID || got.ExitCode == nil || *got.ExitCode != 3 {
		t.Fatalf("Match = %+v; want matched, parent %d (fakeruntime, not otherprog %d), exit 3", got, runtimePID, other)
	}
	// A window in which only the other program ran the command (past the slack
	// around the runtime's run): nothing of the runtime's.
	time.Sleep(slack + 100*time.Millisecond)
	from = time.Now()
	spawn("otherprog")
	to = time.Now()
	expectUnmatched(t, w, command, dir, from, to)
}
