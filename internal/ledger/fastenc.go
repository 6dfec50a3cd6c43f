package ledger

import (
	"bytes"
	"encoding/json"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// The exec and exec_update bodies are most of a ledger's bytes, and their output
// text most of those: they are encoded here by hand instead of by reflection. The
// bytes are exactly what encoding/json (HTML escaping off) produces for the same
// structs; fastenc_test.go holds the two to each other.

// safeASCII marks the bytes a JSON string can carry as they are.
var safeASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

const (
	lsb = 0x0101010101010101 // the lowest bit of each byte
	msb = 0x8080808080808080 // the highest bit of each byte
)

// load64 reads s[i:i+8] as a little-endian word; the compiler turns it into one load.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// unsafeBytes flags the bytes of w that are not safeASCII: a control byte (< 0x20),
// non-ASCII (>= 0x80), '"' or '\\'. It is 0 exactly when all eight are safe, and its
// lowest set bit is always in the first unsafe byte: a borrow in "some byte is
// zero / below n" only starts at a byte that really is, and can only run upwards,
// so it may flag bytes after the first unsafe one but never a byte before it.
func unsafeBytes(w uint64) uint64 {
	hasZero := func(x uint64) uint64 { return (x - lsb) &^ x & msb }
	bad := (w - 0x20*lsb) &^ w & msb // a byte below 0x20
	bad |= w & msb                   // a byte >= 0x80
	bad |= hasZero(w ^ '"'*lsb)
	bad |= hasZero(w ^ '\\'*lsb)
	return bad
}

// appendString appends s as a JSON string, escaped as encoding/json does with HTML
// escaping off: \" \\ \b \f \n \r \t, other controls as \u00XX, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 as \u2028 and \u2029.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Output text is mostly runs of plain ASCII between newlines: test eight
		// bytes at a time and fall back to the byte loop only for a word that holds
		// something to escape or a multi-byte rune.
		if i+8 <= len(s) {
			bad := unsafeBytes(load64(s, i))
			if bad == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(bad) >> 3 // straight to the byte that needs a look
		}
		c := s[i]
		if safeASCII[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendIntPtr(dst []byte, v *int) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendInt(dst, int64(*v), 10)
}

func appendInt64Ptr(dst []byte, v *int64) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendInt(dst, *v, 10)
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}

func appendOutput(dst []byte, o *Output) []byte {
	if o == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"text":`...)
	dst = appendString(dst, o.Text)
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, o.Bytes, 10)
	dst = append(dst, `,"sha256":`...)
	dst = appendString(dst, o.SHA256)
	dst = append(dst, `,"truncated":`...)
	dst = appendBool(dst, o.Truncated)
	return append(dst, '}')
}

func appendSource(dst []byte, s *Source) []byte {
	dst = append(dst, `{"path":`...)
	dst = appendString(dst, s.Path)
	dst = append(dst, `,"line":`...)
	dst = strconv.AppendInt(dst, s.Line, 10)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, s.Offset, 10)
	dst = append(dst, `,"entry_id":`...)
	dst = appendString(dst, s.EntryID)
	return append(dst, '}')
}

// appendIdentity opens an exec or exec_update body with the members that identify
// the exec, in their canonical order.
func appendIdentity(dst []byte, ts, runtime, agent, session, correlationID string) []byte {
	dst = append(dst, `{"ts":`...)
	dst = appendString(dst, ts)
	dst = append(dst, `,"runtime":`...)
	dst = appendString(dst, runtime)
	dst = append(dst, `,"agent":`...)
	dst = appendString(dst, agent)
	dst = append(dst, `,"session":`...)
	dst = appendString(dst, session)
	dst = append(dst, `,"correlation_id":`...)
	return appendString(dst, correlationID)
}

// appendEnd appends how an exec ended, as exec and exec_update both say it.
func appendEnd(dst []byte, outcome string, exitCode *int, signal string, durationMs *int64) []byte {
	dst = append(dst, `,"outcome":`...)
	dst = appendString(dst, outcome)
	dst = append(dst, `,"exit_code":`...)
	dst = appendIntPtr(dst, exitCode)
	dst = append(dst, `,"signal":`...)
	dst = appendString(dst, signal)
	dst = append(dst, `,"duration_ms":`...)
	return appendInt64Ptr(dst, durationMs)
}

// appendBody appends the canonical JSON object of an exec or exec_update body;
// ok is false for other kinds.
func appendBody(dst []byte, b Body) ([]byte, bool) {
	switch v := b.(type) {
	case *Exec:
		dst = appendIdentity(dst, v.TS, v.Runtime, v.Agent, v.Session, v.CorrelationID)
		dst = append(dst, `,"tool":`...)
		dst = appendString(dst, v.Tool)
		dst = append(dst, `,"command":`...)
		dst = appendString(dst, v.Command)
		dst = append(dst, `,"cwd":`...)
		dst = appendString(dst, v.Cwd)
		dst = append(dst, `,"host":`...)
		dst = appendString(dst, v.Host)
		dst = append(dst, `,"background":`...)
		dst = appendBool(dst, v.Background)
		dst = appendEnd(dst, v.Outcome, v.ExitCode, v.Signal, v.DurationMs)
		dst = append(dst, `,"started_at":`...)
		dst = appendString(dst, v.StartedAt)
		dst = append(dst, `,"ended_at":`...)
		dst = appendString(dst, v.EndedAt)
		dst = append(dst, `,"output":`...)
		dst = appendOutput(dst, &v.Output)
		dst = append(dst, `,"verdict":`...)
		dst = appendString(dst, v.Verdict)
		dst = append(dst, `,"findings":`...)
		if v.Findings == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '[')
			for i, f := range v.Findings {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, `{"rule":`...)
				dst = appendString(dst, f.Rule)
				dst = append(dst, `,"severity":`...)
				dst = appendString(dst, f.Severity)
				dst = append(dst, `,"message":`...)
				dst = appendString(dst, f.Message)
				dst = append(dst, '}')
			}
			dst = append(dst, ']')
		}
		if v.Witness != nil {
			// Rare and small: the reflective encoder keeps the map keys sorted.
			var w bytes.Buffer
			enc := json.NewEncoder(&w)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v.Witness); err != nil {
				return dst, false
			}
			dst = append(dst, `,"witness":`...)
			dst = append(dst, bytes.TrimSuffix(w.Bytes(), []byte("\n"))...)
		}
		dst = append(dst, `,"source":`...)
		dst = appendSource(dst, &v.Source)
		return append(dst, '}'), true
	case *ExecUpdate:
		dst = appendIdentity(dst, v.TS, v.Runtime, v.Agent, v.Session, v.CorrelationID)
		dst = appendEnd(dst, v.Outcome, v.ExitCode, v.Signal, v.DurationMs)
		dst = append(dst, `,"ended_at":`...)
		dst = appendString(dst, v.EndedAt)
		dst = append(dst, `,"output":`...)
		dst = appendOutput(dst, v.Output)
		dst = append(dst, `,"verdict":`...)
		dst = appendString(dst, v.Verdict)
		dst = append(dst, `,"source":`...)
		dst = appendSource(dst, &v.Source)
		return append(dst, '}'), true
	}
	return dst, false
}

// Encoded is a body already turned into its canonical bytes, so that the work can be
// done by the goroutines that derive records rather than by the single writer.
type Encoded struct {
	Body Body
	JSON []byte
}

// Kind implements Body.
func (e *Encoded) Kind() string { return e.Body.Kind() }

// AppendJSON appends b's canonical bytes to dst, ahead of Append, so that the work is
// done by the goroutines that derive records rather than by the single writer; an
// Encoded body points at them. Appending many bodies to one reused buffer spares an
// allocation (and its zeroing) per record: about 6 % of a scan's CPU time, and half
// its system time, when each record had its own. The caller sizes dst (SizeHint):
// an exec's output grown into by doubling would be copied again and again.
func AppendJSON(dst []byte, b Body) ([]byte, error) {
	if out, ok := appendBody(dst, b); ok {
		return out, nil
	}
	enc := newEncoder()
	if err := enc.enc.Encode(b); err != nil {
		return dst, err
	}
	return append(dst, bytesTrimNewline(enc.body.Bytes())...), nil
}

// SizeHint guesses the encoded size of an exec or exec_update body from its
// strings, so that its (up to 64 KiB) output is not copied again and again by append
// doubling a buffer that started empty. The guess allows a sixteenth for escapes:
// output text escapes little more than its newlines, and when it escapes more, one
// doubling covers it.
func SizeHint(b Body) int {
	var n int
	switch v := b.(type) {
	case *Exec:
		n = len(v.TS) + len(v.Runtime) + len(v.Agent) + len(v.Session) + len(v.CorrelationID) + len(v.Tool) +
			len(v.Command) + len(v.Cwd) + len(v.Host) + len(v.Outcome) + len(v.Signal) + len(v.StartedAt) +
			len(v.EndedAt) + len(v.Output.Text) + len(v.Output.SHA256) + len(v.Verdict) + len(v.Source.Path) + len(v.Source.EntryID)
	case *ExecUpdate:
		n = len(v.TS) + len(v.Runtime) + len(v.Agent) + len(v.Session) + len(v.CorrelationID) + len(v.Outcome) +
			len(v.Signal) + len(v.EndedAt) + len(v.Verdict) + len(v.Source.Path) + len(v.Source.EntryID)
		if v.Output != nil {
			n += len(v.Output.Text) + len(v.Output.SHA256)
		}
	default:
		return 0
	}
	// The member names and numbers of an exec take about 330 bytes.
	return n + n/16 + 512
}

func bytesTrimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		return b[:n-1]
	}
	return b
}
