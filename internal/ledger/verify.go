package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/clawtrail/clawtrail/internal/jsonscan"
	"github.com/clawtrail/clawtrail/internal/lines"
)

// MaxLine bounds one ledger line. Records cap output at 64 KiB, which JSON escaping can
// at most sextuple; anything longer was not written by clawtrail.
const MaxLine = 8 << 20

// Problem names the first record that breaks the ledger.
type Problem struct {
	Line   int64  `json:"line"`
	Offset int64  `json:"offset"`
	Seq    int64  `json:"seq,omitempty"`
	Reason string `json:"reason"`
}

func (p *Problem) Error() string {
	if p.Seq > 0 {
		return fmt.Sprintf("line %d (seq %d): %s", p.Line, p.Seq, p.Reason)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
}

// State is where a chain stands after its last good record.
type State struct {
	Records int64  `json:"records"`
	LastSeq int64  `json:"last_seq"`
	Head    string `json:"head"`
	Size    int64  `json:"bytes"` // offset just past the last good record

	tree Tree // the Merkle tree over the records, for checkpoints
}

// Root is the Merkle tree root over the records so far (hex), as a checkpoint
// written now would commit to it.
func (st *State) Root() string { return st.tree.Root() }

// Walk reads a ledger from the start, checking every record: valid JSON, format
// version, contiguous seq, prev equal to the previous hash, hash recomputed over the
// record's own bytes. fn, if not nil, sees every good record in order. Walk stops at
// the first problem and returns it as *Problem together with the state before it; a
// torn last line is a problem too, with Reason "torn".
func Walk(r io.Reader, fn func(rec *Record, line []byte) error) (State, error) {
	return walk(r, fn, true, State{Head: ZeroHash})
}

// WalkIdentity is Walk for readers that need only a record's envelope and identity
// (kind, runtime, agent, session, correlation_id, entry_id, outcome, reason, source
// entry id): outputs and messages are skipped, not decoded, which makes reading back a
// large ledger at start several times faster. Every check of Walk is made.
func WalkIdentity(r io.Reader, fn func(rec *Record, line []byte) error) (State, error) {
	return walk(r, fn, false, State{Head: ZeroHash})
}

// walk checks the records r holds, which continue a chain standing at from (r starts
// at byte from.Size of the ledger, line from.Records+1).
func walk(r io.Reader, fn func(rec *Record, line []byte) error, full bool, from State) (State, error) {
	st := from
	lr := lines.NewReader(r, MaxLine)
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return st, nil
		}
		if err != nil {
			return st, fmt.Errorf("read ledger: %w", err)
		}
		bad := func(seq int64, format string, args ...any) (State, error) {
			return st, &Problem{Line: from.Records + l.No, Offset: from.Size + l.Offset, Seq: seq, Reason: fmt.Sprintf(format, args...)}
		}
		if !l.Complete {
			return bad(0, "torn: %d bytes without a final newline (a write was cut short)", l.Size)
		}
		if l.TooLong {
			return bad(0, "record of %d bytes is longer than any record clawtrail writes", l.Size)
		}
		var rec Record
		if full {
			err = json.Unmarshal(l.Bytes, &rec)
		} else {
			err = decodeIdentity(l.Bytes, &rec)
		}
		if err != nil {
			return bad(0, "not a valid record: %v", err)
		}
		covered, claimed, ok := splitHash(l.Bytes)
		switch {
		case !ok:
			return bad(rec.Seq, "the record does not end with its hash")
		case rec.V != Version:
			return bad(rec.Seq, "format version %d, want %d", rec.V, Version)
		case !bytes.HasPrefix(l.Bytes, []byte(`{"v":1,"seq":`)):
			return bad(rec.Seq, "not in canonical form")
		case rec.Seq != st.LastSeq+1:
			return bad(rec.Seq, "seq %d follows seq %d (a record was deleted, duplicated or moved)", rec.Seq, st.LastSeq)
		case rec.Prev != st.Head:
			return bad(rec.Seq, "prev does not match the hash of the record before it")
		case hashOf(covered) != claimed:
			return bad(rec.Seq, "hash mismatch: the record's bytes were changed")
		case rec.Kind == KindCheckpoint && rec.TreeSize != st.Records:
			return bad(rec.Seq, "checkpoint covers %d records, but %d come before it", rec.TreeSize, st.Records)
		case rec.Kind == KindCheckpoint && rec.Root != st.Root():
			return bad(rec.Seq, "checkpoint root does not match the records before it")
		}
		if err := st.tree.Add(claimed); err != nil {
			return bad(rec.Seq, "%v", err)
		}
		rec.Hash = claimed
		if fn != nil {
			if err := fn(&rec, l.Bytes); err != nil {
				return st, err
			}
		}
		st.Records++
		st.LastSeq = rec.Seq
		st.Head = claimed
		st.Size = from.Size + lr.Offset()
	}
}

// Read decodes every line of a ledger without checking the chain, for readers that
// show what is there even when verify would complain. Lines that are not records are
// reported to bad (if not nil) and skipped.
func Read(r io.Reader, fn func(rec *Record) error, bad func(line int64, err error)) error {
	lr := lines.NewReader(r, MaxLine)
	for {
		l, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read ledger: %w", err)
		}
		var rec Record
		if l.TooLong {
			err = fmt.Errorf("%d bytes: too long", l.Size)
		} else {
			err = json.Unmarshal(l.Bytes, &rec)
		}
		if err != nil {
			if bad != nil {
				bad(l.No, err)
			}
			continue
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
}

// decodeIdentity fills the envelope and identity fields of rec from a record line.
func decodeIdentity(line []byte, rec *Record) error {
	str := func(dst *string, v []byte) {
		if s, ok := jsonscan.String(v); ok {
			*dst = s
		}
	}
	integer := func(v []byte) int64 {
		f, _ := jsonscan.Float(v)
		return int64(f)
	}
	return jsonscan.Object(line, func(k, v []byte) error {
		switch string(k) {
		case "v":
			rec.V = int(integer(v))
		case "seq":
			rec.Seq = integer(v)
		case "kind":
			str(&rec.Kind, v)
		case "recorded_at":
			str(&rec.RecordedAt, v)
		case "runtime":
			str(&rec.Runtime, v)
		case "agent":
			str(&rec.Agent, v)
		case "session":
			str(&rec.Session, v)
		case "correlation_id":
			str(&rec.CorrelationID, v)
		case "entry_id":
			str(&rec.EntryID, v)
		case "outcome":
			str(&rec.Outcome, v)
		case "reason":
			str(&rec.Reason, v)
		case "claimed_command":
			str(&rec.ClaimedCommand, v)
		case "type":
			str(&rec.Type, v)
		case "path":
			str(&rec.Path, v)
		case "detail":
			str(&rec.Detail, v)
		case "prev":
			str(&rec.Prev, v)
		case "tree_size":
			rec.TreeSize = integer(v)
		case "root":
			str(&rec.Root, v)
		case "note":
			str(&rec.Note, v)
		case "source":
			src := &Source{}
			jsonscan.Object(v, func(k, v []byte) error {
				if string(k) == "entry_id" {
					str(&src.EntryID, v)
				}
				return nil
			})
			rec.Source = src
		}
		return nil
	})
}
