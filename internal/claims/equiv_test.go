package claims

import (
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// newExecCmd works out a command's kinds without splitting it when
// mayNameRunner rules a runner out; the kinds must be the ones the full
// analysis gives.
func TestExecCmdCategories(t *testing.T) {
	cmds := []string{
		"make", "make test", "cd x && make", `bash -c "make"`, `sh -c 'just build'`, `ma\ke`, `"ma"ke`,
		"./scripts/check.sh", "bash ./run.sh --fast", "python -m invoke test", "npx task lint", "uv run task",
		"/usr/bin/make", "env FOO=1 make", "timeout 60 ./ci.sh", "go test ./...", "npm run build", "pytest -q",
	}
	set := loadLabelled(t)
	for _, l := range set {
		for _, h := range l.History {
			cmds = append(cmds, h.Command)
		}
		cmds = append(cmds, l.Calls...)
	}
	c, _, _ := sessionExecs(500)
	cmds = append(cmds, c...)
	for _, cmd := range cmds {
		sameCategories(t, cmd, execCmdCategories)
	}
}

func execCmdCategories(canon string) category { return newExecCmd(canon).cats }

// sameCategories checks that fast, given cmd's canonical form, finds the
// categories the full analysis of cmd finds.
func sameCategories(t *testing.T, cmd string, fast func(canon string) category) {
	t.Helper()
	canon := canonCommand(cmd)
	if canon == "" {
		return
	}
	full := newCmdInfo(cmd)
	if got, want := fast(canon), commandCategories(&full); got != want {
		t.Errorf("%q: categories %b, want %b", cmd, got, want)
	}
}

func FuzzExecCmdCategories(f *testing.F) {
	for _, s := range []string{"make", `bash -c "just x"`, "a.sh", `ta\sk`, "cd a; invoke b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) { sameCategories(t, cmd, execCmdCategories) })
}

func FuzzCanonCommand(f *testing.F) {
	for _, s := range []string{"go test ./...", "Go  test", " ls", "ls ", "$ ls", "ls\t-la", "❯ ls", "ls\v", "echo é", "a\x85"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) {
		if got, want := canonCommand(cmd), strings.ToLower(normalizeCommand(cmd)); got != want {
			t.Errorf("canonCommand(%q) = %q, want %q", cmd, got, want)
		}
	})
}

// TestFailedCmdsFlag holds failedCmds, written only when a command's
// inFailed flag changes, to the map written on every exec, across resets of
// known (more than maxExecs distinct commands) and the map's own bound.
func TestFailedCmdsFlag(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := New()
	ref := map[string]bool{}
	for i := range 40000 {
		cmd := "echo " + strconv.Itoa(rng.IntN(6000))
		if i > 30000 {
			cmd = "echo " + strconv.Itoa(rng.IntN(50)) // re-runs of a few after the resets
		}
		outcome := "succeeded"
		if rng.IntN(3) == 0 {
			outcome = "nonzero_exit"
		}
		d.Executed(cmd, outcome, "")
		if failedOutcome(outcome) {
			if len(ref) < maxExecs {
				ref[cmd] = true
			}
		} else {
			delete(ref, cmd)
		}
		if len(d.failedCmds) != len(ref) {
			t.Fatalf("exec %d: failedCmds holds %d commands, want %d", i, len(d.failedCmds), len(ref))
		}
	}
	for k := range ref {
		if !d.failedCmds[k] {
			t.Errorf("failedCmds lacks %q", k)
		}
	}
}

func FuzzSuccessPositions(f *testing.F) {
	for _, s := range []string{"All tests pass.", "PASSED without errors", "it went fine", "ran fine, without any issues", "Erro ERRO exit Clean gree", "passpass"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := successPositions(text), successPositionsRef(text); !slices.Equal(got, want) {
			t.Errorf("successPositions(%q) = %v, want %v", text, got, want)
		}
	})
}

func BenchmarkSuccessPositions(b *testing.B) {
	for _, src := range []struct{ name, text string }{{"status", strings.Join(statusSentences, " ")}, {"prose", plainProse}} {
		for _, n := range []int{64, 256, 1024, 4096, 65536} {
			text := strings.Repeat(src.text+" ", n/len(src.text)+1)[:n]
			b.Run(src.name+"-walk-"+strconv.Itoa(n), func(b *testing.B) {
				for b.Loop() {
					successPositions(text)
				}
			})
			b.Run(src.name+"-searches-"+strconv.Itoa(n), func(b *testing.B) {
				for b.Loop() {
					successPositionsRef(text)
				}
			})
		}
	}
}

// successPositionsRef is successPositions as one search per stem, as it was
// written before the single walk.
func successPositionsRef(text string) []int {
	out := triggerPositions(text, successStems)
	n := len(out)
	for _, stem := range mannerStems {
		for off := 0; ; {
			i := strings.Index(text[off:], stem)
			if i < 0 {
				break
			}
			if mannerAt(text, off+i, stem) {
				out = append(out, off+i)
			}
			off += i + len(stem)
		}
	}
	if len(out) > n {
		sort.Ints(out)
	}
	return out
}
