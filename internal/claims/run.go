package claims

import (
	"sort"
	"strings"
)

// run reads the message in order, so that each fenced block is judged with
// the sentence that introduces it. Lines are cut into sentences only when
// they can hold a claim (a command in backticks, a run verb, a success word)
// or when a fenced block follows them.
func (c *checker) run() {
	t := c.text
	if strings.Contains(t, "```") || strings.Contains(t, "~~~") {
		c.fences = findFences(t)
	}
	if strings.IndexByte(t, '<') >= 0 && hasMarkupTag(t) || strings.IndexByte(t, '"') >= 0 && hasJSONCall(t) {
		c.scanMarkup()
	}
	// Gemini's tool_code calls come in a fenced block, which the gate lets
	// through; looking for them in every message would be one more pass
	// over all prose (7% on plain prose).
	if len(c.fences) > 0 && strings.Contains(t, "_api.") {
		c.scanToolCode()
	}
	c.runAt = runPositions(t)
	var (
		intro     *sent
		introLine = [2]int{-1, -1} // a line not yet cut into sentences
		blanks    int
		spans     = c.spanBuf[:0]
		sents     = c.sentBuf[:0]
	)
	defer func() { c.spanBuf, c.sentBuf = spans[:0], sents[:0] }()
	fi := 0
	for pos := 0; pos < len(t); {
		if fi < len(c.fences) && pos >= c.fences[fi].start {
			f := &c.fences[fi]
			if blanks > 1 {
				intro, introLine[0] = nil, -1
			}
			if intro == nil && introLine[0] >= 0 {
				intro = c.lastSentence(introLine[0], introLine[1])
			}
			c.handleFence(f, intro)
			pos, intro, introLine[0], blanks = f.end, nil, -1, 0
			fi++
			continue
		}
		le := lineEnd(t, pos)
		if isBlank(t[pos:le]) {
			blanks++
			pos = le + 1
			continue
		}
		blanks = 0
		intro, introLine[0] = nil, -1
		if q := strings.TrimLeft(t[pos:le], " \t"); strings.HasPrefix(q, ">") {
			pos = le + 1 // a quotation, usually of the user
			continue
		}
		if strings.IndexByte(t[pos:le], '`') >= 0 {
			spans = lineSpans(t, pos, le, spans)
		} else {
			spans = spans[:0]
		}
		if !c.lineMayClaim(spans, pos, le) {
			introLine = [2]int{pos, le}
			pos = le + 1
			continue
		}
		sents = splitSentences(t, pos, le, spans, sents[:0])
		for i := range sents {
			s := &sents[i]
			if c.spent() {
				return
			}
			s.cmdLike = c.lineCmd[s.spanOff : s.spanOff+len(s.spans) : s.spanOff+len(s.spans)]
			if c.interesting(s) {
				c.emitSentence(s, c.analyze(s))
				s.info.emitted = true
			}
		}
		if n := len(sents); n > 0 {
			// One introduction is live at a time (intro is dropped at every
			// new line), so it lives in the checker rather than in a new copy
			// per line.
			last := &c.introSent
			*last = sents[n-1]
			if k := len(last.spans); k > 0 {
				c.introSpans = append(c.introSpans[:0], last.spans...)
				last.spans = c.introSpans[:k:k]
			} else {
				last.spans = nil
			}
			last.cmdLike = nil
			intro = last
		}
		pos = le + 1
	}
}

// lastSentence cuts a line into sentences and returns the last one.
func (c *checker) lastSentence(ls, le int) *sent {
	var spans []span
	if strings.IndexByte(c.text[ls:le], '`') >= 0 {
		spans = lineSpans(c.text, ls, le, nil)
	}
	sents := splitSentences(c.text, ls, le, spans, nil)
	if len(sents) == 0 {
		return nil
	}
	return &sents[len(sents)-1]
}

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

// runPositions returns where a sentence without a command in backticks may
// still claim a run ("I ran the tests", "Ran go vet", "executed"), found the
// way mayClaim finds them: from a rare first byte.
func runPositions(t string) []int {
	out := triggerPositions(t, []string{"Ran ", "xecuted"})
	n := len(out)
	for _, p := range [...]byte{'I', 'W'} {
		for i := 0; ; {
			j := strings.IndexByte(t[i:], p)
			if j < 0 {
				break
			}
			i += j + 1
			w := t[i:min(len(t), i+48)]
			if k := strings.Index(w, "ran "); k >= 0 {
				out = append(out, i+k)
			} else if k := strings.Index(w, "run "); k >= 0 {
				out = append(out, i+k)
			}
		}
	}
	if len(out) > n {
		sort.Ints(out)
	}
	return out
}

// triggerPositions returns the sorted start offsets of all needles in t.
func triggerPositions(t string, needles []string) []int {
	var out []int
	for _, n := range needles {
		for off := 0; ; {
			i := strings.Index(t[off:], n)
			if i < 0 {
				break
			}
			out = append(out, off+i)
			off += i + len(n)
		}
	}
	sort.Ints(out)
	return out
}

// anyIn reports whether a sorted position list has an entry in [s, e).
func anyIn(pos []int, s, e int) bool {
	i := sort.SearchInts(pos, s)
	return i < len(pos) && pos[i] < e
}

// lineMayClaim decides whether a line needs cutting into sentences, and
// records for each of its spans whether it is a command.
func (c *checker) lineMayClaim(spans []span, ls, le int) bool {
	c.lineCmd = c.lineCmd[:0]
	may := false
	for k := range spans {
		v := int8(-1)
		if isCommandLike(c.text[spans[k].cs:spans[k].ce]) {
			v, may = 1, true
		}
		c.lineCmd = append(c.lineCmd, v)
	}
	return may || anyIn(c.runAt, ls, le) || anyIn(c.successAt, ls, le)
}

// interesting is the per-sentence gate: only sentences with a command in
// backticks, a run verb, or (after a failure) a success word can hold a
// claim.
func (c *checker) interesting(s *sent) bool {
	if len(s.spans) > 0 && c.hasCommandSpan(s) {
		return true
	}
	return anyIn(c.runAt, s.start, s.end) || anyIn(c.successAt, s.start, s.end)
}
