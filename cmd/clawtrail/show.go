package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

const showAbout = `Prints the ledger as a table: one row per exec (with its latest outcome, folded in
from later exec_update records), provider error, notice and claim. Every
transcript-derived string is escaped, so control characters in a command cannot
rewrite your terminal. Filters combine with AND; list filters take commas.

Examples:
  clawtrail show --outcome nonzero_exit,timed_out
  clawtrail show --session 8555a0a4 --since 24h
  clawtrail show --grep 'rm -rf' --json | jq .command`

type showFilter struct {
	sessions, outcomes, verdicts, kinds, agents listFlag
	since                                       time.Time
	grep                                        string
}

type row struct {
	rec     ledger.Record
	matched bool // grep matched this record or one of its updates
	updates int
}

func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("show", "[flags] [LEDGER]", showAbout, stderr)
	var f showFilter
	fs.Var(&f.sessions, "session", "only these sessions (`id` or prefix; repeatable, comma-separated)")
	fs.Var(&f.agents, "agent", "only these `agents`")
	fs.Var(&f.outcomes, "outcome", "only execs with these `outcomes` (succeeded, nonzero_exit, timed_out, killed, not_found, denied, blocked, pending_approval, running, error, no_result)")
	fs.Var(&f.verdicts, "verdict", "only execs with these `verdicts` (executed, not_executed, unknown)")
	fs.Var(&f.kinds, "kind", "only these record `kinds` (exec, provider_error, notice, claim, source, tool, checkpoint, exec_update)")
	since := fs.String("since", "", "only records at or after `TIME` (RFC 3339, 2006-01-02, or a duration back from now like 24h)")
	fs.StringVar(&f.grep, "grep", "", "only records whose command, cwd, output or message contains `TEXT`")
	asJSON := fs.Bool("json", false, "print matching records as JSON lines (execs with their latest outcome)")
	limit := fs.Int("limit", 0, "print at most the last `N` rows (0: all)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("show takes one ledger file, got %d arguments", len(pos))
	}
	path := "governance.jsonl"
	if len(pos) == 1 {
		path = pos[0]
	}
	if *since != "" {
		t, err := parseSince(*since, time.Now())
		if err != nil {
			return usageErr("--since %q: %v", *since, err)
		}
		f.since = t
	}
	fh, err := os.Open(path)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("open ledger: %w", err))
	}
	defer fh.Close()

	var rows []*row
	execs := map[string]*row{}
	badLines := 0
	err = ledger.Read(fh, func(r *ledger.Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.Kind == ledger.KindExecUpdate && !f.kinds.has(ledger.KindExecUpdate) {
			if ex := execs[execKey(r)]; ex != nil {
				fold(ex, r, f.grep)
			}
			return nil
		}
		if !f.keep(r) {
			return nil
		}
		rw := &row{rec: *r, matched: f.grep == "" || grepRecord(r, f.grep)}
		rows = append(rows, rw)
		if r.Kind == ledger.KindExec {
			execs[execKey(r)] = rw
		}
		return nil
	}, func(line int64, err error) { badLines++ })
	if err != nil {
		return err
	}
	out := rows[:0]
	for _, rw := range rows {
		if rw.matched && f.keepOutcome(&rw.rec) {
			out = append(out, rw)
		}
	}
	if *limit > 0 && len(out) > *limit {
		out = out[len(out)-*limit:]
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		for _, rw := range out {
			if err := enc.Encode(&rw.rec); err != nil {
				return err
			}
		}
	} else {
		printTable(stdout, out, terminalWidth(stdout, os.Getenv))
	}
	if badLines > 0 {
		fmt.Fprintf(stderr, "clawtrail: %d lines of %s are not ledger records (run 'clawtrail verify %s')\n", badLines, path, path)
	}
	return nil
}

func (l listFlag) has(v string) bool {
	for _, s := range l {
		if s == v {
			return true
		}
	}
	return false
}

func (l listFlag) hasPrefixOf(v string) bool {
	for _, s := range l {
		if strings.HasPrefix(v, s) {
			return true
		}
	}
	return false
}

func (f *showFilter) keep(r *ledger.Record) bool {
	if len(f.kinds) > 0 {
		if !f.kinds.has(r.Kind) {
			return false
		}
	} else if r.Kind == ledger.KindTool || r.Kind == ledger.KindCheckpoint {
		return false
	}
	if len(f.sessions) > 0 && !f.sessions.hasPrefixOf(r.Session) {
		return false
	}
	if len(f.agents) > 0 && !f.agents.has(r.Agent) {
		return false
	}
	if !f.since.IsZero() {
		ts := r.TS
		if ts == "" {
			ts = r.RecordedAt
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || t.Before(f.since) {
			return false
		}
	}
	return true
}

// keepOutcome applies the outcome and verdict filters after updates were folded in.
func (f *showFilter) keepOutcome(r *ledger.Record) bool {
	if len(f.outcomes) == 0 && len(f.verdicts) == 0 {
		return true
	}
	if r.Kind != ledger.KindExec && r.Kind != ledger.KindExecUpdate {
		return false
	}
	return (len(f.outcomes) == 0 || f.outcomes.has(r.Outcome)) && (len(f.verdicts) == 0 || f.verdicts.has(r.Verdict))
}

func execKey(r *ledger.Record) string {
	return r.Runtime + "\x00" + r.Agent + "\x00" + r.Session + "\x00" + r.CorrelationID
}

func fold(ex *row, u *ledger.Record, grep string) {
	ex.updates++
	ex.rec.Outcome = u.Outcome
	ex.rec.Verdict = u.Verdict
	ex.rec.ExitCode = u.ExitCode
	ex.rec.Signal = u.Signal
	if u.DurationMs != nil {
		ex.rec.DurationMs = u.DurationMs
	}
	if u.EndedAt != "" {
		ex.rec.EndedAt = u.EndedAt
	}
	if u.Output != nil {
		ex.rec.Output = u.Output
	}
	if grep != "" && grepRecord(u, grep) {
		ex.matched = true
	}
}

func grepRecord(r *ledger.Record, s string) bool {
	if strings.Contains(r.Command, s) || strings.Contains(r.Cwd, s) || strings.Contains(r.Message, s) ||
		strings.Contains(r.Detail, s) || strings.Contains(r.ClaimedCommand, s) || strings.Contains(r.Excerpt, s) {
		return true
	}
	return r.Output != nil && strings.Contains(r.Output.Text, s)
}

func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time (RFC 3339 or 2006-01-02) or a duration (24h)")
}

func printTable(w io.Writer, rows []*row, width int) {
	header := []string{"SEQ", "TIME (UTC)", "AGENT", "SESSION", "OUTCOME", "EXIT", "DURATION", "COMMAND / DETAIL"}
	cells := make([][]string, 0, len(rows)+1)
	cells = append(cells, header)
	for _, rw := range rows {
		cells = append(cells, rowCells(rw))
	}
	n := len(header)
	widths := make([]int, n)
	for _, c := range cells {
		for i := 0; i < n-1; i++ {
			if l := len([]rune(c[i])); l > widths[i] {
				widths[i] = l
			}
		}
	}
	used := 0
	for i := 0; i < n-1; i++ {
		used += widths[i] + 2
	}
	last := 0
	if width > 0 {
		last = width - used
		if last < 20 {
			last = 20
		}
	}
	var b strings.Builder
	for _, c := range cells {
		b.Reset()
		for i := 0; i < n-1; i++ {
			b.WriteString(c[i])
			b.WriteString(strings.Repeat(" ", widths[i]-len([]rune(c[i]))+2))
		}
		b.WriteString(fit(c[n-1], last))
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "(no matching records)")
	}
}

func rowCells(rw *row) []string {
	r := &rw.rec
	ts := r.TS
	if ts == "" {
		ts = r.RecordedAt
	}
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		ts = t.UTC().Format("2006-01-02 15:04:05")
	}
	session := r.Session
	if len(session) > 8 {
		session = session[:8]
	}
	exit, dur, outcome, detail := "", "", r.Kind, ""
	switch r.Kind {
	case ledger.KindExec:
		outcome = r.Outcome
		if rw.updates > 0 {
			outcome += "*"
		}
		if r.ExitCode != nil {
			exit = strconv.Itoa(*r.ExitCode)
		} else if r.Signal != "" {
			exit = r.Signal
		}
		if r.DurationMs != nil {
			dur = (time.Duration(*r.DurationMs) * time.Millisecond).String()
		}
		detail = r.Command
		if r.Background {
			detail = "[bg] " + detail
		}
	case ledger.KindExecUpdate:
		outcome = "↳ " + r.Outcome
		if r.ExitCode != nil {
			exit = strconv.Itoa(*r.ExitCode)
		}
		detail = "update of " + r.CorrelationID
	case ledger.KindProviderError:
		outcome = "provider:" + r.Class
		detail = fmt.Sprintf("%s/%s: %s — %s", r.Provider, r.Model, r.Message, r.Hint)
	case ledger.KindNotice:
		outcome = "notice:" + r.Reason
		detail = r.Detail
	case ledger.KindClaim:
		outcome = "claim:" + r.Reason
		detail = r.ClaimedCommand + " — " + r.Excerpt
	case ledger.KindSource:
		outcome = "source:" + r.Type
		detail = r.Path + ": " + r.Detail
	case ledger.KindTool:
		outcome = r.Outcome
		detail = "tool " + r.Tool
	case ledger.KindCheckpoint:
		detail = fmt.Sprintf("%d records before it, root %.16s…", r.TreeSize, r.Root)
		if r.Note != "" {
			detail += ", signed" // verify --key says by whom, and whether it holds
		}
	}
	return []string{strconv.FormatInt(r.Seq, 10), ts, safe(r.Agent), safe(session), outcome, safe(exit), dur, safe(detail)}
}
