package openclaw

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clawtrail/clawtrail/internal/event"
)

// details is the union of the exec and process tool result details across versions
// (reference §7.3, §9.1, §10.1). aggregated is left out on purpose: it duplicates the
// content text and is the largest field.
type details struct {
	Status       string          `json:"status"`
	ExitCode     *float64        `json:"exitCode"`
	ExitSignal   json.RawMessage `json:"exitSignal"`
	DurationMs   *float64        `json:"durationMs"`
	TimedOut     bool            `json:"timedOut"`
	FailureKind  string          `json:"failureKind"`
	Cwd          string          `json:"cwd"`
	SessionID    string          `json:"sessionId"`
	ApprovalID   string          `json:"approvalId"`
	ApprovalSlug string          `json:"approvalSlug"`
	Error        string          `json:"error"`
	DeniedReason string          `json:"deniedReason"`
	Reason       string          `json:"reason"`
	Truncated    bool            `json:"persistedDetailsTruncated"`
}

func decodeResult(m *message) (*event.Result, error) {
	r := &event.Result{CallID: m.ToolCallID, ToolName: m.ToolName}
	if ms, ok := m.millis(); ok && ms > 0 {
		r.Ended = time.UnixMilli(ms).UTC()
	}
	if !isShellName(m.ToolName) && m.ToolName != "process" {
		// Other tools only need an outcome word for --all-tools; their (often large)
		// output is never recorded, so it is not decoded.
		r.Outcome = otherToolOutcome(m)
		return r, nil
	}
	text, err := m.text, error(nil)
	if !m.textOK {
		if text, err = contentText(m.Content); err != nil {
			err = fmt.Errorf("tool result content: %w", err)
		}
	}
	r.Output = text
	var d details
	hasDetails := len(m.Details) > 0 && m.Details[0] == '{'
	if hasDetails {
		var derr error
		if d, derr = m.parsedDetails(); derr != nil {
			hasDetails = false
			err = errors.Join(err, fmt.Errorf("tool result details: %w", derr))
		}
	}
	r.Cwd = d.Cwd
	r.Error = d.Error
	if d.DurationMs != nil {
		v := int64(*d.DurationMs)
		r.DurationMs = &v
	}
	r.ExitCode = intPtr(d.ExitCode)
	r.Signal = signalOf(d.ExitSignal)

	if m.ToolName == "process" {
		r.Outcome = settledOutcome(d, text)
		if r.Outcome != "" && d.SessionID != "" {
			r.Settles = &event.Resolve{ProcessID: d.SessionID, Outcome: r.Outcome, ExitCode: r.ExitCode, Signal: r.Signal, Output: text, HasOutput: true}
		}
		if r.Outcome == "" {
			// A poll of a process still running (or list, write, …): the call's own
			// outcome, for the tool record.
			r.Outcome = otherToolOutcome(m)
		}
		return r, err
	}
	r.Outcome = execOutcome(r, d, text, m.IsError, hasDetails)
	switch r.Outcome {
	case event.Running:
		r.ProcessID = d.SessionID
	case event.PendingApproval:
		r.ApprovalID = d.ApprovalID
		if r.ApprovalID == "" {
			r.ApprovalID = d.ApprovalSlug
		}
	}
	return r, err
}

// parsedDetails is parseDetails(m.Details), from the parse of the line when it was
// read there.
func (m *message) parsedDetails() (details, error) {
	if m.detailsOK {
		return m.details, nil
	}
	return parseDetails(m.Details)
}

func otherToolOutcome(m *message) string {
	var status string
	if len(m.Details) > 0 && m.Details[0] == '{' {
		d, _ := m.parsedDetails()
		status = d.Status
	}
	switch status {
	case "", "completed", "ok", "success":
		if m.IsError && status == "" {
			if text, _ := contentText(m.Content); syntheticResult(text) {
				return event.NoResult
			}
		}
		if m.IsError {
			return event.Error
		}
		return event.Succeeded
	case "blocked":
		return event.Blocked
	case "approval-pending":
		return event.PendingApproval
	case "running":
		return event.Running
	}
	return event.Error
}

// execOutcome implements the reference's "outcome semantics by version" (§8, §8.1).
// The order matters: details.status first, then the fields that refine it, then the
// content text for the cases where details were thrown, truncated or are missing.
// isError alone never decides: its meaning flipped between releases.
func execOutcome(r *event.Result, d details, text string, isError, hasDetails bool) string {
	switch d.Status {
	case "completed":
		if r.ExitCode == nil {
			if code, ok := exitCodeInText(lastParagraph(text)); ok {
				r.ExitCode = &code
			}
		}
		switch {
		case r.ExitCode != nil && *r.ExitCode == 0:
			return event.Succeeded
		case r.ExitCode != nil:
			return event.NonzeroExit
		case r.Signal != "":
			return event.Killed
		}
		return event.Succeeded
	case "failed":
		switch d.FailureKind {
		case "overall-timeout", "no-output-timeout":
			return event.TimedOut
		case "signal", "aborted":
			if r.Signal == "" {
				r.Signal = signalInText(text)
			}
			return event.Killed
		case "shell-command-not-found":
			return event.NotFound
		case "shell-not-executable":
			return event.NonzeroExit
		}
		reason := lastParagraph(text) + "\n" + d.Error
		// An approval that timed out also sets timedOut, but the command never ran.
		if mayDeny(reason) && reDenied.MatchString(reason) {
			return event.Denied
		}
		if d.TimedOut {
			return event.TimedOut
		}
		return fromText(r, reason, event.Error)
	case "error":
		return fromText(r, d.Error+"\n"+lastParagraph(text), event.Error)
	case "running":
		return event.Running
	case "approval-pending":
		return event.PendingApproval
	case "approval-unavailable":
		return event.Denied
	case "blocked":
		if r.Error == "" {
			r.Error = strings.TrimSpace(d.DeniedReason + " " + d.Reason)
		}
		return event.Blocked
	}
	// No status: pi-level errors (details {}), pi's own bash tool, truncated details
	// without status, transcript repair's stand-ins, or a shape not seen yet. Only the
	// text can tell.
	if isError && syntheticResult(text) {
		return event.NoResult
	}
	fallback := event.Succeeded
	if isError || (hasDetails && d.Status != "") {
		fallback = event.Error
	}
	return fromText(r, lastParagraph(text)+"\n"+d.Error, fallback)
}

// syntheticResult reports whether a result is one transcript repair inserted for a
// call whose real result is missing (reference §6.3): nothing is known of whether the
// command ran, so it is no_result, not an error of the call.
func syntheticResult(text string) bool {
	text = strings.TrimSpace(text)
	return strings.HasPrefix(text, "[openclaw] missing tool result in session history") ||
		text == "No result provided" || text == "aborted"
}

// lastParagraph is where OpenClaw puts its own words about how a command ended
// ("\n\n(Command exited with code N)", "\n\nCommand timed out after …"): reading only
// that keeps a command's output ("i/o timeout", "signal 9") from deciding the outcome.
func lastParagraph(text string) string {
	text = strings.TrimRight(text, "\n ")
	if i := strings.LastIndex(text, "\n\n"); i >= 0 {
		return text[i+2:]
	}
	return text
}

var (
	reExitCode = regexp.MustCompile(`(?:Command|Process) exited with code (-?\d+)`)
	reSignal   = regexp.MustCompile(`\bsignal (SIG[A-Z0-9]+|\d+)`)
	reTimedOut = regexp.MustCompile(`(?i)\btimed out\b|\btimeout\b`)
	reDenied   = regexp.MustCompile(`(?i)exec denied|approval (?:was )?denied|allowlist miss|not allowed|denied by|requires approval|security violation: [^\n]*is forbidden`)
	reNotFound = regexp.MustCompile(`(?i)command not found|: not found\b|No such file or directory \(os error 2\)|ENOENT.*spawn`)
)

// fromText reads an outcome from runtime-written text. The patterns are the runtime's
// own fixed phrases (reference §7.3), checked from the most to the least specific.
func fromText(r *event.Result, text, fallback string) string {
	if mayDeny(text) && reDenied.MatchString(text) {
		return event.Denied
	}
	if (strings.Contains(text, "imed out") || strings.Contains(text, "imeout")) && reTimedOut.MatchString(text) && strings.Contains(strings.ToLower(text), "command") {
		return event.TimedOut
	}
	if s := signalInText(text); s != "" {
		if r.Signal == "" {
			r.Signal = s
		}
		return event.Killed
	}
	if code, ok := exitCodeInText(text); ok {
		if r.ExitCode == nil {
			r.ExitCode = &code
		}
		if code == 127 {
			return event.NotFound
		}
		if code == 0 {
			return event.Succeeded
		}
		return event.NonzeroExit
	}
	if r.ExitCode != nil {
		switch {
		case *r.ExitCode == 127:
			return event.NotFound
		case *r.ExitCode != 0:
			return event.NonzeroExit
		}
	}
	if (strings.Contains(text, "ot found") || strings.Contains(text, "ENOENT") || strings.Contains(text, "No such file")) && reNotFound.MatchString(text) {
		return event.NotFound
	}
	if r.Signal != "" {
		return event.Killed
	}
	return fallback
}

// mayDeny is a cheap gate before reDenied: every phrase it matches contains one of
// these fragments (in either case of their first letter). "Security Violation: … is
// forbidden" is the host env check's refusal (PATH, LD_*, …), which the reference
// counts with denials and allowlist misses (§8): the command never ran.
func mayDeny(text string) bool {
	for _, frag := range []string{"enied", "ENIED", "llowlist", "LLOWLIST", "ot allowed", "OT ALLOWED", "equires approval", "EQUIRES APPROVAL", "orbidden", "ORBIDDEN"} {
		if strings.Contains(text, frag) {
			return true
		}
	}
	return false
}

// settledOutcome reads a process-tool result: only a finished process settles anything.
func settledOutcome(d details, text string) string {
	code := intPtr(d.ExitCode)
	switch d.Status {
	case "completed", "failed":
	default:
		if !strings.Contains(text, "Process exited with") {
			return ""
		}
	}
	if code == nil {
		if c, ok := exitCodeInText(text); ok {
			code = &c
		}
	}
	switch {
	case signalOf(d.ExitSignal) != "" || signalInText(text) != "":
		return event.Killed
	case code != nil && *code == 0:
		return event.Succeeded
	case code != nil:
		return event.NonzeroExit
	case d.Status == "completed":
		return event.Succeeded
	}
	return event.Error
}

func exitCodeInText(text string) (int, bool) {
	if !strings.Contains(text, "exited with code") {
		return 0, false
	}
	m := reExitCode.FindAllStringSubmatch(text, -1)
	if len(m) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(m[len(m)-1][1])
	return n, err == nil
}

func signalInText(text string) string {
	if !strings.Contains(text, "signal ") {
		return ""
	}
	if m := reSignal.FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}

func formatInt(n int) string { return strconv.Itoa(n) }

func intPtr(f *float64) *int {
	if f == nil {
		return nil
	}
	v := int(*f)
	return &v
}

var (
	reSystemExec = regexp.MustCompile(`Exec (completed|failed) \(([^,\s()]+), (?:code (-?\d+)|signal ([A-Za-z0-9]+))\)(?: :: ([^\n]*))?`)
	reFinished   = regexp.MustCompile(`Exec finished \(gateway id=([^,\s()]+)(?:, session=([^,\s()]+))?, (?:code (-?\d+)|(timeout)|signal ([A-Za-z0-9]+))\)\n?([\s\S]*)`)
	reDeniedID   = regexp.MustCompile(`Exec denied \(gateway id=([^,\s()]+)`)
)

// resolutionsInText finds the runtime's own notices about backgrounded and
// approval-gated execs in a user message (reference §9.2, §9.3). These are the only
// record of how such a command ended unless the model polled it.
func resolutionsInText(text string) []*event.Resolve {
	if !strings.Contains(text, "Exec ") {
		return nil
	}
	var out []*event.Resolve
	for _, m := range reSystemExec.FindAllStringSubmatch(text, -1) {
		rs := &event.Resolve{ProcessID: m[2], Output: m[5], HasOutput: m[5] != ""}
		setCodeOrSignal(rs, m[3], m[4], "")
		out = append(out, rs)
	}
	if m := reFinished.FindStringSubmatch(text); m != nil {
		// The tail is one line (OpenClaw flattens it); what follows a blank line is the
		// follow-up prompt's own instructions or the user's message, not output.
		tail, _, _ := strings.Cut(m[6], "\n\n")
		rs := &event.Resolve{ApprovalID: m[1], ProcessID: m[2], Output: strings.TrimSpace(tail), HasOutput: true}
		setCodeOrSignal(rs, m[3], m[5], m[4])
		out = append(out, rs)
	} else if m := reDeniedID.FindStringSubmatch(text); m != nil {
		out = append(out, &event.Resolve{ApprovalID: m[1], Outcome: event.Denied})
	}
	return out
}

func setCodeOrSignal(rs *event.Resolve, code, signal, timeout string) {
	switch {
	case timeout != "":
		rs.Outcome = event.TimedOut
	case signal != "":
		rs.Signal = signal
		rs.Outcome = event.Killed
	default:
		n, _ := strconv.Atoi(code)
		rs.ExitCode = &n
		rs.Outcome = event.Succeeded
		if n == 127 {
			rs.Outcome = event.NotFound
		} else if n != 0 {
			rs.Outcome = event.NonzeroExit
		}
	}
}
