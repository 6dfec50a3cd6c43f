package daemon

import (
	"fmt"
	"time"

	"github.com/clawtrail/clawtrail/internal/event"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/witness"
)

// witnessExec asks the kernel witness about an exec the runtime reports as run, and
// records what it saw, with a finding when the two disagree: a transcript that claims
// a command the kernel never saw run, or an exit code the kernel saw differently.
func witnessExec(w *witness.Witness, e *ledger.Exec) {
	if e.Verdict != event.Executed {
		return
	}
	from, _ := time.Parse(time.RFC3339Nano, e.StartedAt)
	to, err := time.Parse(time.RFC3339Nano, e.EndedAt)
	if err != nil {
		to = time.Now()
	}
	if from.IsZero() {
		from = to
	}
	r := w.Match(e.Command, e.Cwd, from, to)
	e.Witness = &ledger.Witness{Status: r.Status, PID: r.PID, ExitCode: r.ExitCode, Namespaces: r.Namespaces, Container: r.Container, HostNS: r.HostNamespaces}
	switch {
	case r.Status == "unmatched":
		e.Findings = append(e.Findings, ledger.Finding{Rule: "witness_unmatched", Severity: "high",
			Message: "the transcript reports this command ran, but the kernel saw no such process in its window"})
	case r.Status == "matched" && r.ExitCode != nil && e.ExitCode != nil && *r.ExitCode != *e.ExitCode:
		e.Findings = append(e.Findings, ledger.Finding{Rule: "witness_exit_mismatch", Severity: "high",
			Message: fmt.Sprintf("the transcript says exit %d, the kernel saw exit %d", *e.ExitCode, *r.ExitCode)})
	}
}
