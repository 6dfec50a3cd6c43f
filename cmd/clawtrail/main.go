// Command clawtrail keeps an append-only, hash-chained audit ledger of every shell
// command an AI agent runtime (OpenClaw) executed, read from the runtime's own session
// transcripts without touching the runtime.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit codes, documented in `clawtrail help` and docs/cli.md.
const (
	exitOK       = 0
	exitFailed   = 1 // verify found damage; a check failed
	exitUsage    = 2 // bad command line
	exitInput    = 3 // a source could not be read at all
	exitLedger   = 4 // the ledger could not be opened or written (locked, damaged, disk full)
	exitCanceled = 130
)

// exitError carries an exit code with an error that has already been reported (or has
// a message of its own).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

func usageErr(format string, args ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, args...))
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	code := exitFailed
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	if errors.Is(err, context.Canceled) {
		code = exitCanceled
	}
	if msg := err.Error(); msg != "" {
		fmt.Fprintf(stderr, "clawtrail: %s\n", msg)
	}
	return code
}

const usage = `clawtrail keeps an append-only, hash-chained audit ledger of every shell command
an AI agent runtime executed, read from its session transcripts (OpenClaw first).

Usage:
  clawtrail scan [flags] [PATH...]     audit transcripts once, append to the ledger
  clawtrail run [flags]                follow transcripts live (the sidecar daemon)
  clawtrail show [flags] [LEDGER]      a readable table of what ran
  clawtrail verify [flags] [LEDGER]    check the whole ledger's hash chain
  clawtrail check isolation [flags]    what this process (or --pid) runs under
  clawtrail check config FILE          validate a config file (not supported yet)
  clawtrail health [flags]             exit 0 when the daemon's /healthz answers 200
  clawtrail keygen NAME                a key pair for signing checkpoints
  clawtrail version                    version, commit and Go version
  clawtrail help [COMMAND]             this text, or a command's flags

PATH is an OpenClaw state dir (default $OPENCLAW_STATE_DIR, else ~/.openclaw), an
agents dir, one agent's sessions dir, or a single .jsonl transcript.
LEDGER defaults to ./governance.jsonl.

Examples:
  clawtrail scan examples/openclaw
  clawtrail show --outcome nonzero_exit,timed_out governance.jsonl
  clawtrail verify governance.jsonl && echo intact

Exit status:
  0  success
  1  verify found a damaged ledger
  2  bad command line
  3  a source could not be read at all
  4  the ledger could not be opened or written (locked by another writer,
     damaged, disk full)
  130 interrupted
`

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return withCode(exitUsage, nil)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "scan":
		return runScan(ctx, rest, getenv, stdout, stderr)
	case "run":
		return runRun(ctx, rest, getenv, stdout, stderr)
	case "show":
		return runShow(ctx, rest, stdout, stderr)
	case "verify":
		return runVerify(ctx, rest, stdout, stderr)
	case "check":
		return runCheck(ctx, rest, getenv, stdout, stderr)
	case "health":
		return runHealth(ctx, rest, getenv, stdout, stderr)
	case "keygen":
		return runKeygen(ctx, rest, stdout, stderr)
	case "version", "--version":
		return runVersion(stdout)
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return run(ctx, []string{rest[0], "--help"}, getenv, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageErr("unknown command %q; run 'clawtrail help'", cmd)
}
