package deploytest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// runID makes every container, volume and image name of this test binary unique,
// so parallel runs on one engine (or leftovers of a killed run) never collide.
var runID = func() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}()

const label = "clawtrail.deploytest"

// repoRoot is the module root, two levels above this package.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "..", "..")
}()

var tmpRoot string // removed by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clawtrail-deploytest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmpRoot = dir
	code := m.Run()
	if images.sidecar != "" || images.agent != "" {
		_, _ = dockerCmd(context.Background(), "rmi", "-f", images.sidecar, images.agent)
	}
	os.RemoveAll(tmpRoot)
	os.Exit(code)
}

// inCI reports whether skipping is forbidden.
func inCI() bool { return os.Getenv("CI") == "true" }

var (
	dockerOnce sync.Once
	dockerErr  error
)

// requireDocker skips the test when no Docker engine answers, and fails it in CI.
func requireDocker(t *testing.T) {
	t.Helper()
	dockerOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, dockerErr = dockerCmd(ctx, "info", "--format", "{{.ServerVersion}}")
	})
	if dockerErr == nil {
		return
	}
	if inCI() {
		t.Fatalf("CI=true but no Docker engine is reachable, so the deployment tests cannot run: %v", dockerErr)
	}
	t.Skipf("skipping: no Docker engine is reachable (docker info: %v); these tests deploy real containers", dockerErr)
}

// dockerCmd runs the docker CLI and returns its stdout; the error carries stderr.
func dockerCmd(ctx context.Context, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, "docker", args...)
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	if err != nil {
		return out.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// docker runs one docker command with a generous bound, failing the test on error.
func docker(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := dockerCmd(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dockerExit runs a docker command whose non-zero exit is an answer, not a failure
// (docker run and docker exec pass the container's exit status through).
func dockerExit(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, "docker", args...)
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// name returns a unique container or volume name for this run.
func name(t *testing.T, role string) string {
	short := strings.ToLower(strings.TrimPrefix(t.Name(), "Test"))
	if len(short) > 24 {
		short = short[:24]
	}
	return fmt.Sprintf("clawtrail-dt-%s-%s-%s", runID, short, role)
}

// volume creates a named volume removed when the test ends.
func volume(t *testing.T, role string) string {
	v := name(t, role)
	docker(t, "volume", "create", "--label", label+"="+runID, v)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, _ = dockerCmd(ctx, "volume", "rm", "-f", v)
	})
	return v
}

// start runs a detached container removed (with its anonymous volumes) when the
// test ends; its logs are printed first when the test failed.
func start(t *testing.T, container string, args ...string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if t.Failed() {
			logs, _ := exec.CommandContext(ctx, "docker", "logs", "--tail", "60", container).CombinedOutput()
			t.Logf("docker logs %s:\n%s", container, logs)
		}
		_, _ = dockerCmd(ctx, "rm", "-f", "-v", container)
	})
	docker(t, append([]string{"run", "-d", "--name", container, "--label", label + "=" + runID}, args...)...)
}

// --- binaries and images ---

var images struct {
	once           sync.Once
	err            error
	sidecar, agent string
}

var binaries struct {
	once                sync.Once
	err                 error
	clawtrail, agentsim string
}

// buildBinaries builds static clawtrail and agentsim binaries once per run; they
// need no Docker, so the file checks use them too.
func buildBinaries(t *testing.T) (clawtrail, agentsim string) {
	t.Helper()
	binaries.once.Do(func() {
		dir := filepath.Join(tmpRoot, "bin")
		for _, b := range []struct {
			pkg string
			out *string
		}{{"./cmd/clawtrail", &binaries.clawtrail}, {"./cmd/agentsim", &binaries.agentsim}} {
			*b.out = filepath.Join(dir, filepath.Base(b.pkg))
			c := exec.Command("go", "build", "-trimpath", "-o", *b.out, b.pkg)
			c.Dir = repoRoot
			// Static, for the host's architecture (images run on the local engine).
			c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
			if out, err := c.CombinedOutput(); err != nil {
				binaries.err = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if binaries.err != nil {
		t.Fatal(binaries.err)
	}
	return binaries.clawtrail, binaries.agentsim
}

// staticShell finds a statically linked busybox to serve as the agent image's
// /bin/sh: the image is FROM scratch, and a dynamically linked shell would find
// no libc there.
func staticShell() (string, error) {
	var tried []string
	for _, p := range []string{os.Getenv("CLAWTRAIL_BUSYBOX"), "/bin/busybox", "/usr/bin/busybox"} {
		if p == "" {
			continue
		}
		f, err := elf.Open(p)
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", p, err))
			continue
		}
		dynamic := false
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				dynamic = true
			}
		}
		f.Close()
		if dynamic {
			tried = append(tried, p+": dynamically linked")
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("no static busybox for the agent image's /bin/sh (install Debian's busybox-static: apt-get install busybox-static; or set CLAWTRAIL_BUSYBOX); tried %s", strings.Join(tried, "; "))
}

// buildImages builds the sidecar and agent images once per run.
func buildImages(t *testing.T) (sidecar, agent string) {
	t.Helper()
	requireDocker(t)
	clawtrail, agentsim := buildBinaries(t)
	images.once.Do(func() {
		began := time.Now()
		defer func() {
			t.Logf("built images %s and %s in %v", images.sidecar, images.agent, time.Since(began).Round(time.Millisecond))
		}()
		images.err = func() error {
			shell, err := staticShell()
			if err != nil {
				return err
			}
			df, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
			if err != nil {
				return err
			}
			final, err := finalStage(string(df))
			if err != nil {
				return err
			}
			// The sidecar: the shipped final stage, fed from a directory laid out
			// like the build stage's /out.
			sctx := filepath.Join(tmpRoot, "sidecar")
			if err := os.MkdirAll(filepath.Join(sctx, "ledger"), 0o755); err != nil {
				return err
			}
			if err := copyFile(clawtrail, filepath.Join(sctx, "clawtrail"), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(sctx, "Dockerfile"), []byte(final), 0o644); err != nil {
				return err
			}
			// The agent: its own uid-1000 state dir, so a fresh named volume mounted
			// there starts owned by the uid OpenClaw writes as.
			actx := filepath.Join(tmpRoot, "agent")
			if err := os.MkdirAll(filepath.Join(actx, "state"), 0o755); err != nil {
				return err
			}
			if err := copyFile(agentsim, filepath.Join(actx, "agentsim"), 0o755); err != nil {
				return err
			}
			if err := copyFile(shell, filepath.Join(actx, "sh"), 0o755); err != nil {
				return err
			}
			// busybox runs the applet named by argv[0]; as "sh" it is the shell, and
			// its shell runs uname, hostname, id... as built-in applets.
			agentDF := "FROM scratch\nCOPY sh /bin/sh\nCOPY agentsim /agentsim\nCOPY --chown=1000:1000 state /state\n" +
				"USER 1000:1000\nENV OPENCLAW_STATE_DIR=/state\nENTRYPOINT [\"/agentsim\"]\n"
			if err := os.WriteFile(filepath.Join(actx, "Dockerfile"), []byte(agentDF), 0o644); err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			images.sidecar = "clawtrail-deploytest-sidecar:" + runID
			images.agent = "clawtrail-deploytest-agentsim:" + runID
			// Both at once: each instruction is a container commit, slow on some
			// storage drivers, and the two builds share nothing.
			errs := make(chan error, 2)
			for _, b := range [][2]string{{images.sidecar, sctx}, {images.agent, actx}} {
				go func() {
					_, err := dockerCmd(ctx, "build", "-q", "--label", label+"="+runID, "-t", b[0], b[1])
					errs <- err
				}()
			}
			return errors.Join(<-errs, <-errs)
		}()
	})
	if images.err != nil {
		t.Fatal(images.err)
	}
	return images.sidecar, images.agent
}

// finalStage returns the Dockerfile's last stage rewritten to build from a context
// that holds the build stage's /out (clawtrail, ledger/). It refuses instructions
// it does not expect there, so a change to the stage cannot silently go untested.
func finalStage(dockerfile string) (string, error) {
	lines := strings.Split(dockerfile, "\n")
	from := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(l)), "FROM ") {
			from = i
		}
	}
	if from < 0 {
		return "", errors.New("Dockerfile: no FROM")
	}
	if f := strings.Fields(lines[from]); len(f) != 2 || f[1] != "scratch" {
		return "", fmt.Errorf("Dockerfile: final stage is %q; the tests build it FROM scratch", lines[from])
	}
	var out []string
	for _, l := range lines[from:] {
		s := strings.TrimSpace(l)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		instr := strings.ToUpper(strings.Fields(s)[0])
		switch instr {
		case "FROM", "USER", "ENV", "VOLUME", "EXPOSE", "HEALTHCHECK", "ENTRYPOINT", "CMD", "LABEL":
		case "COPY":
			// COPY [--chown=...] --from=build /out/SRC DST  ->  COPY [--chown=...] SRC DST
			f := strings.Fields(s)
			var kept []string
			from, srcs := false, 0
			for i, w := range f {
				switch {
				case w == "--from=build":
					from = true
				case i > 0 && strings.HasPrefix(w, "--"):
					kept = append(kept, w)
				case i > 0 && i < len(f)-1:
					if !strings.HasPrefix(w, "/out/") {
						return "", fmt.Errorf("Dockerfile: final stage line %q: the tests only know sources under the build stage's /out/", s)
					}
					kept = append(kept, strings.TrimPrefix(w, "/out/"))
					srcs++
				default:
					kept = append(kept, w)
				}
			}
			if !from || srcs == 0 {
				return "", fmt.Errorf("Dockerfile: final stage line %q: the tests only know COPY --from=build /out/...", s)
			}
			s = strings.Join(kept, " ")
		default:
			return "", fmt.Errorf("Dockerfile: final stage line %q: %s cannot be reproduced FROM scratch without the build stage", s, instr)
		}
		if strings.HasSuffix(s, "\\") {
			return "", fmt.Errorf("Dockerfile: final stage line %q: keep it on one line", s)
		}
		out = append(out, s)
	}
	return strings.Join(out, "\n") + "\n", nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

// --- reading the ledger out of a container ---

// readLedger copies the ledger out of a container (running or not) and walks its
// hash chain. An error means it is not (yet) an intact chain.
func readLedger(ctx context.Context, container, path string) ([]*ledger.Record, error) {
	var out, errOut bytes.Buffer
	c := exec.CommandContext(ctx, "docker", "cp", container+":"+path, "-")
	c.Stdout, c.Stderr = &out, &errOut
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("docker cp: %v: %s", err, strings.TrimSpace(errOut.String()))
	}
	tr := tar.NewReader(&out)
	if _, err := tr.Next(); err != nil {
		return nil, fmt.Errorf("docker cp: %w", err)
	}
	var recs []*ledger.Record
	_, err := ledger.Walk(tr, func(r *ledger.Record, _ []byte) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return recs, err
	}
	return recs, nil
}

func execs(recs []*ledger.Record) []*ledger.Record {
	var out []*ledger.Record
	for _, r := range recs {
		if r.Kind == "exec" {
			out = append(out, r)
		}
	}
	return out
}

// waitExecs polls the ledger until it holds at least n exec records in an intact
// chain, and returns all its records.
func waitExecs(t *testing.T, container string, n int, timeout time.Duration) []*ledger.Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	var got int
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		recs, err := readLedger(ctx, container, "/ledger/governance.jsonl")
		cancel()
		if err == nil {
			if got = len(execs(recs)); got >= n {
				return recs
			}
		}
		last = err
		if time.Now().After(deadline) {
			t.Fatalf("after %v the ledger holds %d of %d execs (last error: %v)", timeout, got, n, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func inspect(t *testing.T, container, format string) string {
	t.Helper()
	return strings.TrimSpace(docker(t, "inspect", "-f", format, container))
}
