package claims

import (
	"math/rand"
	"regexp/syntax"
	"strconv"
	"strings"
	"testing"
)

// latestOfWalk is latestOf as it was: a walk back over the history.
func latestOfWalk(d *Detector, cat category) *execRec {
	for i := len(d.execs) - 1; i >= 0; i-- {
		if e := &d.execs[i]; cat == 0 || e.cats&cat != 0 {
			return e
		}
	}
	return nil
}

// TestLatestOf holds the per-category latest positions to the walk they
// replace, through several compactions of the history.
func TestLatestOf(t *testing.T) {
	if catRunner != 1<<(numCats-1) {
		t.Fatalf("numCats (%d) does not cover catRunner (%#x)", numCats, catRunner)
	}
	cmds := []string{"go test ./...", "npm run build", "eslint .", "git status", "ls -la", "./deploy.sh",
		"kubectl apply -f k8s/", "pip install -r requirements.txt", "alembic upgrade head", "systemctl restart nginx",
		"make", "cargo build --release", "echo hi", "pytest -q tests/test_api.py"}
	rng := rand.New(rand.NewSource(1))
	d := New()
	nils := 0
	cats := []category{0, catTest, catLint, catBuild, catInstall, catDeploy, catMigration, catService, catRunner, catChecks, ^category(0)}
	for i := 0; i < 3*maxExecs+17; i++ {
		// A stretch of commands of no kind longer than the history leaves
		// every kind's latest run dropped.
		cmd := cmds[rng.Intn(len(cmds))]
		if i >= maxExecs && i < 2*maxExecs+maxExecs/2 {
			cmd = "git log -n " + string(rune('0'+i%10))
		}
		d.Executed(cmd, "succeeded", "")
		if i%7 == 0 || i%maxExecs < 3 || i%maxExecs > maxExecs-3 {
			for _, c := range cats {
				if got, want := d.latestOf(c), latestOfWalk(d, c); got != want {
					t.Fatalf("after %d execs, latestOf(%#x) = %p, the walk finds %p", i+1, c, got, want)
				} else if got == nil && c != 0 {
					nils++
				}
			}
		}
	}
	if nils == 0 {
		t.Fatal("no kind's latest run was ever dropped")
	}
}

// plainExecInRef is plainExecIn before it hashed the clause's byte pairs.
func plainExecInRef(d *Detector, cl string) string {
	seen := map[*execCmd]bool{}
	for i, n := len(d.execs)-1, 0; i >= 0 && n < 200; i, n = i-1, n+1 {
		if l := d.execs[i].plainLen; l == 0 || int(l) > len(cl) {
			continue
		}
		e := d.execs[i].execCmd
		if seen[e] {
			continue
		}
		seen[e] = true
		if e.plain && containsAtBoundary(cl, e.info.canon) {
			return e.info.canon
		}
	}
	return ""
}

func FuzzPlainExecIn(f *testing.F) {
	f.Add("pnpm install finished without errors", "pnpm install\ngo test ./...\nnpm run build")
	f.Add("npm run build passes now", "npm run build\nnpm run build --watch\ngit status")
	f.Add("the build passes now.", "make build\nls -la")
	f.Fuzz(func(t *testing.T, cl, history string) {
		d := New()
		for _, line := range strings.Split(history, "\n") {
			d.Executed(line, "nonzero_exit", "")
		}
		c := &checker{d: d}
		if got, want := c.plainExecIn(cl), plainExecInRef(d, cl); got != want {
			t.Fatalf("plainExecIn(%q) = %q, want %q", cl, got, want)
		}
	})
}

// FuzzCanonCategories holds the categories latestOf and genericRun take for
// this turn's calls to those of the calls parsed whole.
func FuzzCanonCategories(f *testing.F) {
	for _, s := range []string{"make", `bash -c "just x"`, "a.sh", `ta\sk`, "cd a; invoke b", "go test ./...", "./scripts/ci.sh", "  NPM   run build "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cmd string) { sameCategories(t, cmd, canonCategories) })
}

// TestSuccRulesStartAtWords checks findAll's premise: every alternative of
// every success expression opens with \b (FuzzSuccFindAll checks that a word
// byte follows it, by comparing the matches).
func TestSuccRulesStartAtWords(t *testing.T) {
	var opens func(re *syntax.Regexp) bool
	opens = func(re *syntax.Regexp) bool {
		switch re.Op {
		case syntax.OpWordBoundary:
			return true
		case syntax.OpConcat, syntax.OpCapture:
			return len(re.Sub) > 0 && opens(re.Sub[0])
		case syntax.OpAlternate:
			for _, sub := range re.Sub {
				if !opens(sub) {
					return false
				}
			}
			return true
		}
		return false
	}
	for i, r := range succRules {
		re, err := syntax.Parse(r.re.String(), syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if !opens(re) {
			t.Errorf("rule %d: an alternative of %v does not open with \\b", i, r.re)
		}
	}
}

// TestSuccStarts checks the success rules' start bytes on the words their
// alternatives open with (FuzzSuccFindAll compares the matches).
func TestSuccStarts(t *testing.T) {
	for i, r := range succRules {
		for _, w := range []string{"all", "tests", "suite", "specs", "e2e", "build", "built", "compiled", "image", "bundle", "successfully",
			"lint", "vet", "tsc", "format", "type", "completed", "finished", "ran", "exited", "worked", "succeeded", "installed", "deployed",
			"applied", "started", "restarted", "rolled", "upgraded", "migrated", "synced", "updated", "no", "without", "exit", "everything",
			"it", "they", "both", "went", "0", "12"} {
			if m := r.re.FindStringIndex(w + " passed successfully"); m != nil && m[0] == 0 && !succStarts[i][w[0]] {
				t.Errorf("rule %d matches at %q but its start bytes lack %q", i, w, w[0])
			}
		}
	}
}

// TestCmdTable holds known to a map through growth and resets: every command
// run again before a reset shares its record, and none after.
func TestCmdTable(t *testing.T) {
	d := New()
	ref := map[string]*execCmd{}
	rng := rand.New(rand.NewSource(2))
	var cmds []string
	for i := 0; i < 3*maxExecs; i++ {
		cmd := "echo " + strconv.Itoa(i)
		if len(cmds) > 0 && rng.Intn(3) == 0 {
			cmd = cmds[rng.Intn(len(cmds))]
		} else {
			cmds = append(cmds, cmd)
		}
		before := d.known.n
		d.Executed(cmd, "succeeded", "")
		x, _ := d.known.find(cmd)
		if x == nil {
			t.Fatalf("%q not found after its exec", cmd)
		}
		if d.known.n < before { // reset: the reference starts over too
			ref = map[string]*execCmd{}
		}
		if r, ok := ref[cmd]; ok && r != x {
			t.Fatalf("%q: a new record while the old one is known", cmd)
		}
		ref[cmd] = x
		if d.known.n != len(ref) {
			t.Fatalf("known holds %d commands, the reference %d", d.known.n, len(ref))
		}
	}
	if !d.knownReset {
		t.Fatal("known was never reset")
	}
}
