// Package jsonscan reads just the members it is asked for out of JSON text, in one
// pass over the bytes and without allocating for what it skips.
//
// Transcript lines are mostly one large string (a command's output); encoding/json
// validates and decodes every byte of it twice and reaches about a tenth of the speed
// a scan needs. Here strings are skipped with a vectorised byte search and only the
// values asked for are unescaped. It is lenient where leniency costs nothing (control
// bytes inside strings are accepted) and strict where structure is concerned: any
// input either yields values or an error, never a panic.
package jsonscan

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// ErrSyntax reports input that is not JSON.
var ErrSyntax = errors.New("jsonscan: invalid JSON")

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 512

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

func skipSpace(d []byte, i int) int {
	for i < len(d) && isSpace(d[i]) {
		i++
	}
	return i
}

// Object calls fn for each member of the object that data holds, with the key's raw
// bytes (without quotes, still escaped) and the value's raw bytes. Keys OpenClaw
// writes never need unescaping; a key with escapes is passed as written.
func Object(data []byte, fn func(key, value []byte) error) error {
	end, err := ObjectPrefix(data, func(key, rest []byte) (int, error) {
		n, err := skipValue(rest, 0, 0)
		if err != nil {
			return 0, err
		}
		return n, fn(key, rest[:n])
	})
	if err != nil {
		return err
	}
	return trailing(data, end)
}

// Array calls fn for each element of the array that data holds.
func Array(data []byte, fn func(value []byte) error) error {
	end, err := ArrayPrefix(data, func(rest []byte) (int, error) {
		n, err := skipValue(rest, 0, 0)
		if err != nil {
			return 0, err
		}
		return n, fn(rest[:n])
	})
	if err != nil {
		return err
	}
	return trailing(data, end)
}

// ObjectPrefix reads the object at the start of data (after white space) and returns
// the index just past it, so that a caller can parse a nested value in place instead
// of skipping it first and parsing it again. fn gets each key and the data from the
// value's first byte on, and returns how many bytes the value takes (Skip, when it
// does not care about the value).
func ObjectPrefix(data []byte, fn func(key, rest []byte) (int, error)) (int, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return 0, ErrSyntax
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return 0, ErrSyntax
		}
		end, err := skipString(data, i)
		if err != nil {
			return 0, err
		}
		key := data[i+1 : end-1]
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return 0, ErrSyntax
		}
		i = skipSpace(data, i+1)
		n, err := fn(key, data[i:])
		if err != nil {
			return 0, err
		}
		if n <= 0 || n > len(data)-i {
			return 0, ErrSyntax
		}
		i = skipSpace(data, i+n)
		if i >= len(data) {
			return 0, ErrSyntax
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, ErrSyntax
		}
	}
}

// ArrayPrefix is ObjectPrefix for an array.
func ArrayPrefix(data []byte, fn func(rest []byte) (int, error)) (int, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return 0, ErrSyntax
	}
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		n, err := fn(data[i:])
		if err != nil {
			return 0, err
		}
		if n <= 0 || n > len(data)-i {
			return 0, ErrSyntax
		}
		i = skipSpace(data, i+n)
		if i >= len(data) {
			return 0, ErrSyntax
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, ErrSyntax
		}
	}
}

// Skip returns the length of the value at the start of rest.
func Skip(rest []byte) (int, error) { return skipValue(rest, 0, 0) }

// SkipMember returns the length of the value at the start of rest that is a member
// of a container Skip was given: it is one level deeper, and so accepts exactly what
// Skip of the container accepts of it. ObjectPrefix with SkipMember for each member
// accepts the same objects as Skip, with the same lengths.
func SkipMember(rest []byte) (int, error) { return skipValue(rest, 0, 1) }

// Trailing reports an error unless only white space follows index i.
func Trailing(data []byte, i int) error { return trailing(data, i) }

func trailing(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return ErrSyntax
	}
	return nil
}

// Valid reports whether data is one complete JSON value (strings checked for
// structure, not for control bytes).
func Valid(data []byte) bool {
	i := skipSpace(data, 0)
	end, err := skipValue(data, i, 0)
	return err == nil && trailing(data, end) == nil
}

// skipValue returns the index just past the value starting at i.
func skipValue(d []byte, i, depth int) (int, error) {
	if i >= len(d) {
		return 0, ErrSyntax
	}
	switch c := d[i]; {
	case c == '"':
		return skipString(d, i)
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return 0, ErrSyntax
		}
		return skipContainer(d, i, depth+1)
	case c == 't':
		return literal(d, i, "true")
	case c == 'f':
		return literal(d, i, "false")
	case c == 'n':
		return literal(d, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(d, i)
	}
	return 0, ErrSyntax
}

func literal(d []byte, i int, lit string) (int, error) {
	if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
		return 0, ErrSyntax
	}
	return i + len(lit), nil
}

func skipNumber(d []byte, i int) (int, error) {
	start := i
	if d[i] == '-' {
		i++
	}
	digits := 0
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
		digits++
	}
	if digits == 0 {
		return 0, ErrSyntax
	}
	if i < len(d) && d[i] == '.' {
		i++
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		if n == 0 {
			return 0, ErrSyntax
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		n := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
			n++
		}
		if n == 0 {
			return 0, ErrSyntax
		}
	}
	if i == start {
		return 0, ErrSyntax
	}
	return i, nil
}

// skipString returns the index just past the string whose opening quote is at i.
func skipString(d []byte, i int) (int, error) {
	j := i + 1
	// Most strings are short keys and values: a plain loop beats the call overhead of
	// a vectorised search for them.
	for end := min(len(d), j+24); j < end; j++ {
		switch d[j] {
		case '"':
			return j + 1, nil
		case '\\':
			j++
		}
	}
	if j > len(d) {
		return 0, ErrSyntax
	}
	for {
		k := bytes.IndexByte(d[j:], '"')
		if k < 0 {
			return 0, ErrSyntax
		}
		q := j + k
		// The quote is escaped if an odd number of backslashes precede it.
		bs := 0
		for p := q - 1; p > i && d[p] == '\\'; p-- {
			bs++
		}
		if bs%2 == 0 {
			return q + 1, nil
		}
		j = q + 1
	}
}

func skipContainer(d []byte, i, depth int) (int, error) {
	open := d[i]
	closeCh := byte('}')
	if open == '[' {
		closeCh = ']'
	}
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == closeCh {
		return i + 1, nil
	}
	for {
		if open == '{' {
			if i >= len(d) || d[i] != '"' {
				return 0, ErrSyntax
			}
			end, err := skipString(d, i)
			if err != nil {
				return 0, err
			}
			i = skipSpace(d, end)
			if i >= len(d) || d[i] != ':' {
				return 0, ErrSyntax
			}
			i = skipSpace(d, i+1)
		}
		end, err := skipValue(d, i, depth)
		if err != nil {
			return 0, err
		}
		i = skipSpace(d, end)
		if i >= len(d) {
			return 0, ErrSyntax
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case closeCh:
			return i + 1, nil
		default:
			return 0, ErrSyntax
		}
	}
}

// IsString reports whether raw is a JSON string.
func IsString(raw []byte) bool { return len(raw) >= 2 && raw[0] == '"' }

// String decodes a raw JSON string value. ok is false if raw is not a string.
// Invalid escapes and invalid UTF-8 become U+FFFD, as encoding/json does.
func String(raw []byte) (s string, ok bool) {
	if !IsString(raw) || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		if utf8.Valid(body) {
			return string(body), true
		}
		return owned(appendValid(make([]byte, 0, len(body)+8), body)), true
	}
	return owned(unescape(make([]byte, 0, len(body)), body)), true
}

// owned turns a buffer that nothing else references into a string without copying
// it: a command's output is most of a line, and a second copy of it would cost as
// much as decoding it.
func owned(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// AppendString is String appending to dst (no string allocation).
func AppendString(dst, raw []byte) ([]byte, bool) {
	if !IsString(raw) || raw[len(raw)-1] != '"' {
		return dst, false
	}
	return unescape(dst, raw[1:len(raw)-1]), true
}

func unescape(dst, b []byte) []byte {
	// UTF-8 is validated once for the whole string when it is valid: output text
	// has an escape (a newline) on every line, and a validation per run cost more
	// than the copying. The escapes are ASCII, so every run between them is valid
	// too; only an invalid string is validated run by run, to replace its bad bytes.
	valid := utf8.Valid(b)
	run := func(dst, r []byte) []byte {
		if valid {
			return append(dst, r...)
		}
		return appendValid(dst, r)
	}
	for len(b) > 0 {
		k := bytes.IndexByte(b, '\\')
		if k < 0 {
			return run(dst, b)
		}
		dst = run(dst, b[:k])
		b = b[k:]
		if len(b) < 2 {
			return append(dst, "\uFFFD"...)
		}
		switch c := b[1]; c {
		case '"', '\\', '/':
			dst = append(dst, c)
			b = b[2:]
		case 'b':
			dst, b = append(dst, '\b'), b[2:]
		case 'f':
			dst, b = append(dst, '\f'), b[2:]
		case 'n':
			dst, b = append(dst, '\n'), b[2:]
		case 'r':
			dst, b = append(dst, '\r'), b[2:]
		case 't':
			dst, b = append(dst, '\t'), b[2:]
		case 'u':
			r, ok := hex4(b[2:])
			if !ok {
				dst, b = append(dst, "\uFFFD"...), b[2:]
				continue
			}
			b = b[6:]
			if utf16.IsSurrogate(r) {
				if len(b) >= 6 && b[0] == '\\' && b[1] == 'u' {
					if r2, ok := hex4(b[2:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							dst = utf8.AppendRune(dst, dec)
							b = b[6:]
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			dst, b = append(dst, "\uFFFD"...), b[2:]
		}
	}
	return dst
}

// appendValid copies b, replacing each byte that does not start a valid UTF-8
// sequence with U+FFFD, byte by byte as encoding/json does.
func appendValid(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// Float decodes a raw JSON number.
func Float(raw []byte) (float64, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil
}

// Bool decodes a raw JSON boolean; anything else is false.
func Bool(raw []byte) bool { return len(raw) == 4 && string(raw) == "true" }

// IsNull reports whether raw is JSON null (or absent).
func IsNull(raw []byte) bool { return len(raw) == 0 || len(raw) == 4 && string(raw) == "null" }
