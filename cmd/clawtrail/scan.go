package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/scan"
)

const scanAbout = `Reads every OpenClaw transcript under each PATH once (live transcripts and the
.reset/.deleted/.bak archives, which hold commands that ran), pairs every shell exec
call with its result, and appends to the ledger only what it does not hold yet:
running scan twice over the same input appends nothing. Calls still without a result
are recorded as no_result; a result that turns up later becomes an exec_update.
Secrets are redacted before anything is written. Malformed lines, oversized lines and
unreadable files are counted and reported; the scan goes on.

PATH is a state dir (default $OPENCLAW_STATE_DIR, else ~/.openclaw), an agents dir,
a sessions dir or one .jsonl file. Progress goes to stderr when it is a terminal.`

func runScan(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("scan", "[flags] [PATH...]", scanAbout, stderr)
	ledgerPath := fs.String("ledger", "governance.jsonl", "ledger `file` to append to (created if missing)")
	allTools := fs.Bool("all-tools", false, "also record non-shell tool calls as tool records")
	agent := fs.String("agent", "main", "agent `name` for a sessions dir or file outside agents/<id>/")
	outputCap := fs.Int("output-cap", 64<<10, "`bytes` of command output kept per record (head and tail)")
	maxLine := fs.Int("max-line", scan.DefaultMaxLine, "longest transcript line read, in `bytes`; longer lines are skipped and reported")
	workers := fs.Int("workers", 0, "transcripts read in parallel (default: number of CPUs)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	progress := fs.String("progress", "auto", "progress on stderr: auto (when a terminal), always, never")
	checkpointKey := fs.String("checkpoint-key", "", "sign the checkpoint the scan ends with using this key `file` (from 'clawtrail keygen')")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `file` (for benchmarking)")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return withCode(exitUsage, err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if len(paths) == 0 {
		paths = []string{defaultSource(getenv)}
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return withCode(exitInput, fmt.Errorf("source %s: %w", p, errors.Unwrap(err)))
		}
	}
	signer, err := loadSigner(*checkpointKey)
	if err != nil {
		return err
	}
	defer tuneGC()()
	opt := scan.Options{Ledger: *ledgerPath, Sources: paths, DefaultAgent: *agent, AllTools: *allTools, OutputCap: *outputCap, MaxLine: *maxLine, Workers: *workers, Signer: signer}
	showProgress := *progress == "always" || *progress == "auto" && isTerminal(stderr)
	if showProgress {
		opt.Progress = func(p scan.Progress) { fmt.Fprintf(stderr, "\r\033[K%s", progressLine(p)) }
	}
	sum, err := scan.Run(ctx, opt)
	if showProgress {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		if errors.Is(err, ledger.ErrLocked) || errors.Is(err, ledger.ErrDamaged) || strings.Contains(err.Error(), "ledger") {
			return withCode(exitLedger, err)
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		return withCode(exitInput, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(summaryJSON(sum, *ledgerPath))
	}
	printSummary(stdout, sum, *ledgerPath)
	return nil
}

// A scan allocates in proportion to what it reads (every output is decoded, redacted
// and encoded), while what it keeps is small: the records on their way to the writer
// and each session's pairing state, 20 to 40 MB on a 1 GB corpus. The default GOGC of
// 100 collects every time that doubles, about 130 times on that corpus. Letting the
// heap grow to three times what is live halves the collections, and the soft limit
// keeps the peak under the 100 MB budget by collecting earlier when what is live
// grows. What is live grows with the ledger's index too (about 30 MB of it at a
// million records): on a 5 GB corpus a 64 MiB limit made the collector run back to
// back (48.5 s instead of 32.7 s), 72 MiB still cost 11 %, 80 MiB nothing (RSS 92 MB).
// Should more than the limit ever be live (lines of many megabytes in flight), the
// runtime collects back to back but caps that at half the CPU: slower, never stuck.
// An operator's own GOGC or GOMEMLIMIT wins.
const (
	scanGCPercent   = 200
	scanMemoryLimit = 80 << 20
)

// tuneGC applies the scan's GC settings and returns what restores the previous ones.
func tuneGC() (restore func()) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	gc := debug.SetGCPercent(scanGCPercent)
	limit := debug.SetMemoryLimit(scanMemoryLimit)
	return func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	}
}

func defaultSource(getenv func(string) string) string {
	if d := getenv("OPENCLAW_STATE_DIR"); d != "" {
		return d
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".openclaw")
	}
	return ".openclaw"
}

func progressLine(p scan.Progress) string {
	secs := p.Elapsed.Seconds()
	rate, recRate := 0.0, 0.0
	if secs > 0 {
		rate = float64(p.BytesDone) / secs
		recRate = float64(p.Records) / secs
	}
	eta := "?"
	if rate > 0 && p.Bytes >= p.BytesDone {
		eta = time.Duration(float64(p.Bytes-p.BytesDone) / rate * float64(time.Second)).Round(time.Second).String()
	}
	return fmt.Sprintf("scanning: %d/%d files, %s/%s, %s/s, %.0f records/s, ETA %s",
		p.FilesDone, p.Files, size(p.BytesDone), size(p.Bytes), size(int64(rate)), recRate, eta)
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func printSummary(w io.Writer, s *scan.Summary, ledgerPath string) {
	secs := s.Elapsed.Seconds()
	mbs := 0.0
	if secs > 0 {
		mbs = float64(s.Bytes) / secs / 1e6
	}
	fmt.Fprintf(w, "scanned %d files, %s, %d lines in %s (%.0f MB/s)\n", s.Files, size(s.Bytes), s.Lines, s.Elapsed.Round(time.Millisecond), mbs)
	if s.Repair != nil {
		fmt.Fprintf(w, "ledger repaired: %s (recorded as a notice)\n", s.Repair.Detail)
	}
	if s.IndexNote != "" {
		fmt.Fprintf(w, "note: %s\n", s.IndexNote)
	}
	fmt.Fprintf(w, "appended %d records to %s (now %d records)\n", s.Appended, ledgerPath, s.LedgerRecords)
	if c := s.Checkpoint; c != nil {
		signed := "unsigned (see --checkpoint-key)"
		if c.Note != "" {
			signed = "signed"
		}
		fmt.Fprintf(w, "  checkpoint:      seq %d, %d records, root %s, %s\n", s.CheckpointSeq, c.TreeSize, c.Root, signed)
	}
	fmt.Fprintf(w, "  execs:           %s\n", byCount(s.ExecsByOutcome))
	if len(s.UpdatesBy) > 0 {
		fmt.Fprintf(w, "  exec updates:    %s\n", byCount(s.UpdatesBy))
	}
	fmt.Fprintf(w, "  provider errors: %s\n", byCount(s.ProviderErrors))
	if len(s.Claims) > 0 {
		fmt.Fprintf(w, "  claims:          %s (see 'clawtrail show --kind claim')\n", byCount(s.Claims))
	}
	if s.Tools > 0 || s.OtherCalls > 0 {
		fmt.Fprintf(w, "  other tools:     %d calls seen, %d tool records\n", s.OtherCalls, s.Tools)
	}
	if s.Notices > 0 {
		fmt.Fprintf(w, "  notices:         %d (see 'clawtrail show --kind notice')\n", s.Notices)
	}
	if len(s.ProblemCount) > 0 {
		fmt.Fprintf(w, "problems: %s\n", byCount(s.ProblemCount))
		for _, p := range s.Problems {
			fmt.Fprintf(w, "  %s:%d: %s\n", safe(p.Path), p.Line, safe(p.Reason))
		}
		if n := total(s.ProblemCount); n > int64(len(s.Problems)) {
			fmt.Fprintf(w, "  ... and %d more\n", n-int64(len(s.Problems)))
		}
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintf(w, "skipped %d paths:\n", len(s.Skipped))
		for _, sk := range s.Skipped {
			fmt.Fprintf(w, "  %s: %s\n", safe(sk.Path), safe(sk.Reason))
		}
	}
}

func total(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func byCount(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return fmt.Sprintf("%d (%s)", total(m), strings.Join(parts, ", "))
}

func summaryJSON(s *scan.Summary, ledgerPath string) any {
	type problem struct {
		Path   string `json:"path"`
		Line   int64  `json:"line"`
		Reason string `json:"reason"`
	}
	type skipped struct {
		Path   string `json:"path"`
		Reason string `json:"reason"`
	}
	type checkpoint struct {
		Seq int64 `json:"seq"`
		*ledger.Checkpoint
	}
	out := struct {
		Ledger         string           `json:"ledger"`
		Files          int              `json:"files"`
		Bytes          int64            `json:"bytes"`
		Lines          int64            `json:"lines"`
		Seconds        float64          `json:"seconds"`
		Appended       int64            `json:"appended"`
		LedgerRecords  int64            `json:"ledger_records"`
		Execs          map[string]int64 `json:"execs"`
		ExecUpdates    map[string]int64 `json:"exec_updates"`
		ProviderErrors map[string]int64 `json:"provider_errors"`
		Tools          int64            `json:"tools"`
		Notices        int64            `json:"notices"`
		Claims         map[string]int64 `json:"claims"`
		Problems       map[string]int64 `json:"problems"`
		FirstProblems  []problem        `json:"first_problems"`
		Skipped        []skipped        `json:"skipped"`
		Repaired       string           `json:"repaired,omitempty"`
		IndexNote      string           `json:"index_note,omitempty"`
		Checkpoint     *checkpoint      `json:"checkpoint,omitempty"`
	}{IndexNote: s.IndexNote, Ledger: ledgerPath, Files: s.Files, Bytes: s.Bytes, Lines: s.Lines, Seconds: s.Elapsed.Seconds(), Appended: s.Appended,
		LedgerRecords: s.LedgerRecords, Execs: s.ExecsByOutcome, ExecUpdates: s.UpdatesBy, ProviderErrors: s.ProviderErrors,
		Tools: s.Tools, Notices: s.Notices, Claims: s.Claims, Problems: s.ProblemCount, FirstProblems: []problem{}, Skipped: []skipped{}}
	for _, p := range s.Problems {
		out.FirstProblems = append(out.FirstProblems, problem{p.Path, p.Line, p.Reason})
	}
	for _, sk := range s.Skipped {
		out.Skipped = append(out.Skipped, skipped{sk.Path, sk.Reason})
	}
	if s.Repair != nil {
		out.Repaired = s.Repair.Detail
	}
	if s.Checkpoint != nil {
		out.Checkpoint = &checkpoint{s.CheckpointSeq, s.Checkpoint}
	}
	return out
}
