package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/clawtrail/clawtrail/internal/isolation"
)

const checkAbout = `Checks of a deployment, answered from the live system rather than from what a
config file says.

  check isolation   what this process (or --pid PID) runs under: container runtime,
                    namespaces, root, capabilities, seccomp, no_new_privs, AppArmor or
                    SELinux, runtime sockets, writable host mounts and devices,
                    listeners on all interfaces, read-only audit sources
  check config FILE validate a config file (not supported yet: every setting is a flag)`

func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "Usage: clawtrail check isolation|config ...\n\n%s\n", checkAbout)
		return withCode(exitUsage, nil)
	}
	switch args[0] {
	case "isolation":
		return runCheckIsolation(ctx, args[1:], getenv, stdout, stderr)
	case "config":
		return runCheckConfig(args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprintf(stdout, "Usage: clawtrail check isolation|config ...\n\n%s\n", checkAbout)
		return nil
	}
	return usageErr("unknown check %q; want isolation or config", args[0])
}

const checkIsolationAbout = `"Never assume isolation. Test it." Reports, from what the kernel exposes in
/proc and on the filesystem right now, what a process runs under, one line per
check with a severity and why it matters (docs/isolation.md lists every check).

Without --pid it inspects itself: run it inside the clawtrail container to see what
the sidecar can reach. With --pid it inspects another process whose /proc entry it
may read: run it as root on the host against the OpenClaw gateway to see where the
agent's commands actually execute, e.g.
  sudo clawtrail check isolation --pid "$(pidof -s node)"

--source names transcript paths that should be mounted read-only (default, when
inspecting itself: $OPENCLAW_STATE_DIR if set).

Exit status: 0 worst finding info or low, 1 medium, 2 high, 3 critical; also 3,
with a message and no report, when the process does not exist.`

func runCheckIsolation(_ context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("check isolation", "[flags]", checkIsolationAbout, stderr)
	pid := fs.Int("pid", 0, "inspect this `process` instead of clawtrail itself")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var sources listFlag
	fs.Var(&sources, "source", "transcript `path` that should be read-only (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("check isolation takes no arguments, got %q (use --pid PID or --source PATH)", pos)
	}
	if *pid < 0 {
		return usageErr("--pid %d: not a process id", *pid)
	}
	// The state dir in our own environment describes our own mounts; for another
	// process it would name a path in the wrong filesystem, so it is not assumed.
	if len(sources) == 0 && *pid == 0 {
		if dir := getenv("OPENCLAW_STATE_DIR"); dir != "" {
			sources = listFlag{dir}
		}
	}
	rep, err := isolation.Inspect(isolation.Options{PID: *pid, Sources: sources})
	if err != nil {
		if _, serr := os.Stat("/proc/" + strconv.Itoa(*pid)); *pid > 0 && errors.Is(serr, os.ErrNotExist) {
			return withCode(exitInput, fmt.Errorf("check isolation: no process with pid %d (or it is in a PID namespace this one cannot see)", *pid))
		}
		return withCode(exitInput, fmt.Errorf("check isolation: %w", err))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = isolation.WriteText(stdout, rep)
	}
	if err != nil {
		return err
	}
	if code := isolation.ExitCode(rep.Worst()); code != exitOK {
		return withCode(code, nil)
	}
	return nil
}

// runCheckConfig is honest about the state of config files: the CLI has none yet,
// and pretending to validate one would tell an operator their settings took effect.
func runCheckConfig(args []string, stderr io.Writer) error {
	fs := newFlags("check config", "FILE", "Validates a config file. Config files are not supported yet: every setting is a flag (clawtrail help run).", stderr)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("check config takes one file, got %d arguments", len(pos))
	}
	return usageErr("config files are not supported yet: %s was not read; every setting is a command-line flag (see 'clawtrail help run')", pos[0])
}
