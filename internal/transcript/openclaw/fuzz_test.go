package openclaw

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawtrail/clawtrail/internal/event"
)

// FuzzDecode: no line, however broken, may panic the decoder, and every event it
// returns must be well formed (the correlator relies on it).
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("../../../../shared/fixtures/real/*")
	for _, name := range files {
		fh, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		fh.Close()
	}
	f.Add([]byte(`{"type":"message","id":"a","message":{"role":"toolResult","toolCallId":"c","toolName":"exec","content":[{"type":"text","text":"x\n\n(Command exited with code 9999999999999999999)"}],"details":{"status":"completed","exitCode":1e300}}}`))
	f.Add([]byte(`{"type":"message","message":{"role":"user","content":"Exec completed (a, code 1) :: x\nExec finished (gateway id=b, session=c, signal SIGKILL)"}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, _ := Decode(nil, line, event.Position{Line: 1})
		for _, ev := range evs {
			if ev.EntryID == "" {
				t.Fatalf("event without entry id: %+v", ev)
			}
			switch ev.Kind {
			case event.ToolCall:
				if ev.Call == nil || ev.Call.ID == "" {
					t.Fatalf("tool call without id: %+v", ev)
				}
			case event.ToolResult:
				if ev.Result == nil || ev.Result.Outcome == "" && ev.Result.ToolName != "process" {
					t.Fatalf("result without outcome: %+v", ev.Result)
				}
			case event.Resolution:
				if ev.Resolve == nil || ev.Resolve.Outcome == "" {
					t.Fatalf("resolution without outcome: %+v", ev.Resolve)
				}
			case event.ProviderError:
				if ev.Provider == nil {
					t.Fatal("provider error without details")
				}
			case event.AssistantText:
				if ev.Prose == nil || ev.Prose.Text == "" {
					t.Fatal("assistant text without prose")
				}
			case event.Header:
			default:
				t.Fatalf("unknown kind %d", ev.Kind)
			}
		}
	})
}
