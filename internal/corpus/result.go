package corpus

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

func (s *session) result(c *call) {
	switch c.kind {
	case kExec:
		s.execResult(c)
	case kPoll:
		s.pollResult(c)
	case kCodeMode:
		s.out = append(s.out[:0], "[\n  \"dev\",\n  \"build\",\n  \"test\",\n  \"test:e2e\",\n  \"lint\"\n]"...)
		ms := s.resultHead(c, s.between(20, 200))
		s.line = appendStringBytes(s.line, s.out)
		s.line = append(s.line, "}]"...)
		s.resultTail(false, ms)
	case kRead:
		s.readResult(c)
	case kWrite:
		s.simpleResult(c, "Successfully wrote "+strconv.Itoa(len(writeContent))+" bytes to "+c.arg)
	case kEdit:
		s.simpleResult(c, "Successfully replaced text in "+c.arg+".")
	case kWebSearch:
		s.out = s.out[:0]
		for i := 1; i <= 5; i++ {
			if i > 1 {
				s.put("\n")
			}
			s.out = strconv.AppendInt(s.out, int64(i), 10)
			s.put(". ")
			s.putPick(words)
			s.put(" | ")
			s.put(c.arg)
			s.put("\n   https://")
			s.putPick([]string{"go.dev/doc/", "playwright.dev/docs/", "stackoverflow.com/questions/", "github.com/acme/api/issues/", "docs.docker.com/"})
			s.putInt(100, 99999)
			s.put("\n   ")
			s.putPick(sentences)
		}
		ms := s.resultHead(c, s.between(400, 2_500))
		s.line = appendStringBytes(s.line, s.out)
		s.line = append(s.line, "}]"...)
		s.resultTail(false, ms)
	case kWebFetch:
		s.out = append(s.out[:0], "# "...)
		s.put(c.arg)
		s.put("\n\n")
		s.fill(s.between(800, 5_000), func() { s.putPick(sentences); s.put(" "); s.putPick(sentences) })
		ms := s.resultHead(c, s.between(300, 3_000))
		s.line = appendStringBytes(s.line, s.out)
		s.line = append(s.line, "}]"...)
		s.resultTail(false, ms)
	}
}

func (s *session) resultHead(c *call, durMs int) int64 {
	s.advance(durMs)
	ms := s.now.UnixMilli()
	s.advance(s.between(2, 9))
	s.begin("message")
	b := append(s.line, `,"message":{"role":"toolResult","toolCallId":`...)
	b = appendString(b, c.id)
	b = append(b, `,"toolName":"`...)
	b = append(b, c.name...)
	s.line = append(b, `","content":[{"type":"text","text":`...)
	return ms
}

func (s *session) resultTail(isError bool, ms int64) {
	b := append(s.line, `,"isError":`...)
	b = appendBool(b, isError)
	b = append(b, `,"timestamp":`...)
	b = appendInt(b, ms)
	s.line = append(b, "}}"...)
	s.emit()
}

func (s *session) simpleResult(c *call, text string) {
	ms := s.resultHead(c, s.between(2, 40))
	s.line = appendString(s.line, text)
	s.line = append(s.line, "}]"...)
	s.resultTail(false, ms)
}

func (s *session) readResult(c *call) {
	if s.pct(8) {
		msg := "ENOENT: no such file or directory, access '" + s.cwd + "/" + c.arg + "'"
		s.thrownResult(c, "read", []byte(msg), s.between(1, 20))
		return
	}
	s.out = s.out[:0]
	lines := codeLines
	if c.arg == "README.md" || c.arg == "docs/runbook.md" {
		lines = docLines
	}
	k := s.rng.IntN(len(lines))
	s.fill(s.between(300, 4_000), func() {
		s.put(lines[k%len(lines)])
		k++
	})
	ms := s.resultHead(c, s.between(2, 40))
	s.line = appendStringBytes(s.line, s.out)
	s.line = append(s.line, "}]"...)
	s.resultTail(false, ms)
}

func (s *session) outputSize() int {
	ob := s.opt.OutputBytes
	switch r := s.rng.IntN(100); {
	case r < 35:
		return s.between(20, 200)
	case r < 85:
		return ob/3 + s.rng.IntN(ob+1)
	default:
		return ob + s.rng.IntN(3*ob+1)
	}
}

func (s *session) duration(c *command) int {
	if c.slow {
		return s.between(1_500, 90_000)
	}
	return s.between(2, 900)
}

func (c *call) cwd(s *session) string {
	if c.workdir != "" {
		return c.workdir
	}
	return s.cwd
}

// isErrorFor reports isError for failures the way each version set it:
// 2026.1.30 never, 2026.5 only for thrown errors, 2026.6+ for every failure.
func (s *session) isErrorFor(thrown bool) bool {
	switch s.ver {
	case v2026_1_30:
		return false
	case v2026_5:
		return thrown
	}
	return true
}

func (s *session) execResult(c *call) {
	s.st.execs++
	p := c.proj
	if p == nil {
		p = &projects[0]
	}
	s.out = s.out[:0]
	switch c.plan {
	case pSucceeded:
		c.cmd.out(s, p, s.outputSize())
		s.completed(c, 0, s.duration(c.cmd), false)
		s.count(oSucceeded)
	case pNonzero:
		code := c.cmd.fail(s, p)
		if s.ver == v2026_1_30 {
			s.thrownResult(c, "exec", s.joinReason("Command exited with code "+strconv.Itoa(code)), s.duration(c.cmd))
		} else {
			s.put("\n\n(Command exited with code ")
			s.out = strconv.AppendInt(s.out, int64(code), 10)
			s.put(")")
			s.completed(c, code, s.duration(c.cmd), s.ver == v2026_7)
		}
		s.count(oNonzero)
	case pTimeout:
		c.cmd.out(s, p, s.between(0, 600))
		dur := c.timeout*1000 + s.between(0, 1_100)
		reason := "Command timed out after " + strconv.Itoa(c.timeout) + " seconds"
		switch s.ver {
		case v2026_1_30:
			s.thrownResult(c, "exec", s.joinReason(reason), dur)
		case v2026_5:
			s.failed5(c, nil, true, reason, dur)
		default:
			s.failed7(c, "overall-timeout", reason+"."+timeoutHint, dur)
		}
		s.count(oTimedOut)
	case pKilled:
		c.cmd.out(s, p, s.between(0, 800))
		dur := s.between(2_000, 400_000)
		reason := "Command aborted by signal SIGKILL"
		switch s.ver {
		case v2026_1_30:
			s.thrownResult(c, "exec", s.joinReason(reason), dur)
		case v2026_5:
			s.failed5(c, nil, false, reason, dur)
		default:
			s.failed7(c, "signal", reason, dur)
		}
		s.count(oKilled)
	case pNotFound:
		s.put("sh: 1: ")
		s.put(c.arg)
		s.put(": not found")
		dur := s.between(2, 30)
		code := 127
		switch s.ver {
		case v2026_1_30:
			s.thrownResult(c, "exec", s.joinReason("Command exited with code 127"), dur)
		case v2026_5:
			s.failed5(c, &code, false, "Command not found", dur)
		default:
			s.failed7(c, "shell-command-not-found", "Command not found", dur)
		}
		s.count(oNotFound)
	case pDenied:
		s.deniedResult(c)
		s.count(oDenied)
	case pBlocked:
		reason := pick(s, blockReasons)
		ms := s.resultHead(c, s.between(1, 15))
		s.line = appendString(s.line, reason)
		s.line = append(s.line, `}],"details":{"status":"blocked","deniedReason":"plugin-before-tool-call","reason":`...)
		s.line = appendString(s.line, reason)
		s.line = append(s.line, '}')
		s.resultTail(true, ms)
		s.count(oBlocked)
	case pError:
		s.thrownResult(c, "exec", []byte(pick(s, thrownErrors)), s.between(1, 300))
		s.count(oError)
	case pBackground:
		s.backgroundResult(c)
	case pApproval:
		s.approvalResult(c)
	case pTruncated:
		s.truncatedResult(c, p)
	}
}

// joinReason appends a failure reason to the output in s.out the way the
// exec tool joins them, and returns the combined text.
func (s *session) joinReason(reason string) []byte {
	if len(s.out) > 0 {
		s.put("\n\n")
	}
	s.put(reason)
	return s.out
}

func (s *session) completed(c *call, code, dur int, isError bool) {
	ms := s.resultHead(c, dur)
	if len(s.out) == 0 {
		s.line = append(s.line, `"(no output)"`...)
	} else {
		s.line = appendStringBytes(s.line, s.out)
	}
	s.line = append(s.line, `}],"details":{"status":"completed","exitCode":`...)
	s.line = appendInt(s.line, int64(code))
	if s.ver == v2026_7 {
		s.line = append(s.line, `,"exitSignal":null,"exitReason":"exit"`...)
	}
	s.line = append(s.line, `,"durationMs":`...)
	s.line = appendInt(s.line, int64(dur))
	s.line = append(s.line, `,"aggregated":`...)
	s.line = appendStringBytes(s.line, s.out)
	if s.ver == v2026_7 {
		s.line = append(s.line, `,"noOutputTimedOut":false`...)
	}
	s.line = append(s.line, `,"cwd":`...)
	s.line = appendString(s.line, c.cwd(s))
	s.line = append(s.line, '}')
	s.resultTail(isError, ms)
}

const timeoutHint = " If this command is expected to take longer, re-run with a higher timeout (e.g., exec timeout=300)." +
	" If it should keep running, start it with exec background=true or yieldMs so OpenClaw can register" +
	" a pollable process session. Do not rely on shell backgrounding with a trailing &."

// failed7 writes a 2026.7 failed result: output in aggregated, output plus
// reason in the text.
func (s *session) failed7(c *call, kind, reason string, dur int) {
	ms := s.resultHead(c, dur)
	s.tmp = append(s.tmp[:0], s.out...)
	if len(s.tmp) > 0 {
		s.tmp = append(s.tmp, "\n\n"...)
	}
	s.tmp = append(s.tmp, reason...)
	s.line = appendStringBytes(s.line, s.tmp)
	s.line = append(s.line, `}],"details":{"status":"failed","exitCode":`...)
	switch kind {
	case "shell-command-not-found":
		s.line = append(s.line, `127,"exitSignal":null,"exitReason":"exit"`...)
	case "overall-timeout":
		s.line = append(s.line, `null,"exitSignal":"SIGKILL","exitReason":"overall-timeout"`...)
	default:
		s.line = append(s.line, `null,"exitSignal":"SIGKILL","exitReason":"signal"`...)
	}
	s.line = append(s.line, `,"failureKind":"`...)
	s.line = append(s.line, kind...)
	s.line = append(s.line, `","durationMs":`...)
	s.line = appendInt(s.line, int64(dur))
	s.line = append(s.line, `,"aggregated":`...)
	s.line = appendStringBytes(s.line, s.out)
	s.line = append(s.line, `,"timedOut":`...)
	s.line = appendBool(s.line, kind == "overall-timeout")
	s.line = append(s.line, `,"noOutputTimedOut":false,"cwd":`...)
	s.line = appendString(s.line, c.cwd(s))
	s.line = append(s.line, '}')
	s.resultTail(true, ms)
}

// failed5 writes the 2026.4-2026.5 failed result, which lacks the signal and
// failure-kind fields.
func (s *session) failed5(c *call, code *int, timedOut bool, reason string, dur int) {
	ms := s.resultHead(c, dur)
	s.tmp = append(s.tmp[:0], s.out...)
	if len(s.tmp) > 0 {
		s.tmp = append(s.tmp, "\n\n"...)
	}
	s.tmp = append(s.tmp, reason...)
	s.line = appendStringBytes(s.line, s.tmp)
	s.line = append(s.line, `}],"details":{"status":"failed","exitCode":`...)
	if code == nil {
		s.line = append(s.line, "null"...)
	} else {
		s.line = appendInt(s.line, int64(*code))
	}
	s.line = append(s.line, `,"durationMs":`...)
	s.line = appendInt(s.line, int64(dur))
	s.line = append(s.line, `,"aggregated":`...)
	s.line = appendStringBytes(s.line, s.out)
	s.line = append(s.line, `,"timedOut":`...)
	s.line = appendBool(s.line, timedOut)
	s.line = append(s.line, `,"cwd":`...)
	s.line = appendString(s.line, c.cwd(s))
	s.line = append(s.line, '}')
	s.resultTail(false, ms)
}

// thrownResult writes what the tool adapter makes of a thrown error: details
// {status,tool,error} and the same object, indented by two, as the text.
func (s *session) thrownResult(c *call, tool string, msg []byte, dur int) {
	s.tmp = append(s.tmp[:0], "{\n  \"status\": \"error\",\n  \"tool\": \""...)
	s.tmp = append(s.tmp, tool...)
	s.tmp = append(s.tmp, "\",\n  \"error\": "...)
	s.tmp = appendStringBytes(s.tmp, msg)
	s.tmp = append(s.tmp, "\n}"...)
	ms := s.resultHead(c, dur)
	s.line = appendStringBytes(s.line, s.tmp)
	s.line = append(s.line, `}],"details":{"status":"error","tool":"`...)
	s.line = append(s.line, tool...)
	s.line = append(s.line, `","error":`...)
	s.line = appendStringBytes(s.line, msg)
	s.line = append(s.line, '}')
	s.resultTail(s.isErrorFor(true), ms)
}

var blockReasons = []string{
	"Blocked by shell-guard: piping a downloaded script into a shell is not allowed (rule no-remote-pipe)",
	"Blocked by shell-guard: recursive delete outside the workspace (rule no-rm-rf-outside-workspace)",
	"Blocked by policy: writes to /etc are not allowed for this agent",
	"Tool call blocked by plugin secret-scan: command contains a credential",
}

var thrownErrors = []string{
	"exec host=node requires a paired node (none available). This requires a companion app or node host.",
	"elevated is not available right now (runtime=direct).\nFailing gates: enabled (tools.elevated.enabled / agents.list[].tools.elevated.enabled)\nFix-it keys:\n- tools.elevated.enabled\n- tools.elevated.allowFrom.<provider>",
	"Error: spawn /bin/sh EAGAIN",
}

func (s *session) deniedResult(c *call) {
	if s.ver == v2026_7 && s.pct(50) {
		reason := "user-denied"
		if s.pct(30) {
			reason = "approval-timeout"
		}
		text := "Exec denied (gateway id=" + s.uuid() + ", " + reason + "): " + c.command
		ms := s.resultHead(c, s.between(5_000, 120_000))
		s.line = appendString(s.line, text)
		s.line = append(s.line, `}],"details":{"status":"failed","exitCode":null,"durationMs":0,"aggregated":`...)
		s.line = appendString(s.line, text)
		s.line = append(s.line, `,"timedOut":`...)
		s.line = appendBool(s.line, reason == "approval-timeout")
		s.line = append(s.line, `,"cwd":`...)
		s.line = appendString(s.line, c.cwd(s))
		s.line = append(s.line, '}')
		s.resultTail(true, ms)
		return
	}
	msg := "exec denied: allowlist miss"
	switch r := s.rng.IntN(100); {
	case r < 20:
		msg = "exec denied: host=gateway security=deny"
	case r < 30:
		// A host override the config does not permit is refused like a deny.
		msg = "exec host not allowed (requested node; configure tools.exec.host=gateway to allow)."
	}
	s.thrownResult(c, "exec", []byte(msg), s.between(1, 20))
}

var slugAdjectives = []string{"amber", "brisk", "calm", "clear", "cool", "crisp", "dawn", "deep", "fair", "fresh", "gentle", "glad", "green", "keen", "kind", "light", "lucky", "mild", "neat", "nimble", "pale", "plain", "proud", "quick", "quiet", "rapid", "salty", "sharp", "silent", "soft", "steady", "still", "sunny", "swift", "tidal", "tidy", "vivid", "warm", "wild", "witty"}
var slugNouns = []string{"anchor", "bay", "beacon", "breeze", "brook", "canyon", "cedar", "cliff", "cloud", "comet", "coral", "cove", "creek", "delta", "dune", "ember", "fern", "fjord", "grove", "gull", "harbor", "heron", "inlet", "island", "lagoon", "maple", "marsh", "meadow", "mesa", "otter", "pebble", "pine", "prairie", "reef", "ridge", "river", "shoal", "shore", "spruce", "summit", "tide", "trail", "valley", "willow"}

// newSlug returns a process session id whose first eight characters no
// pending background exec shares, so System lines resolve unambiguously.
func (s *session) newSlug() string {
	for try := 0; ; try++ {
		slug := pick(s, slugAdjectives) + "-" + pick(s, slugNouns)
		if try > 20 {
			slug = string(appendRand([]byte("x"), s.rng, "abcdefghijklmnopqrstuvwxyz", 7)) + "-" + slug
		}
		clash := false
		for _, b := range s.pendingBG {
			if b.slug[:min(8, len(b.slug))] == slug[:min(8, len(slug))] {
				clash = true
				break
			}
		}
		if !clash {
			return slug
		}
	}
}

func (s *session) backgroundResult(c *call) {
	b := &bgExec{slug: s.newSlug(), cmd: c.cmd, final: oSucceeded, cwd: c.cwd(s)}
	if s.pct(15) {
		b.final = oNonzero
	}
	switch r := s.rng.IntN(100); {
	case r < 45:
		b.resolve = resolvePoll
	case r < 90:
		b.resolve = resolveSystem
	default:
		b.resolve = resolveNever
	}
	started := s.now.UnixMilli()
	wait := s.between(10, 40)
	if c.yieldMs > 0 {
		wait = c.yieldMs
	}
	pid := s.between(1_000, 99_999)
	ms := s.resultHead(c, wait)
	s.tmp = append(s.tmp[:0], "Command still running (session "...)
	s.tmp = append(s.tmp, b.slug...)
	s.tmp = append(s.tmp, ", pid "...)
	s.tmp = appendInt(s.tmp, int64(pid))
	if s.ver == v2026_1_30 {
		s.tmp = append(s.tmp, "). Use process (list/poll/log/write/kill/clear/remove) for follow-up."...)
	} else {
		s.tmp = append(s.tmp, "). Use process (list/poll/log/write/send-keys/submit/paste/kill/clear/remove) for follow-up."...)
	}
	s.line = appendStringBytes(s.line, s.tmp)
	s.line = append(s.line, `}],"details":{"status":"running","sessionId":`...)
	s.line = appendString(s.line, b.slug)
	s.line = append(s.line, `,"pid":`...)
	s.line = appendInt(s.line, int64(pid))
	s.line = append(s.line, `,"startedAt":`...)
	s.line = appendInt(s.line, started)
	s.line = append(s.line, `,"cwd":`...)
	s.line = appendString(s.line, b.cwd)
	s.line = append(s.line, `,"tail":`...)
	if c.yieldMs > 0 {
		s.out = s.out[:0]
		c.cmd.out(s, c.proj, s.between(20, 300))
		s.line = appendStringBytes(s.line, s.out)
	} else {
		s.line = append(s.line, `""`...)
	}
	s.line = append(s.line, '}')
	s.resultTail(false, ms)
	if b.resolve == resolveNever {
		s.count(oRunning)
		return
	}
	s.pendingBG = append(s.pendingBG, b)
}

func (s *session) pollResult(c *call) {
	b := c.bg
	code := s.finishedOutput(b.cmd, b.final, s.outputSize())
	ms := s.resultHead(c, s.between(50, 30_000))
	text := s.out
	if len(text) > 2_000 {
		text = text[len(text)-2_000:]
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			text = text[i+1:]
		}
		text = runeStart(text)
	}
	s.tmp = append(s.tmp[:0], text...)
	if len(s.tmp) == 0 {
		s.tmp = append(s.tmp, "(no new output)"...)
	}
	s.tmp = append(s.tmp, "\n\nProcess exited with code "...)
	s.tmp = appendInt(s.tmp, int64(code))
	s.tmp = append(s.tmp, '.')
	s.line = appendStringBytes(s.line, s.tmp)
	if b.final == oSucceeded {
		s.line = append(s.line, `}],"details":{"status":"completed","sessionId":`...)
	} else {
		s.line = append(s.line, `}],"details":{"status":"failed","sessionId":`...)
	}
	s.line = appendString(s.line, b.slug)
	s.line = append(s.line, `,"exitCode":`...)
	s.line = appendInt(s.line, int64(code))
	s.line = append(s.line, `,"aggregated":`...)
	s.line = appendStringBytes(s.line, s.out)
	s.line = append(s.line, `,"name":`...)
	s.line = appendString(s.line, b.cmd.bin)
	s.line = append(s.line, '}')
	s.resultTail(false, ms)
	s.count(b.final)
}

func (s *session) approvalResult(c *call) {
	a := &approval{id: s.uuid(), command: c.command, cmd: c.cmd, final: oSucceeded}
	a.slug = s.newSlug()
	never := false
	switch r := s.rng.IntN(100); {
	case r < 66:
	case r < 75:
		a.final = oNonzero
	case r < 90:
		a.final = oDenied
	default:
		never = true
	}
	short := a.id[:8]
	expires := s.now.UnixMilli() + 120_000
	ms := s.resultHead(c, s.between(20, 200))
	t := s.tmp[:0]
	if s.ver == v2026_7 {
		t = append(t, "Approval required (id "...)
		t = append(t, short...)
		t = append(t, ", full "...)
		t = append(t, a.id...)
		t = append(t, ").\nHost: gateway\nCWD: "...)
		t = append(t, c.cwd(s)...)
		t = append(t, "\nCommand:\n```sh\n"...)
		t = append(t, c.command...)
		t = append(t, "\n```\nMode: foreground (interactive approvals available).\n"+
			"Background mode requires pre-approved policy (allow-always or ask=off).\nReply with: /approve "...)
		t = append(t, short...)
		t = append(t, " allow-once|allow-always|deny\nIf the short code is ambiguous, use the full id in /approve."...)
	} else {
		t = append(t, "Approval required (id "...)
		t = append(t, short...)
		t = append(t, "). Approve to run; updates will arrive after completion."...)
	}
	s.tmp = t
	s.line = appendStringBytes(s.line, t)
	s.line = append(s.line, `}],"details":{"status":"approval-pending","approvalId":"`...)
	s.line = append(s.line, a.id...)
	s.line = append(s.line, `","approvalSlug":"`...)
	s.line = append(s.line, short...)
	s.line = append(s.line, `","expiresAtMs":`...)
	s.line = appendInt(s.line, expires)
	if s.ver == v2026_7 {
		s.line = append(s.line, `,"allowedDecisions":["allow-once","allow-always","deny"]`...)
	}
	s.line = append(s.line, `,"host":"gateway","command":`...)
	s.line = appendString(s.line, c.command)
	s.line = append(s.line, `,"cwd":`...)
	s.line = appendString(s.line, c.cwd(s))
	s.line = append(s.line, '}')
	s.resultTail(false, ms)
	if never {
		s.count(oPendingApproval)
		return
	}
	s.pendingApr = append(s.pendingApr, a)
}

// truncatedResult writes the summary OpenClaw 2026.6+ persists in place of
// details over 8 KiB: aggregated and durationMs are gone, the text is cut.
func (s *session) truncatedResult(c *call, p *project) {
	c.cmd.out(s, p, s.between(24_000, 60_000))
	code := 0
	if s.pct(30) {
		code = 1
		s.put("\n\n(Command exited with code 1)")
	}
	if len(s.out) < 20_000 {
		// Some commands print little whatever happens; no cap to hit.
		s.completed(c, code, s.duration(c.cmd), code != 0)
		if code != 0 {
			s.count(oNonzero)
		} else {
			s.count(oSucceeded)
		}
		return
	}
	out := s.out
	head := out[:14_000]
	if i := bytes.LastIndexByte(head, '\n'); i > 0 {
		head = head[:i]
	}
	head = runeEnd(head)
	tail := out[len(out)-1_900:]
	if i := bytes.IndexByte(tail, '\n'); i >= 0 {
		tail = tail[i+1:]
	}
	tail = runeStart(tail)
	dropped := len(out) - len(head) - len(tail)
	ms := s.resultHead(c, s.duration(c.cmd))
	s.tmp = append(s.tmp[:0], head...)
	s.tmp = append(s.tmp, "\n[... "...)
	s.tmp = appendInt(s.tmp, int64(dropped))
	s.tmp = append(s.tmp, " more characters truncated ...]\n\n"...)
	s.tmp = append(s.tmp, tail...)
	s.line = appendStringBytes(s.line, s.tmp)
	s.line = append(s.line, `}],"details":{"persistedDetailsTruncated":true,"finalDetailsTruncated":true,"originalDetailsBytes":`...)
	s.line = appendInt(s.line, int64(len(out)+len(c.cwd(s))+160))
	s.line = append(s.line, `,"originalDetailKeys":["status","exitCode","exitSignal","exitReason","durationMs","aggregated","noOutputTimedOut","cwd"],"status":"completed","cwd":`...)
	s.line = appendString(s.line, c.cwd(s))
	s.line = append(s.line, `,"exitCode":`...)
	s.line = appendInt(s.line, int64(code))
	s.line = append(s.line, `,"exitSignal":null,"tail":`...)
	s.line = appendStringBytes(s.line, tail)
	s.line = append(s.line, '}')
	s.resultTail(code != 0, ms)
	if code != 0 {
		s.count(oNonzero)
	} else {
		s.count(oSucceeded)
	}
}

// danglingExec ends a session with an exec call whose result never landed,
// as when the gateway restarts mid-command.
func (s *session) danglingExec() {
	m := &s.models[s.primary]
	c := call{kind: kExec, name: "exec", plan: pSucceeded, proj: &projects[0]}
	c.cmd = pick(s, commandsFor[kindGo])
	c.command = c.cmd.text(s, c.proj)
	c.id = s.toolCallID(m, 0, string(appendRand(nil, s.rng, "abcdefghijklmnopqrstuvwxyz0123456789", 12)))
	ms := s.beginAssistant(m)
	s.appendToolCall(m, &c)
	s.appendAssistantTail(m, s.between(30, 90), "toolUse", ms)
	s.st.toolCalls++
	s.st.execs++
	s.count(oNoResult)
}

var codeLines = []string{
	"func (s *Server) handleCreateOrder(w http.ResponseWriter, r *http.Request) {",
	"\ttenant := r.Header.Get(\"X-Acme-Tenant\")",
	"\tif tenant == \"\" {",
	"\t\thttpError(w, http.StatusBadRequest, \"missing tenant\")",
	"\t\treturn",
	"\t}",
	"\tvar req createOrderRequest",
	"\tif err := json.NewDecoder(r.Body).Decode(&req); err != nil {",
	"\t\thttpError(w, http.StatusBadRequest, err.Error())",
	"\t\treturn",
	"\t}",
	"\tctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)",
	"\tdefer cancel()",
	"\torder, err := s.store.CreateOrder(ctx, tenant, req.Items)",
	"\tif errors.Is(err, store.ErrDuplicateKey) {",
	"\t\thttpError(w, http.StatusConflict, \"duplicate idempotency key\")",
	"\t\treturn",
	"\t}",
	"\twriteJSON(w, http.StatusCreated, order)",
	"}",
	"",
}

var docLines = []string{
	"# Runbook",
	"",
	"## Restarting a stuck worker",
	"",
	"1. Check `systemctl status acme-worker` on the host.",
	"2. Look at the last 200 journal lines for the unit.",
	"3. Restart with `systemctl restart acme-worker` and watch the queue depth.",
	"",
	"## Disk pressure",
	"",
	"- `docker system prune -af --filter until=168h` frees old images.",
	"- Never delete anything under /srv/restic.",
	"",
}

// runeStart drops a partial UTF-8 sequence at the start of a cut.
func runeStart(b []byte) []byte {
	for len(b) > 0 && !utf8.RuneStart(b[0]) {
		b = b[1:]
	}
	return b
}

// runeEnd drops a partial UTF-8 sequence at the end of a cut.
func runeEnd(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}
