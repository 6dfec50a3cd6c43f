package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestTreeMatchesTlog(t *testing.T) {
	var stored HashStorage
	var tr Tree
	for n := int64(0); n < 300; n++ {
		want, err := tlog.TreeHash(n, stored)
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.root(); got != want {
			t.Fatalf("root of %d records = %v, tlog says %v", n, got, want)
		}
		// A restored copy (as an index snapshot carries it) goes on identically.
		var back Tree
		if err := back.setSubtrees(tr.n, tr.hexSubtrees()); err != nil {
			t.Fatal(err)
		}
		if back.root() != tr.root() || back.n != tr.n {
			t.Fatalf("tree of %d records does not survive hexSubtrees/setSubtrees", n)
		}
		leaf := sha256.Sum256(fmt.Appendf(nil, "record %d", n))
		if err := tr.Add(hex.EncodeToString(leaf[:])); err != nil {
			t.Fatal(err)
		}
		// tlog stores leaves given as record hashes; ours are the record hashes.
		hs, err := tlog.StoredHashesForRecordHash(n, tlog.Hash(leaf), stored)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
	}
}

func TestTreeRejectsBadInput(t *testing.T) {
	var tr Tree
	for _, h := range []string{"", "abc", "zz" + hex.EncodeToString(make([]byte, 31))} {
		if tr.Add(h) == nil {
			t.Errorf("add(%q) accepted", h)
		}
	}
	if tr.n != 0 {
		t.Fatalf("rejected leaves were counted: n = %d", tr.n)
	}
	if err := tr.setSubtrees(3, []string{hex.EncodeToString(make([]byte, 32))}); err == nil {
		t.Error("3 records with 1 subtree accepted (3 has two bits set)")
	}
	if err := tr.setSubtrees(-1, nil); err == nil {
		t.Error("negative size accepted")
	}
}

// BenchmarkTreeAdd: what keeping the Merkle tree adds per record, to every append
// and to every record a full read of the ledger checks.
func BenchmarkTreeAdd(b *testing.B) {
	leaf := sha256.Sum256([]byte("record"))
	h := hex.EncodeToString(leaf[:])
	var tr Tree
	for b.Loop() {
		if err := tr.Add(h); err != nil {
			b.Fatal(err)
		}
	}
}
