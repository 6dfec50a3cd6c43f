// Command gencorpus writes a synthetic OpenClaw state directory of a given
// size, for load tests and for checking a scan against known counts.
//
//	gencorpus -out DIR -size 1GB -seed 1 -agents 4 -sessions 50 [-version mixed]
//
// The last line on stdout is a JSON object with what was written (see
// corpus.Stats) plus the elapsed time and throughput. On a terminal, progress
// goes to stderr while generating.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/clawtrail/clawtrail/internal/corpus"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		if !u.printed {
			fmt.Fprintln(os.Stderr, "gencorpus:", err)
		}
		return 2
	default:
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		return 1
	}
}

// usageError is a bad invocation; printed means flag already reported it.
type usageError struct {
	error
	printed bool
}

// summary is the final stats line.
type summary struct {
	corpus.Stats
	Dir      string  `json:"dir"`
	Seconds  float64 `json:"seconds"`
	MBPerSec float64 `json:"mb_per_s"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gencorpus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "state dir to write (required; agents/ is created inside)")
	size := fs.String("size", "100MB", "total transcript size: B, KB, MB, GB (powers of 1000) or KiB, MiB, GiB")
	seed := fs.Int64("seed", 1, "random seed; the same seed gives the same bytes")
	agents := fs.Int("agents", 4, "number of agents")
	sessions := fs.Int("sessions", 50, "transcripts per agent")
	version := fs.String("version", corpus.VersionMixed, "OpenClaw version style: 2026.1.30, 2026.5, 2026.7 or mixed")
	execRatio := fs.Float64("exec-ratio", 0.8, "share of tool calls that are exec")
	outputBytes := fs.Int("output-bytes", 2048, "typical exec output size in bytes")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: gencorpus -out DIR [-size 1GB] [-seed 1] [-agents 4] [-sessions 50] [-version mixed]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err, true}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0)), false}
	}
	if *out == "" {
		return usageError{errors.New("-out is required"), false}
	}
	target, err := parseSize(*size)
	if err != nil {
		return usageError{err, false}
	}

	opt := corpus.Options{
		Seed: *seed, Agents: *agents, SessionsPerAgent: *sessions, TargetBytes: target,
		ExecRatio: *execRatio, OutputBytes: *outputBytes, Version: *version,
	}
	tty := isTerminal(stderr)
	if tty {
		opt.Progress = func(written int64) {
			fmt.Fprintf(stderr, "\rgencorpus: %s / %s (%d%%)", formatSize(written), formatSize(target), written*100/max(target, 1))
		}
	}
	start := time.Now()
	st, err := corpus.GenerateContext(ctx, *out, opt)
	if tty {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start).Seconds()
	line, err := json.Marshal(summary{Stats: st, Dir: *out, Seconds: round(elapsed, 3), MBPerSec: round(float64(st.Bytes)/1e6/elapsed, 1)})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", line)
	return err
}

// parseSize reads sizes like 1GB, 512MiB, 1.5GB or 1048576.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(t)
	}
	mult, ok := sizeUnits[strings.ToLower(strings.TrimSpace(t[i:]))]
	v, err := strconv.ParseFloat(t[:i], 64)
	if err != nil || !ok || v <= 0 {
		return 0, fmt.Errorf("invalid size %q (want e.g. 100MB, 1GB, 512MiB)", s)
	}
	return int64(v * mult), nil
}

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

func formatSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%d B", n)
	}
}

func round(x float64, places int) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', places, 64), 64)
	return p
}

// isTerminal reports whether w is a character device, so that progress
// redraws do not end up in log files or pipes.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
