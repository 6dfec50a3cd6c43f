package daemon_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/daemon"
	"github.com/clawtrail/clawtrail/internal/ledger"
)

func resultOut(entry, id string, code int, out string) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":%q}],"details":{"status":"completed","exitCode":%d,"durationMs":5},"isError":false}}`, entry, id, out, code)
}

func reply(entry, text string) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"message":{"role":"assistant","content":[{"type":"text","text":%q}],"stopReason":"stop"}}`, entry, text)
}

// The outputs kept for recognising quoted output are bounded across sessions: past
// the budget, the sessions fed longest ago forget theirs, and from then on a quote
// they cannot check is not called invented (precision first).
func TestClaimMemoryIsBounded(t *testing.T) {
	pods := "NAME        READY   STATUS             RESTARTS\nweb-7c9f    0/1     CrashLoopBackOff   12\napi-5d2b    1/1     Running            0\n"
	invented := "I checked with `kubectl get pods -n prod`:\n\n```\nNAME        READY   STATUS    RESTARTS\nweb-7c9f    1/1     Running   0\napi-5d2b    1/1     Running   0\n```\n\nAll healthy."
	for _, c := range []struct {
		name   string
		budget int
		want   int
	}{{"default budget", 0, 1}, {"1 KiB budget", 1 << 10, 0}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.appendLines("s1.jsonl", header("s1"), call("a1", "k1", "kubectl get pods -n prod", t0), resultOut("a2", "k1", 0, pods))
			e.start(func(cfg *daemon.Config) { cfg.ClaimMemory = c.budget })
			e.waitExecs("s1/k1:succeeded")
			// Another session runs something with a large output, after s1 was fed.
			e.appendLines("s2.jsonl", header("s2"), call("b1", "j1", "journalctl -n 200", t0), resultOut("b2", "j1", 0, strings.Repeat("Nov 25 10:00:00 host app[1]: request served\n", 200)))
			e.waitExecs("s1/k1:succeeded s2/j1:succeeded")
			e.appendLines("s1.jsonl", reply("a3", invented), call("a4", "k2", "true", t0), resultOut("a5", "k2", 0, ""))
			e.waitExecs("s1/k1:succeeded s1/k2:succeeded s2/j1:succeeded")
			claims := 0
			for _, r := range e.records() {
				if r.Kind == ledger.KindClaim {
					claims++
				}
			}
			if claims != c.want {
				t.Fatalf("claim records = %d, want %d", claims, c.want)
			}
		})
	}
}
