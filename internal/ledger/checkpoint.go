package ledger

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint appends a checkpoint record that commits to every record before it.
// With a signer it also carries that commitment as a note signed by the operator's
// key: a checkpoint copied somewhere else then proves later that the ledger still
// holds those records (the chain alone cannot tell a ledger cut back at a line
// boundary from a shorter one). It returns the record and its seq.
func (w *Writer) Checkpoint(signer note.Signer) (*Checkpoint, int64, error) {
	root := w.tree.root()
	c := &Checkpoint{TreeSize: w.seq, Root: hex.EncodeToString(root[:])}
	if signer != nil {
		msg, err := note.Sign(&note.Note{Text: CheckpointText(signer.Name(), c.TreeSize, root)}, signer)
		if err != nil {
			return nil, 0, fmt.Errorf("sign checkpoint: %w", err)
		}
		c.Note = string(msg)
	}
	seq, err := w.Append(c)
	if err != nil {
		return nil, 0, err
	}
	return c, seq, nil
}

// CheckpointText is what a checkpoint's note says, in the tlog checkpoint form
// (c2sp.org/tlog-checkpoint): the origin (the signing key's name), the tree size
// and the root hash in base64, one per line.
func CheckpointText(origin string, size int64, root [32]byte) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// ErrUnsigned is returned by CheckNote for a checkpoint without a note.
var ErrUnsigned = errors.New("checkpoint is not signed")

// CheckNote verifies a checkpoint record's note with the given keys and that it says
// what the record says (its size and root). The record's own size and root are
// checked against the records before it by Walk.
func CheckNote(rec *Record, keys note.Verifiers) error {
	if rec.Note == "" {
		return ErrUnsigned
	}
	size, root, _, err := OpenCheckpoint([]byte(rec.Note), keys)
	if err != nil {
		return err
	}
	if size != rec.TreeSize || root != rec.Root {
		return errors.New("checkpoint note: its size and root differ from the record's")
	}
	return nil
}

// OpenCheckpoint verifies a signed checkpoint note (a checkpoint's note, or a copy
// kept elsewhere) and returns the tree size and root (hex) it commits to, and the
// name of the key that signed it.
func OpenCheckpoint(msg []byte, keys note.Verifiers) (size int64, root, signer string, err error) {
	n, err := note.Open(msg, keys)
	if err != nil {
		return 0, "", "", fmt.Errorf("checkpoint note: %w", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return 0, "", "", errors.New("checkpoint note: not origin, size and root")
	}
	// The origin is the signer's name (CheckpointText): a note this key signed for
	// something else is not a checkpoint.
	if lines[0] != n.Sigs[0].Name {
		return 0, "", "", fmt.Errorf("checkpoint note: origin %q is not the signer %q", lines[0], n.Sigs[0].Name)
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return 0, "", "", errors.New("checkpoint note: bad tree size")
	}
	r, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(r) != 32 {
		return 0, "", "", errors.New("checkpoint note: bad root")
	}
	return size, hex.EncodeToString(r), n.Sigs[0].Name, nil
}
