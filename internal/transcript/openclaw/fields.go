package openclaw

import (
	"encoding/json"

	"github.com/clawtrail/clawtrail/internal/jsonscan"
)

// The parse functions fill the line structs from raw JSON with jsonscan, reading each
// byte of a large output once; fields_test.go checks them against encoding/json on
// the same structs. A member of an unexpected type is left at its zero value, as
// encoding/json does.

func str(dst *string, v []byte) {
	if s, ok := jsonscan.String(v); ok {
		*dst = s
	}
}

func num(v []byte) *float64 {
	if f, ok := jsonscan.Float(v); ok {
		return &f
	}
	return nil
}

func parseLine(raw []byte) (line, error) {
	var l line
	err := jsonscan.Object(raw, func(k, v []byte) error {
		switch string(k) {
		case "type":
			str(&l.Type, v)
		case "id":
			str(&l.ID, v)
		case "timestamp":
			str(&l.Timestamp, v)
		case "cwd":
			str(&l.Cwd, v)
		case "message":
			l.Message = parseMessage(v)
		case "customType":
			str(&l.CustomType, v)
		case "data":
			l.Data = json.RawMessage(v)
		case "parentSession":
			str(&l.ParentSession, v)
		}
		return nil
	})
	return l, err
}

func parseMessage(raw []byte) *message {
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	m := &message{}
	jsonscan.Object(raw, func(k, v []byte) error {
		switch string(k) {
		case "role":
			str(&m.Role, v)
		case "content":
			m.Content = json.RawMessage(v)
		case "toolCallId":
			str(&m.ToolCallID, v)
		case "toolName":
			str(&m.ToolName, v)
		case "details":
			m.Details = json.RawMessage(v)
		case "isError":
			m.IsError = jsonscan.Bool(v)
		case "stopReason":
			str(&m.StopReason, v)
		case "errorMessage":
			str(&m.ErrorMessage, v)
		case "provider":
			str(&m.Provider, v)
		case "model":
			str(&m.Model, v)
		case "timestamp":
			if _, ok := jsonscan.Float(v); ok {
				m.Timestamp = json.Number(v)
			}
		}
		return nil
	})
	return m
}

// parseBlocks reads a content array; textOnly skips everything but text blocks'
// type and text (tool results), so tool-call arguments are not looked at.
func parseBlocks(raw []byte) ([]block, error) {
	var blocks []block
	err := jsonscan.Array(raw, func(v []byte) error {
		var b block
		if len(v) > 0 && v[0] == '{' {
			jsonscan.Object(v, func(k, v []byte) error {
				switch string(k) {
				case "type":
					str(&b.Type, v)
				case "text":
					str(&b.Text, v)
				case "id":
					str(&b.ID, v)
				case "name":
					str(&b.Name, v)
				case "arguments":
					b.Arguments = json.RawMessage(v)
				}
				return nil
			})
		}
		blocks = append(blocks, b)
		return nil
	})
	return blocks, err
}

func parseExecArgs(raw []byte) execArgs {
	var a execArgs
	jsonscan.Object(raw, func(k, v []byte) error {
		switch string(k) {
		case "command":
			a.Command = json.RawMessage(v)
		case "workdir":
			str(&a.Workdir, v)
		case "host":
			str(&a.Host, v)
		case "background":
			a.Background = jsonscan.Bool(v)
		}
		return nil
	})
	return a
}

func parseDetails(raw []byte) (details, error) {
	var d details
	err := jsonscan.Object(raw, func(k, v []byte) error {
		switch string(k) {
		case "status":
			str(&d.Status, v)
		case "exitCode":
			d.ExitCode = num(v)
		case "exitSignal":
			d.ExitSignal = json.RawMessage(v)
		case "durationMs":
			d.DurationMs = num(v)
		case "timedOut":
			d.TimedOut = jsonscan.Bool(v)
		case "failureKind":
			str(&d.FailureKind, v)
		case "cwd":
			str(&d.Cwd, v)
		case "sessionId":
			str(&d.SessionID, v)
		case "approvalId":
			str(&d.ApprovalID, v)
		case "approvalSlug":
			str(&d.ApprovalSlug, v)
		case "error":
			str(&d.Error, v)
		case "deniedReason":
			str(&d.DeniedReason, v)
		case "reason":
			str(&d.Reason, v)
		case "persistedDetailsTruncated":
			d.Truncated = jsonscan.Bool(v)
		}
		return nil
	})
	return d, err
}

// contentText joins the text blocks of a content value, which is either a string
// (user messages in 2026.7.x) or an array of blocks.
func contentText(raw []byte) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	switch raw[0] {
	case '"':
		s, _ := jsonscan.String(raw)
		return s, nil
	case '[':
		var texts [][]byte
		err := jsonscan.Array(raw, func(v []byte) error {
			if len(v) == 0 || v[0] != '{' {
				return nil
			}
			var typ, text []byte
			jsonscan.Object(v, func(k, v []byte) error {
				switch string(k) {
				case "type":
					typ = v
				case "text":
					text = v
				}
				return nil
			})
			if string(typ) == `"text"` && text != nil {
				texts = append(texts, text)
			}
			return nil
		})
		if len(texts) == 1 {
			s, _ := jsonscan.String(texts[0])
			return s, err
		}
		var buf []byte
		for i, t := range texts {
			if i > 0 {
				buf = append(buf, '\n')
			}
			buf, _ = jsonscan.AppendString(buf, t)
		}
		return string(buf), err
	}
	return "", nil
}

func signalOf(raw []byte) string {
	if jsonscan.IsNull(raw) {
		return ""
	}
	if s, ok := jsonscan.String(raw); ok {
		return s
	}
	if f, ok := jsonscan.Float(raw); ok && f != 0 {
		return formatInt(int(f))
	}
	return ""
}
