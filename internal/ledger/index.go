package ledger

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
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
	key      [32]byte
	buf      []byte
	digest   hash.Hash // for execKeys
	sums     [2 * sha256.Size]byte
	latest   keySet   // exec identity -> latest outcome, as a position in outcomes
	outcomes []string // the outcomes seen, so that latest holds a byte per exec
	steps    keySet   // exec identity + source entry -> seen
	once     keySet   // other identities
}

// NewIndex returns an empty index.
func NewIndex() *Index {
	x := &Index{latest: keySet{valued: true}}
	rand.Read(x.key[:])
	return x
}

// overflowOutcome stands for outcomes past the 255th distinct one, which only a
// forged ledger has: it equals no real outcome, so such execs are updated again.
const overflowOutcome = 255

func (x *Index) code(outcome string) byte {
	for i, o := range x.outcomes {
		if o == outcome {
			return byte(i)
		}
	}
	if len(x.outcomes) == overflowOutcome {
		return overflowOutcome
	}
	x.outcomes = append(x.outcomes, outcome)
	return byte(len(x.outcomes) - 1)
}

func (x *Index) setLatest(k uint64, outcome string) { x.latest.put(k, x.code(outcome)) }

func (x *Index) getLatest(k uint64) (string, bool) {
	c, ok := x.latest.get(k)
	if !ok {
		return "", false
	}
	if int(c) >= len(x.outcomes) {
		return "\x00overflow", true
	}
	return x.outcomes[c], true
}

// hash is the identity hash: SHA-256 keyed by prefix, cut to 64 bits. It must stay
// the same function for as long as snapshots written with it are read.
func (x *Index) hash(parts ...string) uint64 {
	x.buf = appendParts(append(x.buf[:0], x.key[:]...), parts...)
	sum := sha256.Sum256(x.buf)
	return keyOf(sum[:])
}

// appendParts appends each part and a NUL after it: what hash hashes after the key.
func appendParts(b []byte, parts ...string) []byte {
	for _, p := range parts {
		b = append(append(b, p...), 0)
	}
	return b
}

// execKeys returns an exec's identity, hash(runtime, agent, session, id), and the
// identity of one step of it, hash(runtime, agent, session, id, entry), hashing their
// common prefix once: every exec needs both, and they were a quarter of the writer's
// time.
func (x *Index) execKeys(runtime, agent, session, id, entry string) (k, step uint64) {
	if x.digest == nil {
		x.digest = sha256.New()
	}
	d := x.digest
	d.Reset()
	x.buf = appendParts(append(x.buf[:0], x.key[:]...), runtime, agent, session, id)
	d.Write(x.buf)
	first := d.Sum(x.sums[:0])
	d.Write(appendParts(x.buf[:0], entry)) // the prefix is in d already
	second := d.Sum(first)
	return keyOf(first[:sha256.Size]), keyOf(second[sha256.Size:])
}

func keyOf(sum []byte) uint64 {
	if h := binary.LittleEndian.Uint64(sum[:8]); h != 0 {
		return h
	}
	return 1 // 0 marks an empty slot
}

// Learn adds a record read back from the ledger.
func (x *Index) Learn(r *Record) {
	switch r.Kind {
	case KindExec, KindExecUpdate:
		if r.Source == nil {
			x.setLatest(x.hash(r.Runtime, r.Agent, r.Session, r.CorrelationID), r.Outcome)
			break
		}
		k, sk := x.execKeys(r.Runtime, r.Agent, r.Session, r.CorrelationID, r.Source.EntryID)
		x.setLatest(k, r.Outcome)
		x.steps.put(sk, 0)
	case KindTool:
		x.once.put(x.hash(KindTool, r.Runtime, r.Agent, r.Session, r.CorrelationID), 0)
	case KindProviderError:
		x.once.put(x.hash(KindProviderError, r.Runtime, r.Agent, r.Session, r.EntryID), 0)
	case KindNotice:
		if r.CorrelationID != "" {
			x.once.put(x.hash(KindNotice, r.Reason, r.Runtime, r.Agent, r.Session, r.CorrelationID), 0)
		}
	case KindClaim:
		x.once.put(x.hash(KindClaim, r.Runtime, r.Agent, r.Session, r.EntryID, r.Reason, r.ClaimedCommand), 0)
	case KindSource:
		if r.Type == "era" || r.Type == "gap" {
			x.once.put(x.hash(KindSource, r.Type, r.Runtime, r.Agent, r.Path, r.Detail), 0)
		}
	}
}

// Admit decides whether a freshly derived body belongs in the ledger and in which
// form: an Exec for an identity the ledger already has becomes an ExecUpdate when its
// outcome is new, and is dropped otherwise. Admitted bodies are remembered.
func (x *Index) Admit(b Body) (Body, bool) {
	switch v := b.(type) {
	case *Exec:
		k, sk := x.execKeys(v.Runtime, v.Agent, v.Session, v.CorrelationID, v.Source.EntryID)
		if !x.steps.put(sk, 0) {
			return nil, false
		}
		last, known := x.getLatest(k)
		switch {
		case !known:
			x.setLatest(k, v.Outcome)
			return v, true
		case v.Outcome == "no_result" || v.Outcome == last:
			// A call whose result is gone (a rewritten transcript) never undoes what
			// the ledger already recorded.
			return nil, false
		}
		x.setLatest(k, v.Outcome)
		return UpdateOf(v), true
	case *ExecUpdate:
		k, sk := x.execKeys(v.Runtime, v.Agent, v.Session, v.CorrelationID, v.Source.EntryID)
		if x.steps.has(sk) {
			return nil, false
		}
		last, known := x.getLatest(k)
		if !known || last == v.Outcome {
			return nil, false
		}
		x.steps.put(sk, 0)
		x.setLatest(k, v.Outcome)
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
	if !x.once.put(x.hash(parts...), 0) {
		return nil, false
	}
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
	return x.latest.has(x.hash(runtime, agent, session, callID))
}
