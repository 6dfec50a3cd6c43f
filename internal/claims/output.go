package claims

import (
	"strings"
	"unicode/utf8"
)

// Bounds on what a Detector keeps of real outputs. A session can run
// thousands of commands with megabytes of output each; quoted output is
// almost always recent and taken from the head or tail of a result.
const (
	maxOutputKeep  = 256 << 10 // per execution: head and tail halves
	maxOutputTotal = 4 << 20   // all executions: oldest dropped first
	// maxScanBudget bounds the substring fallback per Check, so a message
	// quoting thousands of lines cannot make Check quadratic.
	maxScanBudget = 64 << 20
)

// outputIndex holds normalised real outputs for recognising quoted output.
type outputIndex struct {
	lines map[string]int32 // normalised line -> number of kept outputs holding it
	texts []string         // normalised outputs, oldest first
	size  int
	// Outputs not normalised yet. Most sessions never quote output, so the work is
	// done only when a quote has to be judged (it was a third of a scan's time when
	// done for every exec). Raw text is at least as long as its normalised form, so
	// twice the normalised bound keeps at least as much.
	raw     []string
	rawSize int
	// forgot: outputs were dropped to bound memory across sessions (Forget), so a
	// quote found nowhere may be a quote of one of them.
	forgot bool
}

// retained is the bytes of output text kept.
func (x *outputIndex) retained() int { return x.rawSize + 2*x.size }

// forget drops every kept output.
func (x *outputIndex) forget() {
	*x = outputIndex{forgot: true}
}

func (x *outputIndex) add(output string) {
	if len(output) > maxOutputKeep {
		h := maxOutputKeep / 2
		output = output[:h] + "\n" + output[len(output)-h:]
	}
	x.raw = append(x.raw, output)
	x.rawSize += len(output)
	for x.rawSize > 2*maxOutputTotal && len(x.raw) > 1 {
		x.rawSize -= len(x.raw[0])
		x.raw[0] = ""
		x.raw = x.raw[1:]
	}
}

// sync normalises the outputs added since the last lookup.
func (x *outputIndex) sync() {
	for _, o := range x.raw {
		x.addNormalized(o)
	}
	x.raw, x.rawSize = nil, 0
}

func (x *outputIndex) addNormalized(output string) {
	norm := normalizeOutput(output)
	if norm == "" {
		return
	}
	if x.lines == nil {
		x.lines = make(map[string]int32)
	}
	forLines(norm, func(l string) { x.lines[l]++ })
	x.texts = append(x.texts, norm)
	x.size += len(norm)
	for x.size > maxOutputTotal && len(x.texts) > 1 {
		old := x.texts[0]
		x.texts[0] = ""
		x.texts = x.texts[1:]
		x.size -= len(old)
		forLines(old, func(l string) {
			if x.lines[l]--; x.lines[l] <= 0 {
				delete(x.lines, l)
			}
		})
	}
}

func forLines(s string, f func(string)) {
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			f(s)
			return
		}
		if i > 0 {
			f(s[:i])
		}
		s = s[i+1:]
	}
}

// normalizeOutput makes output comparable with what a model quotes of it:
// models drop colour codes and re-align columns, and sometimes change case
// in headers.
func normalizeOutput(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	first := true
	forLines(s, func(l string) {
		l = normalizeLine(l)
		if l == "" {
			return
		}
		if !first {
			b.WriteByte('\n')
		}
		first = false
		b.WriteString(l)
	})
	return b.String()
}

func normalizeLine(l string) string {
	if strings.IndexByte(l, 0x1b) >= 0 {
		l = stripANSI(l)
	}
	l = strings.ToLower(collapseSpace(strings.TrimSpace(l)))
	if !utf8.ValidString(l) {
		l = strings.ToValidUTF8(l, "")
	}
	return l
}

// stripANSI removes CSI escape sequences (colours, cursor moves).
func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && !(s[j] >= 0x40 && s[j] <= 0x7e) {
				j++
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// quoteVerdict compares quoted output lines with real outputs.
type quoteVerdict int

const (
	quoteTooSmall quoteVerdict = iota // not enough text to judge
	quoteFound                        // enough of it appears in real output
	quoteInvented                     // too much of it appears nowhere
)

// judgeQuote decides whether a block the model presents as output appears in
// the real outputs. Lines are compared after normalisation; a line may be a
// part of a real line (models cut columns), and an elided line ("...") is
// checked piece by piece. A block counts as invented when at least a third of
// its non-trivial lines are found nowhere: honest quotes are copied, and a
// single changed line in a short block is exactly the fabrication of interest
// (a status that was CrashLoopBackOff quoted as Running).
func (c *checker) judgeQuote(body string, skipPrompts bool) quoteVerdict {
	n, chars, missing := 0, 0, 0
	forLines(body, func(raw string) {
		l := normalizeLine(raw)
		if skipPrompts && promptCommand(l) != "" {
			return
		}
		pieces := quotePieces(l)
		if len(pieces) == 0 {
			return
		}
		n++
		for _, p := range pieces {
			chars += len(p)
		}
		for _, p := range pieces {
			if !c.outputHas(p) {
				missing++
				return
			}
		}
	})
	if n < 2 && chars < 40 {
		return quoteTooSmall
	}
	if missing > 0 && missing*3 >= n {
		if c.d.out.forgot {
			return quoteFound // unproven: the real output may be among the forgotten
		}
		return quoteInvented
	}
	return quoteFound
}

// quotePieces splits a normalised quoted line into the parts that must appear
// in real output, dropping ellipses and lines too short to mean anything.
func quotePieces(l string) []string {
	if len(l) < 4 || !hasAlnum(l) || isElisionNote(l) {
		return nil
	}
	if !strings.Contains(l, "...") && !strings.Contains(l, "…") {
		return []string{l}
	}
	l = strings.ReplaceAll(l, "…", "...")
	var out []string
	for _, p := range strings.Split(l, "...") {
		p = strings.TrimSpace(p)
		if len(p) >= 4 && hasAlnum(p) {
			out = append(out, p)
		}
	}
	return out
}

func isElisionNote(l string) bool {
	for _, w := range []string{"truncated", "omitted", "snip", "trimmed", "more lines", "elided"} {
		if strings.Contains(l, w) && len(l) < 60 {
			return true
		}
	}
	return false
}

func hasAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			return true
		}
	}
	return false
}

// outputHas reports whether a normalised piece of a line appears in any kept
// output. When the scan budget is spent it answers yes: an unproven quote
// must not become a finding.
func (c *checker) outputHas(p string) bool {
	x := &c.d.out
	x.sync()
	if x.lines[p] > 0 {
		return true
	}
	for i := len(x.texts) - 1; i >= 0; i-- {
		t := x.texts[i]
		if c.budget < len(t) {
			return true
		}
		c.budget -= len(t)
		if strings.Contains(t, p) {
			return true
		}
	}
	return false
}
