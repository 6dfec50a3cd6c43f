// Package openclaw decodes OpenClaw session transcripts (pi session format v1-v3, the
// JSONL era up to OpenClaw 2026.7.x) into runtime-neutral events.
//
// Everything version-specific lives here: which tool calls are real shell executions,
// how an exec result's outcome is derived across the releases that changed the meaning
// of details.status and isError, how backgrounded and approval-gated execs are settled
// later, and which assistant messages are failed model calls. The rules follow
// shared/reference/openclaw-transcripts.md, sections 6 to 11.
package openclaw

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/clawtrail/clawtrail/internal/event"
	"github.com/clawtrail/clawtrail/internal/jsonscan"
)

// Runtime is the ledger's name for this adapter's runtime.
const Runtime = "openclaw"

// ErrNotJSON marks a line that is not a JSON object; the caller counts it and goes on.
var ErrNotJSON = errors.New("not a JSON object")

type line struct {
	Type          string          `json:"type"`
	ID            string          `json:"id"`
	Timestamp     string          `json:"timestamp"`
	Cwd           string          `json:"cwd"`
	Message       *message        `json:"message"`
	CustomType    string          `json:"customType"`
	Data          json.RawMessage `json:"data"`
	ParentSession string          `json:"parentSession"`
}

type message struct {
	Role         string          `json:"role"`
	Content      json.RawMessage `json:"content"`
	ToolCallID   string          `json:"toolCallId"`
	ToolName     string          `json:"toolName"`
	Details      json.RawMessage `json:"details"`
	IsError      bool            `json:"isError"`
	StopReason   string          `json:"stopReason"`
	ErrorMessage string          `json:"errorMessage"`
	Provider     string          `json:"provider"`
	Model        string          `json:"model"`
	Timestamp    json.Number     `json:"timestamp"` // only when not a plain integer (ms, msOK)
	ms           int64
	msOK         bool

	// Decoded in the same pass as the line when the role came first.
	text     string
	textOK   bool
	blocks   []block
	blocksOK bool
	// details of a tool result, read in the same pass; detailsOK says they are
	// parseDetails(Details).
	details   details
	detailsOK bool
}

type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

type execArgs struct {
	Command    json.RawMessage `json:"command"`
	Workdir    string          `json:"workdir"`
	Host       string          `json:"host"`
	Background bool            `json:"background"`
}

// Decode appends the events of one transcript line to evs. pos is the line's position;
// a line that carries nothing for the audit yields no events and no error. A line that
// is not JSON yields ErrNotJSON; a line that is JSON but has fields of unexpected types
// still yields what could be read, with a non-nil error describing the mismatch.
func Decode(evs []event.Event, raw []byte, pos event.Position) ([]event.Event, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return evs, ErrNotJSON
	}
	var m message
	l, hasMessage, err := parseLineInto(raw, &m)
	if err != nil {
		return evs, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	var softErr error
	base := event.Event{EntryID: l.ID, Pos: pos, Time: parseTime(l.Timestamp)}
	if base.EntryID == "" {
		// pi v1 entries have no id; a digest of the line keeps re-reads of the same
		// line recognisable while two different lines stay apart.
		sum := sha256.Sum256(raw)
		base.EntryID = "~" + hex.EncodeToString(sum[:6])
	}
	switch l.Type {
	case "session":
		ev := base
		ev.Kind = event.Header
		ev.SessionID = l.ID
		ev.Cwd = l.Cwd
		return append(evs, ev), softErr
	case "message":
		if !hasMessage {
			return evs, softErr
		}
		evs, err := decodeMessage(evs, base, &m)
		return evs, errors.Join(softErr, err)
	case "custom":
		if l.CustomType == "openclaw:prompt-error" {
			var d struct{ Provider, Model, Error string }
			jsonscan.Object(l.Data, func(k, v []byte) error {
				switch string(k) {
				case "provider":
					str(&d.Provider, v)
				case "model":
					str(&d.Model, v)
				case "error":
					str(&d.Error, v)
				}
				return nil
			})
			if d.Error != "" {
				ev := base
				ev.Kind = event.ProviderError
				ev.Provider = &event.ProviderFailure{Provider: d.Provider, Model: d.Model, Message: d.Error}
				return append(evs, ev), softErr
			}
		}
	}
	// model_change, thinking_level_change, compaction, branch_summary, custom_message,
	// label, session_info, leaf, reset and types not invented yet carry no execution.
	return evs, softErr
}

func decodeMessage(evs []event.Event, base event.Event, m *message) ([]event.Event, error) {
	if ms, ok := m.millis(); ok && ms > 0 {
		// message.timestamp is when the message was created; prefer it for results,
		// whose entry timestamp is the (later) write time.
		if base.Time.IsZero() {
			base.Time = time.UnixMilli(ms).UTC()
		}
	}
	switch m.Role {
	case "assistant":
		return decodeAssistant(evs, base, m)
	case "toolResult":
		ev := base
		ev.Kind = event.ToolResult
		r, err := decodeResult(m)
		ev.Result = r
		return append(evs, ev), err
	case "user":
		text, _ := contentText(m.Content)
		for _, rs := range resolutionsInText(text) {
			ev := base
			ev.Kind = event.Resolution
			ev.Resolve = rs
			evs = append(evs, ev)
		}
		return evs, nil
	}
	return evs, nil
}

func decodeAssistant(evs []event.Event, base event.Event, m *message) ([]event.Event, error) {
	if m.StopReason == "error" {
		ev := base
		ev.Kind = event.ProviderError
		msg := m.ErrorMessage
		if msg == "" {
			msg, _ = contentText(m.Content)
		}
		ev.Provider = &event.ProviderFailure{Provider: m.Provider, Model: m.Model, Message: msg}
		evs = append(evs, ev)
	}
	blocks := m.blocks
	if !m.blocksOK && len(m.Content) > 0 && m.Content[0] == '[' {
		var err error
		if blocks, err = parseBlocks(m.Content); err != nil {
			return evs, fmt.Errorf("assistant content: %w", err)
		}
	}
	if m.Provider == "openclaw" && m.Model == "gateway-injected" {
		// The gateway writes its own failures as assistant text; the model never ran.
		for _, b := range blocks {
			if b.Type == "text" && strings.Contains(b.Text, "Agent failed before reply:") {
				ev := base
				ev.Kind = event.ProviderError
				_, after, _ := strings.Cut(b.Text, "Agent failed before reply:")
				ev.Provider = &event.ProviderFailure{Provider: m.Provider, Model: m.Model, Message: strings.TrimSpace(after)}
				evs = append(evs, ev)
			}
		}
		return evs, nil
	}
	var errs []error
	var prose []string
	var shell []string
	for _, b := range blocks {
		if b.Type == "text" && b.Text != "" {
			prose = append(prose, b.Text)
			continue
		}
		if b.Type != "toolCall" || b.ID == "" {
			continue
		}
		c := &event.Call{ID: b.ID, Name: b.Name}
		if isShellName(b.Name) {
			a := parseExecArgs(b.Arguments)
			// Code Mode also names its tool exec, with {code}; only a string command is
			// a shell execution.
			if cmd, ok := jsonscan.String(a.Command); ok {
				c.Command = cmd
				c.Shell = true
				c.Workdir = a.Workdir
				c.Host = a.Host
				c.Background = a.Background
			}
		}
		if c.Shell {
			shell = append(shell, c.Command)
		}
		ev := base
		ev.Kind = event.ToolCall
		ev.Call = c
		evs = append(evs, ev)
	}
	if len(prose) > 0 && m.Provider != "openclaw" {
		// delivery-mirror copies are OpenClaw's, not the model's words.
		ev := base
		ev.Kind = event.AssistantText
		ev.Prose = &event.Prose{Text: strings.Join(prose, "\n"), Calls: shell}
		evs = append(evs, ev)
	}
	return evs, errors.Join(errs...)
}

func isShellName(name string) bool { return name == "exec" || name == "bash" }

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
