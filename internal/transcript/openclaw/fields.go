package openclaw

import (
	"bytes"
	"encoding/json"

	"github.com/clawtrail/clawtrail/internal/jsonscan"
)

// The parse functions fill the line structs from raw JSON with jsonscan, reading each
// byte of a large output once; fields_test.go checks them against encoding/json on
// the same structs. A member of an unexpected type is left at its zero value, as
// encoding/json does.

func str(dst *string, v []byte) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		if s, ok := vocabulary(v[1 : len(v)-1]); ok {
			*dst = s
			return
		}
	}
	if s, ok := jsonscan.String(v); ok {
		*dst = s
	}
}

// vocabulary returns the format's own words (entry types, roles, block types, tool
// names, statuses) as constants: they are most of the string members of every line,
// and allocating each anew was a tenth of the decoding. A switch on string(b) does
// not allocate. Escaped spellings do not match and are decoded as usual.
func vocabulary(b []byte) (string, bool) {
	switch string(b) {
	case "message":
		return "message", true
	case "session":
		return "session", true
	case "custom":
		return "custom", true
	case "toolResult":
		return "toolResult", true
	case "assistant":
		return "assistant", true
	case "user":
		return "user", true
	case "text":
		return "text", true
	case "toolCall":
		return "toolCall", true
	case "thinking":
		return "thinking", true
	case "exec":
		return "exec", true
	case "bash":
		return "bash", true
	case "process":
		return "process", true
	case "stop":
		return "stop", true
	case "toolUse":
		return "toolUse", true
	case "error":
		return "error", true
	case "completed":
		return "completed", true
	case "failed":
		return "failed", true
	case "running":
		return "running", true
	case "openclaw":
		return "openclaw", true
	case "":
		return "", true
	}
	return "", false
}

func num(v []byte) *float64 {
	if f, ok := jsonscan.Float(v); ok {
		return &f
	}
	return nil
}

// plainMillis reads a timestamp written as OpenClaw writes it, a plain integer of
// milliseconds, without the float parse that validating any JSON number takes.
func plainMillis(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 || len(v) > 1 && v[0] == '0' {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// millis is message.timestamp in Unix milliseconds, when it is an integer.
func (m *message) millis() (int64, bool) {
	if m.msOK {
		return m.ms, true
	}
	ms, err := m.Timestamp.Int64()
	return ms, err == nil
}

// skipStr reads a string member in place.
func skipStr(dst *string, rest []byte) (int, error) {
	n, err := jsonscan.Skip(rest)
	if err == nil {
		str(dst, rest[:n])
	}
	return n, err
}

// parseLineInto reads a transcript line, its message into m, and ok says whether
// there was one; l.Message stays nil. Decode keeps m on its stack (a
// pointer to it in l would let it escape with l): a message allocated per line was
// most of the decoder's allocation after the outputs themselves.
func parseLineInto(raw []byte, m *message) (l line, ok bool, err error) {
	end, err := jsonscan.ObjectPrefix(raw, func(k, rest []byte) (int, error) {
		switch string(k) {
		case "type":
			return skipStr(&l.Type, rest)
		case "id":
			return skipStr(&l.ID, rest)
		case "timestamp":
			return skipStr(&l.Timestamp, rest)
		case "cwd":
			return skipStr(&l.Cwd, rest)
		case "message":
			// Parsed in place: the message holds almost all of a line's bytes.
			found, n, err := parseMessagePrefix(rest, m)
			ok = found
			return n, err
		case "customType":
			return skipStr(&l.CustomType, rest)
		case "data":
			n, err := jsonscan.Skip(rest)
			if err == nil {
				l.Data = json.RawMessage(rest[:n])
			}
			return n, err
		case "parentSession":
			return skipStr(&l.ParentSession, rest)
		}
		return jsonscan.Skip(rest)
	})
	if err == nil {
		err = jsonscan.Trailing(raw, end)
	}
	return l, ok, err
}

// parseMessagePrefix parses the message object at the start of rest into m, which
// it resets first, and reports whether there was one (null or another type is
// skipped). Content and details are decoded in the same pass when the role is
// already known (OpenClaw writes role first); otherwise they are kept raw and
// decoded on demand.
func parseMessagePrefix(rest []byte, m *message) (bool, int, error) {
	if len(rest) == 0 || rest[0] != '{' {
		n, err := jsonscan.Skip(rest)
		return false, n, err
	}
	*m = message{}
	// text is the raw JSON string of a tool result's only text block, which
	// details.aggregated usually repeats byte for byte.
	var text []byte
	n, err := jsonscan.ObjectPrefix(rest, func(k, rest []byte) (int, error) {
		switch string(k) {
		case "role":
			return skipStr(&m.Role, rest)
		case "content":
			var n int
			var err error
			switch {
			case m.Role == "toolResult" && len(rest) > 0 && rest[0] == '[':
				m.text, text, n, err = contentTextPrefix(rest)
				m.textOK = err == nil
			case m.Role == "assistant" && len(rest) > 0 && rest[0] == '[':
				m.blocks, n, err = blocksPrefix(rest)
				m.blocksOK = err == nil
			default:
				n, err = jsonscan.Skip(rest)
			}
			if err == nil {
				m.Content = json.RawMessage(rest[:n])
			}
			return n, err
		case "toolCallId":
			return skipStr(&m.ToolCallID, rest)
		case "toolName":
			return skipStr(&m.ToolName, rest)
		case "details":
			if m.Role == "toolResult" && len(rest) > 0 && rest[0] == '{' {
				// In place: details repeat the whole output (aggregated), and reading
				// them again afterwards skipped it a second time.
				d, n, err := detailsPrefix(rest, text)
				if err == nil {
					m.Details = json.RawMessage(rest[:n])
					m.details, m.detailsOK = d, true
				}
				return n, err
			}
			n, err := jsonscan.Skip(rest)
			if err == nil {
				m.Details = json.RawMessage(rest[:n])
				m.detailsOK = false
			}
			return n, err
		case "isError":
			n, err := jsonscan.Skip(rest)
			if err == nil {
				m.IsError = jsonscan.Bool(rest[:n])
			}
			return n, err
		case "stopReason":
			return skipStr(&m.StopReason, rest)
		case "errorMessage":
			return skipStr(&m.ErrorMessage, rest)
		case "provider":
			return skipStr(&m.Provider, rest)
		case "model":
			return skipStr(&m.Model, rest)
		case "timestamp":
			n, err := jsonscan.Skip(rest)
			if err == nil {
				if m.ms, m.msOK = plainMillis(rest[:n]); !m.msOK {
					if _, ok := jsonscan.Float(rest[:n]); ok {
						m.Timestamp = json.Number(rest[:n])
					}
				}
			}
			return n, err
		}
		return jsonscan.Skip(rest)
	})
	return true, n, err
}

// contentTextPrefix is contentText for an array at the start of rest, in place. When
// the array holds exactly one text block, raw is that block's text as written (a JSON
// string, quotes included).
func contentTextPrefix(rest []byte) (text string, raw []byte, n int, err error) {
	var texts [][]byte
	n, err = jsonscan.ArrayPrefix(rest, func(rest []byte) (int, error) {
		if len(rest) == 0 || rest[0] != '{' {
			return jsonscan.Skip(rest)
		}
		var typ, text []byte
		n, err := jsonscan.ObjectPrefix(rest, func(k, rest []byte) (int, error) {
			n, err := jsonscan.Skip(rest)
			if err == nil {
				switch string(k) {
				case "type":
					typ = rest[:n]
				case "text":
					text = rest[:n]
				}
			}
			return n, err
		})
		if err == nil && string(typ) == `"text"` && text != nil {
			texts = append(texts, text)
		}
		return n, err
	})
	if err != nil {
		return "", nil, n, err
	}
	if len(texts) == 1 {
		raw = texts[0]
	}
	return joinTexts(texts), raw, n, nil
}

func joinTexts(texts [][]byte) string {
	if len(texts) == 1 {
		s, _ := jsonscan.String(texts[0])
		return s
	}
	var buf []byte
	for i, t := range texts {
		if i > 0 {
			buf = append(buf, '\n')
		}
		buf, _ = jsonscan.AppendString(buf, t)
	}
	return string(buf)
}

// blocksPrefix reads assistant content blocks in place.
func blocksPrefix(rest []byte) ([]block, int, error) {
	var blocks []block
	n, err := jsonscan.ArrayPrefix(rest, func(rest []byte) (int, error) {
		var b block
		var n int
		var err error
		if len(rest) > 0 && rest[0] == '{' {
			n, err = jsonscan.ObjectPrefix(rest, func(k, rest []byte) (int, error) {
				switch string(k) {
				case "type":
					return skipStr(&b.Type, rest)
				case "text":
					return skipStr(&b.Text, rest)
				case "id":
					return skipStr(&b.ID, rest)
				case "name":
					return skipStr(&b.Name, rest)
				case "arguments":
					n, err := jsonscan.Skip(rest)
					if err == nil {
						b.Arguments = json.RawMessage(rest[:n])
					}
					return n, err
				}
				return jsonscan.Skip(rest)
			})
		} else {
			n, err = jsonscan.Skip(rest)
		}
		blocks = append(blocks, b)
		return n, err
	})
	return blocks, n, err
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
		d.member(k, v)
		return nil
	})
	return d, err
}

// detailsPrefix is parseDetails for the object at the start of rest, in place. It
// accepts what jsonscan.Skip accepts there, with the same length, and then gives
// what parseDetails gives for those bytes. text, if not nil, is a JSON string read
// before (the content's text): an aggregated member that starts with the same bytes
// is that same string, and comparing is much cheaper than looking for its end again
// through every escaped quote of a command's output.
func detailsPrefix(rest, text []byte) (details, int, error) {
	var d details
	n, err := jsonscan.ObjectPrefix(rest, func(k, rest []byte) (int, error) {
		if text != nil && string(k) == "aggregated" && bytes.HasPrefix(rest, text) {
			return len(text), nil
		}
		n, err := jsonscan.SkipMember(rest)
		if err == nil {
			d.member(k, rest[:n])
		}
		return n, err
	})
	return d, n, err
}

// member reads one member of details.
func (d *details) member(k, v []byte) {
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
		return joinTexts(texts), err
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
