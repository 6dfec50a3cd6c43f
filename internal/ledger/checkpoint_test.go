package ledger_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

func newKey(t *testing.T, name string) (note.Signer, note.Verifier) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// checkpoints reads a ledger back with Walk and returns its checkpoint records.
func checkpoints(t *testing.T, path string) ([]ledger.Record, ledger.State, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cps []ledger.Record
	st, err := ledger.WalkIdentity(f, func(r *ledger.Record, _ []byte) error {
		if r.Kind == ledger.KindCheckpoint {
			cps = append(cps, *r)
		}
		return nil
	})
	return cps, st, err
}

func TestCheckpointsCommitToTheRecordsBefore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	signer, verifier := newKey(t, "gateway-1")
	w, idx := openIndexed(t, path)
	admitAll(t, w, idx, sampleBodies())
	if _, _, err := w.Checkpoint(nil); err != nil {
		t.Fatal(err)
	}
	if err := w.SaveIndex(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Restarted from the index snapshot, the tree goes on where it stood.
	w, idx = openIndexed(t, path)
	if !w.Started().FromSnapshot {
		t.Fatalf("snapshot not used: %+v", w.Started())
	}
	admitAll(t, w, idx, moreBodies())
	if _, _, err := w.Checkpoint(signer); err != nil {
		t.Fatal(err)
	}
	w.Close()

	cps, st, err := checkpoints(t, path)
	if err != nil {
		t.Fatalf("the ledger with checkpoints does not verify: %v", err)
	}
	if len(cps) != 2 || cps[0].TreeSize != 4 || cps[1].TreeSize != 7 || st.Records != 8 {
		t.Fatalf("checkpoints %+v in %d records; want tree sizes 4 and 7 in 8", cps, st.Records)
	}
	if cps[0].Note != "" {
		t.Error("an unsigned checkpoint has a note")
	}
	if err := ledger.CheckNote(&cps[0], note.VerifierList(verifier)); !errors.Is(err, ledger.ErrUnsigned) {
		t.Errorf("unsigned checkpoint: CheckNote = %v, want ErrUnsigned", err)
	}
	if err := ledger.CheckNote(&cps[1], note.VerifierList(verifier)); err != nil {
		t.Errorf("signed checkpoint does not verify with its key: %v", err)
	}
	_, other := newKey(t, "gateway-1")
	if err := ledger.CheckNote(&cps[1], note.VerifierList(other)); err == nil {
		t.Error("signed checkpoint verifies with another key of the same name")
	}
	forged := cps[1]
	forged.TreeSize = 5
	if err := ledger.CheckNote(&forged, note.VerifierList(verifier)); err == nil {
		t.Error("a note for 7 records is accepted for a record saying 5")
	}

	// The roots are those of tlog's tree over the record hashes, so tlog's proofs
	// work on them: the later checkpoint provably extends the earlier one.
	var hashes []tlog.Hash
	var leaves int64
	f, _ := os.Open(path)
	ledger.WalkIdentity(f, func(r *ledger.Record, _ []byte) error {
		var h tlog.Hash
		hex.Decode(h[:], []byte(r.Hash))
		hs, err := tlog.StoredHashesForRecordHash(leaves, h, ledger.HashStorage(hashes))
		hashes = append(hashes, hs...)
		leaves++
		return err
	})
	f.Close()
	root := func(cp ledger.Record) tlog.Hash {
		var h tlog.Hash
		hex.Decode(h[:], []byte(cp.Root))
		return h
	}
	proof, err := tlog.ProveTree(7, 4, ledger.HashStorage(hashes))
	if err != nil {
		t.Fatal(err)
	}
	if err := tlog.CheckTree(proof, 7, root(cps[1]), 4, root(cps[0])); err != nil {
		t.Fatalf("tlog cannot prove checkpoint 2 extends checkpoint 1: %v", err)
	}
}

// A checkpoint whose root or size was changed is caught even when the forger
// recomputed the chain after it: Walk recomputes the tree.
func TestForgedCheckpointIsDetected(t *testing.T) {
	for _, tc := range []struct {
		name string
		re   *regexp.Regexp
		to   string
	}{
		{"root", regexp.MustCompile(`"root":"[0-9a-f]{64}"`), `"root":"` + strings.Repeat("f", 64) + `"`},
		{"size", regexp.MustCompile(`"tree_size":4`), `"tree_size":3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "governance.jsonl")
			w, _, err := ledger.Open(path, ledger.Options{Now: fixedClock()})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range sampleBodies() {
				if _, err := w.Append(b); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := w.Checkpoint(nil); err != nil {
				t.Fatal(err)
			}
			w.Close()
			data, _ := os.ReadFile(path)
			lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
			forged := tc.re.ReplaceAllString(lines[4], tc.to)
			if forged == lines[4] {
				t.Fatal("the test did not change the checkpoint")
			}
			if err := os.WriteFile(path, ledger.RechainForTest(t, append(lines[:4:4], forged)), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err = checkpoints(t, path)
			var p *ledger.Problem
			if !errors.As(err, &p) || p.Seq != 5 || !strings.Contains(p.Reason, "checkpoint") {
				t.Fatalf("forged checkpoint: %v, want a problem at seq 5 naming the checkpoint", err)
			}
			if _, _, err := ledger.Open(path, ledger.Options{}); !errors.Is(err, ledger.ErrDamaged) {
				t.Fatalf("Open of a ledger with a forged checkpoint: %v, want ErrDamaged", err)
			}
		})
	}
}

// FuzzOpenCheckpoint: whatever text a validly signed note carries (a note file is
// read from wherever the operator kept it), OpenCheckpoint returns a size and a root
// it parsed, or an error, never a panic; and what it accepts round-trips.
func FuzzOpenCheckpoint(f *testing.F) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)
	keys := note.VerifierList(verifier)
	f.Add(ledger.CheckpointText("fuzz", 7, [32]byte{1, 2, 3}))
	f.Add("fuzz\n-1\nAAAA\n")
	f.Add("fuzz\n7\n\n")
	f.Add("fuzz\n7\n" + strings.Repeat("A", 44) + "\nextra\n")
	f.Fuzz(func(t *testing.T, text string) {
		msg, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			return // not a note text (no final newline, control characters)
		}
		size, root, who, err := ledger.OpenCheckpoint(msg, keys)
		if err != nil {
			return
		}
		var r [32]byte
		if n, err := hex.Decode(r[:], []byte(root)); err != nil || n != 32 || size < 0 || who != "fuzz" {
			t.Fatalf("accepted %q as size %d root %q by %q", text, size, root, who)
		}
		if !strings.HasPrefix(text, strings.SplitN(ledger.CheckpointText("fuzz", size, r), "\n", 2)[0]) {
			t.Fatalf("accepted %q, whose first line is not the origin", text)
		}
	})
}
