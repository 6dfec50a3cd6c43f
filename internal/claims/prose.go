package claims

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fence is a fenced code block.
type fence struct {
	start, end         int // whole block, from the opening line to after the closing line
	bodyStart, bodyEnd int
	lang               string
}

// findFences locates ``` and ~~~ blocks. Models indent fences inside list
// items, so any indentation is accepted; an unclosed fence runs to the end,
// as Markdown renders it.
func findFences(t string) []fence {
	var out []fence
	for pos := 0; pos < len(t); {
		le := lineEnd(t, pos)
		line := t[pos:le]
		trimmed := strings.TrimLeft(line, " \t")
		if n, ch := fenceMarker(trimmed); n > 0 && !strings.Contains(trimmed[n:], strings.Repeat(string(ch), 3)) {
			f := fence{start: pos, bodyStart: min(le+1, len(t)), lang: fenceLang(trimmed[n:])}
			f.bodyEnd, f.end = len(t), len(t)
			for p := f.bodyStart; p < len(t); {
				e := lineEnd(t, p)
				cl := strings.TrimSpace(t[p:e])
				if m, c2 := fenceMarker(cl); m >= n && c2 == ch && len(strings.Trim(cl, string(ch))) == 0 {
					f.bodyEnd, f.end = p, min(e+1, len(t))
					break
				}
				p = e + 1
			}
			out = append(out, f)
			pos = f.end
			continue
		}
		pos = le + 1
	}
	return out
}

func lineEnd(t string, pos int) int {
	if i := strings.IndexByte(t[pos:], '\n'); i >= 0 {
		return pos + i
	}
	return len(t)
}

func fenceMarker(s string) (int, byte) {
	if len(s) < 3 || (s[0] != '`' && s[0] != '~') {
		return 0, 0
	}
	ch := s[0]
	n := 0
	for n < len(s) && s[n] == ch {
		n++
	}
	if n < 3 {
		return 0, 0
	}
	return n, ch
}

func fenceLang(info string) string {
	f := strings.Fields(strings.Trim(strings.TrimSpace(info), "{}."))
	if len(f) == 0 {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(f[0], "."))
}

// span is an inline code span: outer [start,end) includes the backticks,
// content [cs,ce) excludes them.
type span struct {
	start, end int
	cs, ce     int
}

// lineSpans finds inline code spans on one line. A backtick run without a
// closing run of the same length is literal text, as in CommonMark.
func lineSpans(t string, ls, le int, buf []span) []span {
	buf = buf[:0]
	for i := ls; i < le; {
		j := strings.IndexByte(t[i:le], '`')
		if j < 0 {
			break
		}
		i += j
		n := 0
		for i+n < le && t[i+n] == '`' {
			n++
		}
		closeAt := -1
		for k := i + n; k < le; {
			m := strings.IndexByte(t[k:le], '`')
			if m < 0 {
				break
			}
			k += m
			r := 0
			for k+r < le && t[k+r] == '`' {
				r++
			}
			if r == n {
				closeAt = k
				break
			}
			k += r
		}
		if closeAt < 0 {
			i += n
			continue
		}
		buf = append(buf, span{start: i, end: closeAt + n, cs: i + n, ce: closeAt})
		i = closeAt + n
	}
	return buf
}

// sent is one sentence of prose with its inline code spans.
type sent struct {
	start, end int
	spans      []span
	spanOff    int // index of spans[0] among the line's spans
	// shape is the sentence lower-cased for the rules, with each code span
	// replaced by markByte so that words inside commands never trigger a
	// rule and the rules can say where a command sits.
	shape   string
	off     []int  // shape byte index -> text byte index
	marks   []int  // shape index of the marker for spans[i]
	cmdLike []int8 // per span: 0 unknown, 1 command-like, -1 not
	info    *sentInfo
}

const markByte = '\x01'

// splitSentences cuts a prose line at sentence ends outside code spans.
func splitSentences(t string, ls, le int, spans []span, out []sent) []sent {
	start := ls
	si, firstSpan := 0, 0
	next := [3]int{-2, -2, -2} // next '.', '!', '?' at or after i; -1: none
	for i := ls; i < le; i++ {
		// jump to the next sentence mark with vectorised byte searches
		j := le
		for k, ch := range [...]byte{'.', '!', '?'} {
			if next[k] != -1 && next[k] < i {
				next[k] = indexByteFrom(t[:le], ch, i)
			}
			if next[k] >= 0 && next[k] < j {
				j = next[k]
			}
		}
		if j >= le {
			break
		}
		for si < len(spans) && spans[si].end <= j {
			si++
		}
		if si < len(spans) && spans[si].start <= j {
			i = spans[si].end - 1 // inside a code span
			si++
			continue
		}
		i = j
		c := t[i]
		if i+1 < le && t[i+1] != ' ' && t[i+1] != '\t' {
			continue
		}
		// The next word starting in lower case means an abbreviation or an
		// ellipsis inside a sentence, not its end.
		k := i + 1
		for k < le && (t[k] == ' ' || t[k] == '\t') {
			k++
		}
		if k < le && t[k] >= 'a' && t[k] <= 'z' {
			continue
		}
		if c == '.' && isAbbrev(t[start:i]) {
			continue
		}
		out = appendSent(t, out, start, i+1, spans[firstSpan:], firstSpan)
		start = i + 1
		for firstSpan < len(spans) && spans[firstSpan].start < start {
			firstSpan++
		}
	}
	if start < le {
		out = appendSent(t, out, start, le, spans[firstSpan:], firstSpan)
	}
	return out
}

// appendSent adds the sentence [s,e); spans are the line's spans from the
// first one not before s, and the sentence takes those that end inside it.
func appendSent(t string, out []sent, s, e int, spans []span, base int) []sent {
	for s < e && (t[s] == ' ' || t[s] == '\t') {
		s++
	}
	if s >= e {
		return out
	}
	i := 0
	for i < len(spans) && spans[i].start < s {
		i++
	}
	j := i
	for j < len(spans) && spans[j].end <= e {
		j++
	}
	return append(out, sent{start: s, end: e, spans: spans[i:j:j], spanOff: base + i})
}

func indexByteFrom(s string, b byte, off int) int {
	if off >= len(s) {
		return -1
	}
	if i := strings.IndexByte(s[off:], b); i >= 0 {
		return off + i
	}
	return -1
}

func isAbbrev(before string) bool {
	// Most sentences end in a letter no abbreviation ends in.
	if before == "" || strings.IndexByte("gecsxfl", before[len(before)-1]) < 0 {
		return false
	}
	for _, a := range []string{"e.g", "i.e", "etc", "vs", "approx", "cf", "incl"} {
		if strings.HasSuffix(before, a) {
			return true
		}
	}
	return false
}

// buildShape fills s.shape, s.off and s.marks, reusing the given buffers
// for the work and returning them. s.off aliases the returned offset
// buffer, so it is valid until the next sentence is shaped.
func (s *sent) buildShape(t string, b []byte, off []int) ([]byte, []int) {
	n := s.end - s.start
	if cap(b) < n {
		b = make([]byte, 0, n)
	}
	if cap(off) < n {
		off = make([]int, 0, n)
	}
	b, off = b[:n], off[:n]
	j := 0
	s.marks = s.marks[:0]
	si := 0
	for i := s.start; i < s.end; {
		if si < len(s.spans) && i == s.spans[si].start {
			s.marks = append(s.marks, j)
			b[j], off[j] = markByte, i
			j++
			i = s.spans[si].end
			si++
			continue
		}
		c := t[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if c < 'a' {
			switch {
			case c == '*' || c == '_' && (i == s.start || t[i-1] == ' ' || i+1 == s.end || t[i+1] == ' '):
				i++ // emphasis markers
				continue
			case c == '\t':
				c = ' '
			}
		} else if c == 0xe2 && i+2 < s.end && (t[i+1:i+3] == "\x80\x99" || t[i+1:i+3] == "\x80\x98") {
			// curly apostrophes, so "I’ve" reads as "I've"
			b[j], off[j] = '\'', i
			j++
			i += 3
			continue
		}
		b[j], off[j] = c, i
		j++
		i++
	}
	s.shape = string(b[:j])
	s.off = off[:j]
	return b, off
}

// rawAt maps a shape index to a text index.
func (s *sent) rawAt(i int) int {
	if i >= len(s.off) {
		return s.end
	}
	return s.off[i]
}

// spanAtMark returns the index of the span whose marker is at shape index i.
func (s *sent) spanAtMark(i int) int {
	for k, m := range s.marks {
		if m == i {
			return k
		}
	}
	return -1
}

func (s *sent) spanText(t string, k int) string {
	return t[s.spans[k].cs:s.spans[k].ce]
}

// leadStrip is where a sentence's own words start in its shape: after list
// markers, headings, table bars and labels such as "result:".
func leadStrip(shape string) int {
	i := 0
	for {
		j := i
		for j < len(shape) && (shape[j] == ' ' || shape[j] == '#' || shape[j] == '>' || shape[j] == '|') {
			j++
		}
		if j < len(shape) && (shape[j] == '-' || shape[j] == '+' || strings.HasPrefix(shape[j:], "•")) && j+1 < len(shape) {
			if shape[j] == '-' || shape[j] == '+' {
				j++
			} else {
				j += len("•")
			}
		}
		k := j
		for k < len(shape) && shape[k] >= '0' && shape[k] <= '9' {
			k++
		}
		if k > j && k < len(shape) && (shape[k] == '.' || shape[k] == ')') {
			j = k + 1
		}
		// a log line's timestamp: "[12:01] ran `make lint` → ok"
		if j < len(shape) && shape[j] == '[' {
			if e := strings.IndexByte(shape[j:min(len(shape), j+32)], ']'); e > 1 && logStamp(shape[j+1:j+e]) {
				j += e + 1
			}
		}
		// status emoji and symbols that open a line ("✅ Ran `x`")
		for j < len(shape) && shape[j] >= 0x80 {
			r, n := utf8.DecodeRuneInString(shape[j:])
			if unicode.IsLetter(r) {
				break
			}
			j += n
		}
		for j < len(shape) && shape[j] == ' ' {
			j++
		}
		if j == i {
			return i
		}
		i = j
	}
}

// logStamp reports a time or date in brackets ("12:01", "2026-11-26
// 12:01:02Z"); "[ ]" and "[x]" are check boxes.
func logStamp(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digit = true
		case strings.IndexByte(":-./ tz,", c) >= 0:
		default:
			return false
		}
	}
	return digit
}
