package ledger

import (
	"math/rand/v2"
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
