package deploytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/isolation"
	"github.com/clawtrail/clawtrail/internal/ledger"
)

const token = "deploytest-token"

// sidecarArgs are the docker run arguments of a sidecar deployed as
// deploy/compose does it: uid 1000 (the image's USER), the state volume read-only,
// the ledger on its own volume, no capabilities, no new privileges.
func sidecarArgs(state, ledgerVol, image string, extra ...string) []string {
	args := []string{"--hostname", "clawtrail-sidecar", "-e", "CLAWTRAIL_TOKEN=" + token,
		"-v", state + ":/state:ro", "-v", ledgerVol + ":/ledger",
		"--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges:true"}
	args = append(args, extra...)
	return append(args, image, "run", "--source", "/state", "--ledger", "/ledger/governance.jsonl",
		"--listen", "0.0.0.0:7391", "--token", token, "--sweep", "1s")
}

func reportOf(t *testing.T, out string) *isolation.Report {
	t.Helper()
	var rep isolation.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("check isolation --json printed no report: %v\n%s", err, out)
	}
	return &rep
}

func checkByID(t *testing.T, rep *isolation.Report, id string) isolation.Check {
	t.Helper()
	for _, c := range rep.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no %s check in the report", id)
	return isolation.Check{}
}

// TestSidecarAuditsAgentContainer: the agent's commands run in its container, the
// sidecar in another one audits them from the transcripts alone, and what it
// records is what happened over there: the agent container's hostname, not the
// host's or the sidecar's.
func TestSidecarAuditsAgentContainer(t *testing.T) {
	t.Parallel() // independent containers and volumes; the images are built once
	sidecarImg, agentImg := buildImages(t)
	state, ledgerVol := volume(t, "state"), volume(t, "ledger")
	agentHost := "agent-" + runID
	hostName, _ := os.Hostname()

	// The agent first, so the fresh state volume takes the agent image's uid-1000 /state.
	agent := name(t, "agent")
	start(t, agent, "--hostname", agentHost, "--network", "none", "-v", state+":/state", agentImg,
		"--session", "sess-audit", "uname -a", "hostname", "id")
	if code := strings.TrimSpace(docker(t, "wait", agent)); code != "0" {
		t.Fatalf("agentsim exited %s", code)
	}

	sidecar := name(t, "sidecar")
	// The image's HEALTHCHECK runs every 30 s; ask it every 300 ms here.
	start(t, sidecar, sidecarArgs(state, ledgerVol, sidecarImg, "--health-interval", "300ms", "--health-start-period", "0s")...)

	recs := waitExecs(t, sidecar, 3, 30*time.Second)
	byCmd := map[string]*ledger.Record{}
	for _, r := range execs(recs) {
		byCmd[r.Command] = r
		if r.Outcome != "succeeded" || r.ExitCode == nil || *r.ExitCode != 0 || r.Session != "sess-audit" || r.Verdict != "executed" {
			t.Errorf("%q: outcome %s exit %v session %s verdict %s", r.Command, r.Outcome, r.ExitCode, r.Session, r.Verdict)
		}
	}
	text := func(cmd string) string {
		r := byCmd[cmd]
		if r == nil || r.Output == nil {
			t.Fatalf("no exec record with output for %q in %d records", cmd, len(recs))
		}
		return strings.TrimSpace(r.Output.Text)
	}
	if got := text("hostname"); got != agentHost || got == hostName {
		t.Errorf("audited hostname output %q, want the agent container's %q (host is %q)", got, agentHost, hostName)
	}
	if f := strings.Fields(text("uname -a")); len(f) < 2 || f[1] != agentHost {
		t.Errorf("audited uname -a %q: nodename is not the agent container's %q (host is %q)", text("uname -a"), agentHost, hostName)
	}
	if got := text("id"); !strings.HasPrefix(got, "uid=1000") {
		t.Errorf("audited id %q, want uid=1000 (the OpenClaw image's node user)", got)
	}

	// Inside the sidecar: its own namespaces, no runtime socket, read-only source.
	out, errOut, code := dockerExit(t, "exec", sidecar, "/clawtrail", "check", "isolation", "--json")
	rep := reportOf(t, out)
	if rep.Container != "docker" {
		t.Errorf("container runtime %q, want docker", rep.Container)
	}
	for _, ns := range []string{"pid", "mnt", "net", "uts", "ipc"} {
		c := checkByID(t, rep, "ns."+ns)
		// Before Linux 6.18, net and mnt have no fixed host inode to compare with
		// from inside a container; the check then says unknown rather than guess.
		if c.Verdict != "isolated" && !((ns == "net" || ns == "mnt") && strings.HasPrefix(c.Verdict, "unknown")) {
			t.Errorf("ns.%s: %q (%s), want isolated", ns, c.Verdict, c.Evidence)
		}
	}
	for id, want := range map[string]string{"socket.docker": "none found", "source.readonly": "read-only", "user.root": "uid 1000 (not root)", "caps.effective": "none"} {
		if c := checkByID(t, rep, id); c.Verdict != want || c.Severity > isolation.Low {
			t.Errorf("%s: %q (%s, %s), want %q", id, c.Verdict, c.Severity, c.Evidence, want)
		}
	}
	if want := isolation.ExitCode(rep.Worst()); code != want || rep.Worst() >= isolation.High {
		t.Errorf("check isolation exit %d, worst %s (want exit %d, below high); stderr %s", code, rep.Worst(), want, errOut)
	}

	// The image's health check: the binary asks its own /healthz with the token
	// from the environment, and Docker sees the container healthy.
	if out, errOut, code := dockerExit(t, "exec", sidecar, "/clawtrail", "health"); code != 0 {
		t.Errorf("clawtrail health in the sidecar: exit %d: %s%s", code, out, errOut)
	}
	deadline := time.Now().Add(20 * time.Second)
	for st := ""; st != "healthy"; {
		if st = inspect(t, sidecar, "{{.State.Health.Status}}"); st != "healthy" && time.Now().After(deadline) {
			t.Fatalf("Docker health status %q after 20s: %s", st, inspect(t, sidecar, "{{json .State.Health.Log}}"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, errOut, code := dockerExit(t, "exec", sidecar, "/clawtrail", "verify", "/ledger/governance.jsonl"); code != 0 {
		t.Errorf("verify in the sidecar: exit %d: %s%s", code, out, errOut)
	}
}

// TestPrivilegedSidecarReportsCritical: the same image, deployed the way nobody
// should: privileged, as root, with the Docker socket mounted. check isolation must
// call that critical and exit 3.
func TestPrivilegedSidecarReportsCritical(t *testing.T) {
	t.Parallel() // independent containers and volumes; the images are built once
	sidecarImg, _ := buildImages(t)
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		sock = strings.TrimPrefix(h, "unix://")
	}
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("the engine's socket %s: %v", sock, err)
	}
	run := func(priv []string) (string, string, int) {
		args := append([]string{"run", "--rm", "--label", label + "=" + runID, "--name", name(t, "priv")}, priv...)
		return dockerExit(t, append(args, "--user", "0:0", "-v", sock+":/var/run/docker.sock", sidecarImg, "check", "isolation", "--json")...)
	}
	// An engine that itself lacks a capability cannot grant --privileged or
	// --cap-add ALL (runc: "unable to apply caps"); then grant everything it has.
	modes := [][]string{{"--privileged"}, {"--cap-add=ALL"}}
	if missing := missingCaps(t); len(missing) > 0 {
		modes = append(modes, append([]string{"--cap-add=ALL", "--security-opt", "seccomp=unconfined"}, missing...))
	}
	var (
		out, errOut string
		code        int
		mode        []string
	)
	for _, mode = range modes {
		if out, errOut, code = run(mode); code != 125 { // 125: the engine refused the container itself
			break
		}
		t.Logf("%v refused: %s", mode, strings.TrimSpace(errOut))
	}
	privileged := mode[0] == "--privileged" || len(mode) == 1
	rep := reportOf(t, out)
	if code != 3 || rep.Worst() != isolation.Critical {
		t.Errorf("%v with the Docker socket: exit %d, worst %s; want 3 and critical (stderr %s)", mode, code, rep.Worst(), errOut)
	}
	if c := checkByID(t, rep, "socket.docker"); c.Severity != isolation.Critical || !strings.HasPrefix(c.Verdict, "mounted: /var/run/docker.sock") {
		t.Errorf("socket.docker: %s %q (%s), want critical 'mounted: /var/run/docker.sock'", c.Severity, c.Verdict, c.Evidence)
	}
	// The full set is critical; all but what the engine lacks still includes
	// CAP_SYS_ADMIN and friends, which is high.
	if c := checkByID(t, rep, "caps.effective"); c.Severity != isolation.Critical && (privileged || c.Severity != isolation.High) {
		t.Errorf("caps.effective under %v: %s %q, want critical (high without the full set)", mode, c.Severity, c.Verdict)
	}
	if c := checkByID(t, rep, "user.root"); c.Severity < isolation.High {
		t.Errorf("user.root: %s %q, want high", c.Severity, c.Verdict)
	}
}

// TestSidecarSIGKILLRestartsExactlyOnce crashes the sidecar (SIGKILL to its
// process from the host, as the OOM killer or a kernel bug would, not docker stop)
// several times while two agents keep running commands, and stops the agents only
// after the last crash. Docker's restart policy brings the sidecar back each time;
// in the end the ledger holds every exec exactly once and its hash chain verifies.
func TestSidecarSIGKILLRestartsExactlyOnce(t *testing.T) {
	t.Parallel() // independent containers and volumes; the images are built once
	sidecarImg, agentImg := buildImages(t)
	state, ledgerVol := volume(t, "state"), volume(t, "ledger")
	const kills = 3
	agents := map[string]string{} // session -> container
	for _, s := range []string{"a", "b"} {
		c := name(t, "agent-"+s)
		agents["crash-"+s] = c
		start(t, c, "--hostname", "agent-"+s+"-"+runID, "--network", "none", "-v", state+":/state", agentImg,
			"--session", "crash-"+s, "--forever", "--interval", "40ms", "echo "+s+"-{n} $(hostname)")
	}
	sidecar := name(t, "sidecar")
	start(t, sidecar, sidecarArgs(state, ledgerVol, sidecarImg, "--restart", "unless-stopped")...)
	waitExecs(t, sidecar, 1, 30*time.Second) // killed mid-stream, not before its first record

	for k := 1; k <= kills; k++ {
		pid, _ := strconv.Atoi(inspect(t, sidecar, "{{.State.Pid}}"))
		if pid <= 1 {
			t.Fatalf("kill %d: sidecar not running (pid %d)", k, pid)
		}
		sigkill(t, pid)
		// Back up: a new process, counted as a restart by the engine.
		deadline := time.Now().Add(30 * time.Second)
		for {
			st := strings.Fields(inspect(t, sidecar, "{{.State.Running}} {{.State.Pid}} {{.RestartCount}}"))
			if np, _ := strconv.Atoi(st[1]); st[0] == "true" && np > 1 && np != pid && st[2] == strconv.Itoa(k) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("kill %d: not restarted after 30s: running pid restarts = %v", k, st)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(400 * time.Millisecond) // let it read and append a little before the next crash
	}
	// The agents were writing throughout; stop them (they finish the call under
	// way) and learn how many calls each made.
	made := map[string]int{} // session -> calls
	total := 0
	for s, c := range agents {
		docker(t, "stop", "-t", "20", c)
		if code := inspect(t, c, "{{.State.ExitCode}}"); code != "0" {
			t.Fatalf("agent %s exited %s", s, code)
		}
		logs := strings.Fields(docker(t, "logs", "--tail", "1", c))
		if len(logs) != 2 || logs[0] != "done" {
			t.Fatalf("agent %s did not finish cleanly: last line %q", s, logs)
		}
		n, _ := strconv.Atoi(logs[1])
		made[s], total = n, total+n
	}
	t.Logf("the agents made %v calls", made)
	recs := waitExecs(t, sidecar, total, 60*time.Second)
	if got := inspect(t, sidecar, "{{.RestartCount}}"); got != strconv.Itoa(kills) {
		t.Errorf("restart count %s, want %d", got, kills)
	}

	seen := map[string]int{}
	for _, r := range execs(recs) {
		seen[r.Session+"/"+r.CorrelationID]++
		want := ""
		for _, s := range []string{"a", "b"} {
			if r.Session == "crash-"+s {
				n := strings.TrimPrefix(strings.Fields(r.Command)[1], s+"-")
				want = fmt.Sprintf("%s-%s agent-%s-%s", s, n, s, runID)
			}
		}
		if r.Output == nil || strings.TrimSpace(r.Output.Text) != want || r.Outcome != "succeeded" {
			t.Errorf("%s %q: outcome %s, output %v; want succeeded %q", r.Session, r.Command, r.Outcome, r.Output, want)
		}
	}
	if len(seen) != total {
		t.Errorf("%d distinct execs in the ledger, want %d", len(seen), total)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("exec %s recorded %d times", k, n)
		}
	}
	cmds := map[string]bool{}
	for _, r := range execs(recs) {
		cmds[r.Session+" "+r.Command] = true
	}
	for _, s := range []string{"a", "b"} {
		for n := 1; n <= made["crash-"+s]; n++ {
			if c := fmt.Sprintf("crash-%s echo %s-%d $(hostname)", s, s, n); !cmds[c] {
				t.Errorf("missing exec %q", c)
			}
		}
	}
	if out, errOut, code := dockerExit(t, "exec", sidecar, "/clawtrail", "verify", "/ledger/governance.jsonl"); code != 0 || !strings.HasPrefix(out, "ok ") {
		t.Errorf("clawtrail verify after %d SIGKILLs: exit %d: %s%s", kills, code, out, errOut)
	}
	t.Logf("%d records, %d execs, %d restarts", len(recs), len(execs(recs)), kills)
}

// capNames are the kernel's capability names by bit number (linux/capability.h).
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}

// missingCaps returns --cap-drop flags for the capabilities this machine's
// bounding set lacks (read from this process, which runs beside the engine), as
// a fallback for engines that cannot grant the full set.
func missingCaps(t *testing.T) []string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	var bnd uint64
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd:"); ok {
			bnd, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	var out []string
	for i, n := range capNames {
		if bnd&(1<<i) == 0 {
			out = append(out, "--cap-drop="+n)
		}
	}
	if len(out) > 0 {
		t.Logf("this machine's bounding set lacks %v", out)
	}
	return out
}

// sigkill kills a container's process by its host pid. Root (or the same uid) can
// signal it directly; otherwise a helper container in the host's PID namespace
// does it, which needs only what running these tests already needs: the Docker API.
// (docker kill is no substitute: the engine treats it as a deliberate stop and the
// restart policy does not apply.)
func sigkill(t *testing.T, pid int) {
	t.Helper()
	err := syscall.Kill(pid, syscall.SIGKILL)
	if err == nil {
		return
	}
	if !errors.Is(err, syscall.EPERM) {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
	_, agentImg := buildImages(t)
	docker(t, "run", "--rm", "--label", label+"="+runID, "--pid", "host", "--user", "0:0", "--cap-add", "KILL",
		"--entrypoint", "/bin/sh", agentImg, "-c", fmt.Sprintf("kill -9 %d", pid))
}
