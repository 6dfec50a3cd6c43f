package corpus

import (
	"bufio"
	"context"
	"math/rand/v2"
	"strings"
	"time"
)

type version uint8

const (
	v2026_1_30 version = iota
	v2026_5
	v2026_7
)

// Each version's sessions fall in the months that version was current, so
// timestamps and shapes agree with each other.
var eraStart = [...]time.Time{
	v2026_1_30: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
	v2026_5:    time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	v2026_7:    time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC),
}

type idStyle uint8

const (
	idToolu        idStyle = iota // Anthropic: toolu_01…
	idCallFc                      // OpenAI Responses and Codex: call_…|fc_…
	idCallHex                     // Chat Completions proxies: call_<28 hex>
	idCallFunction                // MiniMax via opencode: call_function_…_1
)

type model struct {
	api, provider, name string
	ids                 idStyle
	// prices per million tokens: input, output, cacheRead, cacheWrite
	prices      [4]float64
	thinking    bool
	partialJSON bool // Codex streams the raw argument JSON as partialJson
	partialArgs bool // 2026.7 completions add partialArgs, responseId, reasoningTokens
}

var models = [...][]model{
	v2026_1_30: {
		{api: "anthropic-messages", provider: "anthropic", name: "claude-opus-4-5", ids: idToolu, prices: [4]float64{5, 25, 0.5, 6.25}, thinking: true},
		{api: "anthropic-messages", provider: "anthropic", name: "claude-sonnet-4-5", ids: idToolu, prices: [4]float64{3, 15, 0.3, 3.75}, thinking: true},
		{api: "anthropic-messages", provider: "opencode", name: "minimax-m2.5-free", ids: idCallFunction, thinking: true},
	},
	v2026_5: {
		{api: "openai-completions", provider: "openrouter", name: "anthropic/claude-sonnet-4.5", ids: idToolu, prices: [4]float64{3, 15, 0.3, 3.75}},
		{api: "openai-responses", provider: "openai", name: "gpt-5-mini", ids: idCallFc, prices: [4]float64{0.25, 2, 0.025, 0}},
		{api: "anthropic-messages", provider: "anthropic", name: "claude-sonnet-4-5", ids: idToolu, prices: [4]float64{3, 15, 0.3, 3.75}, thinking: true},
		{api: "openai-completions", provider: "litellm", name: "claude-sonnet-4-5", ids: idToolu, prices: [4]float64{3, 15, 0.3, 3.75}},
	},
	v2026_7: {
		{api: "anthropic-messages", provider: "anthropic", name: "claude-sonnet-4-5", ids: idToolu, prices: [4]float64{3, 15, 0.3, 3.75}, thinking: true},
		{api: "openai-codex-responses", provider: "openai-codex", name: "gpt-5.4", ids: idCallFc, prices: [4]float64{1.75, 14, 0.175, 0}, partialJSON: true},
		{api: "openai-completions", provider: "openrouter", name: "google/gemini-2.5-flash", ids: idCallHex, prices: [4]float64{0.3, 2.5, 0.03, 0}, partialArgs: true},
	},
}

type channel struct {
	name string // origin provider in sessions.json
}

var channels = [...]channel{{"webchat"}, {"tui"}, {"telegram"}, {"discord"}, {"cron"}}

// sender is who the user envelope names; fixed for a session.
type sender struct{ label, id string }

var people = []string{"Mara Chen", "Ravi Patel", "dana", "Jonas Weber", "Aiko Sato", "Luis Ortega"}

func newSender(rng *rand.Rand, ch string) sender {
	switch ch {
	case "webchat":
		return sender{"openclaw-control-ui", "openclaw-control-ui"}
	case "tui":
		return sender{"openclaw-tui (gateway-client)", "gateway-client"}
	case "cron":
		return sender{"cron", "cron"}
	}
	name := people[rng.IntN(len(people))]
	id := digits(rng, 10)
	if ch == "discord" {
		id = digits(rng, 18)
		return sender{name + " (" + id + ")", id}
	}
	handle := strings.ToLower(strings.ReplaceAll(name, " ", ""))
	return sender{name + " (@" + handle + ") id:" + id, id}
}

// session writes one transcript. It is not safe for concurrent use.
type session struct {
	rng  *rand.Rand
	spec sessionSpec
	opt  *Options
	w    *bufio.Writer
	st   sessionStats

	line []byte // the entry being built
	out  []byte // exec output scratch
	tmp  []byte // nested JSON scratch (pretty errors, partialJson)
	tmp2 []byte

	id, key string
	channel channel
	sender  sender
	ver     version
	now     time.Time
	cwd     string

	idKey, idN uint32
	last       [8]byte
	hasLast    bool
	lastUser   [8]byte

	sysClock time.Time // stamps System lines within the user's pause
	sysStep  int
	maxPause int // ms between turns

	models    []model
	primary   int
	cur       int
	ctxTokens int
	avgTurn   int64

	pendingBG  []*bgExec
	pendingApr []*approval
}

type bgResolution uint8

const (
	resolvePoll bgResolution = iota
	resolveSystem
	resolveNever
)

type bgExec struct {
	slug    string
	cmd     *command
	final   outcome
	resolve bgResolution
	cwd     string
}

type approval struct {
	id, slug string
	command  string
	cmd      *command
	final    outcome
}

func newSession(rng *rand.Rand, spec sessionSpec) *session {
	s := &session{rng: rng, spec: spec, opt: spec.opt}
	s.ver = spec.vers[0]
	if len(spec.vers) > 1 {
		// Mixed corpora lean towards recent versions, as real fleets do.
		switch r := rng.IntN(100); {
		case r < 15:
			s.ver = v2026_1_30
		case r < 50:
			s.ver = v2026_5
		default:
			s.ver = v2026_7
		}
	}
	s.id = s.uuid()
	s.idKey = rng.Uint32()
	s.models = models[s.ver]
	s.primary = rng.IntN(len(s.models))
	s.cur = s.primary
	if spec.ordinal == 0 {
		s.channel = channels[0]
		s.key = "agent:" + spec.agent + ":main"
	} else {
		s.channel = channels[rng.IntN(len(channels))]
		if s.channel.name == "cron" {
			s.key = "cron:" + s.uuid()
		} else {
			s.key = "agent:" + spec.agent + ":" + s.channel.name + ":direct:" + digits(rng, 9)
		}
	}
	s.sender = newSender(rng, s.channel.name)
	s.cwd = spec.stateDir + "/workspace"
	if spec.agent != "main" {
		s.cwd += "-" + spec.agent
	}
	s.now = eraStart[s.ver].Add(time.Duration(rng.Int64N(int64(10*24*time.Hour/time.Millisecond))) * time.Millisecond)
	// Spread the turns over at most about two weeks, so that even a huge
	// transcript stays inside its version's months.
	turns := max(spec.budget/12_000, 1)
	s.maxPause = int(min(max(2*14*24*3600*1000/turns, 4_000), 20*60*1000))
	s.line = make([]byte, 0, 64<<10)
	s.out = make([]byte, 0, 64<<10)
	return s
}

func (s *session) run(ctx context.Context) error {
	s.header()
	s.modelChange()
	s.thinkingLevel()
	if s.pct(50) {
		s.sessionInfo()
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := s.st.bytes
		s.turn()
		tb := s.st.bytes - start
		if s.avgTurn == 0 {
			s.avgTurn = tb
		} else {
			s.avgTurn = (s.avgTurn*7 + tb) / 8
		}
		if s.st.bytes+s.avgTurn/2 >= s.spec.budget {
			break
		}
	}
	if s.pct(5) {
		s.danglingExec()
	}
	for range s.pendingBG {
		s.count(oRunning)
	}
	for range s.pendingApr {
		s.count(oPendingApproval)
	}
	return nil
}

// --- randomness helpers ----------------------------------------------------

func (s *session) pct(p int) bool { return s.rng.IntN(100) < p }

func (s *session) between(lo, hi int) int { return lo + s.rng.IntN(hi-lo+1) }

func pick[T any](s *session, xs []T) T { return xs[s.rng.IntN(len(xs))] }

func (s *session) advance(ms int) { s.now = s.now.Add(time.Duration(ms) * time.Millisecond) }

const b62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func appendRand(b []byte, rng *rand.Rand, alphabet string, n int) []byte {
	for n > 0 {
		x := rng.Uint64()
		for k := 0; k < 10 && n > 0; k++ {
			b = append(b, alphabet[x%uint64(len(alphabet))])
			x /= uint64(len(alphabet))
			n--
		}
	}
	return b
}

func digits(rng *rand.Rand, n int) string {
	b := make([]byte, 0, n)
	b = append(b, byte('1'+rng.IntN(9)))
	return string(appendRand(b, rng, "0123456789", n-1))
}

func (s *session) uuid() string {
	var u [16]byte
	a, b := s.rng.Uint64(), s.rng.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	out := make([]byte, 36)
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j] = hexDigits[c>>4]
		out[j+1] = hexDigits[c&0xf]
		j += 2
	}
	return string(out)
}

// nextID returns pi's 8-hex entry id. A bijective mix of a counter keeps ids
// unique within the file without remembering them.
func (s *session) nextID() [8]byte {
	x := s.idN ^ s.idKey
	s.idN++
	x *= 0x9e3779b1
	x ^= x >> 15
	x *= 0x85ebca6b
	x ^= x >> 13
	x *= 0xc2b2ae35
	x ^= x >> 16
	var id [8]byte
	for i := 7; i >= 0; i-- {
		id[i] = hexDigits[x&0xf]
		x >>= 4
	}
	return id
}

func (s *session) toolCallID(m *model, n int, shared string) string {
	b := s.tmp2[:0]
	switch m.ids {
	case idToolu:
		b = append(b, "toolu_01"...)
		b = appendRand(b, s.rng, b62, 22)
	case idCallFc:
		b = append(b, "call_"...)
		b = appendRand(b, s.rng, b62, 24)
		b = append(b, "|fc_0"...)
		b = appendRand(b, s.rng, hexDigits, 49)
	case idCallHex:
		b = append(b, "call_"...)
		b = appendRand(b, s.rng, hexDigits, 28)
	case idCallFunction:
		b = append(b, "call_function_"...)
		b = append(b, shared...)
		b = append(b, '_')
		b = appendInt(b, int64(n+1))
	}
	s.tmp2 = b
	return string(b)
}

// --- line plumbing ---------------------------------------------------------

func (s *session) emit() {
	s.line = append(s.line, '\n')
	s.w.Write(s.line) // errors surface at Flush
	s.st.bytes += int64(len(s.line))
	s.st.lines++
	s.ctxTokens += len(s.line) / 4
	s.line = s.line[:0]
}

// begin opens an entry with the base fields in pi's order.
func (s *session) begin(typ string) {
	id := s.nextID()
	b := append(s.line[:0], `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","id":"`...)
	b = append(b, id[:]...)
	b = append(b, `","parentId":`...)
	b = s.appendParent(b)
	b = append(b, `,"timestamp":"`...)
	b = appendISO(b, s.now)
	b = append(b, '"')
	s.line = b
	s.last, s.hasLast = id, true
}

func (s *session) appendParent(b []byte) []byte {
	if !s.hasLast {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = append(b, s.last[:]...)
	return append(b, '"')
}

func (s *session) header() {
	b := append(s.line[:0], `{"type":"session","version":3,"id":"`...)
	b = append(b, s.id...)
	b = append(b, `","timestamp":"`...)
	b = appendISO(b, s.now)
	b = append(b, `","cwd":`...)
	b = appendString(b, s.cwd)
	s.line = append(b, '}')
	s.emit()
	s.advance(1)
}

func (s *session) modelChange() {
	m := &s.models[s.primary]
	s.begin("model_change")
	s.line = append(s.line, `,"provider":`...)
	s.line = appendString(s.line, m.provider)
	s.line = append(s.line, `,"modelId":`...)
	s.line = appendString(s.line, m.name)
	s.line = append(s.line, '}')
	s.emit()
}

var thinkingLevels = []string{"off", "minimal", "low", "medium", "high"}

func (s *session) thinkingLevel() {
	s.begin("thinking_level_change")
	s.line = append(s.line, `,"thinkingLevel":"`...)
	s.line = append(s.line, pick(s, thinkingLevels)...)
	s.line = append(s.line, `"}`...)
	s.emit()
	s.advance(s.between(1, 15))
}

var sessionNames = []string{
	"acme-api: failing handler tests", "nightly backup check", "release 3.2 staging deploy", "search index rebuild",
	"ci flakes", "disk cleanup on media-01", "dependency upgrades", "paper notes", "oncall triage", "billing export",
}

func (s *session) sessionInfo() {
	s.begin("session_info")
	s.line = append(s.line, `,"name":`...)
	s.line = appendString(s.line, pick(s, sessionNames))
	s.line = append(s.line, '}')
	s.emit()
}

// custom entries put customType and data before the base fields.
func (s *session) snapshot(m *model) {
	s.advance(1)
	id := s.nextID()
	b := append(s.line[:0], `{"type":"custom","customType":"model-snapshot","data":{"timestamp":`...)
	b = appendInt(b, s.now.UnixMilli())
	b = append(b, `,"provider":`...)
	b = appendString(b, m.provider)
	b = append(b, `,"modelApi":`...)
	b = appendString(b, m.api)
	b = append(b, `,"modelId":`...)
	b = appendString(b, m.name)
	b = append(b, `},"id":"`...)
	b = append(b, id[:]...)
	b = append(b, `","parentId":`...)
	b = s.appendParent(b)
	s.advance(1)
	b = append(b, `,"timestamp":"`...)
	b = appendISO(b, s.now)
	s.line = append(b, `"}`...)
	s.last, s.hasLast = id, true
	s.emit()
	s.advance(s.between(5, 25))
}

func (s *session) label(target [8]byte) {
	s.begin("label")
	s.line = append(s.line, `,"targetId":"`...)
	s.line = append(s.line, target[:]...)
	s.line = append(s.line, `","label":`...)
	s.line = appendString(s.line, pick(s, labels))
	s.line = append(s.line, '}')
	s.emit()
}

var labels = []string{"first failing run", "deploy started", "before migration", "good state", "repro", "checkpoint"}

func (s *session) compaction() {
	s.begin("compaction")
	s.line = append(s.line, `,"summary":`...)
	s.line = appendString(s.line, compactionSummary)
	s.line = append(s.line, `,"firstKeptEntryId":"`...)
	s.line = append(s.line, s.lastUser[:]...)
	s.line = append(s.line, `","tokensBefore":`...)
	s.line = appendInt(s.line, int64(s.ctxTokens))
	s.line = append(s.line, '}')
	s.emit()
	s.ctxTokens = 12000 + s.rng.IntN(8000)
	s.advance(s.between(2000, 9000))
}

const compactionSummary = "## Goal\nKeep the services healthy and the test suites green.\n\n" +
	"## Done\n- Ran the test suites and fixed the failing fixtures.\n- Checked disk, memory and load on the gateway host.\n" +
	"- Restarted the stuck workers.\n\n## Open\n- e2e suite exceeds its timeout.\n- Index rebuild is killed for memory.\n"
