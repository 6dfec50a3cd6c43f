package openclaw

import (
	"testing"

	"github.com/clawtrail/clawtrail/internal/event"
)

// Each case is a toolResult line in the style of one OpenClaw release (reference §7.3,
// §8) and the outcome a person reading it would record.
func TestExecOutcomeByVersion(t *testing.T) {
	cases := []struct {
		name     string
		line     string
		outcome  string
		exitCode int // -1: unknown
		signal   string
	}{
		{"2026.7 success", `{"type":"message","id":"f159262d","timestamp":"2026-09-15T22:43:59.516Z","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"ok"}],"details":{"status":"completed","exitCode":0,"exitSignal":null,"exitReason":"exit","durationMs":1857,"aggregated":"ok","noOutputTimedOut":false,"cwd":"/w"},"isError":false,"timestamp":1789512239510}}`, event.Succeeded, 0, ""},
		{"2026.2 nonzero completed isError false", `{"type":"message","id":"e0f1c758","timestamp":"2026-02-25T05:19:12.544Z","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"jq: error\n\n(Command exited with code 5)"}],"details":{"status":"completed","exitCode":5,"durationMs":47,"aggregated":"jq: error...","cwd":"/w"},"isError":false,"timestamp":1771996752542}}`, event.NonzeroExit, 5, ""},
		{"2026.7 nonzero isError true", `{"type":"message","id":"a1","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"FAIL\n\n(Command exited with code 1)"}],"details":{"status":"completed","exitCode":1,"exitSignal":null,"exitReason":"exit","durationMs":5,"cwd":"/w"},"isError":true}}`, event.NonzeroExit, 1, ""},
		{"2026.1.30 thrown nonzero", `{"type":"message","id":"a2","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"{\n  \"status\": \"error\",\n  \"tool\": \"exec\",\n  \"error\": \"boom\\n\\nCommand exited with code 2\"\n}"}],"details":{"status":"error","tool":"exec","error":"boom\n\nCommand exited with code 2"},"isError":false}}`, event.NonzeroExit, 2, ""},
		{"2026.1.30 thrown timeout", `{"type":"message","id":"a3","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"{}"}],"details":{"status":"error","tool":"exec","error":"Command timed out after 30 seconds"},"isError":false}}`, event.TimedOut, -1, ""},
		{"2026.1.30 thrown allowlist denial", `{"type":"message","id":"a4","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"{}"}],"details":{"status":"error","tool":"exec","error":"exec denied: allowlist miss"},"isError":false}}`, event.Denied, -1, ""},
		{"2026.4 failed timeout", `{"type":"message","id":"a5","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"partial\n\nCommand timed out after 30 seconds. Partial output above."}],"details":{"status":"failed","exitCode":null,"durationMs":30001,"timedOut":true,"cwd":"/w"},"isError":false}}`, event.TimedOut, -1, ""},
		{"2026.7 failed signal", `{"type":"message","id":"a6","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"\n\nCommand aborted by signal SIGKILL"}],"details":{"status":"failed","exitCode":null,"exitSignal":"SIGKILL","failureKind":"signal","durationMs":12,"timedOut":false,"cwd":"/w"},"isError":true}}`, event.Killed, -1, "SIGKILL"},
		{"2026.7 command not found", `{"type":"message","id":"a7","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"sh: 1: nosuch: not found\n\nCommand not found"}],"details":{"status":"failed","exitCode":127,"failureKind":"shell-command-not-found","durationMs":3,"cwd":"/w"},"isError":true}}`, event.NotFound, 127, ""},
		{"2026.5 failed 127 without failureKind", `{"type":"message","id":"a8","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"sh: nosuch: command not found"}],"details":{"status":"failed","exitCode":127,"durationMs":3,"timedOut":false,"cwd":"/w"},"isError":false}}`, event.NotFound, 127, ""},
		{"gateway approval denied", `{"type":"message","id":"a9","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"Exec denied (gateway id=4f1c, user-denied): rm -rf /"}],"details":{"status":"failed","exitCode":null,"durationMs":0,"cwd":"/w"},"isError":true}}`, event.Denied, -1, ""},
		{"approval timed out: denied, not timed out", `{"type":"message","id":"c1","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"Exec denied (gateway id=9f2e, approval-timeout): terraform apply"}],"details":{"status":"failed","exitCode":null,"durationMs":0,"timedOut":true,"cwd":"/w"},"isError":true}}`, event.Denied, -1, ""},
		{"timeout words in the output do not decide", `{"type":"message","id":"c2","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"dial tcp: i/o timeout\nundefined: timeout\n\n(Command exited with code 1)"}],"details":{"status":"failed","exitCode":1,"durationMs":40,"cwd":"/w"},"isError":true}}`, event.NonzeroExit, 1, ""},
		{"exit text inside output is not the exit", `{"type":"message","id":"c3","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"child said (Command exited with code 9)\n\nall done"}],"details":{"persistedDetailsTruncated":true,"status":"completed"},"isError":false}}`, event.Succeeded, -1, ""},
		{"blocked by plugin", `{"type":"message","id":"b1","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"blocked"}],"details":{"status":"blocked","deniedReason":"plugin-before-tool-call","reason":"policy"},"isError":true}}`, event.Blocked, -1, ""},
		{"running", `{"type":"message","id":"b2","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"Command still running (session warm-cove, pid 4242). Use process (list/poll/log/write/…) for follow-up."}],"details":{"status":"running","sessionId":"warm-cove","pid":4242,"startedAt":1,"cwd":"/w","tail":""},"isError":false}}`, event.Running, -1, ""},
		{"approval pending", `{"type":"message","id":"b3","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"Approval required (id 7d2c9a1e)."}],"details":{"status":"approval-pending","approvalId":"7d2c9a1e-0000","approvalSlug":"7d2c9a1e","expiresAtMs":1,"host":"gateway","command":"ls","cwd":"/w"},"isError":false}}`, event.PendingApproval, -1, ""},
		{"approval unavailable", `{"type":"message","id":"b4","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"no route"}],"details":{"status":"approval-unavailable","reason":"no-route"},"isError":true}}`, event.Denied, -1, ""},
		{"truncated details nonzero", `{"type":"message","id":"b5","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"[... 90000 chars truncated ...]\n\n(Command exited with code 3)"}],"details":{"persistedDetailsTruncated":true,"finalDetailsTruncated":true,"originalDetailsBytes":99000,"status":"completed","exitCode":3,"cwd":"/w"},"isError":true}}`, event.NonzeroExit, 3, ""},
		{"truncated details without exit code", `{"type":"message","id":"b6","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"...\n\n(Command exited with code 4)"}],"details":{"persistedDetailsTruncated":true,"status":"completed"},"isError":true}}`, event.NonzeroExit, 4, ""},
		{"pi bash failure via isError", `{"type":"message","timestamp":"2025-11-20T23:58:36.865Z","message":{"role":"toolResult","toolCallId":"toolu_1","toolName":"bash","content":[{"type":"text","text":"Command exited with code 1"}],"details":{},"isError":true,"timestamp":1763683116857}}`, event.NonzeroExit, 1, ""},
		{"pi bash success no details", `{"type":"message","message":{"role":"toolResult","toolCallId":"toolu_2","toolName":"bash","content":[{"type":"text","text":"hello"}],"isError":false}}`, event.Succeeded, -1, ""},
		{"pi-level error", `{"type":"message","id":"b7","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"Validation failed for tool exec"}],"details":{},"isError":true}}`, event.Error, -1, ""},
		{"2026.1.30 env violation thrown: denied like an allowlist miss (§8)", `{"type":"message","id":"d1","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"{}"}],"details":{"status":"error","tool":"exec","error":"Security Violation: Environment variable 'LD_PRELOAD' is forbidden during host execution."},"isError":false}}`, event.Denied, -1, ""},
		{"2026.5 PATH override refused, isError true", `{"type":"message","id":"d2","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"{}"}],"details":{"status":"error","tool":"exec","error":"Security Violation: Custom 'PATH' variable is forbidden during host execution."},"isError":true}}`, event.Denied, -1, ""},
		{"repair's synthetic result: no result, not an error (§6.3)", `{"type":"message","id":"d3","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"[openclaw] missing tool result in session history; inserted synthetic error result for transcript repair."}],"isError":true}}`, event.NoResult, -1, ""},
		{"later builds' synthetic result text", `{"type":"message","id":"d4","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"No result provided"}],"isError":true}}`, event.NoResult, -1, ""},
		{"synthetic aborted result", `{"type":"message","id":"d5","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"aborted"}],"details":{},"isError":true}}`, event.NoResult, -1, ""},
		{"command output saying aborted is not a stand-in", `{"type":"message","id":"d6","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"aborted"}],"details":{"status":"completed","exitCode":0},"isError":false}}`, event.Succeeded, 0, ""},
		{"isError true alone with success text is not a failure reason", `{"type":"message","id":"b8","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"done"}],"details":{"status":"completed","exitCode":0},"isError":true}}`, event.Succeeded, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, err := Decode(nil, []byte(c.line), event.Position{Line: 1})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(evs) != 1 || evs[0].Kind != event.ToolResult {
				t.Fatalf("events = %+v, want one tool result", evs)
			}
			r := evs[0].Result
			if r.Outcome != c.outcome {
				t.Errorf("outcome = %q, want %q", r.Outcome, c.outcome)
			}
			switch {
			case c.exitCode < 0 && r.ExitCode != nil:
				t.Errorf("exit code = %d, want unknown", *r.ExitCode)
			case c.exitCode >= 0 && (r.ExitCode == nil || *r.ExitCode != c.exitCode):
				t.Errorf("exit code = %v, want %d", r.ExitCode, c.exitCode)
			}
			if r.Signal != c.signal {
				t.Errorf("signal = %q, want %q", r.Signal, c.signal)
			}
		})
	}
}

func TestToolCalls(t *testing.T) {
	line := `{"type":"message","id":"dd","timestamp":"2026-03-08T13:03:40.000Z","message":{"role":"assistant","content":[` +
		`{"type":"thinking","thinking":"x"},` +
		`{"type":"toolCall","id":"call_A|fc_1","name":"exec","arguments":{"command":"ls -la","workdir":"/srv","host":"gateway","background":true},"partialJson":"{}"},` +
		`{"type":"toolCall","id":"call_B|fc_2","name":"bash","arguments":{"command":"pwd"}},` +
		`{"type":"toolCall","id":"call_C","name":"exec","arguments":{"code":"console.log(1)","language":"javascript"}},` +
		`{"type":"toolCall","id":"call_D","name":"exec","arguments":{"command":["ls"]}},` +
		`{"type":"toolCall","id":"call_E","name":"read","arguments":{"path":"a"}}` +
		`],"stopReason":"toolUse","timestamp":1772975020000}}`
	evs, err := Decode(nil, []byte(line), event.Position{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id    string
		shell bool
		cmd   string
	}{{"call_A|fc_1", true, "ls -la"}, {"call_B|fc_2", true, "pwd"}, {"call_C", false, ""}, {"call_D", false, ""}, {"call_E", false, ""}}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d", len(evs), len(want))
	}
	for i, w := range want {
		c := evs[i].Call
		if c.ID != w.id || c.Shell != w.shell || c.Command != w.cmd {
			t.Errorf("call %d = %+v, want id %q shell %v command %q", i, c, w.id, w.shell, w.cmd)
		}
	}
	if a := evs[0].Call; a.Workdir != "/srv" || a.Host != "gateway" || !a.Background {
		t.Errorf("exec arguments not kept: %+v", a)
	}
}

func TestResolutionsInUserText(t *testing.T) {
	text := "System: [2026-09-02 14:05:11 UTC] Exec completed (warm-cov, code 0) :: built ok\n" +
		"System: [2026-09-02 14:05:12 UTC] Exec failed (quiet-ri, signal SIGTERM)\n\nhello"
	rs := resolutionsInText(text)
	if len(rs) != 2 || rs[0].ProcessID != "warm-cov" || rs[0].Outcome != event.Succeeded || rs[0].Output != "built ok" ||
		rs[1].ProcessID != "quiet-ri" || rs[1].Outcome != event.Killed || rs[1].Signal != "SIGTERM" {
		t.Fatalf("System lines = %+v", rs)
	}
	approval := "An async command the user already approved has completed.\nDo not run the command again.\nExact completion details:\nExec finished (gateway id=7d2c9a1e-0000, session=brisk-fox, code 2)\nmake: *** [all] Error 2"
	rs = resolutionsInText(approval)
	if len(rs) != 1 || rs[0].ApprovalID != "7d2c9a1e-0000" || rs[0].Outcome != event.NonzeroExit || *rs[0].ExitCode != 2 || rs[0].Output != "make: *** [all] Error 2" {
		t.Fatalf("approval follow-up = %+v", rs)
	}
	// 2026.6 follow-up prompts go on after the completion details; 2026.1.30 system
	// events are followed by the user's own message. Neither is command output.
	for _, after := range []string{"\n\nReply to the user in a helpful way.\nIf it succeeded, share the relevant output.", "\n\ndid the deploy work?"} {
		rs = resolutionsInText(approval + after)
		if len(rs) != 1 || rs[0].Output != "make: *** [all] Error 2" {
			t.Fatalf("approval follow-up with %q after it = %+v", after, rs)
		}
	}
	denied := "An async command did not run.\nExec denied (gateway id=7d2c9a1e-0000, user-denied): rm -rf /"
	rs = resolutionsInText(denied)
	if len(rs) != 1 || rs[0].Outcome != event.Denied || rs[0].ApprovalID != "7d2c9a1e-0000" {
		t.Fatalf("denial follow-up = %+v", rs)
	}
	if rs := resolutionsInText("please run Exec completed checks"); len(rs) != 0 {
		t.Fatalf("prose matched as a resolution: %+v", rs)
	}
}

func TestProviderErrorsAndIgnoredEntries(t *testing.T) {
	lines := []string{
		`{"type":"message","id":"9a533f48","message":{"role":"assistant","content":[],"stopReason":"error","provider":"ollama","model":"qwen3.5:9b","errorMessage":"fetch failed"}}`,
		`{"type":"message","id":"4da21ec9","message":{"role":"assistant","content":[{"type":"text","text":"⚠️ Agent failed before reply: No API key found for provider \"anthropic\"."}],"stopReason":"stop","provider":"openclaw","model":"gateway-injected"}}`,
		`{"type":"custom","customType":"openclaw:prompt-error","data":{"provider":"openai","model":"gpt-5","error":"429 Too Many Requests"},"id":"c1"}`,
	}
	for _, l := range lines {
		evs, err := Decode(nil, []byte(l), event.Position{})
		if err != nil || len(evs) != 1 || evs[0].Kind != event.ProviderError || evs[0].Provider.Message == "" {
			t.Errorf("Decode(%s) = %+v, %v; want one provider error", l, evs, err)
		}
	}
	ignored := []string{
		`{"type":"model_change","id":"ebdf0119","parentId":null,"timestamp":"2026-02-25T05:18:55.853Z","provider":"opencode","modelId":"m"}`,
		`{"type":"leaf","id":"x","targetId":"y"}`,
		`{"type":"some_future_type","id":"z","payload":{"a":[1,2,3]}}`,
		`{"type":"message","id":"q","message":{"role":"assistant","content":"plain string","stopReason":"aborted","errorMessage":"Request was aborted"}}`,
	}
	for _, l := range ignored {
		evs, err := Decode(nil, []byte(l), event.Position{})
		if err != nil || len(evs) != 0 {
			t.Errorf("Decode(%s) = %+v, %v; want nothing", l, evs, err)
		}
	}
	for _, l := range []string{"", "not json", "\x00\x01", `{"type":"message","message":{`, "[1,2]"} {
		if _, err := Decode(nil, []byte(l), event.Position{}); err == nil {
			t.Errorf("Decode(%q) succeeded, want ErrNotJSON", l)
		}
	}
}

func TestProcessPollStillRunning(t *testing.T) {
	line := `{"type":"message","id":"p1","message":{"role":"toolResult","toolCallId":"c9","toolName":"process","content":[{"type":"text","text":"scanning 40%\n\nProcess still running."}],"details":{"status":"running","sessionId":"amber-cove","aggregated":"scanning 40%"},"isError":false}}`
	evs, err := Decode(nil, []byte(line), event.Position{})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Decode = %+v, %v", evs, err)
	}
	if r := evs[0].Result; r.Settles != nil || r.Outcome != event.Running {
		t.Fatalf("poll of a running process: outcome %q, settles %+v; want running, nothing settled", r.Outcome, r.Settles)
	}
}
