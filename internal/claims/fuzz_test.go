package claims

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// timeLimit bounds one Check on 1 MiB. Unloaded it takes well under a
// second; the limit is loose because tests run with -race on shared
// machines, and what it must catch is super-linear work, which on 1 MiB
// takes minutes.
const timeLimit = 20 * time.Second

func checkInvariants(t *testing.T, text string, got []Claim) {
	t.Helper()
	if len(got) > maxClaims {
		t.Fatalf("%d claims, more than %d", len(got), maxClaims)
	}
	for _, c := range got {
		switch c.Reason {
		case reasonNoCall, reasonContradicts, reasonMarkup:
		default:
			t.Fatalf("unknown reason %q", c.Reason)
		}
		if len(c.Excerpt) > maxExcerpt || !utf8.ValidString(c.Excerpt) {
			t.Fatalf("bad excerpt (%d bytes, valid=%v) for %q", len(c.Excerpt), utf8.ValidString(c.Excerpt), text)
		}
		if c.Command != normalizeCommand(c.Command) {
			t.Fatalf("command %q is not normalised", c.Command)
		}
	}
}

// fuzzDetector returns a detector with a history that makes every rule
// reachable: successes and failures of several kinds, with output.
func fuzzDetector(history string) *Detector {
	d := New()
	d.Executed("go test ./...", "nonzero_exit", "--- FAIL: TestX\nFAIL\tx\t0.1s")
	d.Executed("npm run build", "succeeded", "built in 2s\ndist/index.html 1 kB")
	d.Executed("rm -rf build", "denied", "")
	d.Executed("pytest -q", "timed_out", "")
	for _, line := range strings.Split(history, "\n") {
		if line != "" {
			d.Executed(line, "error", line)
		}
	}
	return d
}

func FuzzCheck(f *testing.F) {
	for _, l := range loadLabelled(f) {
		f.Add(l.Text, "", "", false)
	}
	f.Add("I ran `ls` and got:\n```\na\nb\n```", "ls", "ls", false)
	f.Add("```\n$ echo hi\nhi\n```", "", "", true)
	f.Add("<function_calls><invoke name=\"exec\"><parameter name=\"command\">x</parameter></invoke></function_calls>", "", "", true)
	f.Add("{\"name\":\"exec\",\"arguments\":\"{\\\"command\\\":\\\"ls\\\"}\"}", "", "", false)
	f.Add("I ran `\xff\xfe` and `é`"+strings.Repeat("é", 300), "\xff", "", false)
	f.Add("All tests pass.", "", "", true)
	f.Fuzz(func(t *testing.T, text, history, call string, pad bool) {
		d := fuzzDetector(history)
		calls := []string{call}
		checkInvariants(t, text, d.Check(text, calls))
		if !pad {
			return
		}
		// The input at both ends of 1 MiB of neutral prose. Repeating the
		// input instead would make every padded run slow and starve the
		// search; dense repetition is TestCheckLargeInputBounded's.
		filler := strings.Repeat(plainProse+"\n\n", max(0, (1<<20-2*len(text))/(len(plainProse)+2)))
		big := text + "\n\n" + filler + text
		start := time.Now()
		checkInvariants(t, big, fuzzDetector(history).Check(big, calls))
		if el := time.Since(start); el > timeLimit {
			t.Fatalf("Check on %d bytes took %v", len(big), el)
		}
	})
}

// TestCheckLargeInputBounded feeds 1 MiB messages built to hit each rule as
// often as possible, against a full history, and bounds the time.
func TestCheckLargeInputBounded(t *testing.T) {
	d := New()
	for i := range maxExecs {
		d.Executed("go test ./pkg"+strings.Repeat("x", i%50)+" -run T", []string{"nonzero_exit", "succeeded"}[i%2], strings.Repeat("ok line of output\n", 20))
	}
	units := []string{
		"I ran `ls -la /x%d` and got `y`. ",
		"I ran `go test ./...` and all tests pass. ",
		"```\n$ cat f%d\nhello world\n```\n",
		"Output:\n```\nfabricated line number %d here\nanother fabricated line\n```\n",
		"<tool_call>{\"name\":\"exec\",\"arguments\":{\"command\":\"ls %d\"}}</tool_call>\n",
		"<function_calls>",
		"{\"name\":\"exec\",",
		"`",
		"P",
		"I ran git log -%d and ",
		"| `go test ./...` | ✅ passed |\n",
		strings.Repeat("word ", 2000) + "\n",
	}
	for _, u := range units {
		var b strings.Builder
		for i := 0; b.Len() < 1<<20; i++ {
			if strings.Contains(u, "%d") {
				b.WriteString(strings.ReplaceAll(u, "%d", strings.Repeat("z", i%7)+string(rune('a'+i%26))))
			} else {
				b.WriteString(u)
			}
		}
		text := b.String()
		start := time.Now()
		got := d.Check(text, []string{"make"})
		el := time.Since(start)
		checkInvariants(t, text[:64], got)
		if el > timeLimit {
			t.Errorf("unit %.30q: Check on %d bytes took %v", u, len(text), el)
		}
		t.Logf("unit %.30q: %v, %d claims", u, el, len(got))
	}
}

// TestCheckDenseLabelledBounded repeats a sample of labelled turns to 1 MiB
// each: every sentence is a candidate, so the per-message work bounds are
// what keeps the time down.
func TestCheckDenseLabelledBounded(t *testing.T) {
	set := loadLabelled(t)
	for i := 0; i < len(set); i += 41 {
		text := set[i].Text
		big := strings.Repeat(text+"\n", max(1, (1<<20)/(len(text)+1)))
		start := time.Now()
		got := fuzzDetector("").Check(big, []string{"make"})
		if el := time.Since(start); el > timeLimit {
			t.Errorf("%s repeated to %d bytes took %v", set[i].ID, len(big), el)
		}
		checkInvariants(t, set[i].ID, got)
	}
}

func TestExcerpt(t *testing.T) {
	text := strings.Repeat("é", 500) + "I ran `x`" + strings.Repeat("ü", 500)
	for _, r := range [][2]int{{0, 0}, {0, len(text)}, {1000, 1009}, {len(text) - 1, len(text)}, {3, 2}, {-5, 4000}} {
		e := excerpt(text, r[0], r[1])
		if len(e) > maxExcerpt || !utf8.ValidString(e) {
			t.Errorf("excerpt(%d,%d): %d bytes, valid=%v", r[0], r[1], len(e), utf8.ValidString(e))
		}
	}
	if e := excerpt(text, 1000, 1009); !strings.Contains(e, "I ran `x`") {
		t.Errorf("excerpt lost the claim: %q", e)
	}
}

// reClauseSplit is the definition clauseSplits implements by hand.
var reClauseSplit = regexp.MustCompile(`;|,\s*but\b|\s+but\s+|\s+—\s+|\s+–\s+|\s+-\s+`)

// FuzzClauseSplits holds clauseSplits to the expression it replaces.
func FuzzClauseSplits(f *testing.F) {
	for _, s := range []string{"", ";", "a; b", "tests pass, but lint fails", ",but", ", butter", ",  but_x", "a but b", "a  but\tb", "a \t—  b", "a – b", "a - b",
		"a -b", "a- b", "a\n-\nb", "x,but", "a but", "but b", " - - - ", ";; ,but but - x", "a \xe2\x80 b", "a\v-\vb", "a\f-\fb", "a — — b", "é but é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := reClauseSplit.FindAllStringIndex(s, -1)
		got := clauseSplits(s, nil)
		if len(got) != len(want) {
			t.Fatalf("clauseSplits(%q) = %v, want %v", s, got, want)
		}
		for i := range got {
			if got[i][0] != want[i][0] || got[i][1] != want[i][1] {
				t.Fatalf("clauseSplits(%q) = %v, want %v", s, got, want)
			}
		}
	})
}

// FuzzNeedleCategories holds needleCategories to the substring searches it replaces.
func FuzzNeedleCategories(f *testing.F) {
	for _, s := range []string{"", "t", "go test ./...", "npm ci && npm run lint", "kubectl apply -f x.yaml", "docker-compose up -d", "pip install -r req.txt",
		"cargo build --release", "make", "tsc --noemit", "alembic upgrade head", "systemctl restart nginx", "yarn", "nginx -s reload", "uv sync && pytest"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, canon string) {
		var want category
		for _, n := range catNeedles {
			for _, s := range n.needles {
				if strings.Contains(canon, s) {
					want |= n.cat
					break
				}
			}
		}
		if got := needleCategories(canon); got != want {
			t.Fatalf("needleCategories(%q) = %b, want %b", canon, got, want)
		}
	})
}

// succVocabulary holds every word of the success expressions and some that are
// not, so that generated clauses reach every alternative.
// succSeeds are success clauses of every rule's kinds.
var succSeeds = []string{"all tests pass", "the build passes now", "it passed", "they all succeeded", "3 passed, 0 failed", "0\tfailures", "lint is clean",
	"exited with code 0", "built without any errors", "everything is green", "all of them are green", "both runs passes", "tsc ok", "deployed   successfully",
	"the migration went through fine", "installed all cleanly", "completed without a hitch", "ran smoothly"}

// succClauses reads fuzz bytes both as a clause of their own and as a choice of
// words from succVocabulary joined by seps.
func succClauses(data []byte, seps []string) []string {
	var b strings.Builder
	for i := 0; i+1 < len(data); i += 2 {
		b.WriteString(succVocabulary[int(data[i])%len(succVocabulary)])
		b.WriteString(seps[int(data[i+1])%len(seps)])
	}
	return []string{string(data), b.String()}
}

var succVocabulary = strings.Fields(`all of the 12 0 3 unit integration e2e remaining other test tests spec specs suite suites test suite cases checks
	now are have still both is has were was run pass passes passed passing green succeed succeeded succeeds successful successfully
	build builds built compilation compile compiled compiles image bundle also completed works clean cleanly ok fine without any errors error warnings issues
	lint linter linting vet type check typecheck typechecks type-check tsc format formatter happy finished ran exited exit exits worked installed deployed
	applied started restarted rolled out upgraded migrated synced updated no code status with everything it they them runs failures failed failing fail
	the rest orders package proxy returns 502 fine, but ; - — x went through smoothly problems a hitch`)

// FuzzSuccessMust checks that each success rule's must is a necessary condition:
// where it says no, the expression finds nothing.
func FuzzSuccessMust(f *testing.F) {
	for _, s := range succSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, cl := range succClauses(data, []string{" ", " ", " ", "\t", "  ", "\n", ", "}) {
			for i, r := range succRules {
				if !r.must(cl) && r.re.FindStringIndex(cl) != nil {
					t.Fatalf("rule %d: must(%q) is false, but %v matches %q", i, cl, r.re, r.re.FindString(cl))
				}
			}
		}
	})
}

// splitShellRef is splitShell as first written, with a strings.Builder per token.
func splitShellRef(s string) [][]string {
	var (
		out   [][]string
		cur   []string
		tok   strings.Builder
		inTok bool
		piped bool // current simple command is a pipe consumer
		quote byte
	)
	endTok := func() {
		if inTok {
			cur = append(cur, tok.String())
			tok.Reset()
			inTok = false
		}
	}
	endCmd := func(nextPiped bool) {
		endTok()
		if len(cur) > 0 && !piped {
			out = append(out, cur)
		}
		cur = nil
		piped = nextPiped
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch {
			case c == quote:
				quote = 0
			case c == '\\' && quote == '"' && i+1 < len(s):
				i++
				tok.WriteByte(s[i])
			default:
				tok.WriteByte(c)
			}
			continue
		}
		switch c {
		case '\'', '"':
			quote = c
			inTok = true
		case '\\':
			if i+1 < len(s) {
				i++
				tok.WriteByte(s[i])
				inTok = true
			}
		case ' ', '\t', '\r':
			endTok()
		case '\n', ';', '(', ')':
			endCmd(false)
		case '&':
			if i+1 < len(s) && s[i+1] == '&' {
				i++
			} else if inTok || tok.Len() > 0 {
				// "2>&1" and friends are part of a redirection
				tok.WriteByte(c)
				continue
			}
			endCmd(false)
		case '|':
			if i+1 < len(s) && s[i+1] == '|' {
				i++
				endCmd(false)
			} else {
				endCmd(true)
			}
		default:
			tok.WriteByte(c)
			inTok = true
		}
	}
	endCmd(false)
	return out
}

// FuzzSplitShellMatchesReference holds splitShell to splitShellRef.
func FuzzSplitShellMatchesReference(f *testing.F) {
	for _, s := range []string{"", "ls", "cd /w && go test ./... 2>&1 | tail -20", `echo "a \"b\" c" 'd e' f\ g`, "a;b\nc (d) e||f|g", "''", `""`, "x &", "2>&1 &", `a\`, `"unterminated`,
		"sudo -E env A=1 timeout 5 bash -c 'make test'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := splitShell(s), splitShellRef(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("splitShell(%q) = %q, reference %q", s, got, want)
		}
	})
}

// FuzzObjGates checks that each kind-of-work expression's literals are a
// necessary condition: where none occurs, the expression does not match.
func FuzzObjGates(f *testing.F) {
	for _, s := range []string{"all tests pass", "the build passes now", "three tests fail in the orders package", "lint is clean", "the typecheck is happy",
		"the migration went through", "rolled out the manifests", "helm release applied", "dependencies installed", "the daemon restarted",
		"container started", "unit tests", "e2e specs", "compiled the bundle", "format check", "type check", "vet"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i, r := range objRules {
			if !hasAny(s, r.needs) && r.re.MatchString(s) {
				t.Fatalf("rule %d: none of %q occurs, but %v matches %q", i, r.needs, r.re, r.re.FindString(s))
			}
		}
	})
}

// FuzzSuccFindAll checks that each success rule's findAll, which tries the
// anchored expression at each word start, finds what the expression finds.
func FuzzSuccFindAll(f *testing.F) {
	for _, s := range append(succSeeds, "rebuild passes; xbuild passes, the_build passes", "succeeded succeeded no errors", "all tests passall tests pass", "é build passes") {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, cl := range succClauses(data, []string{" ", " ", " ", "\t", "  ", "\n", ", ", "", "_", "é"}) {
			for i, r := range succRules {
				var got [][2]int
				for _, m := range findAll(i, cl, nil) {
					got = append(got, m)
				}
				var want [][2]int
				for _, m := range r.re.FindAllStringIndex(cl, -1) {
					want = append(want, [2]int{m[0], m[1]})
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("rule %d on %q: findAll %v, FindAllStringIndex %v", i, cl, got, want)
				}
			}
		}
	})
}
