package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
)

// Index remembers what the ledger already says, so that re-reading a transcript adds
// only what is new: an exec exactly once per (runtime, agent, session, correlation id),
// an exec_update only when the outcome changes, everything else once per identity.
//
// Identities are kept as 64-bit hashes to bound memory on ledgers of millions of
// records; a collision (about one in 10^7 at a million records) would drop one record.
// The hash is keyed with a random secret made for each index, so ids chosen by whoever
// writes a transcript cannot be aimed at a collision; the key leaves the process only
// inside the index snapshot (snapshot.go), which is as private as the ledger.
type Index struct {
	key    [32]byte
	buf    []byte
	latest map[uint64]string   // exec identity -> latest outcome
	steps  map[uint64]struct{} // exec identity + source entry -> seen
	once   map[uint64]struct{} // other identities
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{latest: map[uint64]string{}, steps: map[uint64]struct{}{}, once: map[uint64]struct{}{}}
	rand.Read(x.key[:])
	return x
}

// hash is the identity hash: SHA-256 keyed by prefix, cut to 64 bits. It must stay
// the same function for as long as snapshots written with it are read.
func (x *Index) hash(parts ...string) uint64 {
	b := append(x.buf[:0], x.key[:]...)
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	x.buf = b
	sum := sha256.Sum256(b)
	return binary.LittleEndian.Uint64(sum[:8])
}

// Learn adds a record read back from the ledger.
func (x *Index) Learn(r *Record) {
	switch r.Kind {
	case KindExec, KindExecUpdate:
		k := x.hash(r.Runtime, r.Agent, r.Session, r.CorrelationID)
		x.latest[k] = r.Outcome
		if r.Source != nil {
			x.steps[x.hash(r.Runtime, r.Agent, r.Session, r.CorrelationID, r.Source.EntryID)] = struct{}{}
		}
	case KindTool:
		x.once[x.hash(KindTool, r.Runtime, r.Agent, r.Session, r.CorrelationID)] = struct{}{}
	case KindProviderError:
		x.once[x.hash(KindProviderError, r.Runtime, r.Agent, r.Session, r.EntryID)] = struct{}{}
	case KindNotice:
		if r.CorrelationID != "" {
			x.once[x.hash(KindNotice, r.Reason, r.Runtime, r.Agent, r.Session, r.CorrelationID)] = struct{}{}
		}
	case KindClaim:
		x.once[x.hash(KindClaim, r.Runtime, r.Agent, r.Session, r.EntryID, r.Reason, r.ClaimedCommand)] = struct{}{}
	case KindSource:
		if r.Type == "era" || r.Type == "gap" {
			x.once[x.hash(KindSource, r.Type, r.Runtime, r.Agent, r.Path, r.Detail)] = struct{}{}
		}
	}
}

// Admit decides whether a freshly derived body belongs in the ledger and in which
// form: an Exec for an identity the ledger already has becomes an ExecUpdate when its
// outcome is new, and is dropped otherwise. Admitted bodies are remembered.
func (x *Index) Admit(b Body) (Body, bool) {
	switch v := b.(type) {
	case *Exec:
		k := x.hash(v.Runtime, v.Agent, v.Session, v.CorrelationID)
		sk := x.hash(v.Runtime, v.Agent, v.Session, v.CorrelationID, v.Source.EntryID)
		if _, seen := x.steps[sk]; seen {
			return nil, false
		}
		x.steps[sk] = struct{}{}
		last, known := x.latest[k]
		switch {
		case !known:
			x.latest[k] = v.Outcome
			return v, true
		case v.Outcome == "no_result" || v.Outcome == last:
			// A call whose result is gone (a rewritten transcript) never undoes what
			// the ledger already recorded.
			return nil, false
		}
		x.latest[k] = v.Outcome
		return UpdateOf(v), true
	case *ExecUpdate:
		k := x.hash(v.Runtime, v.Agent, v.Session, v.CorrelationID)
		sk := x.hash(v.Runtime, v.Agent, v.Session, v.CorrelationID, v.Source.EntryID)
		if _, seen := x.steps[sk]; seen {
			return nil, false
		}
		last, known := x.latest[k]
		if !known || last == v.Outcome {
			return nil, false
		}
		x.steps[sk] = struct{}{}
		x.latest[k] = v.Outcome
		return v, true
	case *Tool:
		return x.onceOnly(b, KindTool, v.Runtime, v.Agent, v.Session, v.CorrelationID)
	case *ProviderError:
		return x.onceOnly(b, KindProviderError, v.Runtime, v.Agent, v.Session, v.EntryID)
	case *SourceChange:
		if v.Type == "era" || v.Type == "gap" {
			// One era record per agent and era: a change of era is news, a rescan is not.
			// A gap found at start is found again after a crash that came before the
			// positions hint forgot the file: it is recorded once.
			return x.onceOnly(b, KindSource, v.Type, v.Runtime, v.Agent, v.Path, v.Detail)
		}
	case *Claim:
		return x.onceOnly(b, KindClaim, v.Runtime, v.Agent, v.Session, v.EntryID, v.Reason, v.ClaimedCommand)
	case *Notice:
		if v.CorrelationID != "" {
			return x.onceOnly(b, KindNotice, v.Reason, v.Runtime, v.Agent, v.Session, v.CorrelationID)
		}
	}
	return b, true
}

func (x *Index) onceOnly(b Body, parts ...string) (Body, bool) {
	k := x.hash(parts...)
	if _, seen := x.once[k]; seen {
		return nil, false
	}
	x.once[k] = struct{}{}
	return b, true
}

// UpdateOf turns an Exec into the ExecUpdate that records its new outcome.
func UpdateOf(e *Exec) *ExecUpdate {
	out := e.Output
	return &ExecUpdate{TS: e.TS, Runtime: e.Runtime, Agent: e.Agent, Session: e.Session, CorrelationID: e.CorrelationID,
		Outcome: e.Outcome, ExitCode: e.ExitCode, Signal: e.Signal, DurationMs: e.DurationMs, EndedAt: e.EndedAt,
		Output: &out, Verdict: e.Verdict, Source: e.Source}
}

// Known reports whether the ledger holds an exec with this identity.
func (x *Index) Known(runtime, agent, session, callID string) bool {
	_, ok := x.latest[x.hash(runtime, agent, session, callID)]
	return ok
}
