package tail_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/tail"
)

// TestModelRandomized drives a Follower with random writer behaviour (append, partial
// line, completion, in-place rewrite, truncation, atomic replace, rename away and a
// new file, delete, and follower restarts) and checks it against a simple model:
// every complete line ever written is delivered; nothing but complete lines is
// delivered; a line is delivered twice only after the follower reported a rewrite or
// replacement.
func TestModelRandomized(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, seed) })
	}
}

func runModel(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 99))
	dir := t.TempDir()
	path := filepath.Join(dir, "s.jsonl")
	var (
		lines    []string // complete lines in the file now
		partial  string   // unterminated tail written so far
		pending  string   // the whole line partial belongs to
		n        int
		written  = map[string]bool{}
		got      = map[string]int{}
		rereadOK bool // a rewrite/replace was reported: re-delivery allowed
	)
	write := func() {
		if err := os.WriteFile(path, []byte(strings.Join(append(lines, ""), "\n")+partial), 0o600); err != nil {
			t.Fatal(err)
		}
		if len(lines) == 0 {
			os.WriteFile(path, []byte(partial), 0o600)
		}
	}
	appendRaw := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(s)
		f.Close()
	}
	newLine := func() string { n++; return fmt.Sprintf(`{"n":%d,"pad":"%s"}`, n, strings.Repeat("p", rng.IntN(300))) }
	write()
	fol, err := tail.Open(path, 1<<20, nil, tail.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { fol.Close() }()
	poll := func() {
		var batch []string
		change, err := fol.Poll(func(l tail.Line) error {
			batch = append(batch, string(l.Bytes))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A rewrite or replacement is reported by the same Poll that reads again.
		if change == tail.Rewritten || change == tail.Replaced {
			rereadOK = true
		}
		for _, s := range batch {
			if !written[s] {
				t.Fatalf("delivered %q, which was never a complete line", s)
			}
			got[s]++
			if got[s] > 1 && !rereadOK {
				t.Fatalf("line %.60q delivered twice with no rewrite reported", s)
			}
		}
	}
	for step := 0; step < 150; step++ {
		op := rng.IntN(100)
		if os.Getenv("MODEL_TRACE") != "" {
			t.Logf("step %d op %d lines %d partial %d pos %+v", step, op, len(lines), len(partial), fol.Position())
		}
		switch {
		case op < 40: // append whole lines
			if partial != "" {
				appendRaw(pending[len(partial):] + "\n")
				lines, written[pending] = append(lines, pending), true
				partial, pending = "", ""
			}
			for range 1 + rng.IntN(3) {
				l := newLine()
				appendRaw(l + "\n")
				lines, written[l] = append(lines, l), true
			}
		case op < 55 && partial == "": // half a line
			pending = newLine()
			partial = pending[:1+rng.IntN(len(pending)-1)]
			appendRaw(partial)
		case op < 65 && partial != "": // the rest of it
			appendRaw(pending[len(partial):] + "\n")
			lines, written[pending] = append(lines, pending), true
			partial, pending = "", ""
		case op < 70 && partial == "": // in-place rewrite of the same entries plus one
			l := newLine()
			lines, written[l] = append(lines, l), true
			write()
		case op < 73 && partial == "": // truncation to zero, then rewrite
			os.WriteFile(path, nil, 0o600)
			poll()
			write()
		case op < 77 && partial == "": // atomic replace
			l := newLine()
			lines, written[l] = append(lines, l), true
			os.WriteFile(path+".tmp", []byte(strings.Join(lines, "\n")+"\n"), 0o600)
			os.Rename(path+".tmp", path)
		case op < 80 && partial == "": // rename away, then a new file under the name
			archive := path + fmt.Sprintf(".reset.%d", step)
			os.Rename(path, archive)
			poll()
			if !fol.Done() {
				t.Fatal("follower not done after its file was renamed away")
			}
			// If the file was replaced and renamed before the follower saw the
			// replacement, the archive is another file: as the daemon's discovery does,
			// read it whole (entries it shares with the old one come again).
			if arch, err := tail.Open(archive, 1<<20, nil, tail.Position{}); err == nil {
				if !tail.SameContent(fol.Identity(), arch) {
					rereadOK = true
					old := fol
					fol = arch
					poll()
					fol = old
				}
				arch.Close()
			}
			fol.Close()
			lines = nil
			write()
			fol, err = tail.Open(path, 1<<20, nil, tail.Position{})
			if err != nil {
				t.Fatal(err)
			}
		case op < 90: // restart the follower from its saved identity and position
			id, pos := fol.Identity(), fol.Position()
			fol.Close()
			fol, err = tail.Open(path, 1<<20, &id, pos)
			if err != nil {
				t.Fatal(err)
			}
			if fol.ResumeRejected() {
				rereadOK = true
			}
		}
		if rng.IntN(3) > 0 {
			poll()
		}
	}
	if partial != "" {
		appendRaw(pending[len(partial):] + "\n")
		written[pending] = true
	}
	poll()
	for l := range written {
		if got[l] == 0 {
			t.Errorf("line %.40q was written but never delivered", l)
		}
	}
}
