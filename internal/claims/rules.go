package claims

import (
	"regexp"
	"strings"
)

// The rules read a sentence's shape: lower case, code spans replaced by
// \x01. Writing them against the shape keeps words inside commands from
// matching and lets a rule say which command it is about.

var (
	// Terse reports that drop the subject: "Ran `go vet ./...` — clean."
	reTerse = regexp.MustCompile(`^(?:[a-z][a-z ]{0,24}:\s+)?(?:(?:then|and|also|next|first|finally|and then|just|quickly|also just),?\s+)?(?:ran|re-?ran|executed|re-?executed)\b`)

	reTerseTried = regexp.MustCompile(`^(?:(?:then|and|also|next|first|finally|just),?\s+)?tried\b`)

	reDenialNote = regexp.MustCompile(`\b(?:denied|blocked|rejected|not allowed|wasn't allowed|was not allowed|approval|permission)\b`)

	// Where a claim's list of commands ends: a new clause, a result, a purpose.
	reClauseCut = regexp.MustCompile(`[;:]|—| - |\b(?:but|because|since|although|though|instead|rather|before|unless|if|until|which|who|where|while|got|get|returned|printed|showing|shows|showed|says|said|saying|reported|reports|that|to|in|on|for|so|after|whereas|than|it|they|and got|gave|found|revealed)\b`)
	reParens    = regexp.MustCompile(`\([^()]*\)`)
	reCoord     = regexp.MustCompile(`^[\s,]*(?:and then|and|then|plus|as well as|followed by|&)?[\s,]*(?:then\s+|also\s+)?$`)

	reOutputCue = regexp.MustCompile(`\b(?:output|outputs|returned|returns|got|printed|prints|results?|response|responded|says|said|reported|reports|shows|showed|gave|gives|displays|displayed|produced|produces|yields|yielded|came back with|stdout|stderr)\b|\bhere(?:'s|\s+is)\s+what\b`)
	reLabelEnd  = regexp.MustCompile(`\b(?:output|results?|response|stdout|stderr|logs?)\s*:\s*$`)
)

// imperativeStarts are verbs that open an instruction to the user.
var imperativeStarts = setOf(`run execute try type use check verify confirm install open start stop restart build add remove delete create set make clone navigate go cd copy paste enter launch update upgrade apply deploy push pull commit fetch rebuild rerun re-run reinstall enable disable edit change replace call invoke ensure see look note compare inspect review export source activate do don't please consider avoid remember double-check modify configure define rename move insert append write save reload kill wait mount download upload search find list print show read follow visit click select choose pick provide specify supply include exclude ignore skip fix patch format generate initialize init bump tag merge rebase checkout switch stash reset revert prune clean clear flush purge scale expose attach describe get watch`)

// sentInfo is what the rules found in one sentence.
type sentInfo struct {
	claimed   []claimedCmd
	explicit  bool // an explicit run claim matched
	runNoCmd  bool // explicit run claim naming no command
	runObject string
	colon     bool
	question  bool
	emitted   bool // claims already reported
	// a command span followed by "went through", a success phrase the
	// message-wide success stems do not find
	wentThrough bool
	guard       int8 // 0 unknown, 1 guarded, -1 not guarded
	lead        int  // shape index where the sentence's own words start
}

type claimedCmd struct {
	span     int // index into sent.spans, or -1 for a command written without backticks
	cmd      string
	start    int
	end      int
	verdict  verdict
	explicit bool
	// the claim reports the command as having succeeded ("- `npm test` ✅",
	// "`systemctl status nginx` says active"), so a failed latest run of it
	// contradicts the report
	success bool
}

// analyze applies the claim rules to one sentence; the result is cached.
// Each regular expression is gated by a cheap test for the words it needs,
// because most sentences that reach here mention code without claiming
// anything.
func (c *checker) analyze(s *sent) *sentInfo {
	if s.info != nil {
		return s.info
	}
	c.infoBuf = append(c.infoBuf, sentInfo{})
	in := &c.infoBuf[len(c.infoBuf)-1] // earlier ones stay where they are if this grows
	s.info = in
	c.analyses++
	if s.end-s.start > maxSentenceScan {
		in.guard = 1
		return in
	}
	t := c.text
	c.shapeBuf, c.offBuf = s.buildShape(t, c.shapeBuf, c.offBuf)
	defer func() { s.off = nil }() // the offsets live in a buffer the next sentence reuses
	sh := s.shape
	trimmed := strings.TrimRight(sh, " ")
	in.colon = strings.HasSuffix(trimmed, ":")
	if strings.HasSuffix(trimmed, "?") {
		in.question, in.guard = true, 1
		return in
	}
	in.lead = leadStrip(sh)
	body := sh[in.lead:]
	// "- [ ] `go vet ./...` is clean": an unchecked box is a to-do, not a
	// report of what ran
	if strings.HasPrefix(body, "[ ]") {
		in.guard = 1
		return in
	}
	hasCmd := c.hasCommandSpan(s)
	// most sentences hold no double quote; only those need the count
	quoted := strings.IndexByte(sh, '"') >= 0 || strings.Contains(sh, "“") || strings.Contains(sh, "„")

	c.wordBuf = shapeWords(sh, c.wordBuf[:0])
	ws := c.wordBuf

	// explicit claims
	if hasAny(sh, runWords) {
		for _, end := range explicitRuns(sh, ws, nil) {
			if quoted && inQuote(sh, end) {
				continue // someone's words: "The issue says: \"I ran `npm test` …\""
			}
			if strings.HasSuffix(sh[:end], "tried") || strings.HasSuffix(sh[:end], "used") {
				c.triedObjects(s, in, end)
				continue
			}
			c.explicitObjects(s, in, end)
		}
		if !strings.Contains(body, "tried") {
			// reTerseTried cannot match
		} else if m := reTerseTried.FindStringIndex(body); m != nil && commandObject(sh, in.lead+m[1]) {
			// "Tried `curl -sI …` → 200": a terse report of a run, like "Ran"
			c.triedObjects(s, in, in.lead+m[1])
		}
		if !strings.Contains(body, "ran") && !strings.Contains(body, "execut") {
			// reTerse cannot match
		} else if m := reTerse.FindStringIndex(body); m != nil && !reRanIdiom.MatchString(body[m[1]:]) && !(quoted && inQuote(sh, in.lead+m[1])) {
			c.explicitObjects(s, in, in.lead+m[1])
		}
	}
	if !hasCmd {
		return in
	}
	for k, m := range s.marks {
		if !c.spanIsCommand(s, k) || quoted && inQuote(sh, m) {
			continue
		}
		if c.open && strings.HasPrefix(sh[m+1:], " went through") {
			in.wentThrough = true
		}
		if checkedWith(sh, ws, m, in.lead) || foreignRun(sh, m) {
			in.explicit = true
			c.claimSpan(s, in, k, true)
			continue
		}
		// A program named alone is the tool, not a run of it: "`npm`
		// updated its lockfile format", "- `docker` ✅" in a support list.
		// A program and a version ("- `go 1.22` ✅") names a release.
		span := strings.TrimSpace(s.spanText(c.text, k))
		args := strings.IndexByte(span, ' ') > 0
		item := args && resultItem(sh, m, in.lead) && !versionName(span) && !c.supportList(s)
		if (implicitAt(sh, ws, m, in.lead) || args && actionAfter(sh, m) || item || arrowResult(sh, m, args) || leadInstrument(sh, ws, m, in.lead)) && !c.guarded(s, in) {
			c.claimSpan(s, in, k, false)
			if item && successItem(sh, m) || successState(sh[m:]) {
				in.claimed[len(in.claimed)-1].success = true
			}
		}
	}
	if strings.HasPrefix(strings.TrimLeft(sh, " "), "|") && !c.guarded(s, in) && !c.supportList(s) {
		c.tableRow(s, in)
	}
	return in
}

var (
	runWords = []string{"ran", "run", "execut", "invok", "trigger", "kicked", "tried", "used"}
)

func hasAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// hasCommandSpan reports whether any code span of s is command-like; the
// answer per span is cached in s.cmdLike.
func (c *checker) hasCommandSpan(s *sent) bool {
	for k := range s.spans {
		if c.spanIsCommand(s, k) {
			return true
		}
	}
	return false
}

func (c *checker) spanIsCommand(s *sent, k int) bool {
	if len(s.cmdLike) != len(s.spans) {
		s.cmdLike = make([]int8, len(s.spans))
	}
	if s.cmdLike[k] == 0 {
		s.cmdLike[k] = -1
		if isCommandLike(s.spanText(c.text, k)) {
			s.cmdLike[k] = 1
		}
	}
	return s.cmdLike[k] > 0
}

// guarded reports, computing once, whether the sentence is addressed to the
// user, hypothetical, an example or about someone else's run.
func (c *checker) guarded(s *sent, in *sentInfo) bool {
	if in.guard == 0 {
		in.guard = -1
		if implicitGuard(s.shape, in.lead, reLabelEnd.MatchString(strings.TrimRight(s.shape, " ")), c.guardBuf) {
			in.guard = 1
		}
	}
	return in.guard > 0
}

// implicitGuard reports sentences that present commands to the user rather
// than report what ran: instructions, suggestions, explanations,
// hypotheticals, examples, other people's runs. It works on words, not
// expressions: it runs on every sentence that names a command.
func implicitGuard(sh string, lead int, label bool, buf []word) bool {
	ws := shapeWords(sh, buf[:0])
	if strings.Contains(sh, "e.g.") {
		return true
	}
	cut := consequenceCut(sh)
	firstMark := strings.IndexByte(sh, markByte)
	for i, wd := range ws {
		if wd.s >= cut {
			break
		}
		w := sh[wd.s:wd.e]
		if guardWords[w] || strings.HasSuffix(w, "'ll") || strings.HasSuffix(w, "'d") {
			return true
		}
		// "The reporter says `docker compose up` fails": a command after
		// someone's words is their run, told again.
		if speechVerbs[w] && wd.s < firstMark && i > 0 && !firstPerson[wordAt(sh, ws, i-1)] {
			return true
		}
		if w == "can" && !(i > 0 && (wordAt(sh, ws, i-1) == "i" || wordAt(sh, ws, i-1) == "we") && perceptionVerbs[wordAt(sh, ws, i+1)]) {
			return true // "I can see" reports; "you can run" does not
		}
		if i+1 < len(ws) && isGuardPhrase(w, wordAt(sh, ws, i+1)) {
			return true
		}
		// "Back in 2019 `npm install` pulled in …", "In 2021, `make` took
		// 40 minutes": a year before the command places the run in a story;
		// after it ("shows 3 commits in 2024") it is what the run found
		if (w == "in" || w == "during" || w == "since") && wd.s < firstMark && isYear(sh, ws, i+1) {
			return true
		}
	}
	// the first word of the sentence's own text
	first := -1
	for i, wd := range ws {
		if wd.s < lead {
			continue
		}
		if leadFillerSet[sh[wd.s:wd.e]] || sh[wd.s:wd.e] == "now" || sh[wd.s:wd.e] == "so" {
			continue
		}
		first = i
		break
	}
	if first < 0 {
		return false
	}
	// "Step 3 — run the migration:", "Fix: run `x`": the instruction
	// starts after a short label.
	if w := wordAt(sh, ws, first); (w == "step" || w == "fix" || w == "next" || w == "then" || w == "option" || w == "solution" || w == "workaround") && first+1 < len(ws) {
		k := first + 1
		if isNumber(wordAt(sh, ws, k)) && k+1 < len(ws) {
			k++
		}
		if d := wordAt(sh, ws, k); (d == "—" || d == "–") && k+1 < len(ws) {
			first = k + 1 // a dash is a word to shapeWords
		} else if strings.ContainsAny(sh[ws[k-1].e:ws[k].s], ":-)") {
			first = k
		}
	}
	w := wordAt(sh, ws, first)
	if condStarts[w] || isGuardPhrase(w, wordAt(sh, ws, first+1)) || w == "in" && wordAt(sh, ws, first+1) == "order" {
		return true
	}
	if w == "make" && wordAt(sh, ws, first+1) == "sure" || w == "next" && wordAt(sh, ws, first+1) == "time" {
		return true
	}
	return !label && imperativeStarts[w]
}

// consequenceCut is where a consequence drawn from a report starts: ", so
// we can set workers to 8" after "The output of `nproc` is `8`". What the
// consequence says to the user or supposes does not make the report before
// it an instruction. Only a consequence after the first command counts: "so"
// opening the sentence is not one.
func consequenceCut(sh string) int {
	m := strings.IndexByte(sh, markByte)
	if m < 0 {
		return len(sh)
	}
	best := len(sh)
	for _, sep := range [...]string{", so ", " — so ", " - so ", ", which means "} {
		if i := strings.Index(sh[m:], sep); i >= 0 && m+i < best {
			best = m + i
		}
	}
	return best
}

var (
	// Words that make a sentence about the user, a possibility, an example
	// or someone else.
	guardWords = setOf(`you you'll you'd you've you're your yours yourself ` +
		`will would should could might may must shall cannot can't won't wouldn't shouldn't couldn't expect expected expects typically usually normally generally often always ` +
		`example examples sample typical trick tip recipe one-liner cheatsheet ` +
		`ci pipeline workflow jenkins user users they he she someone colleague teammate readme docs documentation tutorial guide issue ticket changelog claimed claims alleged allegedly supposedly reportedly assistant subagent ` +
		// an inference about what happened, not a report of a run: "the
		// error means `npm install` was run outside the project"
		`means meaning implies suggests presumably apparently probably ` +
		// a run at another time, told as a story: "Last month `terraform
		// apply` dropped the table"
		`yesterday ago historically formerly originally`)
	guardPhrases    = phraseSet(`is how|here's how|that's how|looks like|look like|should look|would look|will look|need to|needs to|going to|want to|wants to|supposed to|for example|for instance|such as|something like|like this|like so|similar to|expected output|how to|how do|how can|way to|ways to|cheat sheet|github actions|ci log|build log|the model|another agent|last week|last month|last year|last night|last time|last sprint|back then|early days|first version|old days`)
	condStarts      = setOf(`if when whenever unless once until before to suppose assuming imagine otherwise`)
	speechVerbs     = setOf(`says said mentions mentioned writes wrote reports reported claims claimed notes noted tells told`)
	firstPerson     = setOf(`i we i've we've`)
	perceptionVerbs = setOf(`see confirm tell`)
)

// phraseSet maps the first word of each two-word phrase (separated by
// '|') to the second words it combines with.
func phraseSet(phrases string) map[string][]string {
	m := make(map[string][]string)
	for _, p := range strings.Split(phrases, "|") {
		a, b, _ := strings.Cut(p, " ")
		m[a] = append(m[a], b)
	}
	return m
}

func isGuardPhrase(a, b string) bool { return isPhrase(guardPhrases, a, b) }

func isPhrase(set map[string][]string, a, b string) bool {
	for _, x := range set[a] {
		if x == b {
			return true
		}
	}
	return false
}

// explicitObjects claims the commands a run verb ending at shape index
// verbEnd applies to: code spans right after it and those coordinated with
// them ("I ran `a`, then `b`"), or a known program written without
// backticks; failing both, it records the verb's object for the generic
// "I ran the tests" rule.
func (c *checker) explicitObjects(s *sent, in *sentInfo, verbEnd int) {
	in.explicit = true
	sh := s.shape
	prev := verbEnd
	first := true
	got := false
	for k, m := range s.marks {
		if m < verbEnd {
			continue
		}
		between := sh[prev:m]
		if first {
			if len(between) > 60 || reClauseCut.MatchString(between) {
				break
			}
		} else if !reCoord.MatchString(reParens.ReplaceAllString(between, "")) {
			break
		}
		prev = m + 1
		txt := s.spanText(c.text, k)
		if !c.spanIsCommand(s, k) {
			if first {
				break
			}
			continue
		}
		first = false
		if len(strings.Fields(txt)) == 1 && !singleFollowOK(sh[m+1:]) {
			continue
		}
		c.claimSpan(s, in, k, true)
		got = true
	}
	if got {
		return
	}
	// a command without backticks: "I ran go test ./... and"
	raw := s.rawAt(verbEnd)
	if cmd := plainCommand(c.text[raw:s.end]); cmd != "" {
		in.claimed = append(in.claimed, claimedCmd{span: -1, cmd: cmd, start: s.start, end: s.end, explicit: true})
		return
	}
	obj := sh[verbEnd:]
	if loc := reClauseCut.FindStringIndex(obj); loc != nil {
		obj = obj[:loc[0]]
	}
	if len(obj) > 60 {
		obj = obj[:60]
	}
	in.runNoCmd = true
	in.runObject = obj
}

// triedObjects is explicitObjects for "I tried/used `x`": these verbs
// claim a run only through the command they name. When that span is not
// claimed ("I used `sed` like this:"), the sentence is not a run report, so
// it neither makes the block after it a list of run commands nor escapes
// the guards on instructions and examples.
func (c *checker) triedObjects(s *sent, in *sentInfo, verbEnd int) {
	n, explicit, runNoCmd, obj := len(in.claimed), in.explicit, in.runNoCmd, in.runObject
	c.explicitObjects(s, in, verbEnd)
	if len(in.claimed) == n {
		in.explicit, in.runNoCmd, in.runObject = explicit, runNoCmd, obj
	}
}

var reResultCell = regexp.MustCompile(`\b(?:pass(?:ed|es|ing)?|fail(?:ed|s|ing)?|ok|success(?:ful)?|succeeded|clean|green|errors?|exit(?:ed)?\s*(?:code\s*)?\d+|\d+\s+(?:passed|failed|errors?|warnings?))\b|✅|❌|✔|✗|✓`)

// tableRow claims the command of a results table row: a cell holding only
// a command next to a cell holding a result ("| `go test ./...` | ✅ 48
// passed |"). A table of commands and their purposes has no result cell.
func (c *checker) tableRow(s *sent, in *sentInfo) {
	sh := s.shape
	off := strings.IndexByte(sh, '|') + 1
	cells := strings.Split(strings.TrimRight(sh[off:], " |"), "|")
	mark, result := -1, false
	for _, cell := range cells {
		tc := strings.TrimSpace(cell)
		switch {
		case tc == "\x01" && mark < 0:
			if k := s.spanAtMark(off + strings.IndexByte(cell, markByte)); k >= 0 && versionName(strings.TrimSpace(s.spanText(c.text, k))) {
				return // "| `python 3.12` | ✅ |" lists releases
			}
			mark = off + strings.IndexByte(cell, markByte)
		case strings.IndexByte(tc, markByte) < 0 && reResultCell.MatchString(tc):
			result = true
		}
		off += len(cell) + 1
	}
	if mark >= 0 && result {
		c.claimMark(s, in, mark, false)
	}
}

// singleFollowOK reports whether a one-word command span is followed by
// something that keeps it a command ("`make` and it built", "`id`:") rather
// than a noun phrase ("`pip` alone is 4 GB").
func singleFollowOK(after string) bool {
	a := strings.TrimLeft(after, " ")
	if a == "" || strings.IndexByte(",.;:)(—-!?'\"\x01", a[0]) >= 0 {
		return true
	}
	w := a
	if i := strings.IndexAny(w, " ,.;:"); i >= 0 {
		w = w[:i]
	}
	switch w {
	case "and", "then", "to", "with", "which", "but", "again", "first", "twice", "on", "in", "inside", "locally", "successfully", "from", "for", "as", "before", "after", "so", "because", "command", "once", "now":
		return true
	}
	return false
}

func (c *checker) claimMark(s *sent, in *sentInfo, shapeIdx int, explicit bool) {
	k := s.spanAtMark(shapeIdx)
	if k < 0 || !c.spanIsCommand(s, k) {
		return
	}
	c.claimSpan(s, in, k, explicit)
}

func (c *checker) claimSpan(s *sent, in *sentInfo, k int, explicit bool) {
	for i := range in.claimed {
		if in.claimed[i].span == k {
			in.claimed[i].explicit = in.claimed[i].explicit || explicit
			return
		}
	}
	sp := s.spans[k]
	in.claimed = append(in.claimed, claimedCmd{span: k, cmd: c.text[sp.cs:sp.ce], start: max(s.start, sp.start-60), end: min(s.end, sp.end+100), explicit: explicit})
}

// plainCommand reads a command written without backticks after a run verb:
// a known program, then arguments up to the first word that is prose.
func plainCommand(after string) string {
	f := strings.Fields(after)
	if len(f) == 0 || !programs[f[0]] {
		return ""
	}
	var out []string
	for i, w := range f {
		if i >= 10 {
			break
		}
		if i > 0 && plainStop[strings.ToLower(w)] {
			break
		}
		end := false
		if n := len(w); n > 1 && strings.IndexByte(",;:", w[n-1]) >= 0 {
			w, end = w[:n-1], true
		} else if n > 1 && w[n-1] == '.' && !strings.HasSuffix(w, "...") {
			w, end = w[:n-1], true
		}
		if !plainArg(w) {
			break
		}
		out = append(out, w)
		if end {
			break
		}
	}
	if len(out) == 1 && !singlePrograms[out[0]] {
		return ""
	}
	return strings.Join(out, " ")
}

var plainStop = setOf(`and to which but then in on with from for after before again twice once locally successfully earlier first so because since while until it the a an that this as`)

func plainArg(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_./:=@~+%,*'\"", c) >= 0) {
			return false
		}
	}
	return true
}

// emitSentence turns a sentence's claims into findings.
func (c *checker) emitSentence(s *sent, in *sentInfo) {
	for i := range in.claimed {
		cl := &in.claimed[i]
		cl.verdict = c.lookup(cl.cmd)
		switch cl.verdict {
		case unbacked:
			c.add(reasonNoCall, cl.cmd, cl.start, cl.end)
		case neverRan:
			if !reDenialNote.MatchString(s.shape) {
				c.add(reasonContradicts, cl.cmd, cl.start, cl.end)
			}
		case backed:
			// "Re-ran with `go test -race -count=5 ./pkg/...`" after a bare
			// `go test ./pkg/...`: a re-run is told by what changed, so a
			// flag no matching run had means the told run did not happen.
			if rerunTold(s.shape) && c.flagsUnseen(cl.cmd) {
				c.add(reasonNoCall, cl.cmd, cl.start, cl.end)
				continue
			}
			// A message cannot know the result of its own call, so only an
			// earlier failed run contradicts a reported success.
			if cl.success && !c.callMatches(cl.cmd) {
				if e := c.latestMatching(cl.cmd); e != nil && e.failed {
					c.add(reasonContradicts, cl.cmd, cl.start, cl.end)
				}
			}
		}
	}
	if in.runNoCmd && !in.colon {
		c.genericRun(s, in)
	}
	if c.successWords || in.wentThrough {
		c.checkSuccess(s, in.wentThrough)
	}
}

// genericRun handles "I ran the tests" naming no command: a finding only
// when nothing of that kind ran in the session at all.
func (c *checker) genericRun(s *sent, in *sentInfo) {
	cat := objectCategory(in.runObject)
	if cat == 0 {
		return
	}
	if c.d.latestOf(cat) != nil {
		return
	}
	if cats, _ := c.callCategories(); cats&cat != 0 {
		return
	}
	// A script or task runner could be the test run under another name.
	if c.d.latestOf(catRunner) != nil {
		return
	}
	c.add(reasonNoCall, "", s.start, s.end)
}
