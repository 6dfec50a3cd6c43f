package server

import "github.com/clawtrail/clawtrail/internal/ledger"

// The ledger's vocabularies as small codes, so an index row holds a byte instead of a
// string. Code 0 is "none"; a value the vocabulary does not know (a newer format, a
// damaged record) maps to the last code, "other", so it can neither be mistaken for a
// known value nor grow a metric's label set without bound.
var (
	kindNames    = []string{"", ledger.KindExec, ledger.KindExecUpdate, ledger.KindTool, ledger.KindProviderError, ledger.KindClaim, ledger.KindSource, ledger.KindCheckpoint, ledger.KindNotice, "other"}
	outcomeNames = []string{"", "succeeded", "nonzero_exit", "timed_out", "killed", "not_found", "denied", "blocked", "pending_approval", "running", "error", "no_result", "other"}
	verdictNames = []string{"", "executed", "not_executed", "unknown", "other"}
	classNames   = []string{"", "rate_limit", "quota_exhausted", "budget_cap", "auth", "overloaded", "timeout", "other"}
)

const (
	kExec          = 1
	kExecUpdate    = 2
	kTool          = 3
	kProviderError = 4
	kClaim         = 5
	kSource        = 6
	kCheckpoint    = 7
	kNotice        = 8
)

// code returns s's code in names: 0 for "", the last code for an unknown value.
func code(names []string, s string) uint8 {
	if s == "" {
		return 0
	}
	for i := 1; i < len(names)-1; i++ {
		if names[i] == s {
			return uint8(i)
		}
	}
	return uint8(len(names) - 1)
}

// known reports whether s is a value of the vocabulary (not "other").
func known(names []string, s string) bool {
	c := code(names, s)
	return c != 0 && int(c) != len(names)-1
}

func name(names []string, c uint8) string {
	if int(c) < len(names) {
		return names[c]
	}
	return names[len(names)-1]
}

// failed reports whether an outcome counts as a failure on the chart and in the
// stats: the command ran (or was meant to) and did not succeed.
func failed(outcome uint8) bool {
	switch outcomeNames[outcome] {
	case "nonzero_exit", "timed_out", "killed", "not_found", "error":
		return true
	}
	return false
}

// unsettled reports whether an exec with this outcome is likely to be resolved by a
// later exec_update (a background run finishing, an approval, a late result); such
// execs are kept in a small map so the update finds them without a scan.
func unsettled(outcome uint8) bool {
	switch outcomeNames[outcome] {
	case "running", "pending_approval", "no_result", "error":
		return true
	}
	return false
}

// Provenance is the badge a row wears: what the ledger lets us say about whether the
// command really ran.
type Provenance struct {
	Key   string // CSS and JSON key: executed, witnessed, not-executed, pending, no-result, claimed
	Label string // what the operator reads
}

// provenance derives the badge from the record kind, the (folded) outcome and verdict,
// and the OS witness. The order matters: a witness match is the strongest evidence,
// a claim is never an execution whatever else it says.
func provenance(kind, outcome, verdict uint8, witnessed bool) Provenance {
	switch {
	case kind == kClaim:
		return Provenance{"claimed", "CLAIMED, NOT RUN"}
	case kind != kExec:
		return Provenance{"other", "RECORD"}
	case witnessed:
		return Provenance{"witnessed", "WITNESSED"}
	case outcomeNames[outcome] == "pending_approval":
		return Provenance{"pending", "PENDING"}
	}
	switch verdictNames[verdict] {
	case "executed":
		return Provenance{"executed", "EXECUTED"}
	case "not_executed":
		return Provenance{"not-executed", "NOT EXECUTED"}
	}
	return Provenance{"no-result", "NO RESULT"}
}
