package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

const (
	maxFilterLen = 256
	defaultLimit = 50
	maxLimit     = 500
)

// Filter is what a list view or API call asks for, exactly as given in the URL query,
// so that a filtered view can be shared as a link. Empty fields match anything.
type Filter struct {
	Agent   string `json:"agent,omitempty"`
	Session string `json:"session,omitempty"` // a session id, or a prefix of one
	Outcome string `json:"outcome,omitempty"`
	Verdict string `json:"verdict,omitempty"`
	Text    string `json:"text,omitempty"` // in the command, ASCII case-insensitive
	Kind    string `json:"kind,omitempty"` // executions: exec or claim
	Class   string `json:"class,omitempty"`
}

// Values is the filter as URL query parameters.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for _, p := range [...]struct{ k, v string }{{"agent", f.Agent}, {"session", f.Session}, {"outcome", f.Outcome},
		{"verdict", f.Verdict}, {"text", f.Text}, {"kind", f.Kind}, {"class", f.Class}} {
		if p.v != "" {
			v.Set(p.k, p.v)
		}
	}
	return v
}

// queryError is a request the server understood and refuses: the message says why
// and is safe to show.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func badQuery(format string, args ...any) error { return &queryError{fmt.Sprintf(format, args...)} }

func param(q url.Values, name string) (string, error) {
	vs := q[name]
	switch {
	case len(vs) == 0:
		return "", nil
	case len(vs) > 1:
		return "", badQuery("%s is given %d times; give it once", name, len(vs))
	}
	v := vs[0]
	switch {
	case len(v) > maxFilterLen:
		return "", badQuery("%s is longer than %d bytes", name, maxFilterLen)
	case !utf8.ValidString(v):
		return "", badQuery("%s is not valid UTF-8", name)
	case strings.IndexByte(v, 0) >= 0:
		return "", badQuery("%s contains a NUL byte", name)
	}
	return v, nil
}

// parseFilter reads the filter parameters; allowed names the ones this view takes.
func parseFilter(q url.Values, allowed ...string) (Filter, error) {
	var f Filter
	fields := map[string]*string{"agent": &f.Agent, "session": &f.Session, "outcome": &f.Outcome, "verdict": &f.Verdict,
		"text": &f.Text, "kind": &f.Kind, "class": &f.Class}
	for _, name := range allowed {
		v, err := param(q, name)
		if err != nil {
			return Filter{}, err
		}
		*fields[name] = v
	}
	if f.Outcome != "" && !known(outcomeNames, f.Outcome) {
		return Filter{}, badQuery("outcome %q is not one of %s", f.Outcome, strings.Join(outcomeNames[1:len(outcomeNames)-1], ", "))
	}
	if f.Verdict != "" && !known(verdictNames, f.Verdict) {
		return Filter{}, badQuery("verdict %q is not one of %s", f.Verdict, strings.Join(verdictNames[1:len(verdictNames)-1], ", "))
	}
	if f.Kind != "" && f.Kind != ledger.KindExec && f.Kind != ledger.KindClaim {
		return Filter{}, badQuery("kind %q is not exec or claim", f.Kind)
	}
	if f.Class != "" && !known(classNames, f.Class) && f.Class != "other" {
		return Filter{}, badQuery("class %q is not one of %s", f.Class, strings.Join(classNames[1:], ", "))
	}
	return f, nil
}

// parsePage reads cursor (rows with a seq below it) and limit.
// parseList reads a list request: its filter, restricted to the allowed keys, and
// its page.
func parseList(q url.Values, allowed ...string) (Filter, int64, int, error) {
	f, err := parseFilter(q, allowed...)
	if err != nil {
		return f, 0, 0, err
	}
	cursor, limit, err := parsePage(q)
	return f, cursor, limit, err
}

func parsePage(q url.Values) (cursor int64, limit int, err error) {
	c, err := param(q, "cursor")
	if err != nil {
		return 0, 0, err
	}
	if c != "" {
		if cursor, err = strconv.ParseInt(c, 10, 64); err != nil || cursor < 1 {
			return 0, 0, badQuery("cursor %q is not a positive integer (use next_cursor from the previous page)", c)
		}
	}
	limit = defaultLimit
	l, err := param(q, "limit")
	if err != nil {
		return 0, 0, err
	}
	if l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxLimit {
			return 0, 0, badQuery("limit %q is not a number from 1 to %d", l, maxLimit)
		}
		limit = n
	}
	return cursor, limit, nil
}

// matcher is a Filter compiled against the index's vocabularies. Use under mu.RLock.
type matcher struct {
	x       *index
	kinds   uint16
	agent   int64    // -1: any
	sessSet []uint64 // bit per session number; nil: any
	outcome uint8
	verdict uint8
	class   uint8
	needle  []byte
	none    bool // the filter names something the ledger does not have
}

func (x *index) compile(f Filter, kinds ...uint8) *matcher {
	m := &matcher{x: x, agent: -1}
	for _, k := range kinds {
		m.kinds |= 1 << k
	}
	if f.Kind != "" {
		m.kinds = 1 << code(kindNames, f.Kind)
	}
	if f.Agent != "" {
		a, ok := x.agentIDs[f.Agent]
		if !ok {
			m.none = true
		}
		m.agent = int64(a)
	}
	if f.Session != "" {
		m.sessSet = make([]uint64, (len(x.sessions)+63)/64)
		found := false
		// An exact id wins; otherwise the session is a prefix (ids are long UUIDs).
		for _, exact := range [2]bool{true, false} {
			for i := range x.sessions {
				si := &x.sessions[i]
				if m.agent >= 0 && int64(si.agent) != m.agent {
					continue
				}
				if si.name == f.Session || (!exact && strings.HasPrefix(si.name, f.Session)) {
					m.sessSet[i/64] |= 1 << (i % 64)
					found = true
				}
			}
			if found {
				break
			}
		}
		if !found {
			m.none = true
		}
	}
	m.outcome = code(outcomeNames, f.Outcome)
	m.verdict = code(verdictNames, f.Verdict)
	m.class = code(classNames, f.Class)
	if f.Text != "" {
		m.needle = appendLower(nil, f.Text)
	}
	return m
}

func (m *matcher) match(r *row, b *block) bool {
	if m.kinds != 0 && m.kinds&(1<<r.kind) == 0 {
		return false
	}
	if m.sessSet != nil && m.sessSet[r.sess/64]&(1<<(r.sess%64)) == 0 {
		return false
	}
	if m.agent >= 0 && int64(m.x.sessions[r.sess].agent) != m.agent {
		return false
	}
	if m.outcome != 0 && (r.outcome != m.outcome || r.kind == kProviderError) {
		return false
	}
	if m.verdict != 0 && r.verdict != m.verdict {
		return false
	}
	if m.class != 0 && (r.kind != kProviderError || r.outcome != m.class) {
		return false
	}
	if m.needle != nil {
		if bytes.Contains(b.text[r.text:r.text+uint32(r.tlen)], m.needle) {
			return true
		}
		return r.flags&flagLongText != 0 && m.x.longTextContains(r, m.needle)
	}
	return true
}

// longTextContains checks the whole search text of a row whose kept prefix did not
// match, reading the record from the file.
func (x *index) longTextContains(r *row, needle []byte) bool {
	line, err := readLine(x.f, r.off, r.size)
	if err != nil {
		return false
	}
	var rec ledger.Record
	if json.Unmarshal(line, &rec) != nil {
		return false
	}
	var text string
	switch r.kind {
	case kExec:
		text = rec.Command
	case kClaim:
		text = rec.ClaimedCommand
	case kProviderError:
		text = rec.Provider + " " + rec.Model + " " + rec.Message
	case kNotice:
		text = rec.Reason + " " + rec.Detail
	default:
		return false
	}
	return bytes.Contains(appendLower(nil, text), needle)
}

// hit is one row a query returned, copied out so it can be read without the lock.
type hit struct {
	seq     int64
	r       row
	updSeq  int64 // the exec's latest exec_update, when r.flags&flagUpdated; 0: none
	upd     row
	agent   string
	session string
}

// scanDesc calls fn for the live rows newest first until fn returns false.
func (x *index) scanDesc(fn func(abs int64, r *row, b *block) bool) {
	for bi := len(x.blocks) - 1; bi >= 0; bi-- {
		b := x.blocks[bi]
		start := x.first + int64(bi)<<blockBits
		hi := min(int64(blockSize), x.n-start) - 1
		lo := max(0, x.lo-start)
		for i := hi; i >= lo; i-- {
			if !fn(start+i, &b.rows[i], b) {
				return
			}
		}
	}
}

// find returns up to limit matching rows with a seq below cursor (0: from the
// newest), newest first; total counts every match in the index, on any page, when
// count is set; more says whether rows beyond the page exist.
func (x *index) find(m *matcher, cursor int64, limit int, count bool) (hits []hit, total int64, more bool, f *os.File) {
	f = x.f
	if m.none {
		return nil, 0, false, f
	}
	x.scanDesc(func(abs int64, r *row, b *block) bool {
		skip := cursor > 0 && x.seqAt(abs) >= cursor
		if skip && !count {
			return true
		}
		if !m.match(r, b) {
			return true
		}
		total++
		if skip {
			return true
		}
		if len(hits) < limit {
			hits = append(hits, x.hitOf(abs, r))
		} else {
			more = true
			if !count {
				return false
			}
		}
		return true
	})
	return hits, total, more, f
}

func (x *index) hitOf(abs int64, r *row) hit {
	h := hit{seq: x.seqAt(abs), r: *r}
	si := &x.sessions[r.sess]
	h.agent, h.session = x.agents[si.agent].name, si.name
	if r.flags&flagUpdated != 0 {
		if u, ok := x.updates[abs]; ok && u >= x.lo {
			h.upd, h.updSeq = *x.rowAt(u), x.seqAt(u)
		}
	}
	return h
}

// bySeq finds the row holding seq. While the chain holds, the position is the seq;
// after a problem, the rows whose seq is off are looked up.
func (x *index) bySeq(seq int64) (int64, bool) {
	if x.n == x.lo {
		return 0, false
	}
	if abs := seq - 1; abs >= x.lo && abs < x.n && x.seqAt(abs) == seq {
		return abs, true
	}
	found := int64(-1)
	for abs, s := range x.oddSeq {
		if s == seq && abs >= x.lo && abs > found {
			found = abs
		}
	}
	return found, found >= 0
}
