package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// ZeroHash is the prev of the first record.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// hashDomain separates ledger record hashes from any other SHA-256 use of the same bytes.
const hashDomain = "clawtrail-ledger-v1\n"

// TimeFormat is the fixed-width form of recorded_at: RFC 3339, UTC, nanoseconds.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

const hashSuffixLen = len(`,"hash":""}`) + 64

// encoder builds canonical record bytes. Not safe for concurrent use.
type encoder struct {
	body    bytes.Buffer
	enc     *json.Encoder
	scratch []byte
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.body)
	// Commands are full of && and <; HTML escaping would only make them unreadable.
	e.enc.SetEscapeHTML(false)
	return e
}

// appendRecord appends the canonical line for b (with its '\n') to dst and returns
// the record's hash. See docs/ledger-format.md.
func (e *encoder) appendRecord(dst []byte, seq int64, at time.Time, prev string, b Body) ([]byte, string, error) {
	var body []byte
	if pre, ok := b.(*Encoded); ok {
		body = pre.JSON
	} else if out, ok := appendBody(e.scratch[:0], b); ok {
		e.scratch = out
		body = out
	} else {
		e.body.Reset()
		if err := e.enc.Encode(b); err != nil {
			return dst, "", fmt.Errorf("encode %s record: %w", b.Kind(), err)
		}
		body = bytes.TrimSuffix(e.body.Bytes(), []byte("\n"))
	}
	if len(body) < 2 || body[0] != '{' || body[len(body)-1] != '}' {
		return dst, "", fmt.Errorf("encode %s record: body is not an object", b.Kind())
	}
	start := len(dst)
	dst = append(dst, `{"v":1,"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"kind":"`...)
	dst = append(dst, b.Kind()...)
	dst = append(dst, `","recorded_at":"`...)
	dst = at.UTC().AppendFormat(dst, TimeFormat)
	dst = append(dst, '"')
	if inner := body[1 : len(body)-1]; len(inner) > 0 {
		dst = append(dst, ',')
		dst = append(dst, inner...)
	}
	dst = append(dst, `,"prev":"`...)
	dst = append(dst, prev...)
	dst = append(dst, '"')
	h := hashOf(dst[start:])
	dst = append(dst, `,"hash":"`...)
	dst = append(dst, h...)
	dst = append(dst, "\"}\n"...)
	return dst, h, nil
}

// hashOf hashes a record's bytes up to (not including) the hash member, closed with '}'.
func hashOf(withoutHash []byte) string {
	h := sha256.New()
	h.Write([]byte(hashDomain))
	h.Write(withoutHash)
	h.Write([]byte{'}'})
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// splitHash returns the bytes a line's hash covers (without the closing '}') and the
// hash it claims, or ok=false if the line does not end in a hash member.
func splitHash(line []byte) (covered []byte, claimed string, ok bool) {
	if len(line) < hashSuffixLen {
		return nil, "", false
	}
	cut := len(line) - hashSuffixLen
	suffix := line[cut:]
	if !bytes.HasPrefix(suffix, []byte(`,"hash":"`)) || !bytes.HasSuffix(suffix, []byte(`"}`)) {
		return nil, "", false
	}
	claimed = string(suffix[len(`,"hash":"`) : len(suffix)-2])
	for _, c := range claimed {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return nil, "", false
		}
	}
	return line[:cut], claimed, true
}
