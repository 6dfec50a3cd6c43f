package daemon_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/daemon"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/witness"
)

func resultIn(entry, id string, code int, cwd string, at time.Time) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":"x"}],"details":{"status":"completed","exitCode":%d,"durationMs":5,"cwd":%q},"isError":false,"timestamp":%d}}`, entry, id, code, cwd, at.UnixMilli())
}

// The kernel witness confirms a command the runtime really ran (with the exit code
// the kernel saw) and flags one the transcript claims but no process ran.
func TestWitnessMatchesRealProcesses(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the kernel witness needs root (CAP_NET_ADMIN); CI runs as root")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := witness.Start(ctx, witness.Config{})
	if err != nil {
		t.Skipf("kernel witness unavailable here: %v", err)
	}
	defer w.Close()
	e := newEnv(t)
	e.appendLines("s1.jsonl", header("s1"))
	e.start(func(c *daemon.Config) { c.Witness = w })
	cwd := t.TempDir()
	cmd := "sleep 0.2; echo witnessed-$PPID; exit 3"
	start := time.Now()
	e.appendLines("s1.jsonl", call("a1", "real", cmd, start))
	sh := exec.Command("sh", "-c", cmd)
	sh.Dir = cwd
	sh.Run()
	e.appendLines("s1.jsonl", resultIn("r1", "real", 3, cwd, time.Now()))
	// A transcript that claims a command no process ran, written live: the daemon
	// holds the record until the witness's window has passed, then judges it.
	time.Sleep(2500 * time.Millisecond) // the witness must have been watching since before the claimed call's window
	at := time.Now()
	e.appendLines("s1.jsonl", call("a2", "fake", "cat /etc/never-ran-"+fmt.Sprint(start.UnixNano()), at), resultIn("r2", "fake", 0, cwd, at.Add(100*time.Millisecond)))
	e.waitExecs("s1/fake:succeeded s1/real:nonzero_exit")
	for _, r := range e.records() {
		if r.Kind != ledger.KindExec {
			continue
		}
		full := fullRecord(t, e, r.Seq)
		switch r.CorrelationID {
		case "real":
			if full.Witness == nil || full.Witness.Status != "matched" || full.Witness.ExitCode == nil || *full.Witness.ExitCode != 3 {
				t.Errorf("real exec witness = %+v, want matched with exit 3", full.Witness)
			}
		case "fake":
			if st := w.Stats(); full.Witness != nil && full.Witness.Status == "unavailable" && st.Unread+st.Lost > 0 {
				// Another process on this machine (go test runs packages side by side)
				// exited before its command line was read, inside the window: the
				// witness rightly refuses to say nothing ran.
				t.Logf("fake exec judged unavailable: %d execs unread, %d events lost on this busy machine", st.Unread, st.Lost)
				continue
			}
			if full.Witness == nil || full.Witness.Status != "unmatched" || len(full.Findings) == 0 || full.Findings[0].Rule != "witness_unmatched" {
				t.Errorf("fake exec witness = %+v findings %+v, want unmatched with a finding", full.Witness, full.Findings)
			}
		}
	}
}

func fullRecord(t *testing.T, e *env, seq int64) ledger.Record {
	f, _ := os.Open(e.ledger)
	defer f.Close()
	var out ledger.Record
	ledger.Walk(f, func(r *ledger.Record, _ []byte) error {
		if r.Seq == seq {
			out = *r
		}
		return nil
	})
	return out
}
