// Package redact masks credentials in command lines and command output before they
// are recorded.
//
// The ledger clawtrail writes is append-only and hash-chained: once a line is in it,
// it can never be edited or removed without breaking the chain. A secret that slips
// through is therefore leaked for as long as the ledger is kept, so every string must
// pass through String before it is written, and the patterns lean towards masking a
// little too much rather than too little.
//
// Masking is also idempotent: text that was already redacted (for example a command
// replayed from an earlier record) comes out unchanged, so a ledger entry and its
// re-redaction never disagree.
//
// The cost must stay linear even for hostile output, since an agent's commands print
// whatever they like: fixed substrings and rare bytes are located with package strings,
// the variable parts are matched with package regexp (RE2, no exponential
// backtracking) only where such a candidate was found, and every scan resumes past
// what the previous candidate covered. Plain output with no trigger words costs little
// more than a search for a handful of bytes.
package redact

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

type kind uint8

// The order of the kinds is the priority when two findings cover exactly the same
// bytes: the more specific name tells a reader more, e.g. GITHUB_TOKEN=ghp_… is
// reported as a github_token rather than as a generic assignment.
const (
	kindPrivateKey kind = iota
	kindAWSAccessKey
	kindAWSSecretKey
	kindAnthropic
	kindOpenAI
	kindGitHub
	kindSlack
	kindJWT
	kindURLCredentials
	kindBearer
	kindAssignment
)

var markers = [...]string{
	kindPrivateKey:     "[REDACTED:private_key]",
	kindAWSAccessKey:   "[REDACTED:aws_access_key]",
	kindAWSSecretKey:   "[REDACTED:aws_secret_key]",
	kindAnthropic:      "[REDACTED:anthropic_key]",
	kindOpenAI:         "[REDACTED:openai_key]",
	kindGitHub:         "[REDACTED:github_token]",
	kindSlack:          "[REDACTED:slack_token]",
	kindJWT:            "[REDACTED:jwt]",
	kindURLCredentials: "[REDACTED:url_credentials]",
	kindBearer:         "[REDACTED:bearer]",
	kindAssignment:     "[REDACTED:assignment]",
}

// markerPrefix is how a value that has already been masked is recognised, so that a
// second pass leaves it alone instead of wrapping the marker in another marker.
const markerPrefix = "[REDACTED:"

// String returns s with every secret it recognises replaced by a marker
// "[REDACTED:<kind>]". Where a secret has a name (password=…, a URL's user, an
// Authorization scheme) the name is kept and only the value is masked. Each masked
// span is at least one byte and each marker at most 26 bytes, so the result never
// grows by more than that per secret. String is safe for concurrent use and returns s
// itself, without allocating, when nothing matched.
func String(s string) string {
	regs := find(s)
	if len(regs) == 0 {
		return s
	}
	n := len(s)
	for _, r := range regs {
		n += len(markers[r.kind]) - (r.end - r.start)
	}
	var b strings.Builder
	b.Grow(n)
	prev := 0
	for _, r := range regs {
		b.WriteString(s[prev:r.start])
		b.WriteString(markers[r.kind])
		prev = r.end
	}
	b.WriteString(s[prev:])
	return b.String()
}

// Count returns how many secrets String would replace in s, i.e. how many markers it
// would insert.
func Count(s string) int {
	return len(find(s))
}

// region is a half-open byte range of s to be replaced by the marker of kind.
type region struct {
	start, end int
	kind       kind
}

// scan collects regions; regs stays nil, and so allocation-free, until something is
// found.
type scan struct {
	s    string
	regs []region
}

func (sc *scan) add(start, end int, k kind) {
	if start >= end || strings.HasPrefix(sc.s[start:end], markerPrefix) {
		return
	}
	sc.regs = append(sc.regs, region{start, end, k})
}

// find returns the regions to mask in s, sorted and non-overlapping.
func find(s string) []region {
	sc := scan{s: s}
	sc.privateKeys()
	sc.prefixedTokens()
	sc.urlCredentials()
	sc.keywords()
	if len(sc.regs) == 0 {
		return nil
	}
	return merge(sc.regs)
}

// merge sorts the regions and unites overlapping ones. Uniting rather than choosing
// one of them matters: two detectors may each see part of a secret (an assignment
// whose value is a token followed by more text), and masking only one part would
// leak the other. The united region takes the most specific kind among its parts.
func merge(regs []region) []region {
	slices.SortFunc(regs, func(a, b region) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(b.end, a.end); c != 0 {
			return c
		}
		return cmp.Compare(a.kind, b.kind)
	})
	out := regs[:1]
	for _, r := range regs[1:] {
		last := &out[len(out)-1]
		if r.start < last.end {
			last.end = max(last.end, r.end)
			last.kind = min(last.kind, r.kind)
			continue
		}
		out = append(out, r)
	}
	return out
}

// privateKeys masks PEM private keys, header and footer included. A key whose END
// line is missing (output cut short) is masked to the end of s, because every line
// after the header is key material until proven otherwise.
func (sc *scan) privateKeys() {
	s := sc.s
	if !hasPrivateKeyWords(s) {
		return
	}
	const begin, end, dashes = "-----BEGIN ", "-----END ", "-----"
	for off := 0; ; {
		i := strings.Index(s[off:], begin)
		if i < 0 {
			return
		}
		start := off + i
		labelStart := start + len(begin)
		j := labelStart
		for j < len(s) && j-labelStart < 64 && isPEMLabelByte(s[j]) {
			j++
		}
		label := s[labelStart:j]
		if !strings.HasPrefix(s[j:], dashes) ||
			!(strings.HasSuffix(label, "PRIVATE KEY") || strings.HasSuffix(label, "PRIVATE KEY BLOCK")) {
			off = labelStart
			continue
		}
		stop := len(s)
		for k := j + len(dashes); ; {
			e := strings.Index(s[k:], end)
			if e < 0 {
				break
			}
			k += e + len(end)
			if strings.HasPrefix(s[k:], label) && strings.HasPrefix(s[k+len(label):], dashes) {
				stop = k + len(label) + len(dashes)
				break
			}
		}
		sc.add(start, stop, kindPrivateKey)
		off = stop
	}
}

// hasPrivateKeyWords is strings.Contains(s, "PRIVATE KEY") by way of its rarest
// byte, 'V': a search for the whole word restarts at every 'P' of ordinary output.
func hasPrivateKeyWords(s string) bool {
	const words = "PRIVATE KEY"
	const at = 3 // words[at] == 'V'
	for off := at; off < len(s); {
		i := strings.IndexByte(s[off:], 'V')
		if i < 0 {
			return false
		}
		if strings.HasPrefix(s[off+i-at:], words) {
			return true
		}
		off += i + 1
	}
	return false
}

func isPEMLabelByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == ' '
}

// The token formats below start with a fixed prefix. Each is located by the rarest
// byte of its prefix with strings.IndexByte, which is far cheaper on ordinary output
// than searching for the whole prefix, and only then checked with an anchored
// expression.
var (
	reAWSAccessKey = regexp.MustCompile(`^(?:AKIA|ASIA)[A-Z0-9]{16}\b`)
	reSK           = regexp.MustCompile(`^sk-[A-Za-z0-9_-]{20,}`)
	reGitHub       = regexp.MustCompile(`^(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{22,})`)
	reSlack        = regexp.MustCompile(`^xox[abeprs]-[A-Za-z0-9-]{10,}`)
	reSlackHook    = regexp.MustCompile(`^hooks\.slack\.com/(?:services|workflows)/([A-Za-z0-9_/-]+)`)
	reJWT          = regexp.MustCompile(`^eyJ[A-Za-z0-9_-]{7,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)
)

type tokenRule struct {
	anchor byte              // a rare byte of the prefix
	at     int               // where it sits in the prefix
	prefix func(string) bool // whether a candidate starts with the prefix
	re     *regexp.Regexp    // anchored; group 1, if any, is the part to mask
	// skip and body say where the search may resume after a candidate: past the run
	// of body bytes that starts skip bytes into it. A candidate starting inside that
	// run would see a suffix of what this one saw and fare no better, and without the
	// jump a run such as "-sk--sk--sk-…" would be rescanned from every "sk-".
	skip int
	body func(byte) bool
	// extend, if set, says where a match that goes on past the body run may end; the
	// expression only ever sees that much, which keeps it on regexp's fast path.
	extend func(s string, i int) int
	// classify tells the kind of a match, or false for a lookalike.
	classify func(match string) (kind, bool)
	// inWord allows a match to start inside a word. Only the webhook host, which is
	// always preceded by "//", needs no word start; for the others the check is what
	// keeps e.g. "xoxb-" at the end of a longer identifier from counting.
	inWord bool
}

var tokenRules = [...]tokenRule{
	{anchor: 'A', prefix: func(s string) bool { return strings.HasPrefix(s, "AKIA") || strings.HasPrefix(s, "ASIA") },
		re: reAWSAccessKey, classify: always(kindAWSAccessKey), skip: 4, body: isUpperAlnum},
	{anchor: 'k', at: 1, prefix: hasPrefix("sk-"), re: reSK, classify: classifySK, skip: 3, body: isB64URLByte},
	{anchor: '_', at: 3, prefix: func(s string) bool {
		return len(s) >= 4 && s[0] == 'g' && s[1] == 'h' && strings.IndexByte("pousr", s[2]) >= 0 && s[3] == '_'
	}, re: reGitHub, classify: always(kindGitHub), skip: 4, body: isAlnum},
	{anchor: '_', at: 6, prefix: hasPrefix("github_pat_"), re: reGitHub, classify: always(kindGitHub), skip: 11, body: isWordByte},
	// Slack tokens always carry numeric team and user ids; words never do.
	{anchor: 'x', prefix: hasPrefix("xox"), re: reSlack, classify: func(m string) (kind, bool) { return kindSlack, hasDigit(m) },
		skip: 3, body: func(c byte) bool { return isAlnum(c) || c == '-' }},
	{anchor: 'J', at: 2, prefix: hasPrefix("eyJ"), re: reJWT, classify: always(kindJWT), skip: 3, body: isB64URLByte,
		extend: jwtTail},
	{anchor: 'k', at: 3, prefix: hasPrefix("hooks.slack.com/"), re: reSlackHook, classify: always(kindSlack), inWord: true,
		skip: len("hooks.slack.com/"), body: func(c byte) bool { return isB64URLByte(c) || c == '/' }},
}

func hasPrefix(p string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, p) }
}

func always(k kind) func(string) (kind, bool) {
	return func(string) (kind, bool) { return k, true }
}

// classifySK tells Anthropic keys from OpenAI keys, which share the "sk-" prefix, and
// both from hyphenated words that happen to start with "sk-".
func classifySK(m string) (kind, bool) {
	if !looksRandom(m[len("sk-"):]) {
		return 0, false
	}
	if strings.HasPrefix(m, "sk-ant-") {
		return kindAnthropic, true
	}
	return kindOpenAI, true
}

// tokenAnchors lists each distinct anchor byte with the rules that use it, so that
// rules sharing an anchor ('_' and 'k' each serve two) share one search for it.
var tokenAnchors = func() (groups []anchorGroup) {
	for i := range tokenRules {
		r := &tokenRules[i]
		k := slices.IndexFunc(groups, func(g anchorGroup) bool { return g.anchor == r.anchor })
		if k < 0 {
			groups = append(groups, anchorGroup{anchor: r.anchor})
			k = len(groups) - 1
		}
		groups[k].rules = append(groups[k].rules, r)
		if len(groups[k].rules) > maxRulesPerAnchor {
			panic("redact: more token rules share an anchor than tokens can track")
		}
	}
	return groups
}()

const maxRulesPerAnchor = 4

type anchorGroup struct {
	anchor byte
	rules  []*tokenRule
}

func (sc *scan) prefixedTokens() {
	for i := range tokenAnchors {
		sc.tokens(&tokenAnchors[i])
	}
}

// tokens visits each occurrence of g's anchor once and offers it to every rule of
// the group that has not moved past it; each rule keeps its own resume position, so
// the rules see exactly the occurrences they would see searching on their own.
func (sc *scan) tokens(g *anchorGroup) {
	s := sc.s
	var resume [maxRulesPerAnchor]int
	for off := 0; off < len(s); {
		j := strings.IndexByte(s[off:], g.anchor)
		if j < 0 {
			return
		}
		i := off + j
		off = i + 1
		for k, r := range g.rules {
			if i >= resume[k] {
				resume[k] = sc.token(r, s, i)
			}
		}
	}
}

// token checks the occurrence of r's anchor at i and returns where r's search
// resumes.
func (sc *scan) token(r *tokenRule, s string, i int) int {
	start := i - r.at
	off := i + 1
	if start < 0 || !r.prefix(s[start:]) || !r.inWord && start > 0 && isWordByte(s[start-1]) {
		return off
	}
	next := min(len(s), start+r.skip)
	for next < len(s) && r.body(s[next]) {
		next++
	}
	off = max(off, next)
	end := next
	if r.extend != nil {
		end = r.extend(s, end)
	}
	// One byte past the candidate lets a trailing \b see what follows.
	m := r.re.FindStringSubmatchIndex(s[start:min(len(s), end+1)])
	if m == nil {
		return off
	}
	off = max(off, start+m[1])
	k, ok := r.classify(s[start : start+m[1]])
	if !ok {
		return off
	}
	if len(m) > 2 {
		sc.add(start+m[2], start+m[3], k)
	} else {
		sc.add(start, start+m[1], k)
	}
	return off
}

// jwtTail extends a JWT's first segment, ending at i, by the payload and signature
// segments, and no further.
func jwtTail(s string, i int) int {
	for dots := 0; dots < 2 && i < len(s) && s[i] == '.'; dots++ {
		i++
		for i < len(s) && isB64URLByte(s[i]) {
			i++
		}
	}
	return i
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isUpperAlnum(c byte) bool {
	return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isB64URLByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_'
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// looksRandom tells a generated key body from a hyphenated phrase such as
// "sk-learn-compatible-estimators": real keys have a long unbroken alphanumeric run
// that mixes character classes.
func looksRandom(body string) bool {
	var lower, upper, digit bool
	run, longest := 0, 0
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case '0' <= c && c <= '9':
			digit = true
		default:
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	classes := 0
	for _, b := range [...]bool{lower, upper, digit} {
		if b {
			classes++
		}
	}
	return longest >= 16 && classes >= 2
}

// urlCredentials masks the password in scheme://user:password@host. The scheme,
// user and host stay because they say what was being accessed, which is the point of
// an audit record. The password runs to the last '@' of the authority so that an
// unescaped '@' inside it does not leak the rest.
//
// The search is for '@', which ordinary output rarely holds, rather than for "://",
// whose ':' it holds on every other line: an authority is the run of bytes holding
// the '@' up to a '/' or white space, and it counts when "://" comes just before it.
func (sc *scan) urlCredentials() {
	s := sc.s
	for off := 0; off < len(s); {
		i := strings.IndexByte(s[off:], '@')
		if i < 0 {
			return
		}
		a := off + i
		for a > 0 && s[a-1] != '/' && !isSpaceByte(s[a-1]) {
			a--
		}
		e := off + i + 1
		for e < len(s) && s[e] != '/' && !isSpaceByte(s[e]) {
			e++
		}
		// Every '@' of this authority gives the same answer.
		off = e
		if !strings.HasSuffix(s[:a], "://") {
			continue
		}
		at := strings.LastIndexByte(s[a:e], '@')
		colon := userEnd(s[a : a+at])
		if colon < 0 {
			continue
		}
		sc.add(a+colon+1, a+at, kindURLCredentials)
	}
}

// userEnd returns the index of the ':' that ends the user in userinfo, or -1. A
// marker left by an earlier pass has a ':' of its own, which must not be taken for
// the separator, or a second pass would mask part of the marker.
func userEnd(userinfo string) int {
	for i := 0; i < len(userinfo); i++ {
		if userinfo[i] == ':' {
			return i
		}
		if userinfo[i] == '[' && strings.HasPrefix(userinfo[i:], markerPrefix) {
			j := strings.IndexByte(userinfo[i:], ']')
			if j < 0 {
				return -1
			}
			i += j
		}
	}
	return -1
}

// ci spells an ASCII keyword case-insensitively. (?i) is not used because it also
// folds non-ASCII runes (U+212A KELVIN SIGN matches k) which the byte-level keyword
// search below does not see; an expression must never accept a name the search would
// not have offered it, or a second pass could find what the first one did not.
func ci(word string) string {
	var b strings.Builder
	for i := 0; i < len(word); i++ {
		c := word[i]
		if 'a' <= c && c <= 'z' {
			b.WriteString("[" + string(c) + string(c-32) + "]")
			continue
		}
		b.WriteString(regexp.QuoteMeta(string(c)))
	}
	return b.String()
}

var (
	// keyword is what makes a name sensitive; the name may carry any prefix
	// (DB_PASSWORD, PGPASSWORD, x-api-key, clientSecret) and a few suffixes that still
	// denote the secret itself (SECRET_KEY, SECRET_KEY_BASE), but no others, so that
	// password_policy, token_count or TOKEN_FILE are left alone.
	keyword = `(?:` + strings.Join([]string{
		ci("password"), ci("passwd"), ci("passphrase"), ci("pwd"), ci("token"),
		ci("secret") + `[_-]?` + ci("access") + `[_-]?` + ci("key"), ci("secret"),
		ci("api") + `[_-]?` + ci("key"),
	}, "|") + `)`
	suffix = `(?:[_.-]?(?:` + ci("key") + `|` + ci("value") + `|` + ci("base") + `))*`
	name   = `[A-Za-z0-9_.-]*` + keyword + suffix
	// A flag's name may only be prefixed by whole words (--db-password): a glued
	// prefix would make "-psecret" look like a flag named psecret.
	flagName = `(?:[A-Za-z0-9]+[_.-])*` + keyword + suffix

	// The expressions below match a name and what separates it from its value; the
	// value itself is delimited by (*scan).value. They are anchored at the start of
	// the name, which keywords locates, so they never scan text that has no keyword.
	//
	// Apart from flags, they accept any prefix of name characters, so that whether a
	// name counts depends on how it ends and not on where it starts: a marker that a
	// first pass put just before a name shortens the name on the second pass, and
	// must not change the outcome.

	// name=value, name = value, name: value (YAML, headers), "name": "value" (JSON).
	reAssign = regexp.MustCompile(`^(` + name + `)(?:["']?[ \t]*=[ \t]*|[ \t]*:[ \t]+|["'][ \t]*:[ \t]*)`)
	// --password value, -passphrase value.
	reFlag = regexp.MustCompile(`^--?(` + flagName + `)[ \t]+`)
	// aws configure set aws_secret_access_key KEY: no separator, so only a value with
	// the exact shape of a secret access key counts.
	reAWSBare = regexp.MustCompile(`^[A-Za-z0-9_.-]*` + ci("secret") + `[_-]?` + ci("access") + `[_-]?` + ci("key") +
		`[ \t]+[A-Za-z0-9/+]{40}`)
	// Authorization: Bearer x, Authorization: Basic x, "authorization": "token x".
	reAuth = regexp.MustCompile(`^[A-Za-z0-9_.-]*` + ci("authorization") + `["']?[ \t]*[:=][ \t]*["']?` +
		`(?:(?:` + strings.Join([]string{ci("bearer"), ci("basic"), ci("token"), ci("bot"), ci("apikey")}, "|") + `)[ \t]+)?`)
)

// headWindow bounds how far past a name the separator expressions may look, so that
// each costs little even on a single 64 KiB line; no real separator is that long.
const headWindow = 96

// anchorBytes holds the rarest letter of each keyword in both cases: only where one
// occurs is it worth comparing the surrounding bytes against the keywords.
const anchorBytes = "wWkKcCpPzZ"

// keywordAt reports whether the anchor byte at i is part of a keyword that one of the
// name expressions needs.
func keywordAt(s string, i int) bool {
	switch s[i] | 0x20 {
	case 'w':
		return foldAt(s, i-1, "pwd") || foldAt(s, i-4, "passw")
	case 'k':
		return foldAt(s, i-2, "token") || foldAt(s, i-3, "apikey") || foldAt(s, i-4, "api_key") || foldAt(s, i-4, "api-key")
	case 'c':
		return foldAt(s, i-2, "secret")
	case 'p':
		return foldAt(s, i, "passphrase")
	case 'z':
		return foldAt(s, i-7, "authorization")
	}
	return false
}

// foldAt reports whether s[i:] starts with the lower-case ASCII word, ignoring ASCII
// case.
func foldAt(s string, i int, word string) bool {
	if i < 0 || len(s)-i < len(word) {
		return false
	}
	for j := 0; j < len(word); j++ {
		c := s[i+j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != word[j] {
			return false
		}
	}
	return true
}

func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		if foldAt(s, i, word) {
			return true
		}
	}
	return false
}

// keywords finds each run of name characters that contains a keyword and hands it to
// named. A run is handed over once per anchor letter at most, however many keywords
// it holds, which keeps the work linear.
func (sc *scan) keywords() {
	s := sc.s
	for a := 0; a < len(anchorBytes); a++ {
		for off := 0; off < len(s); {
			j := strings.IndexByte(s[off:], anchorBytes[a])
			if j < 0 {
				break
			}
			i := off + j
			off = i + 1
			if !keywordAt(s, i) {
				continue
			}
			start, end := i, i
			for start > 0 && isNameByte(s[start-1]) {
				start--
			}
			for end < len(s) && isNameByte(s[end]) {
				end++
			}
			// Names inside a value that was just masked need no look of their own,
			// and looking would make "password=password=…" quadratic.
			off = max(end, sc.named(start, end))
		}
	}
}

// named masks the value that follows the name s[start:end], in whichever of the
// supported forms it is written, and returns where the value ended (or end).
func (sc *scan) named(start, end int) int {
	s := sc.s
	limit := min(len(s), end+headWindow)
	ws := start // names proper start at a word character; "--" belongs to a flag
	for ws < end && (s[ws] == '-' || s[ws] == '.') {
		ws++
	}
	run := s[ws:end]
	// Most runs with a keyword are prose or file names ("tokenizer", "secrets/"): the
	// checks below turn them away before any expression runs.
	sep := end
	if sep < len(s) && (s[sep] == '"' || s[sep] == '\'') {
		sep++
	}
	for sep < len(s) && (s[sep] == ' ' || s[sep] == '\t') {
		sep++
	}
	consumed := end
	var assigned, spaced bool
	if sep < len(s) {
		assigned = s[sep] == '=' || s[sep] == ':'
		spaced = !assigned && sep > end && s[end] != '"' && s[end] != '\''
	}
	if assigned && mayEndName(run) {
		if m := reAssign.FindStringSubmatchIndex(s[ws:limit]); m != nil {
			// PWD and OLDPWD are the shell's working directories, as env or set
			// print them: paths, not passwords, and too common in output to mask.
			if n := s[ws+m[2] : ws+m[3]]; n != "PWD" && n != "OLDPWD" {
				consumed = max(consumed, sc.value(ws+m[1], false, nameKind(n)))
			}
		}
	}
	if spaced && s[start] == '-' && (start == 0 || isSpaceByte(s[start-1]) || s[start-1] == '"' || s[start-1] == '\'') &&
		mayEndName(run) {
		if m := reFlag.FindStringSubmatchIndex(s[start:limit]); m != nil {
			consumed = max(consumed, sc.value(start+m[1], true, nameKind(s[start+m[2]:start+m[3]])))
		}
	}
	if spaced && containsFold(run, "access") {
		if m := reAWSBare.FindStringIndex(s[ws:limit]); m != nil {
			if e := ws + m[1]; e == len(s) || !isKeyByte(s[e]) {
				sc.add(e-40, e, kindAWSSecretKey)
			}
		}
	}
	if assigned && containsFold(run, "authorization") {
		if m := reAuth.FindStringIndex(s[ws:limit]); m != nil {
			v := ws + m[1]
			e := v
			for e < len(s) && !isSpaceByte(s[e]) && s[e] != '"' && s[e] != '\'' {
				e++
			}
			if w := s[v:e]; !isPlaceholder(w) && !isAuthScheme(w) {
				sc.add(v, e, kindBearer)
			}
			consumed = max(consumed, e)
		}
	}
	return consumed
}

// mayEndName is a cheap necessary condition for the name expressions: the run must
// end in a keyword, possibly followed by suffixes. It turns away "max_tokens" or
// "tokens" before any expression runs. "api" and "access" stand for api_key and
// secret_access_key once the "key" suffix is stripped.
func mayEndName(run string) bool {
	for {
		for _, k := range [...]string{"password", "passwd", "passphrase", "pwd", "token", "secret", "api", "access"} {
			if len(run) >= len(k) && foldAt(run, len(run)-len(k), k) {
				return true
			}
		}
		n := len(run)
		for _, sfx := range [...]string{"key", "value", "base"} {
			if len(run) >= len(sfx) && foldAt(run, len(run)-len(sfx), sfx) {
				run = run[:len(run)-len(sfx)]
				if len(run) > 0 && (run[len(run)-1] == '_' || run[len(run)-1] == '-' || run[len(run)-1] == '.') {
					run = run[:len(run)-1]
				}
				break
			}
		}
		if len(run) == n {
			return false
		}
	}
}

// nameKind reports an AWS secret access key as such, because it is the one named
// secret with a kind of its own.
func nameKind(name string) kind {
	if containsFold(name, "secret") && containsFold(name, "access") {
		return kindAWSSecretKey
	}
	return kindAssignment
}

// value masks the value starting at i. A quoted value is masked inside its quotes,
// which stay so the record still reads as valid shell or JSON; a bare value is one
// shell word, ended by the characters that end a word in a shell or a query string.
// A bare value may not start with '=', so comparisons (token == x) are not values,
// nor, after a flag, with '-', which is the next flag.
func (sc *scan) value(i int, flag bool, k kind) (end int) {
	s := sc.s
	if i >= len(s) {
		return i
	}
	if q := s[i]; q == '"' || q == '\'' {
		for j := i + 1; j < len(s); j++ {
			c := s[j]
			if c == q {
				if !isPlaceholder(s[i+1 : j]) {
					sc.add(i+1, j, k)
				}
				return j
			}
			if c == '\n' || c == '\r' {
				break
			}
			if c == '\\' && q == '"' && j+1 < len(s) && s[j+1] != '\n' && s[j+1] != '\r' {
				j++
			}
		}
		// Unterminated, e.g. output cut short: what follows the quote is still the
		// value.
		i++
	}
	j := i
	for j < len(s) && !isValueStop(s[j]) {
		j++
	}
	if j == i || s[i] == '=' || flag && s[i] == '-' || isPlaceholder(s[i:j]) {
		return i
	}
	sc.add(i, j, k)
	return j
}

// isPlaceholder tells values that carry no secret: a reference to a shell variable
// (the secret is elsewhere, and the name is useful in an audit), a null-ish literal
// or an already-masked run of asterisks. ${VAR:-default} is not a placeholder: the
// default may be the secret.
func isPlaceholder(v string) bool {
	if v == "" {
		return true
	}
	if v[0] == '$' {
		for i := 1; i < len(v); i++ {
			c := v[i]
			if !(isWordByte(c) || c == '{' || c == '}') {
				return false
			}
		}
		return true
	}
	if strings.Trim(v, "*") == "" {
		return true
	}
	for _, w := range [...]string{"null", "none", "nil", "true", "false", "undefined"} {
		if strings.EqualFold(v, w) {
			return true
		}
	}
	return false
}

// isAuthScheme catches "Authorization: Bearer" with nothing after the scheme, where
// the scheme itself would otherwise be taken for the credential.
func isAuthScheme(v string) bool {
	for _, w := range [...]string{"bearer", "basic", "token", "bot", "apikey"} {
		if strings.EqualFold(v, w) {
			return true
		}
	}
	return false
}

func isNameByte(c byte) bool {
	return isWordByte(c) || c == '.' || c == '-'
}

func isKeyByte(c byte) bool {
	return isWordByte(c) && c != '_' || c == '/' || c == '+' || c == '='
}

func isValueStop(c byte) bool {
	switch c {
	case '"', '\'', '`', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return isSpaceByte(c)
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
