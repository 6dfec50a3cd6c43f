package ledger

// keySet is an open-addressing hash table of 64-bit identity hashes, each with a
// one-byte value. The keys are already uniform (keyed SHA-256), so their low bits
// index the table directly, and the table's two arrays are exactly what an index
// snapshot stores: loading one is a copy, not millions of map inserts (which cost
// more than a restart may take on a ledger of a million execs).
type keySet struct {
	keys   []uint64 // 0: empty slot (the hash function never returns 0)
	vals   []byte   // with valued only
	n      int
	valued bool
}

const minSlots = 1 << 10

// slot finds k's slot, or the empty slot where it would go.
func (s *keySet) slot(k uint64) (int, bool) {
	if len(s.keys) == 0 {
		return -1, false
	}
	mask := len(s.keys) - 1
	for i := int(k) & mask; ; i = (i + 1) & mask {
		switch s.keys[i] {
		case k:
			return i, true
		case 0:
			return i, false
		}
	}
}

// get returns k's value and whether k is present.
func (s *keySet) get(k uint64) (byte, bool) {
	i, ok := s.slot(k)
	if !ok || !s.valued {
		return 0, ok
	}
	return s.vals[i], true
}

func (s *keySet) has(k uint64) bool {
	_, ok := s.slot(k)
	return ok
}

// put sets k's value; it reports whether k was new.
func (s *keySet) put(k uint64, v byte) bool {
	// Grow at 3/4 full: linear probing stays short with uniform keys.
	if (s.n+1)*4 > len(s.keys)*3 {
		s.grow()
	}
	i, ok := s.slot(k)
	if s.valued {
		s.vals[i] = v
	}
	if ok {
		return false
	}
	s.keys[i] = k
	s.n++
	return true
}

func (s *keySet) grow() {
	old, oldVals := s.keys, s.vals
	size := max(minSlots, 2*len(old))
	s.keys = make([]uint64, size)
	if s.valued {
		s.vals = make([]byte, size)
	}
	mask := size - 1
	for j, k := range old {
		if k == 0 {
			continue
		}
		i := int(k) & mask
		for s.keys[i] != 0 {
			i = (i + 1) & mask
		}
		s.keys[i] = k
		if s.valued {
			s.vals[i] = oldVals[j]
		}
	}
}

// each calls fn for every key and value, in table order.
func (s *keySet) each(fn func(k uint64, v byte)) {
	for i, k := range s.keys {
		if k != 0 {
			v := byte(0)
			if s.valued {
				v = s.vals[i]
			}
			fn(k, v)
		}
	}
}
