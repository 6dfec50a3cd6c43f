package ledger

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// keySet against a map, through growth, with keys that share low bits (long probe
// runs) as well as uniform ones.
func TestKeySetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := keySet{valued: true}
	ref := map[uint64]byte{}
	for i := range 50_000 {
		k := rng.Uint64() | 1
		if i%3 == 0 {
			k = uint64(i%256)<<40 | 7 // same low bits: one home slot for many keys
		}
		v := byte(rng.IntN(256))
		_, had := ref[k]
		if added := s.put(k, v); added == had {
			t.Fatalf("put(%x) added=%v, map had it=%v", k, added, had)
		}
		ref[k] = v
	}
	if s.n != len(ref) {
		t.Fatalf("n = %d, want %d", s.n, len(ref))
	}
	for k, v := range ref {
		if got, ok := s.get(k); !ok || got != v {
			t.Fatalf("get(%x) = %d, %v; want %d", k, got, ok, v)
		}
	}
	for range 10_000 {
		k := rng.Uint64() | 1
		if _, in := ref[k]; !in && s.has(k) {
			t.Fatalf("has(%x) for a key never put", k)
		}
	}
	if s.n*4 > len(s.keys)*3 {
		t.Fatalf("%d keys in %d slots: over 3/4 full", s.n, len(s.keys))
	}
}

// TestExecKeysAreTheIdentityHashes: snapshots hold these keys, so the shortcut must
// give exactly what hashing each identity on its own gives.
func TestExecKeysAreTheIdentityHashes(t *testing.T) {
	x := NewIndex()
	for _, c := range [][5]string{
		{"openclaw", "main", "s1", "call_1", "e1"},
		{"openclaw", "main", "s1", "call_1", "e2"},
		{"", "", "", "", ""},
		{"openclaw", "a", "s", strings.Repeat("id|", 40), strings.Repeat("x", 200)},
	} {
		k, sk := x.execKeys(c[0], c[1], c[2], c[3], c[4])
		if want := x.hash(c[0], c[1], c[2], c[3]); k != want {
			t.Errorf("%q: identity %x, want %x", c, k, want)
		}
		if want := x.hash(c[0], c[1], c[2], c[3], c[4]); sk != want {
			t.Errorf("%q: step %x, want %x", c, sk, want)
		}
	}
}
