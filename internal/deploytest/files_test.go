package deploytest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// These checks need no Docker engine: they keep the deployment files consistent
// with the binary and with each other.

func TestDockerfileFinalStage(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	final, err := finalStage(string(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"FROM scratch",
		"COPY clawtrail /clawtrail",
		"COPY --chown=1000:1000 ledger /ledger",
		"USER 1000:1000", // the uid of OpenClaw's 0600 transcripts; not root
		`CMD ["/clawtrail", "health"]`,
		`ENTRYPOINT ["/clawtrail"]`,
	} {
		if !strings.Contains(final, want) {
			t.Errorf("final stage (as the tests build it) lacks %q:\n%s", want, final)
		}
	}
	if !strings.Contains(string(b), "CGO_ENABLED=0") {
		t.Error("the build stage does not build a static binary (CGO_ENABLED=0)")
	}
}

// runFlags returns the flags `clawtrail help run` documents.
func runFlags(t *testing.T) map[string]bool {
	t.Helper()
	bin, _ := buildBinaries(t)
	out, _ := exec.Command(bin, "help", "run").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if !flags["source"] || !flags["ledger"] {
		t.Fatalf("could not read the flags of clawtrail run from its help:\n%s", out)
	}
	return flags
}

// unitSettings reads a systemd unit into key -> values, joining continued lines.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string][]string{}
	sc := bufio.NewScanner(f)
	var cont string
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if cont == "" && (l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "[")) {
			continue
		}
		if strings.HasSuffix(l, "\\") {
			cont += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		l, cont = cont+l, ""
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Errorf("unit line %q is not key=value", l)
			continue
		}
		m[k] = append(m[k], v)
	}
	return m
}

func TestSystemdUnit(t *testing.T) {
	path := filepath.Join(repoRoot, "deploy", "systemd", "clawtrail.service")
	u := unitSettings(t, path)
	one := func(k string) string {
		if len(u[k]) != 1 {
			t.Errorf("%s= set %d times, want once", k, len(u[k]))
			return ""
		}
		return u[k][0]
	}
	for k, want := range map[string]string{
		"Type": "notify", "WatchdogSec": "30", "Restart": "on-failure", "NotifyAccess": "main",
		"ProtectSystem": "strict", "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectHome": "tmpfs",
		"CapabilityBoundingSet": "", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6 AF_NETLINK",
	} {
		if got := one(k); got != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if !strings.Contains(strings.Join(u["SystemCallFilter"], " "), "@system-service") {
		t.Errorf("SystemCallFilter=%q lacks @system-service", u["SystemCallFilter"])
	}

	// ExecStart uses only flags the binary has, and the paths the sandbox opens are
	// the ones it is told to use.
	args := strings.Fields(one("ExecStart"))
	if len(args) < 2 || args[1] != "run" {
		t.Fatalf("ExecStart=%q does not run the daemon", args)
	}
	flags := runFlags(t)
	val := map[string]string{}
	for i := 2; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok || !flags[name] {
			t.Errorf("ExecStart argument %q is not a flag of clawtrail run", args[i])
			continue
		}
		if i+1 < len(args) {
			val[name] = args[i+1]
			i++
		}
	}
	src := val["source"]
	if src == "" || one("ReadOnlyPaths") != src || one("BindReadOnlyPaths") != src {
		t.Errorf("--source %q, ReadOnlyPaths=%q, BindReadOnlyPaths=%q: must name the same directory", src, u["ReadOnlyPaths"], u["BindReadOnlyPaths"])
	}
	if dir := filepath.Dir(val["ledger"]); one("ReadWritePaths") != dir || "/var/lib/"+one("StateDirectory") != dir {
		t.Errorf("--ledger %q: ReadWritePaths=%q and StateDirectory=%q must be its directory", val["ledger"], u["ReadWritePaths"], u["StateDirectory"])
	}
	if l := val["listen"]; !strings.HasPrefix(l, "127.0.0.1:") {
		t.Errorf("--listen %q: the unit allows loopback traffic only (IPAddressAllow=localhost)", l)
	}

	// systemd's own parser, when this machine has it.
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Log("systemd-analyze not installed: the unit was not checked by systemd's parser")
		return
	}
	bin, _ := buildBinaries(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "clawtrail.service")
	if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(string(b), "/usr/local/bin/clawtrail", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "systemd-analyze", "verify", tmp).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// composeCLI finds docker compose (v2) or docker-compose (v1).
func composeCLI(t *testing.T) []string {
	t.Helper()
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if exec.Command("docker-compose", "version").Run() == nil {
		return []string{"docker-compose"}
	}
	if inCI() {
		t.Fatal("CI=true but neither docker compose nor docker-compose is installed")
	}
	t.Skip("skipping: neither docker compose nor docker-compose is installed to render the compose file")
	return nil
}

// TestComposeLayouts renders deploy/compose with the compose CLI for both layouts:
// one variable moves both services to the other state dir, the sidecar's mount
// stays read-only, and a missing token stops it from being rendered at all.
func TestComposeLayouts(t *testing.T) {
	cli := composeCLI(t)
	dir := filepath.Join(repoRoot, "deploy", "compose")
	home := t.TempDir()
	render := func(env ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		args := append(cli[1:], "--project-directory", dir, "-f", filepath.Join(dir, "docker-compose.yml"), "config")
		c := exec.CommandContext(ctx, cli[0], args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "HOME="+home, "OPENCLAW_STATE=", "CLAWTRAIL_TOKEN=")
		c.Env = append(c.Env, env...)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	readOnly := func(out, src string) bool {
		// v1 prints short syntax, v2 long syntax.
		return strings.Contains(out, src+":/state:ro") ||
			regexp.MustCompile(`source: `+regexp.QuoteMeta(src)+`\s+target: /state\s+read_only: true`).MatchString(out)
	}
	for _, c := range []struct {
		name, value, want string
	}{
		{"official (default)", "", filepath.Join(home, ".openclaw")},
		{"official (explicit)", "~/.openclaw", filepath.Join(home, ".openclaw")},
		{"hostinger", "./data/.openclaw", filepath.Join(dir, "data", ".openclaw")},
	} {
		out, err := render("CLAWTRAIL_TOKEN=t0k3n", "OPENCLAW_STATE="+c.value)
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		if !readOnly(out, c.want) {
			t.Errorf("%s: the sidecar does not mount %s read-only at /state:\n%s", c.name, c.want, out)
		}
		if n := strings.Count(out, c.want); n != 2 {
			t.Errorf("%s: %s appears %d times, want twice (gateway and sidecar)", c.name, c.want, n)
		}
		for _, want := range []string{"127.0.0.1:7391:7391", "unless-stopped", "clawtrail-ledger", "1000:1000", "/clawtrail", "no-new-privileges:true"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: rendered compose lacks %q", c.name, want)
			}
		}
	}
	if out, err := render(); err == nil || !strings.Contains(out, "CLAWTRAIL_TOKEN") {
		t.Errorf("without CLAWTRAIL_TOKEN: err %v, output %q; want a refusal naming the variable", err, out)
	}

	// The sidecar's command uses only flags of clawtrail run.
	b, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	flags := runFlags(t)
	for _, m := range regexp.MustCompile(`(?m)^\s+- --([a-z][a-z0-9-]*)\s*$`).FindAllStringSubmatch(string(b), -1) {
		if !flags[m[1]] {
			t.Errorf("compose command flag --%s is not a flag of clawtrail run", m[1])
		}
	}
}
