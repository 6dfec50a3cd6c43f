// Package event is clawtrail's runtime-neutral vocabulary: what a transcript adapter
// (OpenClaw today, other runtimes later) reports a session did, before any pairing.
//
// Adapters own the runtime's quirks (field names, version drift, text conventions) and
// hand the correlator events whose meaning no longer depends on the runtime version.
// The package does no I/O so every other package can depend on it.
package event

import "time"

// Kind says which of the optional parts of an Event are set.
type Kind uint8

const (
	// Header opens a session (the transcript's first line, when it has one).
	Header Kind = iota + 1
	// ToolCall is one tool invocation requested by the model.
	ToolCall
	// ToolResult is the runtime's answer to one tool call.
	ToolResult
	// Resolution is a later, final word on a call that was backgrounded or waited for
	// approval: a poll result, a "System: Exec completed" line, an approval follow-up.
	Resolution
	// ProviderError is a failed model call.
	ProviderError
	// AssistantText is the prose of one assistant message, with the shell commands
	// that message really requested, for checking claims of execution against them.
	AssistantText
)

// Position locates the line an event came from, so that every ledger record can say
// where its evidence is and a restart can resume from the ledger alone.
type Position struct {
	Path   string // relative to the source root, slash-separated
	Line   int64  // 1-based
	Offset int64  // byte offset of the line's first byte
}

// Event is one fact read from a transcript. A single line may yield several events
// (an assistant message with parallel tool calls).
type Event struct {
	Kind    Kind
	EntryID string    // the runtime's entry id, or a stable synthetic one
	Time    time.Time // when the runtime wrote the entry (zero when unknown)
	Pos     Position

	SessionID string // Header: the session id; Header.Cwd in Cwd
	Cwd       string

	Call     *Call
	Result   *Result
	Prose    *Prose
	Resolve  *Resolve
	Provider *ProviderFailure
}

// Prose is what an assistant message said in words.
type Prose struct {
	Text  string
	Calls []string // shell commands requested by the same message
}

// Call is a tool call.
type Call struct {
	ID    string
	Name  string // as the model named it (exec, bash, read, ...)
	Shell bool   // a real shell execution (not Code Mode, not another tool)

	Command    string
	Workdir    string
	Host       string
	Background bool
}

// Outcome vocabulary of the ledger (design.md).
const (
	Succeeded       = "succeeded"
	NonzeroExit     = "nonzero_exit"
	TimedOut        = "timed_out"
	Killed          = "killed"
	NotFound        = "not_found"
	Denied          = "denied"
	Blocked         = "blocked"
	PendingApproval = "pending_approval"
	Running         = "running"
	Error           = "error"
	NoResult        = "no_result"
)

// Verdict vocabulary of the ledger (design.md).
const (
	Executed    = "executed"
	NotExecuted = "not_executed"
	Unknown     = "unknown"
)

// VerdictOf maps an outcome to what the runtime says about whether the command ran.
func VerdictOf(outcome string) string {
	switch outcome {
	case Succeeded, NonzeroExit, TimedOut, Killed, NotFound, Running:
		return Executed
	case Denied, Blocked, PendingApproval, Error:
		// error: the runtime failed the call before a shell ran it (no paired node,
		// invalid arguments); a failure after the shell started has its own outcome.
		return NotExecuted
	default:
		return Unknown
	}
}

// Final reports whether an outcome can no longer change.
func Final(outcome string) bool {
	switch outcome {
	case Running, PendingApproval, NoResult, "":
		return false
	}
	return true
}

// Result is the runtime's answer to a call, already interpreted: Outcome is derived by
// the adapter from everything the runtime wrote, never from a single error flag.
type Result struct {
	CallID   string
	ToolName string

	Outcome    string
	ExitCode   *int
	Signal     string
	DurationMs *int64
	Cwd        string
	Output     string    // the output text as the transcript holds it
	Error      string    // an error message, when the runtime gave one apart from the output
	Ended      time.Time // when the result was created (zero when unknown)

	// Handles that later Resolutions refer to.
	ProcessID  string // background process session slug ("running")
	ApprovalID string // approval id ("approval-pending")

	// A result of a process-management tool that settles a background exec.
	Settles *Resolve
}

// Resolve is the later outcome of a backgrounded or approval-gated exec.
type Resolve struct {
	ProcessID  string // full slug or its 8-char prefix
	ApprovalID string // full id or its slug
	Outcome    string
	ExitCode   *int
	Signal     string
	Output     string
	HasOutput  bool
}

// ProviderFailure is a failed model call as the transcript records it.
type ProviderFailure struct {
	Provider string
	Model    string
	Message  string
}
