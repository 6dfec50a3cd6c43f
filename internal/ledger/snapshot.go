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
// ignored and the ledger is read in full.
const snapshotMagic = "clawtrail-index-v1\n"

// SnapshotPath is where run and scan keep the index snapshot of the ledger at path.
func SnapshotPath(path string) string { return path + ".index" }

type snapshotHeader struct {
	State    State    `json:"state"`
	Key      string   `json:"key"`      // the index's hash key, hex
	Outcomes []string `json:"outcomes"` // the latest-outcome table: entries refer to it by position
	Latest   int      `json:"latest"`
	Steps    int      `json:"steps"`
	Once     int      `json:"once"`
}

// writeSnapshot replaces path with x as of st.
func writeSnapshot(path string, x *Index, st State) error {
	codes := map[string]byte{}
	var outcomes []string
	for _, o := range x.latest {
		if _, ok := codes[o]; !ok {
			if len(outcomes) == 255 {
				return errors.New("index snapshot: more than 255 distinct outcomes")
			}
			codes[o] = byte(len(outcomes))
			outcomes = append(outcomes, o)
		}
	}
	hdr, err := json.Marshal(snapshotHeader{State: st, Key: hex.EncodeToString(x.key[:]), Outcomes: outcomes,
		Latest: len(x.latest), Steps: len(x.steps), Once: len(x.once)})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o600, func(out io.Writer) error {
		sum := sha256.New()
		w := io.MultiWriter(out, sum)
		buf := make([]byte, 0, 64<<10)
		put := func(b []byte) error {
			if len(buf)+len(b) > cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
			buf = append(buf, b...)
			return nil
		}
		var e [9]byte
		if err := put([]byte(snapshotMagic)); err != nil {
			return err
		}
		if err := put(append(hdr, '\n')); err != nil {
			return err
		}
		for k, o := range x.latest {
			binary.LittleEndian.PutUint64(e[:8], k)
			e[8] = codes[o]
			if err := put(e[:9]); err != nil {
				return err
			}
		}
		for _, set := range []map[uint64]struct{}{x.steps, x.once} {
			for k := range set {
				binary.LittleEndian.PutUint64(e[:8], k)
				if err := put(e[:8]); err != nil {
					return err
				}
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
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
	n := len(body) / 8 // no count can exceed it; checked first so the sum cannot overflow
	if h.Latest < 0 || h.Steps < 0 || h.Once < 0 || h.Latest > n || h.Steps > n || h.Once > n ||
		len(body) != 9*h.Latest+8*(h.Steps+h.Once) {
		return nil, State{}, errors.New("entry counts do not match the file's size")
	}
	x := &Index{latest: make(map[uint64]string, h.Latest), steps: make(map[uint64]struct{}, h.Steps), once: make(map[uint64]struct{}, h.Once)}
	copy(x.key[:], key)
	for i := 0; i < h.Latest; i++ {
		e := body[9*i:]
		code := int(e[8])
		if code >= len(h.Outcomes) {
			return nil, State{}, fmt.Errorf("entry %d names outcome %d of %d", i, code, len(h.Outcomes))
		}
		x.latest[binary.LittleEndian.Uint64(e)] = h.Outcomes[code]
	}
	body = body[9*h.Latest:]
	for i := 0; i < h.Steps; i++ {
		x.steps[binary.LittleEndian.Uint64(body[8*i:])] = struct{}{}
	}
	body = body[8*h.Steps:]
	for i := 0; i < h.Once; i++ {
		x.once[binary.LittleEndian.Uint64(body[8*i:])] = struct{}{}
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
