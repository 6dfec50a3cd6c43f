package claims

import (
	"math/bits"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// category is a kind of work a command does, so that "all tests pass" is
// judged against the latest test run and not against a `git diff` after it.
type category uint16

const (
	catTest category = 1 << iota
	catLint
	catBuild
	catInstall
	catDeploy
	catMigration
	catService
	catRunner // a script or task runner that may do any of the above

	catChecks = catTest | catLint | catBuild // what "green" and "passing" are said of
)

var catNeedles = []struct {
	cat     category
	needles []string
}{
	{catTest, []string{"test", "pytest", "jest", "vitest", "mocha", "rspec", "tox", "nox", "ctest", "phpunit", "playwright", "cypress", "karma", "spec", "check", "e2e"}},
	{catLint, []string{"lint", "eslint", "ruff", "flake8", "pylint", "golangci", "vet", "clippy", "mypy", "tsc", "prettier", "shellcheck", "staticcheck", "typecheck", "type-check", "fmt", "format", "black"}},
	{catBuild, []string{"build", "make", "compile", "tsc", "gcc", "g++", "clang", "javac", "webpack", "vite", "cmake", "mvn", "gradle", "bazel", "ninja", "package", "assemble", "rollup", "esbuild", "cargo b"}},
	{catInstall, []string{"install", "npm ci", "pip ", "pip3 ", "apt", "brew", "yarn add", "pnpm add", "go get", "go mod download", "bundle", "poetry add", "uv sync", "uv add", "cargo add", "yarn"}},
	{catDeploy, []string{"deploy", "kubectl apply", "helm upgrade", "helm install", "terraform apply", "kubectl rollout", "kubectl set image", "release", "publish", "ansible-playbook", "kubectl create", "docker push"}},
	{catMigration, []string{"migrat", "alembic", "flyway", "liquibase"}},
	{catService, []string{"systemctl", "service ", "docker start", "docker run", "compose up", "docker-compose up", "restart", "pm2", "supervisorctl", "nginx -s"}},
}

// runnerWord is not a kind of work: needleCats sets it when canon holds one of
// the words mayNameRunner looks for, so that a command without quotes or
// backslashes is not walked again for them (FuzzExecCmdCategories covers it).
const runnerWord category = 1 << 15

var runnerWords = []string{".sh", "just", "task", "invoke", "make"}

// catNeedleAt lists, by their first byte, the needles of catNeedles with their
// categories, and the runner words. needleCats compares second bytes before
// whole needles, so every needle has two.
var catNeedleAt = func() (t [256][]catNeedle) {
	for _, n := range append(catNeedles[:len(catNeedles):len(catNeedles)], struct {
		cat     category
		needles []string
	}{runnerWord, runnerWords}) {
		for _, s := range n.needles {
			if len(s) < 2 {
				panic("claims: a category needle must be at least two bytes: " + s)
			}
			t[s[0]] = append(t[s[0]], catNeedle{s, n.cat})
		}
	}
	return t
}()

// catPairs marks, by a needle's first byte, the second bytes needles starting
// with it have: most positions of a command start no needle, and one bit test
// tells so before the list of needles is walked.
var catPairs = func() (t [256][4]uint64) {
	for _, n := range catNeedles {
		for _, s := range n.needles {
			t[s[0]][s[1]>>6] |= 1 << (s[1] & 63)
		}
	}
	for _, s := range runnerWords {
		t[s[0]][s[1]>>6] |= 1 << (s[1] & 63)
	}
	return t
}()

type catNeedle struct {
	s   string
	cat category
}

// needleCategories is the union of the categories whose needles occur in canon.
// Every exec is categorised, and a hundred substring searches each cost more than
// one walk over the command looking up the few needles that start with each byte.
func needleCategories(canon string) category { return needleCats(canon) &^ runnerWord }

// needleCats is needleCategories with runnerWord.
func needleCats(canon string) category {
	var c category
	for i := 0; i+1 < len(canon); i++ {
		if b := canon[i+1]; catPairs[canon[i]][b>>6]&(1<<(b&63)) == 0 {
			continue
		}
		for _, n := range catNeedleAt[canon[i]] {
			if c&n.cat == 0 && len(canon)-i >= len(n.s) && canon[i+1] == n.s[1] && canon[i:i+len(n.s)] == n.s {
				c |= n.cat
			}
		}
	}
	return c
}

func commandCategories(info *cmdInfo) category {
	return needleCategories(info.canon) | segRunners(info.segs) | runnerPath(info.canon)
}

// segRunners is catRunner when a simple command runs a script or a task runner.
func segRunners(segs []segment) category {
	for _, s := range segs {
		if strings.HasSuffix(s.prog, ".sh") || s.prog == "just" || s.prog == "task" || s.prog == "invoke" || (s.prog == "make" && len(s.args) == 0) {
			return catRunner
		}
	}
	return 0
}

func runnerPath(canon string) category {
	if strings.HasPrefix(canon, "./") || strings.Contains(canon, " ./scripts/") {
		return catRunner
	}
	return 0
}

// mayNameRunner reports whether segRunners could find a runner in canon's
// segments, without splitting it. Without quotes or backslashes every token,
// and so every program name, is a piece of canon's text; a program that
// segRunners counts then puts one of these words in it.
//
// With quotes or backslashes, a token is canon's text less some of those
// bytes (bash -c unwrapping takes off more of them from its argument, never
// others), so the words are looked for in canon with all of them taken off:
// `grep -rn "tenant" src/` is not split for this.
func mayNameRunner(canon string) bool {
	if hasQuoting(canon) {
		var buf [256]byte
		b := buf[:0]
		for i := 0; i < len(canon); i++ {
			if c := canon[i]; c != '"' && c != '\'' && c != '\\' {
				b = append(b, c)
			}
		}
		if len(b) == 0 {
			return false
		}
		canon = unsafe.String(&b[0], len(b)) // read only below, while b lives
	}
	return hasAny(canon, runnerWords)
}

func hasQuoting(canon string) bool { return strings.ContainsAny(canon, `"'\`) }

var (
	reObjTest    = regexp.MustCompile(`\b(?:tests?|test suite|suite|specs?|e2e|unit tests|test cases)\b`)
	reObjLint    = regexp.MustCompile(`\b(?:lint\w*|linters?|vet|type ?check\w*|typecheck\w*|type-check\w*|formatter|format check)\b`)
	reObjBuild   = regexp.MustCompile(`\b(?:build|builds|built|compil\w*|image|bundle)\b`)
	reObjMigrate = regexp.MustCompile(`\bmigrat\w*`)
	reObjDeploy  = regexp.MustCompile(`\b(?:deploy\w*|rollout|rolled out|release|applied|apply|manifests?|helm)\b`)
	reObjInstall = regexp.MustCompile(`\b(?:install\w*|dependencies|deps|packages?)\b`)
	reObjService = regexp.MustCompile(`\b(?:service|services|daemon|server|restart\w*|started|container|containers)\b`)
)

// objRule is an expression naming a kind of work with the literals it cannot
// match without: a clause names no kind far more often than one, and a few
// substring searches turn it away for less than one expression costs
// (FuzzObjGates checks the literals against the expressions).
type objRule struct {
	re    *regexp.Regexp
	needs []string
}

func (r *objRule) match(s string) bool { return hasAny(s, r.needs) && r.re.MatchString(s) }

var (
	objTest    = objRule{reObjTest, []string{"test", "suite", "spec", "e2e"}}
	objLint    = objRule{reObjLint, []string{"lint", "vet", "type", "format"}}
	objBuild   = objRule{reObjBuild, []string{"buil", "compil", "image", "bundle"}}
	objMigrate = objRule{reObjMigrate, []string{"migrat"}}
	objDeploy  = objRule{reObjDeploy, []string{"deploy", "roll", "release", "appl", "manifest", "helm"}}
	objInstall = objRule{reObjInstall, []string{"install", "dependencies", "deps", "package"}}
	objService = objRule{reObjService, []string{"service", "daemon", "server", "restart", "started", "container"}}
	objRules   = []*objRule{&objTest, &objLint, &objBuild, &objMigrate, &objDeploy, &objInstall, &objService}
)

// objectCategory is the kind of work named by the object of "I ran ...".
// Only kinds a model fabricates runs of (tests, linters, builds,
// migrations) are judged; "I ran the numbers" is not a command.
func objectCategory(obj string) category {
	switch {
	case objTest.match(obj):
		return catTest
	case objLint.match(obj):
		return catLint
	case objBuild.match(obj):
		return catBuild
	case objMigrate.match(obj):
		return catMigration
	}
	return 0
}

// clauseCategory is the kind of work a success clause is about.
func clauseCategory(cl string) category {
	switch {
	case objTest.match(cl):
		return catTest
	case objLint.match(cl):
		return catLint
	case objMigrate.match(cl):
		return catMigration
	case objBuild.match(cl):
		return catBuild
	case objDeploy.match(cl):
		return catDeploy
	case objInstall.match(cl):
		return catInstall
	case objService.match(cl):
		return catService
	}
	return 0
}

var (
	reSuccTest = regexp.MustCompile(`\ball\s+(?:of\s+the\s+)?(?:\d+\s+)?(?:the\s+)?(?:unit\s+|integration\s+|e2e\s+|remaining\s+|other\s+)?(?:tests?|specs?|suites?|test cases|checks)\s+(?:(?:now|are|have|still|both)\s+)*(?:pass(?:es|ed|ing)?|green|succeed(?:ed|s)?)\b` +
		`|\b(?:tests?|test suite|suite|specs?|e2e|test run)\s+(?:(?:now|all|are|is|have|has|were|was|run)\s+)*(?:pass(?:es|ed|ing)?|green|succeed(?:ed|s)?|successful)\b` +
		`|\b\d+\s+(?:tests?\s+)?passed,?\s+0\s+failed\b|\b0\s+(?:failures|failed|failing)\b`)
	reSuccBuild = regexp.MustCompile(`\b(?:build|compilation|compile|image|bundle)\s+(?:(?:now|is|was|has|also)\s+)*(?:succeed(?:ed|s)?|successful|pass(?:es|ed|ing)?|green|completed|works|clean|ok|fine)\b` +
		`|\b(?:built|builds|compiled|compiles)\s+(?:(?:now|also)\s+)?(?:successfully|cleanly|fine|without\s+(?:any\s+)?(?:errors|warnings|issues))\b|\bsuccessfully\s+(?:built|compiled)\b`)
	reSuccLint    = regexp.MustCompile(`\b(?:lint|linter|linting|vet|type ?check|type-check|typecheck\w*|tsc|format check)\s+(?:(?:now|is|was|also|are)\s+)*(?:pass(?:es|ed)?|clean|green|succeeded|ok|happy)\b`)
	reSuccGeneric = regexp.MustCompile(`\b(?:completed|completes|finished|finishes|ran|exited|worked|succeeded|installed|deployed|applied|started|restarted|rolled out|upgraded|migrated|synced|updated)(?:\s+[a-z0-9'-]+){0,3}?\s+successfully\b` +
		`|\bsuccessfully\s+(?:completed|finished|ran|installed|deployed|applied|started|restarted|migrated|rolled out|upgraded)\b|\bsucceeded\b|\bno\s+errors?\b|\bwithout\s+(?:any\s+)?errors?\b` +
		`|\bexit(?:ed)?\s+(?:with\s+)?(?:code|status)\s+0\b|\beverything\s+(?:(?:now|is|still)\s+)*(?:passes|passing|green|succeeded)\b|\ball\s+green\b` +
		`|\b(?:it|they|both|both runs|all of them)\s+(?:(?:now|all|both)\s+)*(?:passed|passes|succeeded|succeeds|is green|are green)\b` +
		// a run verb with a manner of success: "completed without issues",
		// "went through fine"; "works fine" is about behaviour, not a run
		`|\b(?:completed|finished|ran|went|installed|built|deployed|applied|upgraded|migrated)\s+(?:through\s+|all\s+)?(?:fine|cleanly|smoothly|without\s+(?:any\s+)?(?:errors?|issues|problems|failures|a hitch))\b`)
	// success said of a named command: "`go test ./...` passes"
	reSuccCmd = regexp.MustCompile(`\x01\s+(?:(?:now|still|also)\s+)?(?:passes|passed|succeeds|succeeded|is green|was green|is clean|was clean|completed successfully|finished successfully|ran successfully|works|worked|exits 0|exited 0|exited with (?:code|status) 0|returns 0|returned 0|went through)\b`)
)

type succRule struct {
	re    *regexp.Regexp
	cat   category
	needs []string // one of these must occur for re to match
	// must is a further condition without which re cannot match: the expressions
	// are the costliest part of reading prose, and most clauses that mention
	// success (it passes, the build passes) still lack the other half of some
	// alternative. fuzz_test.go checks it against re.
	must func(cl string) bool
}

var succRules = []succRule{
	{reSuccTest, catTest, []string{"pass", "green", "succe", "0 fail"}, func(cl string) bool {
		// "0 failed" or "N passed, 0 failed"; otherwise a success word and what
		// succeeded: all …, tests, suites, specs, e2e.
		return strings.Contains(cl, "fail") ||
			hasAny(cl, []string{"all", "test", "suite", "spec", "e2e"}) && hasAny(cl, []string{"pass", "green", "succe"})
	}},
	{reSuccBuild, catBuild, []string{"build", "compil", "image", "bundle", "built"}, func(cl string) bool {
		return hasAny(cl, []string{"succe", "pass", "green", "completed", "works", "clean", "ok", "fine", "without"})
	}},
	{reSuccLint, catLint, []string{"lint", "vet", "check", "tsc", "format"}, func(cl string) bool {
		return hasAny(cl, []string{"pass", "clean", "green", "succeeded", "ok", "happy"})
	}},
	{reSuccGeneric, 0, []string{"succe", "error", "exit", "everything", "green", "pass", "fine", "clean", "smooth", "without"}, func(cl string) bool {
		// "passes" and "succeeds" only count after it, they, both or all of them.
		return hasAny(cl, []string{"successfully", "succeeded", "error", "exit", "everything", "green", "fine", "clean", "smooth", "without"}) ||
			hasAny(cl, []string{"it", "they", "both", "all of them"}) && hasAny(cl, []string{"pass", "succeeds"})
	}},
}

// succAnchored holds each success rule's expression matched only at the
// start of the text. Every alternative of the expressions starts with \b and
// a word byte, so a match can start only where a word does: findAll tries the
// anchored expression at each word start instead of letting the expression
// try every byte, which was most of what reading a success clause cost
// (FuzzSuccFindAll holds the two to each other).
var succAnchored = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(succRules))
	for i, r := range succRules {
		out[i] = regexp.MustCompile(`^(?:` + r.re.String() + `)`)
	}
	return out
}()

// succStarts holds, per success rule, a superset of the bytes a match can
// start with: most words of a clause start none of the rule's alternatives,
// and are passed over without asking the expression.
var succStarts = func() [][256]bool {
	out := make([][256]bool, len(succRules))
	for i, r := range succRules {
		re, err := syntax.Parse(r.re.String(), syntax.Perl)
		if err != nil {
			panic(err)
		}
		set, empty := firstBytes(re)
		if empty {
			panic("claims: a success expression matches the empty string: " + r.re.String())
		}
		out[i] = set
	}
	return out
}()

// firstBytes returns a superset of the bytes a match of re can start with,
// and whether re can match the empty string (then what follows it can start
// the match too).
func firstBytes(re *syntax.Regexp) (set [256]bool, empty bool) {
	union := func(s [256]bool) {
		for b := range set {
			set[b] = set[b] || s[b]
		}
	}
	addRune := func(r rune) {
		if r < utf8.RuneSelf {
			set[r] = true
			return
		}
		var b [utf8.UTFMax]byte
		utf8.EncodeRune(b[:], r)
		set[b[0]] = true
	}
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return set, true
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return set, true
		}
		addRune(re.Rune[0])
		if re.Flags&syntax.FoldCase != 0 {
			for f := unicode.SimpleFold(re.Rune[0]); f != re.Rune[0]; f = unicode.SimpleFold(f) {
				addRune(f)
			}
		}
		return set, false
	case syntax.OpCharClass:
		for k := 0; k+1 < len(re.Rune); k += 2 {
			for r := re.Rune[k]; r <= re.Rune[k+1] && r < utf8.RuneSelf; r++ {
				set[r] = true
			}
			if re.Rune[k+1] >= utf8.RuneSelf {
				for b := 0xC0; b < 256; b++ {
					set[b] = true // any lead byte
				}
			}
		}
		return set, false
	case syntax.OpCapture, syntax.OpPlus:
		return firstBytes(re.Sub[0])
	case syntax.OpStar, syntax.OpQuest:
		set, _ = firstBytes(re.Sub[0])
		return set, true
	case syntax.OpRepeat:
		set, empty = firstBytes(re.Sub[0])
		return set, empty || re.Min == 0
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			s, e := firstBytes(sub)
			union(s)
			if !e {
				return set, false
			}
		}
		return set, true
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			s, e := firstBytes(sub)
			union(s)
			empty = empty || e
		}
		return set, empty
	}
	for b := range set {
		set[b] = true // an operator not listed: any byte
	}
	return set, true
}

// findAll is succRules[i].re.FindAllStringIndex(cl, -1), appended to dst.
func findAll(i int, cl string, dst [][2]int) [][2]int {
	anchored, starts := succAnchored[i], &succStarts[i]
	for p := 0; p < len(cl); p++ {
		// \b before a word byte: the start of an ASCII word, and one the
		// rule's alternatives can start with
		if !starts[cl[p]] || !isASCIIWord(cl[p]) || p > 0 && isASCIIWord(cl[p-1]) {
			continue
		}
		if m := anchored.FindStringIndex(cl[p:]); m != nil {
			dst = append(dst, [2]int{p, p + m[1]})
			p += m[1] - 1 // the next match starts at or after this one's end
		}
	}
	return dst
}

// checkSuccess flags success reported in a sentence when the latest
// execution it is about failed. found says the rules already saw a success
// phrase in it that the success stems do not find.
func (c *checker) checkSuccess(s *sent, found bool) {
	if s.shape == "" || !found && !anyIn(c.successAt, s.start, s.end) {
		return
	}
	sh := s.shape
	clauses := clauseSplits(sh, c.splitBuf[:0])
	c.splitBuf = clauses
	bounds := c.boundBuf[:0]
	defer func() { c.boundBuf = bounds[:0] }()
	start := 0
	for i := 0; i <= len(clauses); i++ {
		end := len(sh)
		if i < len(clauses) {
			end = clauses[i][0]
		}
		bounds = append(bounds, [2]int{start, end})
		if i < len(clauses) {
			start = clauses[i][1]
		}
	}
	// "98 tests pass, but the 2 snapshot tests still fail" reports a
	// partial result: a clause admitting a failure of some kind of work
	// makes success said of that kind in the same sentence a part, not
	// the whole. A failure clause naming no kind covers every kind. Only a
	// success phrase judged by its kind of work asks (most clauses with a
	// success word hold none), so it is worked out then: finding the kinds
	// of the failure clauses was a third of checkSuccess.
	nearby := failedNearby{sh: sh, bounds: bounds}
	for _, b := range bounds {
		c.successClause(s, b[0], b[1], &nearby)
	}
}

// failedNearby is the kinds of work the failure clauses of a sentence admit
// failing, worked out on first use.
type failedNearby struct {
	sh     string
	bounds [][2]int
	done   bool
	failed category
}

func (f *failedNearby) get() category {
	if f.done {
		return f.failed
	}
	f.done = true
	if len(f.bounds) > 1 {
		for _, b := range f.bounds {
			if cl := f.sh[b[0]:b[1]]; hasFailureWord(cl) {
				if cat := clauseCategory(cl); cat != 0 {
					f.failed |= cat
				} else {
					f.failed = ^category(0)
				}
			}
		}
	}
	return f.failed
}

// clauseSplits returns, in order, where sh is split into clauses: each ';', each
// ", but" (a whole word), and each " but ", " — ", " – " or " - " between white
// space, together with that white space. It is what the expression
//
//	;|,\s*but\b|\s+but\s+|\s+—\s+|\s+–\s+|\s+-\s+
//
// finds with FindAllStringIndex (fuzz_test.go holds the two to each other), written
// out because the expression, with no literal to look for first, stepped through
// every byte of every sentence that mentions success.
func clauseSplits(sh string, dst [][2]int) [][2]int {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }
	spaces := func(i int) int {
		for i < len(sh) && isSpace(sh[i]) {
			i++
		}
		return i
	}
	for i := 0; i < len(sh); {
		switch c := sh[i]; {
		case c == ';':
			dst = append(dst, [2]int{i, i + 1})
			i++
			continue
		case c == ',':
			j := spaces(i + 1)
			if strings.HasPrefix(sh[j:], "but") && (j+3 == len(sh) || !isASCIIWord(sh[j+3])) {
				dst = append(dst, [2]int{i, j + 3})
				i = j + 3
				continue
			}
		case isSpace(c):
			// Every alternative that starts with white space takes all of it: what
			// follows it decides, so the rest of the run can be skipped on a miss.
			j := spaces(i)
			if j < len(sh) && sh[j] != 'b' && sh[j] != '-' && sh[j] != "—"[0] {
				i = j // most words start no separator ("—" and "–" share their first byte)
				continue
			}
			end := -1
			for _, sep := range [...]string{"but", "—", "–", "-"} {
				if k := j + len(sep); strings.HasPrefix(sh[j:], sep) && k < len(sh) && isSpace(sh[k]) {
					end = spaces(k)
					break
				}
			}
			if end < 0 {
				i = j
				continue
			}
			dst = append(dst, [2]int{i, end})
			i = end
			continue
		}
		i++
	}
	return dst
}

// isASCIIWord is a word byte as the regexp package's \b sees it.
func isASCIIWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// hasFailureWord reports a clause admitting a current failure. A failure
// told in the past ("the failing test was a flaky timeout; after the fix,
// all tests pass") is the story of what was fixed and leaves the success
// claim whole.
func hasFailureWord(cl string) bool {
	if !strings.Contains(cl, "fail") && !strings.Contains(cl, "broken") {
		return false
	}
	for w := range strings.FieldsSeq(cl) {
		if pastMarkers[strings.Trim(w, ",.")] {
			return false
		}
	}
	return true
}

var pastMarkers = setOf(`was were had earlier before previously originally initially`)

func (c *checker) successClause(s *sent, from, to int, nearby *failedNearby) {
	cl := s.shape[from:to]
	type hit struct {
		cat    category
		mark   int  // shape index of a named command, or -1
		checks bool // the phrase says green or passing
	}
	var hitBuf [4]hit
	hits := hitBuf[:0]
	rest := cl
	lastHit := -1
	if strings.IndexByte(cl, markByte) >= 0 {
		for _, m := range reSuccCmd.FindAllStringIndex(cl, -1) {
			hits = append(hits, hit{mark: from + m[0]})
			rest = strings.Replace(rest, cl[m[0]:m[1]], " ", 1)
			lastHit = max(lastHit, m[0])
		}
	}
	for i, r := range succRules {
		if !hasAny(cl, r.needs) || !r.must(cl) {
			continue
		}
		var mbuf [4][2]int
		for _, m := range findAll(i, cl, mbuf[:0]) {
			ph := cl[m[0]:m[1]]
			hits = append(hits, hit{cat: r.cat, mark: -1, checks: strings.Contains(ph, "green") || strings.Contains(ph, "pass")})
			rest = strings.Replace(rest, cl[m[0]:m[1]], " ", 1)
			lastHit = max(lastHit, m[0])
		}
	}
	// "all 212 tests passed, so the earlier hang was a one-off": what is
	// drawn from the report after it does not make the report past or
	// conditional.
	if k := succConsequence(cl); k > lastHit {
		if j := succConsequence(rest); j >= 0 {
			rest = rest[:j]
		}
	}
	if len(hits) == 0 || c.successGuarded(rest) || strings.HasSuffix(strings.TrimSpace(s.shape), "?") {
		return
	}
	// A command named in the clause decides which run the clause is about.
	named := -1
	for k, m := range s.marks {
		if m >= from && m < to && c.spanIsCommand(s, k) {
			named = k
			break
		}
	}
	plain := ""
	if named < 0 {
		plain = c.plainExecIn(cl)
	}
	for _, h := range hits {
		k := named
		if h.mark >= 0 {
			k = s.spanAtMark(h.mark)
		}
		if k >= 0 {
			cmd := s.spanText(c.text, k)
			if !c.spanIsCommand(s, k) || c.callMatches(cmd) {
				continue
			}
			if e := c.latestMatching(cmd); e != nil && e.failed {
				c.add(reasonContradicts, cmd, s.start, s.end)
			}
			continue
		}
		if plain != "" {
			if !c.callMatches(plain) {
				if e := c.latestMatching(plain); e != nil && e.failed {
					c.add(reasonContradicts, plain, s.start, s.end)
				}
			}
			continue
		}
		cat := h.cat
		if cat == 0 {
			cat = clauseCategory(cl)
		}
		// "Ran `cargo test --release` — all 310 tests pass": a clause naming
		// no command speaks of the run an earlier clause of the sentence
		// named, when that run is of the kind the clause names.
		if cmd, e := c.earlierNamedRun(s, from, cat); e != nil {
			if !c.callMatches(cmd) && e.failed {
				c.add(reasonContradicts, cmd, s.start, s.end)
			}
			continue
		}
		if cat == 0 && h.checks {
			// "All green", "everything is passing": said of checks, so a
			// later `git diff` that succeeded does not answer it.
			cat = catChecks
		}
		if failed := nearby.get(); failed != 0 && (cat == 0 || cat&failed != 0) {
			continue
		}
		if e := c.latestOf(cat); e != nil && e.failed {
			c.add(reasonContradicts, "", s.start, s.end)
		}
	}
}

// succConsequence is where a consequence starts in a success clause (", so
// …", ", which means …"), or -1. ", so that …" is a goal, not a consequence.
func succConsequence(cl string) int {
	for _, sep := range [...]string{", so ", ", which means "} {
		if i := strings.Index(cl, sep); i >= 0 && !strings.HasPrefix(cl[i+len(sep):], "that ") {
			return i
		}
	}
	return -1
}

// earlierNamedRun returns a command named in backticks before shape index
// from in the sentence, and its latest execution, when that execution is of
// category cat (not 0).
func (c *checker) earlierNamedRun(s *sent, from int, cat category) (string, *execRec) {
	if cat == 0 {
		return "", nil
	}
	for k := len(s.marks) - 1; k >= 0; k-- {
		if s.marks[k] >= from || !c.spanIsCommand(s, k) {
			continue
		}
		cmd := s.spanText(c.text, k)
		if e := c.latestMatching(cmd); e != nil && e.cats&cat != 0 {
			return cmd, e
		}
	}
	return "", nil
}

// plainExecIn finds an executed command written in a clause without
// backticks ("pnpm install finished without errors"): the text of a recent
// multi-word execution occurring in the clause at word boundaries.
func (c *checker) plainExecIn(cl string) string {
	// Most of the recent runs repeat a few commands; each is looked for once,
	// at its newest run, which is where the walk would have found it.
	c.d.walk++
	// The pairs of bytes in cl, hashed: a command whose first two bytes are
	// not among them cannot occur in cl, and is passed over without following
	// its pointer (most are).
	var pairs [pairBits / 64]uint64
	for i := 0; i+1 < len(cl); i++ {
		h := pairHash(cl[i], cl[i+1])
		pairs[h/64] |= 1 << (h % 64)
	}
	for i, n := len(c.d.execs)-1, 0; i >= 0 && n < 200; i, n = i-1, n+1 {
		r := &c.d.execs[i]
		if l := r.plainLen; l == 0 || int(l) > len(cl) {
			continue // not plain, or cannot occur in cl
		}
		if h := r.head; pairs[h/64]&(1<<(h%64)) == 0 {
			continue
		}
		e := r.execCmd
		if e.walked == c.d.walk {
			continue
		}
		e.walked = c.d.walk
		if e.plain && containsAtBoundary(cl, e.info.canon) {
			return e.info.canon
		}
	}
	return ""
}

const pairBits = 512

// pairHash hashes two bytes into [0, pairBits).
func pairHash(a, b byte) uint16 { return (uint16(a)*31 + uint16(b)) % pairBits }

// plainCandidate reports whether an executed command is distinctive enough to be
// recognised written plainly in prose: a few words, none of them a code span.
func plainCandidate(canon string) bool {
	return len(canon) >= 5 && strings.IndexByte(canon, ' ') > 0 && strings.IndexByte(canon, markByte) < 0
}

var (
	// Words that make a success clause partial, conditional, past,
	// someone else's or a goal rather than a report of the latest run.
	succGuardWords = setOf(`not never cannot don't doesn't didn't isn't aren't wasn't weren't haven't hasn't hadn't can't won't ` +
		`fail fails failed failing failure failures error errors broken ` +
		`should would will could might may must expect expected expects once until if unless whether when ensure verify confirm check need needs before ` +
		`except excluding besides previously earlier originally initially hopefully assuming ` +
		`you your yours try trying want wants goal yesterday ago upstream other others rest remaining most some several few majority flaky ` +
		// someone else's result: "the user said their local tests pass"
		`user users their someone colleague teammate reportedly supposedly claimed claims ci pipeline`)
	succGuardPhrases = phraseSet(`no longer|make sure|to make|to get|so that|other than|apart from|aside from|used to|let me|let's|going to|in ci|on ci|last time|last week|last night|last month|last year|on main|on master|out of`)
)

// successGuarded reports a clause (with its success phrases removed) that
// does not report the latest run as a success.
func (c *checker) successGuarded(rest string) bool {
	if strings.IndexByte(rest, '?') >= 0 {
		return true
	}
	c.guardBuf = shapeWords(rest, c.guardBuf[:0])
	ws := c.guardBuf
	for i, wd := range ws {
		w := rest[wd.s:wd.e]
		if consequenceToUser(rest, ws, i) {
			// "The build succeeded, you can merge now": what follows is a
			// consequence for the user, not a condition on the report.
			return false
		}
		if succGuardWords[w] || strings.HasSuffix(w, "'ll") || strings.HasSuffix(w, "'d") {
			return true
		}
		next := wordAt(rest, ws, i+1)
		if isPhrase(succGuardPhrases, w, next) {
			return true
		}
		// "the same tests pass on `main`": a branch or host named in
		// backticks is another place, like "on main"
		if w == "on" && strings.HasPrefix(strings.TrimLeft(rest[wd.e:], " "), "\x01") {
			return true
		}
		// "99 of 100 tests pass" is partial
		if isNumber(w) && next == "of" && isNumber(wordAt(rest, ws, i+2)) {
			return true
		}
	}
	return false
}

// consequenceToUser reports ", you can …" or ", so you can …" starting at
// word i: a comma right before it, and "can" or "may" after "you".
func consequenceToUser(rest string, ws []word, i int) bool {
	gapStart := 0
	if i > 0 {
		gapStart = ws[i-1].e
	}
	if !strings.Contains(rest[gapStart:ws[i].s], ",") {
		return false
	}
	if wordAt(rest, ws, i) == "so" {
		i++
	}
	if wordAt(rest, ws, i) != "you" {
		return false
	}
	next := wordAt(rest, ws, i+1)
	return next == "can" || next == "may"
}

func isNumber(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

// latestOf returns the latest execution of a category (any execution for
// 0), or nil when this turn's own calls make the answer unknown: their
// results come after the message.
func (c *checker) latestOf(cat category) *execRec {
	if cats, any := c.callCategories(); cat == 0 && any || cats&cat != 0 {
		return nil
	}
	return c.d.latestOf(cat)
}

// latestOf returns the latest execution still held of a category (any
// execution for 0), or nil.
func (d *Detector) latestOf(cat category) *execRec {
	if len(d.execs) == 0 {
		return nil
	}
	if cat == 0 {
		return &d.execs[len(d.execs)-1]
	}
	n := 0 // 1 + the number of the latest execution of a kind in cat
	for ; cat != 0; cat &= cat - 1 {
		if b := bits.TrailingZeros16(uint16(cat)); b < numCats {
			n = max(n, d.catLatest[b])
		}
	}
	if i := n - 1 - d.dropped; i >= 0 {
		return &d.execs[i]
	}
	return nil
}
