// Package provider classifies failed model calls ("provider errors") so that the
// ledger can tell an operator what to do about them.
//
// OpenClaw stores the provider's raw error text verbatim and its own failover
// reasons lump together failures that need opposite responses: 2026.1.30 files
// OpenAI's "You exceeded your current quota … billing" under rate_limit, yet
// waiting fixes a rate limit and never fixes a drained prepaid balance, and a
// budget cap is a limit the operator set on purpose. The classes here are
// therefore chosen by what the operator has to do, not by what the provider
// called the error.
//
// Decisions that are ours rather than any provider's: a 500 or 502 without a
// more specific body counts as overloaded, because the operator's only move
// is the same (retry or fall back); a 404 is other, since an unknown model is
// a configuration mistake none of the classes names; "Request was aborted"
// is other, because a user abort is not a provider failure; a Gemini quota
// on a per-minute metric is a rate limit although its text mentions billing,
// while an exhausted daily free tier is quota.
package provider

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Class is the operator-facing category of a provider error.
type Class string

// The classes recorded in the ledger's provider_error records.
const (
	RateLimit      Class = "rate_limit"
	QuotaExhausted Class = "quota_exhausted"
	BudgetCap      Class = "budget_cap"
	Auth           Class = "auth"
	Overloaded     Class = "overloaded"
	Timeout        Class = "timeout"
	Other          Class = "other"
)

// maxInspect bounds the work per message: transcripts store whole HTML error
// pages and JSON bodies verbatim, and everything that decides the class sits
// at the start of such a payload.
const maxInspect = 64 << 10

// Classify returns the class of a raw provider error message (the
// transcript's errorMessage, which may be a bare string, "429 {json body}",
// an HTML page, etc.).
//
// A status code decides first where it is unambiguous; the text refines it
// where the same status means different things (429 and 402 both carry
// quota, budget and rate-limit failures depending on the provider).
func Classify(msg string) Class {
	if len(msg) > maxInspect {
		msg = msg[:maxInspect]
	}
	raw := strings.TrimSpace(msg)
	if raw == "" {
		return Other
	}
	s := strings.ToLower(raw)

	// JSON bodies are decoded as well as matched raw because providers escape
	// text inside them ("Plans \u0026 Billing", "You\u0027ve") and wrap
	// upstream errors in string fields (OpenRouter's metadata.raw).
	decoded, jsonCode := decodeJSON(raw)
	text := s
	if decoded != "" {
		text = s + "\n" + decoded
	}

	status := leadingStatus(s)
	if status == 0 {
		status = jsonCode
	}
	if status == 0 {
		status = htmlStatus(s)
	}
	if status == 0 {
		status = embeddedStatus(s)
	}

	// A user abort (or pi's own turn timeout, which reads the same) is not a
	// provider failure; counting it would inflate error rates the operator
	// cannot act on. An abort that names a timeout is still a timeout.
	if status == 0 && abortM.match(text) {
		if timeoutM.match(text) {
			return Timeout
		}
		return Other
	}

	c := byText(text)
	if status == 0 {
		return c
	}
	return byStatus(status, c)
}

// byStatus combines an HTTP status with the class the text suggests.
func byStatus(status int, text Class) Class {
	switch status {
	case 429:
		// The status only says "slow down"; OpenAI and Gemini send 429 for a
		// drained balance too, and the body is the only way to tell.
		if text == QuotaExhausted || text == BudgetCap {
			return text
		}
		return RateLimit
	case 402:
		if text == BudgetCap {
			return BudgetCap
		}
		return QuotaExhausted
	case 401:
		// LiteLLM raises an exhausted virtual-key budget as an auth error.
		if text == BudgetCap {
			return BudgetCap
		}
		return Auth
	case 403:
		// OpenRouter reports an exhausted key limit as 403, and some gateways
		// use 403 for billing and throttling.
		switch text {
		case BudgetCap, QuotaExhausted, RateLimit:
			return text
		}
		return Auth
	case 404:
		// Unknown model or endpoint: a configuration mistake none of the
		// specific classes describes, even when the text mentions access.
		return Other
	case 408, 504, 522, 524:
		// 522/524 are Cloudflare's connect and origin timeouts.
		return Timeout
	case 503, 529:
		return Overloaded
	case 500, 502, 520, 521, 523:
		// A generic server failure needs the same response as overload
		// (retry later or fall back), so it is filed there unless the body
		// is more specific.
		if text != Other {
			return text
		}
		return Overloaded
	}
	return text
}

// matcher pairs a pattern with literals ("anchors") at least one of which
// every match contains. Go's regexp runs alternations of this size at
// roughly 1 MB/s, so scanning a 64 KiB page with each pattern would cost
// tens of milliseconds; instead the pattern only sees the text around anchor
// occurrences, which is usually nothing or a few hundred bytes.
type matcher struct {
	anchors []string
	re      *regexp.Regexp
}

// windowPad must be at least the longest text any matcher pattern can
// match, so that a window around an anchor holds every match containing it.
// The patterns therefore use bounded repetition only.
const windowPad = 128

func newMatcher(expr string, anchors ...string) matcher {
	return matcher{anchors: anchors, re: regexp.MustCompile(expr)}
}

func (m matcher) match(s string) bool {
	return m.find(s) != nil
}

// find returns the leftmost match's submatches, like FindStringSubmatch.
// Windows are disjoint and visited left to right, so the first window with
// a match holds the leftmost match.
func (m matcher) find(s string) []string {
	var found []string
	m.windows(s, func(w string) bool {
		found = m.re.FindStringSubmatch(w)
		return found != nil
	})
	return found
}

// windows calls f on the merged neighbourhoods of all anchor occurrences in
// s, left to right, until f returns true. It merges the anchors' occurrence
// streams instead of collecting them so that dense input costs no memory.
func (m matcher) windows(s string, f func(string) bool) {
	var nextBuf [32]int
	next := nextBuf[:0]
	for _, a := range m.anchors {
		next = append(next, strings.Index(s, a))
	}
	lo, hi := -1, -1
	for {
		k := -1
		for i, p := range next {
			if p >= 0 && (k < 0 || p < next[k]) {
				k = i
			}
		}
		if k < 0 {
			break
		}
		p, a := next[k], m.anchors[k]
		wlo, whi := max(0, p-windowPad), min(len(s), p+len(a)+windowPad)
		if lo >= 0 && wlo <= hi {
			hi = max(hi, whi)
		} else {
			if lo >= 0 && f(wordAligned(s, lo, hi)) {
				return
			}
			lo, hi = wlo, whi
		}
		// Occurrences that would not widen the window are skipped.
		from := max(p+1, hi-windowPad-len(a)+1)
		if from >= len(s) {
			next[k] = -1
		} else if i := strings.Index(s[from:], a); i >= 0 {
			next[k] = from + i
		} else {
			next[k] = -1
		}
	}
	if lo >= 0 {
		f(wordAligned(s, lo, hi))
	}
}

// wordAligned widens s[lo:hi] to word boundaries so that \b at the cut
// means what it means in the whole text.
func wordAligned(s string, lo, hi int) string {
	for lo > 0 && isWordByte(s[lo-1]) {
		lo--
	}
	for hi < len(s) && isWordByte(s[hi]) {
		hi++
	}
	return s[lo:hi]
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

var (
	// Budget: caps the operator or their organisation set. Bare "budget" is
	// not enough: Anthropic's thinking.budget_tokens errors are bad requests.
	budgetM = newMatcher(`exceeded\w{0,20}budget|budget[ _-]?(?:exceeded|has been exceeded|limit|reached|cap\b)|(?:max|maximum|monthly|daily|weekly|team|user|key|org|organization|project|spend|your)[ _-]budget|over[ _-]budget|spend(?:ing)?[ _-]limit|key[ _-]limit|billing[ _-]hard[ _-]limit|specified api usage limit`,
		"budget", "limit")
	// Plan-period usage limits (Claude and ChatGPT subscriptions, monthly
	// plans) reset on their own schedule, like a budget.
	periodLimitM = newMatcher(`usage[ _-]?limit|(?:daily|weekly|monthly|5-hour|five-hour)[ _-](?:usage[ _-])?(?:limit|quota|cap)\b`,
		"usage", "daily", "weekly", "monthly", "hour")

	// Quota wording that cannot be a rate limit.
	strongQuotaM = newMatcher(`insufficient[ _-]?(?:quota|credits?|balance|funds)|credit balance|out of (?:credits?|extra usage)|(?:more|no|enough) credits|credits? (?:exhausted|depleted|used up)|payment[ _-]required|plans (?:&|and) billing|billing[ _-]not[ _-]active|account is not active|exceeded_current_quota`,
		"insufficient", "credit", "out of", "payment", "billing", "not active", "exceeded_current_quota")
	// Quota wording that rate-limit messages share (OpenAI's RPD message
	// links the billing page; Gemini's per-minute message says "billing").
	weakQuotaM = newMatcher(`billing|free[ _-]?tier|quota[ _-]?(?:exhausted|depleted)`,
		"billing", "tier", "quota")

	// A per-minute/per-second window marks a rate limit even when the text
	// also mentions quota and billing (Gemini's TPM/RPM 429s).
	perWindowM = newMatcher(`per[ _-]?(?:minute|min\b|second|sec\b)|\b[rt]pm\b`,
		"per", "rpm", "tpm")

	explicitRateM = newMatcher(`rate[ _]?limit|rate[ _-]limited|too many (?:concurrent )?requests|too_many_requests|throttl`,
		"rate", "too many", "too_many", "throttl")
	genericRateM = newMatcher(`resource[ _]?exhausted|resource has been exhausted|quota[ _-]?exceeded|exceeded (?:your |the )?(?:current )?quota|exceeds? (?:the |your )?quota`,
		"exhausted", "quota")

	authM = newMatcher(`invalid[ _-]?(?:api[ _-]?key|x-api-key|authentication|auth\b|token|credentials?|bearer|subscription key)|incorrect api key|api[ _-]?key (?:not valid|is invalid|is missing|not found|missing|expired|revoked|disabled)|api_key_invalid|no api key|missing (?:an? )?api[ _-]?key|unauthori[sz]ed|unauthenticated|authentication|permission[ _-]?denied|permission_error|forbidden|access[ _-]?denied|not authori[sz]ed|not permitted|(?:do not|does not|don't|doesn't) have (?:access|permission)|security token|expired[ _-]?token|token (?:has )?expired|revoked|(?:account|key|organization|subscription|user) (?:has been |was |is )?(?:terminated|suspended|deactivated|disabled|banned)|user not found|unrecognizedclient`,
		"invalid", "incorrect", "key", "authori", "authentic", "permission", "forbidden", "denied", "permitted", "access", "token", "revoked", "terminated", "suspended", "deactivated", "disabled", "banned", "not found", "unrecognizedclient")

	overloadedM = newMatcher(`overload|capacity|service[ _-]?unavailable|temporarily unavailable|server is busy|high demand|internal[ _-]?server|internal[ _]error|server[ _]error|server had an error|bad gateway|\bapi_error\b|upstream connect error|modelnotready|model is (?:currently )?loading|web server is down|origin is unreachable`,
		"overload", "capacity", "unavailable", "busy", "demand", "internal", "server", "gateway", "api_error", "upstream", "modelnotready", "loading", "unreachable")

	timeoutM = newMatcher(`timeout|\btime[ _-]out\b|timed[ _-]?out|etimedout|econnreset|econnrefused|econnaborted|enotfound|eai_again|enetunreach|ehostunreach|\bepipe\b|fetch failed|failed to fetch|socket hang up|network[ _-]?error|connection (?:error|reset|refused|closed|aborted|failure|failed|lost)|(?:cannot|could not|couldn't|unable to|failed to) connect|apiconnectionerror|other side closed|premature close|und_err|deadline[ _-]?exceeded|(?:stream|connection|socket|request) (?:was |has been )?terminated`,
		"time", "econn", "enotfound", "eai_again", "unreach", "epipe", "fetch", "hang up", "network", "connect", "other side closed", "premature close", "und_err", "deadline", "terminated")

	// undici's bare "terminated" (the response body stream was cut) is only
	// recognisable as the whole message; "account terminated" is not it.
	bareTerminatedRe = regexp.MustCompile(`^(?:[\w.]{0,40}error:\s{0,4})?terminated\b`)

	abortM = newMatcher(`request was aborted|operation was aborted|user aborted|aborterror|aborted by (?:the )?user|request aborted`,
		"abort")
)

// matchers lists every gated pattern so tests can check the gates.
var matchers = []matcher{budgetM, periodLimitM, strongQuotaM, weakQuotaM, perWindowM, explicitRateM, genericRateM, authM, overloadedM, timeoutM, abortM, embeddedStatusM}

// byText classifies by wording alone. The order is the point: a cap the
// operator set beats everything, explicit credit exhaustion beats rate-limit
// words, a per-minute window beats incidental billing links, and only then do
// the vaguer quota words count.
func byText(s string) Class {
	switch {
	case budgetM.match(s):
		return BudgetCap
	case strongQuotaM.match(s):
		return QuotaExhausted
	case perWindowM.match(s) && containsAny(s, "limit", "quota", "exceed", "exhaust"):
		return RateLimit
	case periodLimitM.match(s):
		return BudgetCap
	case explicitRateM.match(s):
		return RateLimit
	case weakQuotaM.match(s):
		return QuotaExhausted
	case genericRateM.match(s):
		return RateLimit
	case authM.match(s):
		return Auth
	case overloadedM.match(s):
		return Overloaded
	case timeoutM.match(s), bareTerminatedRe.MatchString(s):
		return Timeout
	}
	return Other
}

var (
	// SDKs prefix the status in several ways: "429 {...}", "Error: 429 ...",
	// "HTTP 502", "Error code: 429 - {...}", "status 503".
	leadingStatusRe = regexp.MustCompile(`^(?:[\w.]{0,40}error:?\s{0,4})?(?:code:?\s{0,4})?(?:-\s{0,4})?(?:http(?:/[\d.]{1,4})?\s{0,4}|status(?:[ _]?code)?:?\s{0,4})?([45]\d\d)(?:[^\w.]|$)`)
	// Cloudflare and nginx pages put the status in the title.
	htmlTitleRe = regexp.MustCompile(`^<title>[^<]{0,200}?\b([45]\d\d)\b`)
	// Statuses quoted inside wrapped errors (LiteLLM, AWS SDK, Cloudflare
	// "Error code 524").
	embeddedStatusM = newMatcher(`(?:error[ _]code|status[ _]?code|\bstatus|\bhttp)["']?\s{0,4}[:=]?\s{0,4}["']?([45]\d\d)\b`,
		"code", "status", "http")
)

func leadingStatus(s string) int {
	return submatchStatus(leadingStatusRe, s)
}

// htmlStatus reads only the first title, so a page of repeated tags costs
// one short match.
func htmlStatus(s string) int {
	i := strings.Index(s, "<title>")
	if i < 0 {
		return 0
	}
	return submatchStatus(htmlTitleRe, s[i:min(len(s), i+256)])
}

func embeddedStatus(s string) int {
	m := embeddedStatusM.find(s)
	if m == nil {
		return 0
	}
	return httpStatus(m[1])
}

func submatchStatus(re *regexp.Regexp, s string) int {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	return httpStatus(m[1])
}

// httpStatus accepts only error statuses, so that ids and counts in bodies
// are not read as statuses.
func httpStatus(v string) int {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 400 || n > 599 {
		return 0
	}
	return n
}

// decodeJSON decodes the first JSON value in msg and returns its string
// leaves, lower-cased, plus a status from its code/status fields. A body cut
// by the 64 KiB limit, or not JSON at all, yields nothing; raw matching still
// applies then.
func decodeJSON(msg string) (string, int) {
	i := strings.IndexAny(msg, "{[")
	if i < 0 {
		return "", 0
	}
	dec := json.NewDecoder(strings.NewReader(msg[i:]))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", 0
	}
	var b strings.Builder
	collectStrings(&b, v, 0)
	return strings.ToLower(b.String()), jsonStatus(v)
}

// maxDepth guards the recursion; encoding/json already refuses deeper
// nesting than this package could be asked to walk usefully.
const maxDepth = 64

func collectStrings(b *strings.Builder, v any, depth int) {
	if depth > maxDepth {
		return
	}
	switch t := v.(type) {
	case string:
		b.WriteString(t)
		b.WriteByte('\n')
	case []any:
		for _, e := range t {
			collectStrings(b, e, depth+1)
		}
	case map[string]any:
		for _, e := range t {
			collectStrings(b, e, depth+1)
		}
	}
}

// jsonStatus looks only at the top level and the "error" object, where
// OpenRouter, Gemini and LiteLLM put the HTTP status; deeper numbers are
// provider metadata.
func jsonStatus(v any) int {
	if a, ok := v.([]any); ok && len(a) > 0 {
		v = a[0]
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return 0
	}
	if n := objStatus(obj); n != 0 {
		return n
	}
	if e, ok := obj["error"].(map[string]any); ok {
		return objStatus(e)
	}
	return 0
}

func objStatus(obj map[string]any) int {
	for _, k := range []string{"status", "code", "statusCode", "status_code"} {
		switch t := obj[k].(type) {
		case json.Number:
			if n := httpStatus(t.String()); n != 0 {
				return n
			}
		case string:
			if n := httpStatus(t); n != 0 {
				return n
			}
		}
	}
	return 0
}

// Hint is one or two plain-English sentences telling the operator what to do
// for the class. An unknown class gets the hint for Other.
func Hint(c Class) string {
	switch c {
	case RateLimit:
		return "The provider is throttling: too many requests or tokens were sent per minute (or per day) for your tier. Back off, lower concurrency, or raise the rate-limit tier."
	case QuotaExhausted:
		return "The account has run out of paid usage: the prepaid credit balance is exhausted, auto-recharge is off, or the free tier is used up. Add credit or enable billing with the provider; raising rate limits will not help."
	case BudgetCap:
		return "A spend limit set by you or your organization was reached (an OpenRouter key limit, a LiteLLM or proxy budget, a provider spend limit or monthly budget, or a plan's usage limit for the period). Raise the cap or wait for the period to reset."
	case Auth:
		return "The provider rejected the credentials: the API key is missing, invalid, expired or revoked, or it is not permitted to use this model. Check the key and its permissions in the agent's configuration."
	case Overloaded:
		return "The provider failed on its side (overloaded or out of capacity, 529/503, or a 500/502 server error); nothing is wrong with your account. Retry later or fall back to another model or provider."
	case Timeout:
		return "The request never completed: it timed out or the connection failed (fetch failed, ETIMEDOUT, ECONNRESET, socket hang up, 408/504). Check the network, DNS and proxy, and that the endpoint (for example a local Ollama) is reachable."
	}
	return "The error does not match a known provider failure (for example a bad request, an oversized context, or a user abort). Read the message for details."
}
