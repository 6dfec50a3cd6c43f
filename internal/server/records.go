package server

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"time"
	"unicode/utf8"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// record is a ledger line decoded for display: the union record, with the OS
// witness kept as raw JSON so that members newer than this reader are shown too.
type record struct {
	ledger.Record
	Witness json.RawMessage `json:"witness,omitempty"`
}

func decodeRecord(line []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("decode ledger record: %w", err)
	}
	return &r, nil
}

// readRecord reads and decodes the record of a row, checking that the file still
// holds it there.
func readRecord(f *os.File, r row, seq int64) (*record, []byte, error) {
	line, err := readLine(f, r.off, r.size)
	if err != nil {
		return nil, nil, err
	}
	rec, err := decodeRecord(line)
	if err != nil {
		return nil, nil, err
	}
	if rec.Seq != seq {
		return nil, nil, fmt.Errorf("read ledger at %d: found seq %d, want %d: %w", r.off, rec.Seq, seq, errChanged)
	}
	return rec, line, nil
}

// Output is a command's output as the API shows it; Text only in single-record views.
type Output struct {
	Text      string `json:"text,omitempty"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	Truncated bool   `json:"truncated"`
}

// Execution is one row of the executions view and API: an exec with its latest
// exec_update folded in, or a claim (a command the agent said it ran, with no call).
type Execution struct {
	Seq           int64            `json:"seq"`
	Kind          string           `json:"kind"`
	Provenance    string           `json:"provenance"`
	Badge         string           `json:"badge"`
	TS            string           `json:"ts"`
	RecordedAt    string           `json:"recorded_at"`
	Runtime       string           `json:"runtime"`
	Agent         string           `json:"agent"`
	Session       string           `json:"session"`
	CorrelationID string           `json:"correlation_id,omitempty"`
	EntryID       string           `json:"entry_id,omitempty"`
	Tool          string           `json:"tool,omitempty"`
	Command       string           `json:"command"`
	Cwd           string           `json:"cwd,omitempty"`
	Host          string           `json:"host,omitempty"`
	Background    bool             `json:"background,omitempty"`
	Outcome       string           `json:"outcome,omitempty"`
	Verdict       string           `json:"verdict,omitempty"`
	ExitCode      *int             `json:"exit_code"`
	Signal        string           `json:"signal,omitempty"`
	DurationMs    *int64           `json:"duration_ms"`
	StartedAt     string           `json:"started_at,omitempty"`
	EndedAt       string           `json:"ended_at,omitempty"`
	Output        *Output          `json:"output,omitempty"`
	Witness       json.RawMessage  `json:"witness,omitempty"`
	Findings      []ledger.Finding `json:"findings,omitempty"`
	Excerpt       string           `json:"excerpt,omitempty"`
	Reason        string           `json:"reason,omitempty"`
	Source        *ledger.Source   `json:"source,omitempty"`
	UpdateSeq     int64            `json:"update_seq,omitempty"`
	Hash          string           `json:"hash"`
	Unverified    bool             `json:"unverified,omitempty"`

	// What the page shows, computed once here so the server's rows and the ones the
	// script adds live look the same.
	TimeDisplay    string `json:"time_display"`
	CommandDisplay string `json:"command_display"`
	SessionURL     string `json:"session_url,omitempty"` // the session's timeline
}

// WitnessStatus is the witness's status, or "".
func (e *Execution) WitnessStatus() string {
	var w struct {
		Status string `json:"status"`
	}
	if len(e.Witness) > 0 && json.Unmarshal(e.Witness, &w) == nil {
		return w.Status
	}
	return ""
}

// sessionPath is the session timeline's path, or "" for records outside a session.
func sessionPath(agent, session string) string {
	if agent == "" || session == "" {
		return ""
	}
	return "/session/" + url.PathEscape(agent) + "/" + url.PathEscape(session)
}

// execution builds the view of a hit: the record read by offset, its latest update
// folded in, the badge from the folded row.
func execution(f *os.File, h hit, withText bool) (*Execution, *record, error) {
	rec, _, err := readRecord(f, h.r, h.seq)
	if err != nil {
		return nil, nil, err
	}
	e := &Execution{Seq: rec.Seq, Kind: rec.Kind, TS: rec.TS, RecordedAt: rec.RecordedAt, Runtime: rec.Runtime, Agent: rec.Agent,
		Session: rec.Session, CorrelationID: rec.CorrelationID, EntryID: rec.EntryID, Tool: rec.Tool, Command: rec.Command,
		Cwd: rec.Cwd, Host: rec.Host, Background: rec.Background, Outcome: rec.Outcome, Verdict: rec.Verdict, ExitCode: rec.ExitCode,
		Signal: rec.Signal, DurationMs: rec.DurationMs, StartedAt: rec.StartedAt, EndedAt: rec.EndedAt, Witness: rec.Witness,
		Findings: rec.Findings, Source: rec.Source, Hash: rec.Hash, Unverified: h.r.flags&flagUnverified != 0}
	if rec.Kind == ledger.KindClaim {
		e.Command, e.Excerpt, e.Reason = rec.ClaimedCommand, rec.Excerpt, rec.Reason
	}
	if rec.Output != nil {
		e.Output = outputView(rec.Output, withText)
	}
	if h.updSeq != 0 {
		u, _, err := readRecord(f, h.upd, h.updSeq)
		if err != nil {
			return nil, nil, err
		}
		e.UpdateSeq = u.Seq
		e.Outcome, e.Verdict, e.ExitCode, e.Signal, e.DurationMs = u.Outcome, u.Verdict, u.ExitCode, u.Signal, u.DurationMs
		if u.EndedAt != "" {
			e.EndedAt = u.EndedAt
		}
		if u.Output != nil {
			e.Output = outputView(u.Output, withText)
		}
		if u.Source != nil {
			e.Source = u.Source
		}
		if h.upd.flags&flagUnverified != 0 {
			e.Unverified = true
		}
	}
	p := provenance(h.r.kind, h.r.outcome, h.r.verdict, h.r.flags&flagWitnessed != 0)
	e.Provenance, e.Badge = p.Key, p.Label
	e.TimeDisplay = displayTime(rec.TS, rec.RecordedAt)
	e.CommandDisplay = clip(e.Command, 300)
	e.SessionURL = sessionPath(e.Agent, e.Session)
	return e, rec, nil
}

func outputView(o *ledger.Output, withText bool) *Output {
	v := &Output{Bytes: o.Bytes, SHA256: o.SHA256, Truncated: o.Truncated}
	if withText {
		v.Text = o.Text
	}
	return v
}

// displayTime shows when the call was made (else when it was recorded) in UTC to the
// second; the full value is in the detail view.
func displayTime(ts, recordedAt string) string {
	for _, s := range [2]string{ts, recordedAt} {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Format("2006-01-02 15:04:05")
		}
	}
	return ""
}

// clip shortens s to n runes for a table cell, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, c := 0, 0
	for i = range s {
		if c == n {
			break
		}
		c++
	}
	return s[:i] + "…"
}
