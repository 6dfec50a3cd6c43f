package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/clawtrail/clawtrail/internal/atomicfile"
)

// An index snapshot (docs/ledger-format.md, "Index snapshot") saves the Index together
// with the chain state it reflects, so that a writer starting on a large ledger checks
// and learns only the records after that state instead of reading gigabytes back. It
// is an optimisation, never a source of truth: a snapshot that is missing, damaged,
// of another version, or whose last record is not where it says in the ledger is
// ignored and the ledger is read in full. The version covers what the index
// remembers too: a change to what Learn or Admit keep, or to the identity hash, must
// bump it, so that an old snapshot is refused rather than trusted.
const snapshotMagic = "clawtrail-index-v2\n" // v2: the Merkle tree (State.tree) as well

// SnapshotPath is where run and scan keep the index snapshot of the ledger at path.
func SnapshotPath(path string) string { return path + ".index" }

type snapshotHeader struct {
	State    State    `json:"state"`
	Key      string   `json:"key"`      // the index's hash key, hex
	Outcomes []string `json:"outcomes"` // latest's values are positions in it
	// Each table: its slots (0 or a power of two) and the keys it holds.
	Latest tableHeader `json:"latest"`
	Steps  tableHeader `json:"steps"`
	Once   tableHeader `json:"once"`
	// The Merkle tree's complete subtrees at State, largest first (hex).
	Tree []string `json:"tree"`
}

type tableHeader struct {
	Slots int `json:"slots"`
	Keys  int `json:"keys"`
}

// writeSnapshot replaces path with x as of st. The body is the index's own tables:
// each table's keys as little-endian uint64s, slot by slot, then (latest only) one
// value byte per slot.
func writeSnapshot(path string, x *Index, st State) error {
	th := func(s *keySet) tableHeader { return tableHeader{Slots: len(s.keys), Keys: s.n} }
	hdr, err := json.Marshal(snapshotHeader{State: st, Key: hex.EncodeToString(x.key[:]), Outcomes: x.outcomes,
		Latest: th(&x.latest), Steps: th(&x.steps), Once: th(&x.once), Tree: st.tree.hexSubtrees()})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o600, func(out io.Writer) error {
		sum := sha256.New()
		w := io.MultiWriter(out, sum)
		if _, err := io.WriteString(w, snapshotMagic); err != nil {
			return err
		}
		if _, err := w.Write(append(hdr, '\n')); err != nil {
			return err
		}
		buf := make([]byte, 0, 64<<10)
		for _, t := range []*keySet{&x.latest, &x.steps, &x.once} {
			for _, k := range t.keys {
				if len(buf)+8 > cap(buf) {
					if _, err := w.Write(buf); err != nil {
						return err
					}
					buf = buf[:0]
				}
				buf = binary.LittleEndian.AppendUint64(buf, k)
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
			if t.valued {
				if _, err := w.Write(t.vals); err != nil {
					return err
				}
			}
		}
		_, err := out.Write(sum.Sum(nil))
		return err
	})
}

// readSnapshot loads a snapshot written by writeSnapshot.
func readSnapshot(path string) (*Index, State, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, State{}, err
	}
	return parseSnapshot(data)
}

func parseSnapshot(data []byte) (*Index, State, error) {
	if len(data) < len(snapshotMagic)+sha256.Size || !bytes.HasPrefix(data, []byte(snapshotMagic)) {
		return nil, State{}, errors.New("not an index snapshot of this version")
	}
	body, tail := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], tail) {
		return nil, State{}, errors.New("checksum mismatch (a torn or altered file)")
	}
	body = body[len(snapshotMagic):]
	nl := bytes.IndexByte(body, '\n')
	if nl < 0 {
		return nil, State{}, errors.New("no header")
	}
	var h snapshotHeader
	if err := json.Unmarshal(body[:nl], &h); err != nil {
		return nil, State{}, fmt.Errorf("header: %w", err)
	}
	body = body[nl+1:]
	key, err := hex.DecodeString(h.Key)
	if err != nil || len(key) != 32 {
		return nil, State{}, errors.New("header: bad key")
	}
	if err := h.State.tree.setSubtrees(h.State.Records, h.Tree); err != nil {
		return nil, State{}, fmt.Errorf("header: %w", err)
	}
	if len(h.Outcomes) > overflowOutcome {
		return nil, State{}, errors.New("header: too many outcomes")
	}
	x := &Index{outcomes: h.Outcomes}
	copy(x.key[:], key)
	for _, t := range []struct {
		set *keySet
		h   tableHeader
		val bool
	}{{&x.latest, h.Latest, true}, {&x.steps, h.Steps, false}, {&x.once, h.Once, false}} {
		size := t.h.Slots * 8
		if t.val {
			size += t.h.Slots
		}
		// A table must have room to spare, or a lookup of a missing key would never
		// end; the slot count is checked before it sizes anything.
		if t.h.Slots < 0 || t.h.Slots > len(body)/8 || t.h.Slots&(t.h.Slots-1) != 0 ||
			t.h.Keys < 0 || t.h.Keys*4 > t.h.Slots*3 || size > len(body) {
			return nil, State{}, fmt.Errorf("a table of %d slots and %d keys does not fit", t.h.Slots, t.h.Keys)
		}
		keys := make([]uint64, t.h.Slots)
		n := 0
		for i := range keys {
			keys[i] = binary.LittleEndian.Uint64(body[8*i:])
			if keys[i] != 0 {
				n++
			}
		}
		if n != t.h.Keys {
			return nil, State{}, fmt.Errorf("a table holds %d keys, its header says %d", n, t.h.Keys)
		}
		*t.set = keySet{keys: keys, n: n, valued: t.val}
		body = body[8*t.h.Slots:]
		if t.val {
			t.set.vals = bytes.Clone(body[:t.h.Slots])
			body = body[t.h.Slots:]
		}
	}
	if len(body) != 0 {
		return nil, State{}, fmt.Errorf("%d bytes after the tables", len(body))
	}
	return x, h.State, nil
}

// checkTip confirms that the ledger's record ending at st.Size is the one st names
// (its seq, and its hash recomputed from its bytes), so a snapshot of another ledger,
// or of this one before it was cut back or rewritten, is never trusted.
func checkTip(f *os.File, st State) error {
	if st.Size == 0 {
		if st.LastSeq != 0 || st.Head != ZeroHash {
			return errors.New("an empty chain with a head")
		}
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < st.Size {
		return fmt.Errorf("the ledger has %d bytes, the snapshot was taken at %d", fi.Size(), st.Size)
	}
	// Read backwards from st.Size in growing steps until the start of the last line.
	for n := int64(64 << 10); ; n *= 2 {
		n = min(n, st.Size, MaxLine+1)
		buf := make([]byte, n)
		if _, err := f.ReadAt(buf, st.Size-n); err != nil {
			return err
		}
		if buf[n-1] != '\n' {
			return errors.New("the snapshot's offset is not the end of a record")
		}
		i := bytes.LastIndexByte(buf[:n-1], '\n')
		if i < 0 && n < st.Size && n <= MaxLine {
			continue
		}
		if i < 0 && n < st.Size {
			return errors.New("no record ends at the snapshot's offset")
		}
		line := buf[i+1 : n-1]
		covered, claimed, ok := splitHash(line)
		var rec Record
		switch {
		case !ok || decodeIdentity(line, &rec) != nil:
			return errors.New("no record ends at the snapshot's offset")
		case rec.Seq != st.LastSeq || claimed != st.Head:
			return fmt.Errorf("the record there is seq %d, the snapshot's is seq %d with another hash", rec.Seq, st.LastSeq)
		case hashOf(covered) != claimed:
			return errors.New("the record there does not match its hash")
		}
		return nil
	}
}
