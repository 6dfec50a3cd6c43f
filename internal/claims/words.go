package claims

import (
	"regexp"
	"strings"
)

// The claim rules are anchored at their candidates: run verbs found by a
// word scan, and command markers. Scanning whole sentences with one large
// alternation costs more than everything else in a Check together; looking
// a few words left and right of a candidate costs almost nothing.

type word struct{ s, e int }

// shapeWords splits a shape into words of letters, digits, apostrophes and
// hyphens; markers and punctuation separate words.
func shapeWords(sh string, buf []word) []word {
	buf = buf[:0]
	for i := 0; i < len(sh); {
		if !isWordByte(sh[i]) {
			i++
			continue
		}
		j := i
		for j < len(sh) && isWordByte(sh[j]) {
			j++
		}
		buf = append(buf, word{i, j})
		i = j
	}
	return buf
}

func isWordByte(c byte) bool { return wordBytes[c] }

// wordBytes is isWordByte as a table: shapeWords asks it of every byte of
// every sentence read closely, and one load beats the five comparisons.
var wordBytes = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '\'' || c == '-' || c >= 0x80
	}
	return t
}()

// gapBreaks reports whether the text between two positions ends a clause,
// so that a walk over words never joins two clauses.
func gapBreaks(sh string, a, b int) bool { return breaksAt(sh, a, b, ".;:!?\x01") }

// breaksAt reports whether sh[a:b] holds one of the break bytes.
func breaksAt(sh string, a, b int, breaks string) bool {
	for {
		i := strings.IndexAny(sh[a:b], breaks)
		if i < 0 {
			return false
		}
		i += a
		// Inside a sentence a period followed by a non-space is part of a
		// token ("1.4.0", "config.yaml"), not the end of a clause.
		if sh[i] != '.' || i+1 >= len(sh) || sh[i+1] == ' ' {
			return true
		}
		a = i + 1
	}
}

var (
	advSet          = setOf(`just also then first now already again successfully quickly finally manually locally actually previously earlier initially subsequently immediately additionally once twice both all each separately briefly carefully`)
	prefixGuardSet  = setOf(`would could should might will if unless suppose supposing imagine assuming pretend whether`)
	pastRunVerbs    = setOf(`ran reran re-ran executed re-executed invoked triggered`)
	baseRunVerbs    = setOf(`run rerun re-run execute re-execute`)
	checkVerbSet    = setOf(`checked verified confirmed tested validated inspected queried probed examined double-checked reproduced diagnosed measured`)
	directCheckSet  = setOf(`checked inspected queried`)
	withSet         = setOf(`with using via through running`)
	outputNounSet   = setOf(`output outputs result results response stdout stderr log logs error errors`)
	showVerbSet     = setOf(`shows showed returns returned prints printed says said gives gave reports reported outputs output produces produced lists listed`)
	asVerbSet       = setOf(`shows showed reported reports confirms confirmed`)
	gerundResultSet = setOf(`shows showed gives gave returns returned prints printed outputs reports reported lists listed yields yielded produces produced confirms confirmed reveals revealed fails failed succeeds succeeded passes passed works worked says said displays displayed indicates indicated removed added fixed updated installed created deleted downloaded upgraded generated cleaned freed pruned reclaimed resolved changed wrote modified rebuilt restarted took`)
	leadFillerSet   = setOf(`then and also next first finally just quickly`)
)

// subjectBefore walks back from word index vi (a run verb) over adverbs and
// auxiliaries to a first-person subject. It returns the subject's word
// index, or -1. perfect reports "have/had/'ve" or "went ahead and", which a
// base-form verb ("run") needs to be a past claim.
func subjectBefore(sh string, ws []word, vi int) (int, bool) {
	perfect := false
	for i := vi - 1; i >= 0 && i >= vi-10; i-- {
		if gapBreaks(sh, ws[i].e, ws[i+1].s) {
			return -1, false
		}
		w := sh[ws[i].s:ws[i].e]
		switch {
		case advSet[w]:
		case w == "have" || w == "had":
			perfect = true
		case w == "did" && !perfect:
			// emphatic past: "I did run `x`"; "didn't"/"did not" are other words
			perfect = true
		case w == "and" && i >= 2 && sh[ws[i-1].s:ws[i-1].e] == "ahead" && (sh[ws[i-2].s:ws[i-2].e] == "went" || sh[ws[i-2].s:ws[i-2].e] == "gone"):
			perfect = true
			i -= 2
		case w == "to" && i >= 1 && (sh[ws[i-1].s:ws[i-1].e] == "proceeded" || sh[ws[i-1].s:ws[i-1].e] == "on" && i >= 2 && sh[ws[i-2].s:ws[i-2].e] == "went"):
			perfect = true
			if sh[ws[i-1].s:ws[i-1].e] == "on" {
				i--
			}
			i--
		case w == "i" || w == "we":
			return i, perfect
		case w == "i've" || w == "we've":
			return i, true
		default:
			return -1, false
		}
	}
	return -1, false
}

// prefixGuarded reports a hypothetical before the subject: "if I ran".
func prefixGuarded(sh string, ws []word, upto int) bool {
	for i := 0; i < upto; i++ {
		w := sh[ws[i].s:ws[i].e]
		if prefixGuardSet[w] || strings.HasSuffix(w, "'ll") || strings.HasSuffix(w, "'d") {
			return true
		}
	}
	return false
}

var (
	subordinators = setOf(`once when whenever after`)
	futureWords   = setOf(`will would can could should might may must shall won't`)
)

// conditionalRun reports a run in a subordinate clause whose main clause is
// future or modal: "Once we've run `terraform apply`, the bucket will
// exist" states a condition, not a report. "When I ran `x`, it exited with
// 137" has no such main clause and stays a claim.
func conditionalRun(sh string, ws []word, si, vi int) bool {
	sub := false
	for i := max(0, si-3); i < si; i++ {
		if subordinators[wordAt(sh, ws, i)] {
			sub = true
		}
	}
	if !sub {
		return false
	}
	for i := vi + 1; i < len(ws); i++ {
		if w := wordAt(sh, ws, i); futureWords[w] || strings.HasSuffix(w, "'ll") {
			return true
		}
	}
	return false
}

// triedVerbs run what they apply to when that is a command written right
// after them: "I tried `curl -I …` and got", "I used `grep -rn` to find
// them". Anything else ("I tried a smaller batch", "I used to") is not a run.
var triedVerbs = setOf(`tried used`)

func commandObject(sh string, p int) bool {
	a := strings.TrimLeft(sh[p:], " ")
	a = strings.TrimPrefix(a, "running ")
	return a != "" && a[0] == markByte
}

// explicitRuns finds "I ran", "we've executed", "I went ahead and ran" and
// returns the shape index after each verb.
func explicitRuns(sh string, ws []word, out []int) []int {
	for vi, wd := range ws {
		switch sh[wd.s] {
		case 'r', 'e', 'i', 't', 'k', 'u':
		default:
			continue // no run verb starts otherwise
		}
		w := sh[wd.s:wd.e]
		past := pastRunVerbs[w] || triedVerbs[w] && commandObject(sh, wd.e)
		base := baseRunVerbs[w]
		kicked := w == "kicked" && vi+1 < len(ws) && sh[ws[vi+1].s:ws[vi+1].e] == "off"
		if !past && !base && !kicked {
			continue
		}
		si, perfect := subjectBefore(sh, ws, vi)
		if si < 0 || base && !perfect || prefixGuarded(sh, ws, si) || conditionalRun(sh, ws, si, vi) {
			continue
		}
		end := wd.e
		if kicked {
			end = ws[vi+1].e
		}
		if reRanIdiom.MatchString(sh[end:]) {
			continue
		}
		out = append(out, end)
	}
	return out
}

// wordBefore returns the index of the last word ending at or before p with
// no clause break after it, or -1.
func wordBefore(sh string, ws []word, p int) int {
	for i := len(ws) - 1; i >= 0; i-- {
		if ws[i].e <= p {
			if gapBreaks(sh, ws[i].e, p) {
				return -1
			}
			return i
		}
	}
	return -1
}

func wordAt(sh string, ws []word, i int) string {
	if i < 0 || i >= len(ws) {
		return ""
	}
	return sh[ws[i].s:ws[i].e]
}

// skipBack steps back over "the" and "command" before a marker.
func skipBack(sh string, ws []word, i int) int {
	for i >= 0 && (wordAt(sh, ws, i) == "the" || wordAt(sh, ws, i) == "command") {
		if i > 0 && gapBreaks(sh, ws[i-1].e, ws[i].s) {
			return -1
		}
		i--
	}
	return i
}

// checkedWith reports a command as the instrument of something the agent
// says it did: "I checked ... with `cmd`", "Checked with `cmd`", "I
// inspected `cmd`", "I restarted nginx with `cmd`", "I've installed the
// dependencies (`cmd`)".
func checkedWith(sh string, ws []word, m, lead int) bool {
	if checkLabel(sh, ws, m, lead) {
		return true
	}
	paren := m > 0 && strings.HasSuffix(strings.TrimRight(sh[:m], " "), "(")
	i := wordBefore(sh, ws, m)
	if paren {
		i = wordBefore(sh, ws, strings.LastIndexByte(sh[:m], '('))
	}
	i = skipBack(sh, ws, i)
	if i < 0 {
		return false
	}
	w := wordAt(sh, ws, i)
	if !paren && directCheckSet[w] && checkSubject(sh, ws, i, lead) {
		return true
	}
	// "I looked at `kubectl logs …`": reading a command's output is running it
	if !paren && w == "at" && lookVerbs[wordAt(sh, ws, i-1)] && checkSubject(sh, ws, i-1, lead) {
		return true
	}
	if !paren && !withSet[w] {
		return false
	}
	// the verb, within a few words and 50 bytes
	for j := i - 1 + b2i(paren); j >= 0 && j >= i-8 && ws[i].s-ws[j].e <= 50; j-- {
		if j < i && gapBreaks(sh, ws[j].e, ws[j+1].s) {
			return false
		}
		v := wordAt(sh, ws, j)
		// "I went through the logs with `journalctl …`"; "I went with
		// `pnpm`" is a choice
		// "I looked up the entry with `crontab -l`"; "I looked into doing
		// it with `sed`" weighs a way, it did not run it
		next := wordAt(sh, ws, j+1)
		went := v == "went" && (next == "through" || next == "over") && j+1 < i
		looked := v == "looked" && (next == "up" || next == "at" || next == "through") && j+1 < i
		if checkVerbSet[v] || actionVerbSet[v] || went || looked {
			return checkSubject(sh, ws, j, lead)
		}
	}
	return false
}

// checkLabel reports a command right after a past check verb used as the
// sentence's label: "Confirmed: `redis-cli ping` → `PONG`", "Verified:
// `go test ./...` passes". The verb is past, so it reports what was done;
// "Check: `x`" is an instruction and has no past verb.
func checkLabel(sh string, ws []word, m, lead int) bool {
	before := strings.TrimRight(sh[:m], " ")
	if !strings.HasSuffix(before, ":") {
		return false
	}
	before = strings.TrimRight(before[:len(before)-1], " ")
	i := -1
	for k := range ws {
		if ws[k].s >= lead && ws[k].e <= len(before) {
			i = k
		}
	}
	if i < 0 || ws[i].e != len(before) || !checkVerbSet[wordAt(sh, ws, i)] {
		return false
	}
	for j := i - 1; j >= 0; j-- {
		if ws[j].s >= lead && !leadFillerSet[wordAt(sh, ws, j)] {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lookVerbs read what they look at: "I looked at `kubectl logs …`".
var lookVerbs = setOf(`looked glanced peeked`)

// chainVerbs may open a terse report before the verb that has the
// instrument: "Enabled and started the backup timer with `x`".
var chainVerbs = setOf(`enabled disabled stopped started restarted reloaded installed built pulled fetched cleaned checked verified`)

// actionVerbSet are past-tense verbs whose instrument is something run:
// "I restarted nginx with `...`". Verbs of editing ("replaced X with `y`",
// "updated the config with") describe changes to files and are left out.
var actionVerbSet = setOf(`curl'd curled enabled disabled restarted started stopped installed uninstalled reinstalled built rebuilt deployed redeployed launched booted rebooted reloaded compiled recompiled linted formatted fetched pulled pushed cloned downloaded uploaded synced migrated seeded initialized bootstrapped provisioned applied scaled killed terminated cleaned cleared flushed purged pruned generated regenerated benchmarked profiled debugged listed searched grepped counted created deleted tailed followed reset rolled upgraded downgraded pinged hit called exercised polled scanned traced dumped exported imported restored rotated renewed tagged released published merged rebased committed smoke-tested load-tested brought spun tore ran reran re-ran executed fired kicked`)

// checkSubject accepts a check verb with a first-person subject or at the
// start of the sentence (terse reports).
func checkSubject(sh string, ws []word, vi, lead int) bool {
	if si, _ := subjectBefore(sh, ws, vi); si >= 0 {
		return !prefixGuarded(sh, ws, si)
	}
	// a verb coordinated with the sentence's first-person subject: "I've
	// installed X and started Y with `cmd`"
	for j := 0; j < vi; j++ {
		if ws[j].s < lead {
			continue
		}
		switch wordAt(sh, ws, j) {
		case "i", "we", "i've", "we've":
			// a command in between does not break the clause: "I've installed
			// the dependencies (`npm install`) and started ...", "I checked
			// `x` (it's `main`), then rebased with `y`"
			c := wordAt(sh, ws, vi-1)
			return (c == "and" || c == "then") && !breaksAt(sh, ws[j].e, ws[vi].s, ".;:!?")
		}
		break
	}
	for j := vi - 1; j >= 0; j-- {
		// a list marker ("-") is a word to shapeWords but not the sentence's own;
		// terse reports chain verbs: "Enabled and started the timer with `x`"
		if w := wordAt(sh, ws, j); ws[j].s >= lead && !leadFillerSet[w] && !(chainVerbs[w] && j < vi-1) {
			return false
		}
	}
	return ws[vi].s >= lead
}

var (
	// Patterns that start at a command marker: the command as the subject
	// of a result verb, its output presented, or a state it reported.
	reAfterMark = regexp.MustCompile(`^\x01(?:` +
		`\s+(?:now\s+|still\s+)?(?:shows|reports|says|lists|returns|prints)\s+(?:only\s+|about\s+|just\s+|all\s+(?:the\s+)?|version\s+v?)?(?:\d|(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b)` +
		`|` +
		// a level read off the command: "`df -h /var` is at 64% now"
		`\s+(?:is|was)\s+(?:now\s+|still\s+)?at\s+\d+(?:\.\d+)?\s*%` +
		`|` +
		// a pronoun object with what tells this run from the command's
		// purpose: "`docker images` lists them both", "`systemctl
		// list-timers` lists it for 02:00"; "`ls` lists them in order" and
		// "`ls -a` shows them too" describe the command
		`\s+(?:now\s+|still\s+)?(?:shows|lists|reports)\s+(?:it|them)\s+(?:both\b|(?:for|at)\s+\d)` +
		`|` +
		// a state read off the command: "`systemctl status pg` says active (running)"
		`\s+(?:now\s+|still\s+)?(?:shows|reports|says)\s+(?:it(?:'s|\s+is)\s+)?(?:active|inactive|healthy|unhealthy|degraded|ready|dead|enabled|disabled|ok|clean)\b\s*(?:$|[(,.;:—-]|(?:since|again|now|on|at)\b)` +
		`|` +
		`(?:\s+(?:command|again|now|also|then|still|just|itself|run|call|invocation))?\s+(?:returned|printed|showed|reported|gave|outputted|said|listed|displayed|produced|revealed|confirmed|exited|failed|succeeded|passed|completed|finished|worked|errored|timed out|crashed|hung|came back|found|indicated|yielded|shows that|reports that|says that|indicates that|confirms|passes|fails|succeeds|completes|exits with|is clean|is green|was clean|was green|returns nothing|returns no|returns an empty|now shows|now returns|now prints|now passes|now fails|still shows|still returns|still fails|still prints|was run|was executed|was re-?run|has been run|had been run|got run|brought|pulled|fetched|created|removed|deleted|installed|added|upgraded|downloaded|wrote|generated|changed|modified|cleaned|freed|took|ran)\b` +
		`|(?:'s)?\s+(?:command\s+)?(?:output|results?|response|stdout|stderr)(?:\s*:|\s+(?:shows|showed|was|is|says|said|contains|contained|confirms|confirmed|includes|included|lists|listed|reports|reported)\b)` +
		`|\s+(?:now\s+|still\s+)?(?:shows|reports|says|indicates|lists)\s+(?:that\s+)?(?:the\s+|a\s+|an\s+|only\s+|no\s+|\d+\s+)?[a-z0-9\x01][^.;,]{0,40}?\b(?:is|are|was|were|has|have)\b` +
		`)`)
	reRanIdiom = regexp.MustCompile(`^\s+(?:into|out|across|over|through|low|short|away|off)\b`)
	// An object starting with a wh-word is a description: "`git status`
	// shows which files are staged".
	reWhObject = regexp.MustCompile(`^\x01\s+(?:now\s+|still\s+)?(?:shows|reports|says|indicates|lists)\s+(?:which|what|whether|how|where|who|when|if|why)\b`)
	// A subject claim followed by a condition is an explanation:
	// "`npm test` fails when the database is down".
	reCondAfter = regexp.MustCompile(`^\s*(?:if|when|whenever|unless|without|only if|on some|for some|or)\b|^\s*/`)
)

var (
	rePresentVerb = regexp.MustCompile(`\b(?:exits|fails|passes|succeeds|completes|returns|prints|shows|reports|says|lists|indicates|confirms|is)\b`)
	reCondLater   = regexp.MustCompile(`^[^,;.—]*?\b(?:if|when|whenever|unless)\b`)
)

// presentWithCondition reports a present-tense result under a condition
// later in the same clause: "`grep -q` exits with code 0 when it finds a
// match" says how the command behaves, not what a run did. A past result
// ("`npm ci` failed when I ran it") stays a report.
func presentWithCondition(match, after string) bool {
	// the condition may fall inside the match: "says active when the unit
	// is running" is read up to "is" by the state expression
	return rePresentVerb.MatchString(match) && (reCondLater.MatchString(after) || reCondLater.MatchString(match[1:]))
}

// implicitAt reports whether the command marker at m is presented as having
// run or produced output, without a first-person subject.
func implicitAt(sh string, ws []word, m, lead int) bool {
	if afterTrigger(sh, ws, m) {
		if loc := reAfterMark.FindStringIndex(sh[m:min(len(sh), m+160)]); loc != nil {
			if !reCondAfter.MatchString(sh[m+loc[1]:]) && !reWhObject.MatchString(sh[m:]) && !presentWithCondition(sh[m:m+loc[1]], sh[m+loc[1]:]) {
				return true
			}
		}
	}
	i := wordBefore(sh, ws, m)
	if i < 0 {
		return false
	}
	w := wordAt(sh, ws, i)
	switch {
	case w == "after" && i+1 < len(ws) || w == "after" && i == len(ws)-1:
		return true // "After `terraform init`, ..."
	case w == "according":
		return false
	case w == "to":
		return wordAt(sh, ws, i-1) == "according"
	case w == "as":
		return asVerbSet[firstWordAfter(sh, ws, m)]
	case w == "what":
		return hereIs(sh, ws, i-1) && showVerbSet[firstWordAfter(sh, ws, m)]
	}
	j := skipBack(sh, ws, i)
	if j < 0 {
		return false
	}
	w = wordAt(sh, ws, j)
	if w == "running" || w == "executing" || w == "re-running" || w == "rerunning" {
		prev := wordAt(sh, ws, j-1)
		if prev == "after" || prev == "by" || prev == "upon" {
			return true
		}
		if ws[j].s >= lead && (j == 0 || ws[j-1].e <= lead) {
			return gerundResult(sh, ws, m)
		}
		w = prev
		j--
	}
	if w == "of" || w == "from" {
		return outputNounSet[wordAt(sh, ws, j-1)]
	}
	return false
}

// afterTriggers are the words that can follow a command marker in
// reAfterMark, checked first so the expression runs only where it can match.
var afterTriggers = setOf(`prints brought pulled fetched created removed deleted installed added upgraded downloaded wrote generated changed modified cleaned freed took ran ` + `command again now also then still just itself run call invocation 's returned printed showed reported gave outputted said listed displayed produced revealed confirmed exited failed succeeded passed completed finished worked errored timed crashed hung came found indicated yielded shows reports says indicates confirms passes fails succeeds completes exits is was returns has had got output results result response stdout stderr lists`)

func afterTrigger(sh string, ws []word, m int) bool {
	if m+1 < len(sh) && sh[m+1] == '\'' {
		return true // "`x`'s output"
	}
	for _, w := range ws {
		if w.s > m {
			return !gapBreaks(sh, m+1, w.s) && afterTriggers[sh[w.s:w.e]]
		}
	}
	return false
}

func hereIs(sh string, ws []word, i int) bool {
	switch wordAt(sh, ws, i) {
	case "here's":
		return true
	case "is", "are":
		return wordAt(sh, ws, i-1) == "here"
	}
	return false
}

func firstWordAfter(sh string, ws []word, m int) string {
	for _, w := range ws {
		if w.s > m {
			if gapBreaks(sh, m+1, w.s) {
				return ""
			}
			w2 := sh[w.s:w.e]
			if w2 == "now" || w2 == "still" || w2 == "also" {
				continue
			}
			return w2
		}
	}
	return ""
}

// gerundResult looks for a result verb within 30 bytes after the marker:
// "Running `ls` shows three files".
func gerundResult(sh string, ws []word, m int) bool {
	for _, w := range ws {
		if w.s <= m {
			continue
		}
		if w.s-m > 32 || gapBreaks(sh, m+1, w.s) {
			return false
		}
		if gerundResultSet[sh[w.s:w.e]] {
			return true
		}
	}
	return false
}

// leadInstrument reads a command that opens the sentence as the means of
// what a first-person clause after it found: "Using `aws s3 ls …`, I can see
// the last backup is from March". "With `docker compose`, I can spin up the
// stack" is an ability, not a finding: only perception and past verbs count.
func leadInstrument(sh string, ws []word, m, lead int) bool {
	if w := nextWord(sh, lead); w != "using" && w != "with" && w != "via" && w != "through" && w != "running" {
		return false
	}
	i := wordBefore(sh, ws, m)
	if i < 0 || ws[i].s < lead || !withSet[wordAt(sh, ws, i)] {
		return false
	}
	for j := i - 1; j >= 0; j-- {
		if ws[j].s >= lead {
			return false // the instrument must open the sentence
		}
	}
	rest := strings.TrimLeft(sh[m+1:], " ")
	if !strings.HasPrefix(rest, ",") {
		return false
	}
	k := -1
	for j := range ws {
		if ws[j].s > m {
			k = j
			break
		}
	}
	if k < 0 || !firstPerson[wordAt(sh, ws, k)] {
		return false
	}
	v := wordAt(sh, ws, k+1)
	if v == "can" || v == "could" {
		return perceptionVerbs[wordAt(sh, ws, k+2)]
	}
	return checkVerbSet[v] || actionVerbSet[v] || foundVerbs[v]
}

var foundVerbs = setOf(`found saw noticed got confirmed learned spotted`)

// reActionAfter is a command as the subject of what a run of it did or
// found: "`alembic upgrade head` applied 3f2a", "`grep -rn TODO` turned up
// 14". These verbs also tell a tool's history ("`npm` updated its lockfile
// format"), so they count only for a command with arguments. "started" and
// "stopped" are left out: "`terraform init` started downloading providers
// in parallel" describes a release.
var reActionAfter = regexp.MustCompile(`^\x01(?:\s+(?:again|now|also|then|just|itself))?\s+(?:turned up|flagged|threw|complained|caught|surfaced|picked up|spat out|applied|built|compiled|restarted|killed|pushed|merged|dropped|migrated|updated|tagged|rolled back|rolled out)\b`)

var actionTriggers = setOf(`again now also then just itself turned flagged threw complained caught surfaced picked spat applied built compiled restarted killed pushed merged dropped migrated updated tagged rolled`)

func actionAfter(sh string, m int) bool {
	if !actionTriggers[nextWord(sh, m+1)] {
		return false
	}
	loc := reActionAfter.FindStringIndex(sh[m:min(len(sh), m+80)])
	return loc != nil && !reCondAfter.MatchString(sh[m+loc[1]:])
}

// nextWord is the word that starts after the spaces at p, or "".
func nextWord(sh string, p int) string {
	for p < len(sh) && sh[p] == ' ' {
		p++
	}
	e := p
	for e < len(sh) && isWordByte(sh[e]) {
		e++
	}
	return sh[p:e]
}

// resultItem reads a list item or line that is a command and its result:
// "- `go vet ./...` ✅", "`npm test` — passed". A table row says the same
// with bars (tableRow).
func resultItem(sh string, m, lead int) bool {
	if m < lead || strings.TrimSpace(sh[lead:m]) != "" {
		return false
	}
	a := strings.TrimLeft(sh[m+1:], " —–-:→")
	for _, r := range [...]string{"✅", "✔", "✓", "❌", "✗", "passed", "failed", "ok"} {
		if !strings.HasPrefix(a, r) || len(a) > len(r) && isWordByte(a[len(r)]) && r[0] < 0x80 {
			continue
		}
		// what follows the mark is a result ("✅ 212 passing", "✅ (all
		// ok)") or nothing; "✅ supported" is a feature list
		b := strings.TrimLeft(a[len(r):], " —–-:,")
		if b == "" || b[0] == '(' || b[0] >= '0' && b[0] <= '9' {
			return true
		}
		w := b
		if i := strings.IndexAny(w, " ,.;:)"); i >= 0 {
			w = w[:i]
		}
		return itemResultWords[w]
	}
	// "✔️ `npm run lint` — 0 problems": a count of results after the command
	return reCountResult.MatchString(a)
}

func hasHighByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

var itemResultWords = setOf(`passed passing pass ok clean green failed failing fails errors warnings no none all in`)

// foreignRun reads first-person past run verbs of other languages next to a
// command: "Ejecuté `x`", "J'ai lancé `x`", "Ich habe `x` ausgeführt",
// "我运行了 `x`", "`x` を実行したところ". Instructions ("ejecuta `x`",
// "请运行", "を実行してください") use other forms.
func foreignRun(sh string, m int) bool {
	before := strings.TrimRight(sh[max(0, m-60):m], " ")
	after := sh[m+1 : min(len(sh), m+1+60)]
	if !hasHighByte(before) && !hasHighByte(after) {
		// only the Portuguese and Italian forms, and German ones such as
		// "Ich habe `x` laufen lassen", are plain ASCII
		if !strings.HasSuffix(before, "i") && !strings.HasSuffix(before, "o") && !strings.Contains(before, "hab") {
			return false
		}
	}
	for _, o := range foreignOthers {
		if strings.Contains(before, o) {
			return false // someone else ran it: "CI 运行了 `x`", "ユーザーが`x`を実行した"
		}
	}
	// "Executei o comando `x`": the verb's object names the command
	for _, n := range foreignCmdNouns {
		if strings.HasSuffix(before, n) {
			before = strings.TrimRight(strings.TrimSuffix(before, n), " ")
			break
		}
	}
	for _, v := range foreignWith {
		// "我用 `docker logs api` 看了一下": the command as the instrument
		// of something done, past by 了 later in the clause ("我用 `x` 可以看到"
		// is an ability)
		if strings.HasSuffix(before, v) && !strings.ContainsAny(strings.TrimSuffix(before, v), "，。；") {
			if i := strings.Index(after, "了"); i >= 0 && !strings.ContainsAny(after[:i], "，。；\x01") && !hasAnyOf(after[:i], foreignEdits) {
				return true
			}
		}
	}
	for _, v := range foreignBefore {
		if strings.HasSuffix(before, v) {
			b := strings.TrimSuffix(before, v)
			if v[0] >= 0xe0 && !strings.Contains(b, "我") { // a CJK form
				// Chinese drops the subject in instructions too ("运行了 `x`
				// 之后再…"); only "我…运行了" is the agent's report
				return false
			}
			for _, neg := range foreignNegations {
				if strings.HasSuffix(b, neg) {
					return false
				}
			}
			return true
		}
	}
	for _, v := range foreignAfter {
		if strings.HasPrefix(strings.TrimLeft(after, " "), v) {
			return true
		}
	}
	// German puts the participle after the object: "Ich habe `x`
	// ausgeführt", "Ich habe den Port mit `lsof -i :8080` geprüft"
	return germanRun(before, after)
}

// germanRun reads "Ich habe … `x` ausgeführt": a first-person perfect
// before the command, in the same clause, and a participle of running or
// checking after it. "… ausgeführt hast" is a subordinate clause about
// someone else.
func germanRun(before, after string) bool {
	subj := -1
	for _, sj := range [...]string{"ich habe", "wir haben", "habe ich", "haben wir"} {
		if i := strings.LastIndex(before, sj); i > subj {
			subj = i
		}
	}
	if subj < 0 || breaksAt(before, subj, len(before), ".;:!?\x01") || strings.Contains(before[subj:], "nicht") {
		return false
	}
	for _, p := range germanParticiples {
		i := strings.Index(after, p)
		if i < 0 || strings.Contains(after[:i], "nicht") || breaksAt(after, 0, i, ".;:!?\x01") {
			continue
		}
		switch nextWord(after, i+len(p)) {
		case "hast", "hat", "habt", "haben":
			return false
		}
		return true
	}
	return false
}

var germanParticiples = []string{"ausgeführt", "laufen lassen", "laufen gelassen", "gestartet", "geprüft", "überprüft", "getestet", "kontrolliert", "verifiziert", "aufgerufen"}

var (
	foreignBefore = []string{"ejecuté", "corrí", "he ejecutado", "hemos ejecutado",
		"executei", "rodei", "j'ai exécuté", "j'ai lancé", "j'ai relancé", "nous avons exécuté", "nous avons lancé",
		"ho eseguito", "ho lanciato", "abbiamo eseguito", "运行了", "执行了", "跑了", "运行了一下", "执行了一下",
		// again, and the instrument of a check
		"volví a ejecutar", "volví a correr", "he vuelto a ejecutar", "executei novamente", "rodei de novo",
		"j'ai vérifié avec", "j'ai testé avec", "j'ai contrôlé avec", "j'ai confirmé avec",
		"verifiqué con", "comprobé con", "probé con", "verifiquei com", "testei com", "conferi com"}
	// nouns for the command between a verb and its code span
	foreignCmdNouns = []string{"o comando", "el comando", "la commande", "le script", "el script", "o script", "il comando"}
	// "我用 `x` …了": the agent's instrument, CJK
	foreignWith = []string{"我用", "我使用", "我通过", "我们用", "我們用"}
	// "我用 `npm ci` 替换了 `npm install`" edits a file, like "replaced X
	// with `y`" in English
	foreignEdits = []string{"替换", "换", "改", "代替", "写"}
	// Subjects other than the agent, in the languages above.
	foreignOthers = []string{"ci ", "ci が", "你", "用户", "他", "她", "ユーザー", "あなた", "usuario", "utilisateur", "benutzer"}
	// "je n'ai pas lancé", "no ejecuté", "non ho eseguito", "我没有运行了"
	foreignNegations = []string{"no ", "non ", "pas ", "jamais ", "nunca ", "没有", "没", "未"}
	// "を実行したら" and "を実行した後" are conditions and instructions ("if
	// you run", "after running"), so only endings that close a report count.
	foreignAfter = []string{"を実行したところ", "を実行しました", "を実行してみました", "を実行した結果", "を実行してみたところ",
		"을 실행했습니다", "를 실행했습니다", "을 실행했더니", "를 실행했더니",
		// a check done with the command, and the command named as one
		"で確認しました", "で確認したところ", "で確認した結果", "で調べました", "で調べたところ", "を確認しました",
		"을 실행한 결과", "를 실행한 결과", "명령을 실행한 결과", "명령을 실행했습니다", "명령어를 실행했습니다", "명령어를 실행한 결과"}
)

// isYear reports a year as word i ("in 2019"), not a file or version that
// starts with one ("2019.log").
func isYear(sh string, ws []word, i int) bool {
	w := wordAt(sh, ws, i)
	if len(w) != 4 || !(strings.HasPrefix(w, "19") || strings.HasPrefix(w, "20")) || !isNumber(w) {
		return false
	}
	e := ws[i].e
	return e == len(sh) || sh[e] != '.' && sh[e] != '/'
}

// inQuote reports whether shape index p lies inside double quotes opened
// earlier in the sentence: a run told inside quotes is someone's words
// ("The issue says: \"I ran `npm test` and all tests pass\"").
func inQuote(sh string, p int) bool {
	before := sh[:p]
	if strings.Count(before, `"`)%2 == 1 {
		return true
	}
	return strings.Count(before, "“") > strings.Count(before, "”") || strings.Count(before, "„") > strings.Count(before, "“")
}

// versionName reports a program followed only by versions ("go 1.22",
// "python 3.12", "node 20"): a release in a support list, not a command.
func versionName(span string) bool {
	f := strings.Fields(span)
	if len(f) < 2 {
		return false
	}
	for _, a := range f[1:] {
		a = strings.TrimPrefix(strings.ToLower(a), "v")
		if a == "" || a[0] < '0' || a[0] > '9' || strings.Trim(a, "0123456789.x+") != "" {
			return false
		}
	}
	return true
}

// supportWords in a table's header or the line that introduces a list make
// its check marks mean "works with", not "ran and passed".
var supportWords = []string{"support", "compat", "works on", "works with", "works in", "available", "platform", "requirement", "version"}

// supportList reports whether the sentence is a row or item of a table or
// list whose header or introducing line is about support or compatibility
// ("| Command | Works on Windows |", "Compatibility:").
func (c *checker) supportList(s *sent) bool {
	t := c.text
	ls := strings.LastIndexByte(t[:s.start], '\n') + 1
	for n := 0; ls > 0 && n < 64; n++ {
		ps := strings.LastIndexByte(t[:ls-1], '\n') + 1
		prev := strings.TrimSpace(t[ps : ls-1])
		if prev == "" {
			break
		}
		ls = ps
		if !listOrRow(prev) {
			break // the line that introduces the block
		}
	}
	head := strings.ToLower(t[ls:lineEnd(t, ls)])
	if strings.Contains(head, "`") && !strings.HasPrefix(strings.TrimSpace(head), "|") {
		return false // a list item with a command, not a header
	}
	for _, w := range supportWords {
		if strings.Contains(head, w) {
			return true
		}
	}
	return false
}

func listOrRow(l string) bool {
	if l == "" {
		return false
	}
	switch l[0] {
	case '|', '-', '*', '+':
		return true
	}
	if strings.HasPrefix(l, "•") {
		return true
	}
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	return i > 0 && i < len(l) && (l[i] == '.' || l[i] == ')')
}

// reCountResult is a count of results after a command: "0 problems", "212
// passed", "no errors".
var reCountResult = regexp.MustCompile(`^(?:\d+|no)\s+(?:problems?|errors?|warnings?|issues?|failures?|failed|passed|passing|vulnerabilit(?:y|ies)|findings?)\b`)

// reVersionOut is a version printed by a command: "v20.11.1", "10.2.4".
var reVersionOut = regexp.MustCompile(`^v?\d+\.\d+(?:\.\d+)?\b`)

var arrowWords = setOf(`ok passed failed clean green deployed applied done succeeded success pong healthy`)

// arrowResult reads "`node -v` → v20.11.1", "`pytest` → 212 passed",
// "`helm upgrade …` → deployed revision 14": an arrow after a command
// presents what its run printed. An arrow to another code span ("`npm run
// build` → `vite build`") maps names and is not read. A program named
// alone counts only with a count of results, which a tool name never has.
func arrowResult(sh string, m int, args bool) bool {
	a := strings.TrimLeft(sh[m+1:], " ")
	switch {
	case strings.HasPrefix(a, "→"):
		a = a[len("→"):]
	case strings.HasPrefix(a, "->"), strings.HasPrefix(a, "=>"):
		a = a[2:]
	default:
		return false
	}
	a = strings.TrimLeft(a, " ")
	if reCountResult.MatchString(a) {
		return true
	}
	if !args {
		return false
	}
	if reVersionOut.MatchString(a) {
		return true
	}
	w := a
	if i := strings.IndexAny(w, " ,.;:)"); i >= 0 {
		w = w[:i]
	}
	return arrowWords[w]
}

// successItem reports a result item whose result is a success: "- `npm
// test` ✅", "`go vet ./...` — clean".
func successItem(sh string, m int) bool {
	a := strings.TrimLeft(sh[m+1:], " —–-:→")
	for _, r := range [...]string{"✅", "✔", "✓", "passed", "ok", "clean", "green"} {
		if strings.HasPrefix(a, r) {
			return true
		}
	}
	return false
}

// reSuccessState is a healthy state read off a command: "`systemctl status
// nginx` says active (running)".
var reSuccessState = regexp.MustCompile(`^\x01\s+(?:now\s+|still\s+)?(?:shows|reports|says)\s+(?:it(?:'s|\s+is)\s+)?(?:active|healthy|ready|ok|clean)\b`)

func successState(at string) bool { return reSuccessState.MatchString(at) }

func hasAnyOf(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
