package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// The records form a Merkle tree as well as a chain (docs/ledger-format.md,
// "Checkpoints"): the chain proves order and catches any edit, the tree lets a
// checkpoint commit to every record before it in a form tlog proofs understand, so a
// checkpoint kept elsewhere can later show that the ledger still extends it.
//
// The leaves are the records' hashes as they are: each is already a domain-separated
// SHA-256 over the record's bytes (it starts with "clawtrail-ledger-v1\n", never with
// the 0x01 of an interior node), so hashing it again would add nothing but work.
// Interior nodes are tlog.NodeHash, as RFC 6962 defines them.

// Tree is the Merkle tree over the records so far in compact form: the roots of its
// complete subtrees, largest first, one per bit set in n. An array, not a slice, so
// that copying a State copies its tree.
type Tree struct {
	n    int64
	subs [63]tlog.Hash
}

// Add appends the leaf of a record whose hash is hexHash.
func (t *Tree) Add(hexHash string) error {
	var h tlog.Hash
	if len(hexHash) != 2*len(h) {
		return errors.New("record hash is not 64 hex digits")
	}
	if _, err := hex.Decode(h[:], []byte(hexHash)); err != nil {
		return fmt.Errorf("record hash: %w", err)
	}
	t.addHash(h)
	return nil
}

func (t *Tree) addHash(h tlog.Hash) {
	// Each trailing one bit of n is a complete subtree of the same size as the one
	// being built: merge them, smallest first, as a binary counter carries.
	k := bits.OnesCount64(uint64(t.n))
	for n := t.n; n&1 == 1; n >>= 1 {
		k--
		h = tlog.NodeHash(t.subs[k], h)
	}
	t.subs[k] = h
	t.n++
}

// Len is the number of records in the tree.
func (t *Tree) Len() int64 { return t.n }

// Root is the tree's root in hex, as a checkpoint over these records holds it.
func (t *Tree) Root() string {
	r := t.root()
	return hex.EncodeToString(r[:])
}

// root is the RFC 6962 tree hash over the n leaves, which tlog.TreeHash computes
// from stored hashes: the complete subtrees folded from the right; SHA-256 of
// nothing for an empty tree, as RFC 6962 and tlog have it.
func (t *Tree) root() tlog.Hash {
	k := bits.OnesCount64(uint64(t.n))
	if k == 0 {
		return sha256.Sum256(nil)
	}
	h := t.subs[k-1]
	for i := k - 2; i >= 0; i-- {
		h = tlog.NodeHash(t.subs[i], h)
	}
	return h
}

// hexSubtrees and setSubtrees carry the tree through an index snapshot.
func (t *Tree) hexSubtrees() []string {
	out := make([]string, bits.OnesCount64(uint64(t.n)))
	for i := range out {
		out[i] = hex.EncodeToString(t.subs[i][:])
	}
	return out
}

func (t *Tree) setSubtrees(n int64, subs []string) error {
	if n < 0 || len(subs) != bits.OnesCount64(uint64(n)) {
		return fmt.Errorf("a tree of %d records has %d complete subtrees, not %d", n, bits.OnesCount64(uint64(max(n, 0))), len(subs))
	}
	*t = Tree{n: n}
	for i, s := range subs {
		if len(s) != 2*len(tlog.Hash{}) {
			return errors.New("subtree hash is not 64 hex digits")
		}
		if _, err := hex.Decode(t.subs[i][:], []byte(s)); err != nil {
			return fmt.Errorf("subtree hash: %w", err)
		}
	}
	return nil
}
