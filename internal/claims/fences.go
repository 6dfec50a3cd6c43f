package claims

import (
	"regexp"
	"strings"
)

// Fence languages a terminal session or command output is written in.
var sessionLangs = setOf(`console shell shell-session sh bash zsh fish terminal text txt plaintext plain powershell ps1 pwsh ps cmd bat output log sh-session bash-session none`)

// Fence languages of source code and configuration: a block in one of them
// is output only when the prose names the command that printed it.
var codeLangs = setOf(`go golang python py js javascript ts typescript tsx jsx java kotlin kt rust rs c cpp c++ h hpp cs csharp ruby rb php swift scala sql html css scss vue svelte dockerfile makefile make diff patch proto graphql lua perl r dart elixir ex hcl terraform tf xml yaml yml toml ini`)

var (
	reUserHostPrompt = regexp.MustCompile(`^[\w.-]+@[\w.-]+(?::[^\s$#]*)?\s?[$#]\s+(\S.*)$`)
	reWindowsPrompt  = regexp.MustCompile(`^[A-Za-z]:\\[^>\n]{0,100}>\s?(\S.*)$`)
)

// promptCommand returns the command of a terminal prompt line, or "".
func promptCommand(l string) string {
	s := strings.TrimLeft(l, " \t")
	if strings.HasPrefix(s, "(") {
		if j := strings.Index(s, ") "); j > 0 && j < 40 {
			s = strings.TrimLeft(s[j+2:], " ")
		}
	}
	switch {
	case strings.HasPrefix(s, "$ "):
		return strings.TrimSpace(s[2:])
	case strings.HasPrefix(s, "❯ "):
		return strings.TrimSpace(s[len("❯ "):])
	case strings.HasPrefix(s, "PS ") || strings.HasPrefix(s, "ps "):
		if j := strings.Index(s, "> "); j > 3 && j < 120 && !strings.ContainsAny(s[3:j], " ") {
			return strings.TrimSpace(s[j+2:])
		}
	case strings.IndexByte(s, '@') > 0:
		if m := reUserHostPrompt.FindStringSubmatch(s); m != nil {
			return strings.TrimSpace(m[1])
		}
	case len(s) > 3 && s[1] == ':' && s[2] == '\\':
		if m := reWindowsPrompt.FindStringSubmatch(s); m != nil {
			return strings.TrimSpace(m[1])
		}
	}
	return ""
}

type sessionCmd struct {
	cmd        string
	line       int // offset of the prompt line in the text
	outS, outE int // output lines after it
}

// sessionCommands returns the prompt commands of a fence body that are
// followed by output. A list of prompts without output is how instructions
// are written; output after a prompt is what makes it a transcript.
func sessionCommands(t string, bs, be int, all bool) []sessionCmd {
	var out []sessionCmd
	var cur *sessionCmd
	hasOut, anyOut := false, false
	var bare []sessionCmd
	flush := func() {
		if cur != nil && hasOut {
			out = append(out, *cur)
			anyOut = true
		} else if cur != nil && all {
			bare = append(bare, *cur)
		}
		cur, hasOut = nil, false
	}
	for p := bs; p < be; {
		e := min(lineEnd(t, p), be)
		l := t[p:e]
		if cmd := promptCommand(l); cmd != "" {
			flush()
			cur = &sessionCmd{cmd: cmd, line: p, outS: min(e+1, be), outE: min(e+1, be)}
		} else if cur != nil && strings.TrimSpace(l) != "" {
			hasOut = true
			cur.outE = e
		}
		p = e + 1
	}
	flush()
	if anyOut && len(bare) > 0 {
		out = append(bare, out...)
	}
	return out
}

// handleFence reconciles a fenced block with the sentence that introduces it.
func (c *checker) handleFence(f *fence, intro *sent) {
	if c.spent() {
		return
	}
	t := c.text
	var in *sentInfo
	if intro != nil {
		in = c.analyze(intro)
		if !in.emitted {
			in.emitted = true
			c.emitSentence(intro, in)
		}
	}
	// An explicit run claim is not hidden by guards that target the user
	// ("I ran the checks:"); any other introduction can make the block an
	// instruction or example.
	guarded := in != nil && !in.explicit && (in.question || c.guarded(intro, in))

	if sessionLangs[f.lang] || f.lang == "" {
		// After "I ran:" every prompt in the block is claimed; otherwise
		// only prompts followed by output make the block a transcript.
		if cmds := sessionCommands(t, f.bodyStart, f.bodyEnd, in != nil && in.explicit); len(cmds) > 0 {
			if guarded {
				return
			}
			for _, sc := range cmds {
				end := min(sc.outE, sc.line+maxExcerpt)
				switch c.lookup(sc.cmd) {
				case unbacked:
					c.add(reasonNoCall, sc.cmd, sc.line, end)
				case neverRan:
					c.add(reasonContradicts, sc.cmd, sc.line, end)
				default:
					if c.judgeQuote(t[sc.outS:sc.outE], false) == quoteInvented {
						c.add(reasonContradicts, sc.cmd, sc.line, end)
					}
				}
			}
			return
		}
	}
	// "I ran" ending the line introduces the block as much as a colon does.
	bareVerb := in != nil && in.runNoCmd && strings.TrimSpace(in.runObject) == ""
	if in == nil || guarded || !(in.colon || bareVerb) {
		return
	}
	body := t[f.bodyStart:f.bodyEnd]

	// "I ran the following:" and a block of commands
	if in.runNoCmd && len(in.claimed) == 0 && (sessionLangs[f.lang] || f.lang == "") {
		if cmds := blockCommands(body); len(cmds) > 0 {
			for _, cmd := range cmds {
				switch c.lookup(cmd) {
				case unbacked:
					c.add(reasonNoCall, cmd, intro.start, f.bodyStart+len(cmd)+1)
				case neverRan:
					c.add(reasonContradicts, cmd, intro.start, f.bodyStart+len(cmd)+1)
				}
			}
			return
		}
		c.genericRun(intro, in)
	}

	// quoted output: "Output of `x`:", "I got:", "`x` returned:"
	cue := reOutputCue.MatchString(intro.shape)
	if isCallBlock(body) {
		// A tool call is what a model sends, never what a command printed:
		// printed as text it is markup, and under "returns a call as:" it is
		// documentation of the format.
		return
	}
	if !cue && !(in.explicit && len(in.claimed) > 0) {
		return
	}
	var named []string
	for _, cl := range in.claimed {
		if cl.verdict != backed {
			return // already reported as a claim without a run
		}
		named = append(named, cl.cmd)
	}
	if len(named) == 0 && cue {
		for k := range intro.spans {
			txt := intro.spanText(t, k)
			if !c.spanIsCommand(intro, k) {
				continue
			}
			switch c.lookup(txt) {
			case unbacked:
				c.add(reasonNoCall, txt, intro.start, intro.end)
				return
			case neverRan:
				c.add(reasonContradicts, txt, intro.start, intro.end)
				return
			}
			named = append(named, txt)
		}
	}
	if len(named) == 0 && codeLangs[f.lang] {
		return
	}
	first := strings.TrimSpace(body)
	if i := strings.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	for _, n := range named {
		if normalizeCommand(first) == normalizeCommand(n) {
			return // the block shows the command, not its output
		}
	}
	cmd := ""
	if len(named) == 1 {
		cmd = named[0]
	}
	switch c.judgeQuote(body, true) {
	case quoteInvented:
		c.add(reasonContradicts, cmd, intro.start, min(f.bodyEnd, intro.start+maxExcerpt))
	case quoteTooSmall:
		// Too little to judge as a copy, but a test runner's success summary
		// ("5 passed in 0.29s") found in no output, quoted while the latest
		// test run failed, is the invented result itself.
		if !c.quotesSuccessSummary(body) {
			return
		}
		var e *execRec
		if cmd != "" {
			e = c.latestMatching(cmd)
		} else {
			e = c.latestOf(catTest)
		}
		if e != nil && e.failed {
			c.add(reasonContradicts, cmd, intro.start, min(f.bodyEnd, intro.start+maxExcerpt))
		}
	}
}

// reTestSummaryOK matches the all-passed summary lines of common test
// runners, normalised: pytest, jest/vitest, cargo, go test, rspec/minitest,
// unittest.
var reTestSummaryOK = regexp.MustCompile(`^=*\s*\d+ passed(?:, \d+ (?:skipped|warnings?|deselected|xfailed|xpassed))*(?: in [\d.]+ ?s(?:econds)?)?\s*=*$` +
	`|^tests?: \d+ passed, \d+ total$|^test result: ok\.|^ok \S+ [\d.]+s$|^\d+ (?:examples|tests|runs), 0 failures|^ok$|^all tests passed\b`)

// quotesSuccessSummary reports a quoted block holding a test success
// summary line that appears in no real output.
func (c *checker) quotesSuccessSummary(body string) bool {
	found := false
	forLines(body, func(raw string) {
		if l := normalizeLine(raw); !found && reTestSummaryOK.MatchString(l) && !c.outputHas(l) {
			found = true
		}
	})
	return found
}

// blockCommands returns the lines of a short block when every one of them
// is a command (comments aside).
func blockCommands(body string) []string {
	var out []string
	ok := true
	forLines(body, func(l string) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || !ok {
			return
		}
		if p := promptCommand(l); p != "" {
			l = p
		}
		if !isCommandLike(l) {
			ok = false
			return
		}
		out = append(out, l)
	})
	if !ok || len(out) > 10 {
		return nil
	}
	return out
}

// isCallBlock reports a block that holds a tool call in one of the markup
// formats rather than program output.
func isCallBlock(body string) bool {
	b := strings.TrimSpace(body)
	if b == "" {
		return false
	}
	if b[0] == '<' {
		return reMarkupTag.MatchString(b[:min(len(b), 64)])
	}
	_, ok := jsonCall(b)
	return ok
}
