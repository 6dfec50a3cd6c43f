package corpus

import (
	"bytes"
	"slices"
	"time"
)

func timeDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

func (s *session) count(o outcome) { s.st.outcomes[o]++ }

type callKind uint8

const (
	kExec callKind = iota
	kCodeMode
	kRead
	kWrite
	kEdit
	kWebSearch
	kWebFetch
	kPoll
)

// plan is what will happen to an exec call, decided before the call line is
// written so that its arguments (timeout, host, background) fit its result.
type plan uint8

const (
	pSucceeded plan = iota
	pNonzero
	pTimeout
	pKilled
	pNotFound
	pDenied
	pBlocked
	pBackground
	pApproval
	pError
	pTruncated
	numPlans
)

// Per mille. Most execs succeed; the rest follow what transcripts in the wild
// show: non-zero exits are common, timeouts and denials rare.
var planWeights = [numPlans]int{730, 140, 20, 7, 15, 15, 8, 35, 15, 5, 10}

type call struct {
	kind       callKind
	id         string
	name       string
	plan       plan
	cmd        *command
	proj       *project
	command    string
	workdir    string
	timeout    int
	yieldMs    int
	background bool
	host       string
	arg        string
	bg         *bgExec
}

func (s *session) turn() {
	// The user's pause comes first, so that queued System lines can be
	// stamped inside it, after the execs they report on.
	think := s.between(2_000, s.maxPause)
	s.sysClock = s.now
	s.advance(think)
	s.sysStep = max(think/8, 1_000)
	var system []byte
	// Approval outcomes arrive before the next user turn: from 2026.6 as a
	// follow-up run of their own, before that as queued System lines.
	for _, a := range s.pendingApr {
		if s.ver == v2026_7 {
			s.approvalFollowup(a)
		} else {
			system = s.appendApprovalSystemLine(system, a)
		}
		s.count(a.final)
	}
	s.pendingApr = s.pendingApr[:0]
	var polls []*bgExec
	for _, b := range s.pendingBG {
		switch b.resolve {
		case resolveSystem:
			system = s.appendExecSystemLine(system, b)
			s.count(b.final)
		case resolvePoll:
			polls = append(polls, b)
		}
	}
	s.pendingBG = s.pendingBG[:0]
	if s.ctxTokens > 150_000 {
		s.compaction()
	}

	m := &s.models[s.primary]
	s.snapshot(m)
	s.userMessage(system)
	if s.pct(3) {
		m = s.providerErrors(m)
	}
	rounds := 0
	if len(polls) > 0 || s.pct(88) {
		rounds = 1
		for rounds < 12 && s.pct(65) {
			rounds++
		}
	}
	for r := range rounds {
		if r > 0 {
			polls = nil
		}
		s.round(m, polls)
	}
	s.finalText(m)
	if s.pct(1) {
		s.label(s.lastUser)
	}
}

// --- user side -------------------------------------------------------------

var requests = []string{
	"the handler tests are failing on main, can you check what's going on?",
	"run the test suite and fix whatever is broken",
	"how is the box doing? disk, memory, load",
	"deploy the release candidate to staging",
	"why is the worker stuck again?",
	"pull the latest main and rebuild",
	"check the nginx logs for 502s in the last hour",
	"clean up old docker images, we're low on disk",
	"summarize what changed this week",
	"the nightly export didn't run, look into it",
	"bump the dependencies and make sure the build still passes",
	"find where we set the request timeout and raise it to 30s",
}

func (s *session) appendStamp(b []byte, layout string) []byte {
	return s.now.AppendFormat(b, layout)
}

func (s *session) userMessage(system []byte) {
	ms := s.now.UnixMilli()
	s.advance(s.between(5, 30))
	text := s.tmp[:0]
	if len(system) > 0 {
		text = append(text, system...)
		text = append(text, "\n\n"...)
	}
	req := pick(s, requests)
	plain := false
	switch {
	case s.channel.name == "cron":
		text = append(text, "[cron:"...)
		text = append(text, s.key[len("cron:"):]...)
		text = append(text, " nightly-check] "...)
	case s.ver == v2026_1_30:
		text = append(text, '[')
		text = s.appendStamp(text, "Mon 2006-01-02 15:04 MST")
		text = append(text, "] "...)
	case s.channel.name == "tui" && s.ver == v2026_7 && len(system) == 0:
		plain = true // 2026.7 CLI turns carry the bare prompt as a string
	default:
		text = append(text, "Sender (untrusted metadata):\n```json\n{\n  \"label\": "...)
		text = appendString(text, s.sender.label)
		text = append(text, ",\n  \"id\": "...)
		text = appendString(text, s.sender.id)
		text = append(text, "\n}\n```\n\n["...)
		text = s.appendStamp(text, "Mon 2006-01-02 15:04 MST")
		text = append(text, "] "...)
	}
	text = append(text, req...)
	s.tmp = text

	s.begin("message")
	s.lastUser = s.last
	if plain {
		s.line = append(s.line, `,"message":{"role":"user","content":`...)
		s.line = appendStringBytes(s.line, text)
	} else {
		s.line = append(s.line, `,"message":{"role":"user","content":[{"type":"text","text":`...)
		s.line = appendStringBytes(s.line, text)
		s.line = append(s.line, "}]"...)
	}
	s.line = append(s.line, `,"timestamp":`...)
	s.line = appendInt(s.line, ms)
	s.line = append(s.line, "}}"...)
	s.emit()
}

func (s *session) appendSystemPrefix(b []byte) []byte {
	if len(b) > 0 {
		b = append(b, '\n')
	}
	b = append(b, "System: ["...)
	s.sysClock = s.sysClock.Add(timeDuration(s.between(500, s.sysStep)))
	if s.sysClock.After(s.now) {
		s.sysClock = s.now
	}
	return s.sysClock.AppendFormat(b, "2006-01-02 15:04:05 MST] ")
}

func (s *session) appendExecSystemLine(b []byte, bg *bgExec) []byte {
	b = s.appendSystemPrefix(b)
	code := s.finishedOutput(bg.cmd, bg.final, s.between(80, 600))
	if code == 0 {
		b = append(b, "Exec completed ("...)
	} else {
		b = append(b, "Exec failed ("...)
	}
	b = append(b, bg.slug[:min(8, len(bg.slug))]...)
	b = append(b, ", code "...)
	b = appendInt(b, int64(code))
	if len(bytes.TrimSpace(s.out)) == 0 {
		return append(b, ')')
	}
	b = append(b, ") :: "...)
	return s.appendNotifyTail(b)
}

// finishedOutput puts what a finished background command printed into s.out
// and returns its exit code; both are drawn together so they agree.
func (s *session) finishedOutput(cmd *command, final outcome, size int) int {
	s.out = s.out[:0]
	p := s.projectFor(cmd)
	if final == oSucceeded {
		cmd.out(s, p, size)
		return 0
	}
	return cmd.fail(s, p)
}

// appendNotifyTail renders s.out as the one-line tail OpenClaw puts into exit
// notifications: the last 400 characters with whitespace runs collapsed.
func (s *session) appendNotifyTail(b []byte) []byte {
	tail := s.out
	if len(tail) > 400 {
		tail = runeStart(tail[len(tail)-400:])
	}
	space := false
	n := len(b)
	for _, c := range bytes.TrimSpace(tail) {
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			space = true
			continue
		}
		if space && len(b) > n {
			b = append(b, ' ')
		}
		space = false
		b = append(b, c)
	}
	return b
}

func (s *session) appendApprovalSystemLine(b []byte, a *approval) []byte {
	b = s.appendSystemPrefix(b)
	if a.final == oDenied {
		b = append(b, "Exec denied (gateway id="...)
		b = append(b, a.id...)
		b = append(b, ", user-denied): "...)
		return append(b, a.command...)
	}
	return s.appendExecFinished(b, a)
}

func (s *session) appendExecFinished(b []byte, a *approval) []byte {
	code := s.finishedOutput(a.cmd, a.final, s.between(80, 600))
	b = append(b, "Exec finished (gateway id="...)
	b = append(b, a.id...)
	b = append(b, ", session="...)
	b = append(b, a.slug...)
	b = append(b, ", code "...)
	b = appendInt(b, int64(code))
	if len(bytes.TrimSpace(s.out)) == 0 {
		return append(b, ')')
	}
	b = append(b, ")\n"...)
	return s.appendNotifyTail(b)
}

func (s *session) approvalFollowup(a *approval) {
	s.advance(s.between(20_000, 400_000))
	ms := s.now.UnixMilli()
	s.advance(s.between(5, 30))
	t := append(s.tmp[:0], '[')
	t = s.appendStamp(t, "Mon 2006-01-02 15:04 MST")
	t = append(t, "] "...)
	if a.final == oDenied {
		t = append(t, "An async command did not run.\nDo not run the command again.\nThere is no new command output.\n"+
			"Do not mention, summarize, or reuse output from any earlier run in this session.\n\nExact completion details:\n"+
			"Exec denied (gateway id="...)
		t = append(t, a.id...)
		t = append(t, ", user-denied): "...)
		t = append(t, a.command...)
		t = append(t, "\n\nReply to the user in a helpful way.\nExplain that the command did not run and why.\n"+
			"Do not claim there is new command output."...)
	} else {
		t = append(t, "An async command the user already approved has completed.\nDo not run the command again.\n"+
			"If the task requires more steps, continue from this result before replying to the user.\n"+
			"Only ask the user for help if you are actually blocked.\n\nExact completion details:\n"...)
		t = s.appendExecFinished(t, a)
		t = append(t, "\n\nContinue the task if needed, then reply to the user in a helpful way.\n"+
			"If it succeeded, share the relevant output.\nIf it failed, explain what went wrong."...)
	}
	s.tmp = t
	s.begin("message")
	s.lastUser = s.last
	s.line = append(s.line, `,"message":{"role":"user","content":[{"type":"text","text":`...)
	s.line = appendStringBytes(s.line, t)
	s.line = append(s.line, `}],"timestamp":`...)
	s.line = appendInt(s.line, ms)
	s.line = append(s.line, "}}"...)
	s.emit()
	s.finalText(&s.models[s.primary])
}

// --- provider errors -------------------------------------------------------

type providerError struct {
	providers []string // empty: any provider
	retry     bool
	text      func(s *session) string
}

func reqID(s *session) string {
	return "req_011C" + string(appendRand(nil, s.rng, b62, 20))
}

// Raw provider texts, as persisted in errorMessage: one per failure class
// (rate limit, overload, quota, budget, auth, timeout, other), matched to the
// providers that produce them.
var providerErrorKinds = []providerError{
	{[]string{"anthropic"}, true, func(s *session) string {
		return `429 {"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed the rate limit for your organization of 30,000 input tokens per minute. Please reduce the prompt length or the maximum tokens requested, or try again later."},"request_id":"` + reqID(s) + `"}`
	}},
	{[]string{"anthropic"}, true, func(s *session) string {
		return `529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"` + reqID(s) + `"}`
	}},
	{[]string{"anthropic"}, false, func(s *session) string {
		return `400 {"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."},"request_id":"` + reqID(s) + `"}`
	}},
	{[]string{"anthropic"}, false, func(s *session) string {
		return `401 {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"` + reqID(s) + `"}`
	}},
	{[]string{"anthropic"}, true, func(s *session) string {
		return `500 {"type":"error","error":{"type":"api_error","message":"Internal server error"},"request_id":"` + reqID(s) + `"}`
	}},
	{[]string{"openai", "openai-codex"}, false, func(s *session) string {
		return "429 You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
	}},
	{[]string{"openai", "openai-codex"}, true, func(s *session) string {
		return "429 Rate limit reached for gpt-5 in organization org-" + string(appendRand(nil, s.rng, b62, 24)) +
			" on tokens per min (TPM): Limit 500000, Used 498120, Requested 6211. Please try again in 520ms."
	}},
	{[]string{"openai", "openai-codex"}, false, func(s *session) string {
		return "401 Incorrect API key provided: sk-proj-********************" + string(appendRand(nil, s.rng, b62, 4)) +
			". You can find your API key at https://platform.openai.com/account/api-keys."
	}},
	{[]string{"openrouter"}, false, func(s *session) string {
		return `402 {"error":{"message":"Key limit exceeded (daily limit). Manage it using https://openrouter.ai/settings/keys","code":402}}`
	}},
	{[]string{"openrouter", "opencode"}, true, func(s *session) string {
		return `429 {"error":{"message":"Rate limit exceeded: free-models-per-min.","code":429}}`
	}},
	{[]string{"litellm"}, false, func(s *session) string {
		return `400 {"error":{"message":"ExceededBudget: Key=sk-...` + string(appendRand(nil, s.rng, hexDigits, 4)) +
			` over max budget. Spend=25.0412, Max Budget=25.0","type":"budget_exceeded","param":null,"code":"400"}}`
	}},
	{nil, true, func(s *session) string { return "fetch failed" }},
	{nil, true, func(s *session) string { return "terminated" }},
}

func (e *providerError) fits(provider string) bool {
	if len(e.providers) == 0 {
		return true
	}
	for _, p := range e.providers {
		if p == provider {
			return true
		}
	}
	return false
}

// providerErrors writes the failed attempts of a turn and returns the model
// that finally answers it.
func (s *session) providerErrors(m *model) *model {
	k := &providerErrorKinds[s.rng.IntN(len(providerErrorKinds))]
	for !k.fits(m.provider) {
		k = &providerErrorKinds[s.rng.IntN(len(providerErrorKinds))]
	}
	attempts := 1
	// Before 2026.6 every retry is persisted; later only the first error of
	// a turn survives model fallback.
	if k.retry && s.ver != v2026_7 {
		attempts = s.between(1, 3)
	}
	for i := range attempts {
		if i > 0 {
			s.advance(2000 << (i - 1))
		}
		s.errorLine(m, k.text(s))
	}
	fb := &s.models[(s.primary+1+s.rng.IntN(len(s.models)-1))%len(s.models)]
	s.snapshot(fb)
	return fb
}

func (s *session) errorLine(m *model, msg string) {
	ms := s.now.UnixMilli()
	s.advance(s.between(150, 2_500))
	s.begin("message")
	s.line = append(s.line, `,"message":{"role":"assistant","content":[],"stopReason":"error","api":`...)
	s.line = appendString(s.line, m.api)
	s.line = append(s.line, `,"provider":`...)
	s.line = appendString(s.line, m.provider)
	s.line = append(s.line, `,"model":`...)
	s.line = appendString(s.line, m.name)
	s.line = append(s.line, `,"usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"timestamp":`...)
	s.line = appendInt(s.line, ms)
	s.line = append(s.line, `,"errorMessage":`...)
	s.line = appendString(s.line, msg)
	s.line = append(s.line, "}}"...)
	s.emit()
	s.st.providerErrors++
}

// --- assistant side --------------------------------------------------------

// AssistantSentences returns the sentences the generator's assistant prose is made
// of, so that benchmarks elsewhere can read prose shaped like the corpus's.
func AssistantSentences() []string { return slices.Clone(sentences) }

var sentences = []string{
	"I'll check the working tree first.",
	"The failing test expects a tenant header that the fixture does not send.",
	"Disk usage on /var/lib/docker is at 86%, so pruning old images would help.",
	"The worker is not running on this host.",
	"Let me look at the recent logs before changing anything.",
	"The build passes now.",
	"Three tests fail in the orders package; the rest pass.",
	"The upstream returns 502, so the proxy itself is fine.",
	"I'll run the suite again with the race detector.",
	"That command needs approval before it can run.",
	"The export job timed out; it needs a longer timeout or a background run.",
	"Nothing else changed since yesterday's deploy.",
}

func (s *session) appendAssistantTail(m *model, outTokens int, stop string, ms int64) {
	b := append(s.line, `],"api":`...)
	b = appendString(b, m.api)
	b = append(b, `,"provider":`...)
	b = appendString(b, m.provider)
	b = append(b, `,"model":`...)
	b = appendString(b, m.name)
	b = append(b, `,"usage":`...)
	b = s.appendUsage(b, m, outTokens)
	b = append(b, `,"stopReason":"`...)
	b = append(b, stop...)
	b = append(b, `","timestamp":`...)
	b = appendInt(b, ms)
	if m.partialArgs {
		b = append(b, `,"responseId":"`...)
		b = appendRand(b, s.rng, b62+"-_", 22)
		b = append(b, '"')
	}
	s.line = append(b, "}}"...)
	s.emit()
}

func (s *session) appendUsage(b []byte, m *model, out int) []byte {
	ctx := max(s.ctxTokens, 2_000)
	var in, cr, cw int
	switch m.api {
	case "anthropic-messages":
		in = s.between(2, 900)
		if s.pct(20) {
			cw = s.between(200, 4_000)
		}
		cr = max(ctx-in-cw, 0)
	case "openai-responses", "openai-codex-responses":
		cr = ctx * s.between(50, 95) / 100 &^ 127
		in = ctx - cr
	default:
		in = ctx
	}
	b = append(b, `{"input":`...)
	b = appendInt(b, int64(in))
	b = append(b, `,"output":`...)
	b = appendInt(b, int64(out))
	b = append(b, `,"cacheRead":`...)
	b = appendInt(b, int64(cr))
	b = append(b, `,"cacheWrite":`...)
	b = appendInt(b, int64(cw))
	if m.partialArgs {
		b = append(b, `,"reasoningTokens":`...)
		b = appendInt(b, int64(s.between(0, out)))
	}
	b = append(b, `,"totalTokens":`...)
	b = appendInt(b, int64(in+out+cr+cw))
	p := m.prices
	ci, co, ccr, ccw := float64(in)*p[0]/1e6, float64(out)*p[1]/1e6, float64(cr)*p[2]/1e6, float64(cw)*p[3]/1e6
	b = append(b, `,"cost":{"input":`...)
	b = appendFloat(b, ci)
	b = append(b, `,"output":`...)
	b = appendFloat(b, co)
	b = append(b, `,"cacheRead":`...)
	b = appendFloat(b, ccr)
	b = append(b, `,"cacheWrite":`...)
	b = appendFloat(b, ccw)
	b = append(b, `,"total":`...)
	b = appendFloat(b, ci+co+ccr+ccw)
	return append(b, "}}"...)
}

func (s *session) beginAssistant(m *model) (ms int64) {
	ms = s.now.UnixMilli()
	s.advance(s.between(900, 9_000))
	s.begin("message")
	s.line = append(s.line, `,"message":{"role":"assistant","content":[`...)
	return ms
}

func (s *session) appendThinking() {
	s.line = append(s.line, `{"type":"thinking","thinking":`...)
	s.line = appendString(s.line, pick(s, sentences))
	s.line = append(s.line, `,"thinkingSignature":"`...)
	s.line = appendRand(s.line, s.rng, b62, 4*s.between(11, 80))
	s.line = append(s.line, `=="},`...)
}

func (s *session) finalText(m *model) {
	ms := s.beginAssistant(m)
	if m.thinking && s.pct(30) {
		s.appendThinking()
	}
	s.line = append(s.line, `{"type":"text","text":"`...)
	n := s.between(1, 4)
	start := len(s.line)
	for i := range n {
		if i > 0 {
			s.line = append(s.line, ' ')
		}
		s.line = append(s.line, pick(s, sentences)...)
	}
	toks := (len(s.line)-start)/4 + s.between(5, 40)
	s.line = append(s.line, `"}`...)
	s.appendAssistantTail(m, toks, "stop", ms)
}

// round writes one assistant message with its tool calls and the results.
func (s *session) round(m *model, polls []*bgExec) {
	n, parallel := 1, 10
	if m.ids == idCallFc {
		parallel = 30 // Responses models fan out more often
	}
	if s.pct(parallel) {
		n = s.between(2, 3)
	}
	n = max(n, len(polls))
	calls := make([]call, 0, n)
	for _, b := range polls {
		calls = append(calls, call{kind: kPoll, name: "process", bg: b})
	}
	for len(calls) < n {
		calls = append(calls, s.planCall())
	}
	shared := string(appendRand(nil, s.rng, "abcdefghijklmnopqrstuvwxyz0123456789", 12))
	for i := range calls {
		calls[i].id = s.toolCallID(m, i, shared)
	}

	ms := s.beginAssistant(m)
	if m.thinking && s.pct(35) {
		s.appendThinking()
	}
	if s.pct(25) {
		s.line = append(s.line, `{"type":"text","text":`...)
		s.line = appendString(s.line, pick(s, sentences))
		s.line = append(s.line, "},"...)
	}
	toks := s.between(30, 120)
	for i := range calls {
		if i > 0 {
			s.line = append(s.line, ',')
		}
		s.appendToolCall(m, &calls[i])
		toks += len(calls[i].command)/4 + len(calls[i].arg)/4 + 10
	}
	s.st.toolCalls += int64(len(calls))
	s.appendAssistantTail(m, toks, "toolUse", ms)

	// Parallel results may come back in any order.
	if len(calls) > 1 && s.pct(40) {
		s.rng.Shuffle(len(calls), func(i, j int) { calls[i], calls[j] = calls[j], calls[i] })
	}
	for i := range calls {
		s.result(&calls[i])
	}
}

func (s *session) projectFor(c *command) *project {
	for {
		p := &projects[s.rng.IntN(len(projects))]
		if c.kind == kindAny || c.kind == p.kind {
			return p
		}
	}
}

func (s *session) planCall() call {
	r := s.rng.Float64()
	if r >= s.opt.ExecRatio {
		switch k := s.rng.IntN(100); {
		case k < 40:
			return call{kind: kRead, name: "read", arg: pick(s, readPaths)}
		case k < 55:
			return call{kind: kWrite, name: "write", arg: "notes/" + pick(s, words) + ".md"}
		case k < 75:
			return call{kind: kEdit, name: "edit", arg: pick(s, []string{"internal/api/handler.go", "src/orders/create.ts", "config/app.yaml", "acme_ml/train.py"})}
		case k < 90:
			return call{kind: kWebSearch, name: "web_search", arg: pick(s, []string{"playwright per-project timeout", "pgx v5 context cancel", "jest runInBand memory", "nginx 502 upstream prematurely closed", "docker prune dangling images"})}
		case k < 97 || s.ver != v2026_7:
			return call{kind: kWebFetch, name: "web_fetch", arg: "https://" + pick(s, []string{"go.dev/doc/go1.26", "docs.docker.com/reference/cli/docker/system/prune/", "playwright.dev/docs/test-timeouts", "nginx.org/en/docs/http/ngx_http_proxy_module.html"})}
		default:
			return call{kind: kCodeMode, name: "exec", arg: "const pkg = JSON.parse(await tools.read({ path: \"acme-web/package.json\" }));\nreturn Object.keys(pkg.scripts);"}
		}
	}
	c := call{kind: kExec, name: "exec", plan: s.pickPlan()}
	if s.pct(3) {
		c.name = "bash"
	}
	if c.plan == pNotFound {
		bin := pick(s, missingBin)
		c.command = bin + " " + pick(s, []string{"--version", "plan -out=tfplan", "get pods -n prod", "s3 ls s3://acme-staging-backups/", "'.items[] | .name' data.json", "install"})
		c.cmd = &catalog[0]
		c.arg = bin
	} else {
		p := &projects[s.rng.IntN(len(projects))]
		c.proj = p
		c.cmd = pick(s, commandsFor[p.kind])
		c.command = c.cmd.text(s, p)
	}
	if c.proj != nil && s.pct(60) {
		c.workdir = s.cwd + "/" + c.proj.dir
	}
	switch c.plan {
	case pTimeout:
		c.timeout = pick(s, []int{20, 30, 60, 120, 300, 600})
	case pBackground:
		if s.pct(50) {
			c.background = true
		} else {
			c.yieldMs = pick(s, []int{10000, 15000, 20000, 30000})
		}
	case pDenied, pApproval:
		c.host = "gateway"
	default:
		if s.pct(10) {
			c.timeout = pick(s, []int{60, 120, 300, 600, 1800})
		}
	}
	return c
}

func (s *session) pickPlan() plan {
	r := s.rng.IntN(1000)
	p := pSucceeded
	for i, w := range planWeights {
		if r < w {
			p = plan(i)
			break
		}
		r -= w
	}
	if s.ver != v2026_7 {
		switch p {
		case pBlocked: // before_tool_call vetoes arrived in 2026.6
			p = pDenied
		case pTruncated: // so did persisted-details truncation
			p = pSucceeded
		}
	}
	return p
}

func (s *session) appendToolCall(m *model, c *call) {
	b := append(s.line, `{"type":"toolCall","id":`...)
	b = appendString(b, c.id)
	b = append(b, `,"name":"`...)
	b = append(b, c.name...)
	b = append(b, `","arguments":`...)
	argStart := len(b)
	b = s.appendArgs(b, c, false)
	if m.partialJSON {
		raw := append(s.tmp[:0], b[argStart:]...)
		s.tmp = raw
		b = append(b, `,"partialJson":`...)
		b = appendStringBytes(b, raw)
	} else if m.partialArgs {
		s.tmp = s.appendArgs(s.tmp[:0], c, true)
		b = append(b, `,"partialArgs":`...)
		b = appendStringBytes(b, s.tmp)
	}
	s.line = append(b, '}')
}

// appendArgs writes the tool arguments; spaced is the "key": value layout
// some providers stream in partialArgs.
func (s *session) appendArgs(b []byte, c *call, spaced bool) []byte {
	colon, comma := ":", ","
	if spaced {
		colon, comma = ": ", ", "
	}
	kv := func(first bool, k string) {
		if !first {
			b = append(b, comma...)
		}
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"')
		b = append(b, colon...)
	}
	b = append(b, '{')
	switch c.kind {
	case kExec:
		kv(true, "command")
		b = appendString(b, c.command)
		if c.workdir != "" {
			kv(false, "workdir")
			b = appendString(b, c.workdir)
		}
		if c.yieldMs > 0 {
			kv(false, "yieldMs")
			b = appendInt(b, int64(c.yieldMs))
		}
		if c.background {
			kv(false, "background")
			b = append(b, "true"...)
		}
		if c.timeout > 0 {
			kv(false, "timeout")
			b = appendInt(b, int64(c.timeout))
		}
		if c.host != "" {
			kv(false, "host")
			b = appendString(b, c.host)
		}
	case kCodeMode:
		kv(true, "code")
		b = appendString(b, c.arg)
		kv(false, "language")
		b = append(b, `"javascript"`...)
	case kRead:
		kv(true, "path")
		b = appendString(b, c.arg)
	case kWrite:
		kv(true, "path")
		b = appendString(b, c.arg)
		kv(false, "content")
		b = appendString(b, writeContent)
	case kEdit:
		kv(true, "path")
		b = appendString(b, c.arg)
		kv(false, "oldText")
		b = appendString(b, "timeout: 10 * time.Second")
		kv(false, "newText")
		b = appendString(b, "timeout: 30 * time.Second")
	case kWebSearch:
		kv(true, "query")
		b = appendString(b, c.arg)
		kv(false, "count")
		b = append(b, '5')
	case kWebFetch:
		kv(true, "url")
		b = appendString(b, c.arg)
	case kPoll:
		kv(true, "action")
		b = append(b, `"poll"`...)
		kv(false, "sessionId")
		b = appendString(b, c.bg.slug)
		if s.ver == v2026_7 {
			kv(false, "timeout")
			b = append(b, "30000"...)
		}
	}
	return append(b, '}')
}

var readPaths = []string{"README.md", "internal/api/handler.go", "src/orders/create.ts", "acme_ml/features.py", "docs/runbook.md", "package.json"}

const writeContent = "# Notes\n\n- Tenant header is required on order creation since 9f2c1ab.\n- e2e smoke needs its own Playwright project with a 30 s timeout.\n"
