// Package ledger owns governance.jsonl, clawtrail's append-only, hash-chained audit
// log (format v1, docs/ledger-format.md): the canonical bytes of each record, the single
// writer that appends them durably and repairs a torn tail, and the reader and verifier
// that anyone can run without a lock.
//
// The ledger is also the checkpoint: every record says which transcript line it came
// from, so a restart resumes from the ledger itself and output and position can never
// disagree.
package ledger

// Version is the ledger format version written in every record's "v".
const Version = 1

// Record kinds.
const (
	KindExec          = "exec"
	KindExecUpdate    = "exec_update"
	KindTool          = "tool"
	KindProviderError = "provider_error"
	KindClaim         = "claim"
	KindSource        = "source"
	KindCheckpoint    = "checkpoint"
	KindNotice        = "notice"
)

// Body is the kind-specific part of a record. The writer adds the envelope
// (v, seq, kind, recorded_at, prev, hash).
type Body interface{ Kind() string }

// Source locates the transcript line a record was derived from.
type Source struct {
	Path    string `json:"path"`
	Line    int64  `json:"line"`
	Offset  int64  `json:"offset"`
	EntryID string `json:"entry_id"`
}

// Output is what a command printed, capped and redacted; Bytes and SHA256 describe the
// full output as the transcript holds it, so a copy kept elsewhere can be matched.
type Output struct {
	Text      string `json:"text"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	Truncated bool   `json:"truncated"`
}

// Finding is something about a record an operator should look at.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Exec is one shell execution requested by the agent. Field order is the canonical
// order; nullable fields are pointers without omitempty so "unknown" is explicit.
type Exec struct {
	TS            string    `json:"ts"`
	Runtime       string    `json:"runtime"`
	Agent         string    `json:"agent"`
	Session       string    `json:"session"`
	CorrelationID string    `json:"correlation_id"`
	Tool          string    `json:"tool"`
	Command       string    `json:"command"`
	Cwd           string    `json:"cwd"`
	Host          string    `json:"host"`
	Background    bool      `json:"background"`
	Outcome       string    `json:"outcome"`
	ExitCode      *int      `json:"exit_code"`
	Signal        string    `json:"signal"`
	DurationMs    *int64    `json:"duration_ms"`
	StartedAt     string    `json:"started_at"`
	EndedAt       string    `json:"ended_at"`
	Output        Output    `json:"output"`
	Verdict       string    `json:"verdict"`
	Findings      []Finding `json:"findings"`
	Witness       *Witness  `json:"witness,omitempty"`
	Source        Source    `json:"source"`
}

// Kind implements Body.
func (*Exec) Kind() string { return KindExec }

// Witness is what the kernel saw of an exec (run --witness): the shell process the
// runtime spawned for it, matched by command, cwd and time.
type Witness struct {
	Status     string            `json:"status"` // matched, unmatched, unavailable
	PID        int               `json:"pid,omitempty"`
	ExitCode   *int              `json:"exit_code,omitempty"`
	Namespaces map[string]uint64 `json:"namespaces,omitempty"`
	Container  string            `json:"container,omitempty"`
	HostNS     bool              `json:"host_namespaces,omitempty"`
}

// ExecUpdate is a later resolution of an earlier Exec; the latest one wins.
type ExecUpdate struct {
	TS            string  `json:"ts"`
	Runtime       string  `json:"runtime"`
	Agent         string  `json:"agent"`
	Session       string  `json:"session"`
	CorrelationID string  `json:"correlation_id"`
	Outcome       string  `json:"outcome"`
	ExitCode      *int    `json:"exit_code"`
	Signal        string  `json:"signal"`
	DurationMs    *int64  `json:"duration_ms"`
	EndedAt       string  `json:"ended_at"`
	Output        *Output `json:"output"`
	Verdict       string  `json:"verdict"`
	Source        Source  `json:"source"`
}

// Kind implements Body.
func (*ExecUpdate) Kind() string { return KindExecUpdate }

// Tool is a non-shell tool call (recorded only with --all-tools).
type Tool struct {
	TS            string `json:"ts"`
	Runtime       string `json:"runtime"`
	Agent         string `json:"agent"`
	Session       string `json:"session"`
	CorrelationID string `json:"correlation_id"`
	Tool          string `json:"tool"`
	Outcome       string `json:"outcome"`
	Source        Source `json:"source"`
}

// Kind implements Body.
func (*Tool) Kind() string { return KindTool }

// ProviderError is a failed model call.
type ProviderError struct {
	TS       string `json:"ts"`
	Runtime  string `json:"runtime"`
	Agent    string `json:"agent"`
	Session  string `json:"session"`
	EntryID  string `json:"entry_id"`
	Provider string `json:"provider"`
	Model    string `json:"model"`
	Class    string `json:"class"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	Source   Source `json:"source"`
}

// Kind implements Body.
func (*ProviderError) Kind() string { return KindProviderError }

// Claim is assistant prose that claims a command ran with no matching call.
type Claim struct {
	TS             string `json:"ts"`
	Runtime        string `json:"runtime"`
	Agent          string `json:"agent"`
	Session        string `json:"session"`
	EntryID        string `json:"entry_id"`
	ClaimedCommand string `json:"claimed_command"`
	Excerpt        string `json:"excerpt"`
	Reason         string `json:"reason"`
	Source         Source `json:"source"`
}

// Kind implements Body.
func (*Claim) Kind() string { return KindClaim }

// SourceChange is a change of a source the operator should know about.
type SourceChange struct {
	Type    string `json:"type"`
	Runtime string `json:"runtime"`
	Agent   string `json:"agent"`
	Path    string `json:"path"`
	Detail  string `json:"detail"`
}

// Kind implements Body.
func (*SourceChange) Kind() string { return KindSource }

// Checkpoint commits to every record before it: the Merkle tree over their hashes
// (docs/ledger-format.md, "Checkpoints"). Note is the same commitment as a signed
// note, when a signing key is configured.
type Checkpoint struct {
	TreeSize int64  `json:"tree_size"`
	Root     string `json:"root"`
	Note     string `json:"note,omitempty"`
}

// Kind implements Body.
func (*Checkpoint) Kind() string { return KindCheckpoint }

// Notice is something clawtrail itself noticed: a repaired torn tail, a tool result
// whose call never appeared.
type Notice struct {
	TS            string  `json:"ts,omitempty"`
	Reason        string  `json:"reason"`
	Detail        string  `json:"detail"`
	Runtime       string  `json:"runtime,omitempty"`
	Agent         string  `json:"agent,omitempty"`
	Session       string  `json:"session,omitempty"`
	CorrelationID string  `json:"correlation_id,omitempty"`
	Source        *Source `json:"source,omitempty"`
}

// Kind implements Body.
func (*Notice) Kind() string { return KindNotice }

// Record is a decoded ledger line of any kind: the union of every body's fields, for
// readers (show, verify, the UI). Writers use the typed bodies instead.
type Record struct {
	V          int    `json:"v"`
	Seq        int64  `json:"seq"`
	Kind       string `json:"kind"`
	RecordedAt string `json:"recorded_at"`

	TS             string    `json:"ts,omitempty"`
	Runtime        string    `json:"runtime,omitempty"`
	Agent          string    `json:"agent,omitempty"`
	Session        string    `json:"session,omitempty"`
	CorrelationID  string    `json:"correlation_id,omitempty"`
	EntryID        string    `json:"entry_id,omitempty"`
	Tool           string    `json:"tool,omitempty"`
	Command        string    `json:"command,omitempty"`
	Cwd            string    `json:"cwd,omitempty"`
	Host           string    `json:"host,omitempty"`
	Background     bool      `json:"background,omitempty"`
	Outcome        string    `json:"outcome,omitempty"`
	ExitCode       *int      `json:"exit_code,omitempty"`
	Signal         string    `json:"signal,omitempty"`
	DurationMs     *int64    `json:"duration_ms,omitempty"`
	StartedAt      string    `json:"started_at,omitempty"`
	EndedAt        string    `json:"ended_at,omitempty"`
	Output         *Output   `json:"output,omitempty"`
	Verdict        string    `json:"verdict,omitempty"`
	Findings       []Finding `json:"findings,omitempty"`
	Witness        *Witness  `json:"witness,omitempty"`
	Provider       string    `json:"provider,omitempty"`
	Model          string    `json:"model,omitempty"`
	Class          string    `json:"class,omitempty"`
	Message        string    `json:"message,omitempty"`
	Hint           string    `json:"hint,omitempty"`
	ClaimedCommand string    `json:"claimed_command,omitempty"`
	Excerpt        string    `json:"excerpt,omitempty"`
	Reason         string    `json:"reason,omitempty"`
	Type           string    `json:"type,omitempty"`
	Path           string    `json:"path,omitempty"`
	Detail         string    `json:"detail,omitempty"`
	TreeSize       int64     `json:"tree_size,omitempty"`
	Root           string    `json:"root,omitempty"`
	Note           string    `json:"note,omitempty"`
	Source         *Source   `json:"source,omitempty"`

	Prev string `json:"prev"`
	Hash string `json:"hash"`
}
