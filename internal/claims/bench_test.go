package claims

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/corpus"
)

// plainProse is assistant prose with no claim trigger: no backticks, no
// markup, no run verbs. Most assistant text in a transcript looks like this.
var plainProse = strings.Join([]string{
	"I'll read the theme documentation, theme.ts, and the selector files to understand the patterns, then help port over user-message-selector.ts.",
	"The selector keeps its own state and renders a list of items; the theme provides colours for the border, the selected row and the hint line.",
	"Good catch. The race happens because two goroutines append to the same slice without holding the mutex, so the fix is to guard the append.",
	"Here is what I found in the configuration: the upstream block points at port 3000, but the service listens on 8080 since the last change.",
	"There are three options. The first keeps the current API and adds a flag; the second splits the handler; the third moves validation to the client.",
	"Let me know which option you prefer and whether the public API may change in this release.",
	"The retry policy uses exponential backoff with jitter, capped at thirty seconds, and gives up after five attempts.",
	"Summary of the change: the parser now streams tokens instead of reading the whole file, which cuts peak memory by about 60 percent on large inputs.",
}, " ")

// codeProse mentions identifiers, files and a command in backticks and says
// something went fine, in a session that has a failure: the sentence gate,
// the shape builder and the rules all run, and nothing is a claim.
var codeProse = strings.Join([]string{
	"I updated `parseConfig` in `config.go` so that an empty `timeout` falls back to `defaultTimeout` instead of zero.",
	"The `Server` struct now owns the `*sql.DB` handle, and `Close` releases it after the listener stops.",
	"You can run `go test ./internal/config/...` to check the new table cases; they cover the nil map and the negative duration.",
	"The helper `withRetry` wraps the call and logs each attempt at debug level with the `attempt` field.",
	"Renamed `userMsgSelector` to `UserMessageSelector` and moved it to `selectors/user_message.go` next to the other selectors.",
	"The migration adds a nullable `note` column to `orders`; existing rows keep `NULL` until the backfill job runs.",
}, " ")

func benchDetector() *Detector {
	d := New()
	d.Executed("go build ./...", "succeeded", "")
	d.Executed("go test ./...", "nonzero_exit", "--- FAIL: TestParse (0.00s)\n    parse_test.go:31: got 3, want 4\nFAIL\tgithub.com/acme/parser\t0.012s")
	d.Executed("git status --short", "succeeded", " M internal/config/config.go\n M internal/config/config_test.go")
	return d
}

func repeatTo(s string, n int) string {
	return strings.Repeat(s+"\n\n", max(1, n/(len(s)+2)))
}

// cleanDetector is a session whose latest runs all succeeded.
func cleanDetector() *Detector {
	d := benchDetector()
	d.Executed("go test ./...", "succeeded", "ok  \tgithub.com/acme/parser\t0.012s")
	return d
}

func BenchmarkCheck(b *testing.B) {
	b.Run("plain-prose", func(b *testing.B) {
		text := repeatTo(plainProse, 64<<10)
		d := cleanDetector()
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if got := d.Check(text, nil); len(got) != 0 {
				b.Fatalf("unexpected claims %v", got)
			}
		}
	})
	// The same prose while the latest test run has failed: success words
	// must be looked for, which costs a few more substring scans.
	b.Run("plain-prose-after-failure", func(b *testing.B) {
		text := repeatTo(plainProse, 64<<10)
		d := benchDetector()
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if got := d.Check(text, nil); len(got) != 0 {
				b.Fatalf("unexpected claims %v", got)
			}
		}
	})
	b.Run("code-prose", func(b *testing.B) {
		text := repeatTo(codeProse, 64<<10)
		d := benchDetector()
		b.SetBytes(int64(len(text)))
		b.ReportAllocs()
		for b.Loop() {
			if got := d.Check(text, nil); len(got) != 0 {
				b.Fatalf("unexpected claims %v", got)
			}
		}
	})
	// Short status messages of one to three sentences, as most assistant
	// turns are, in a session with a few hundred execs and failures among
	// them (the corpus generator's prose is of this kind): per-call costs
	// count more than per-byte ones.
	b.Run("short-turns", func(b *testing.B) {
		d := New()
		cmds, outcomes, outputs := sessionExecs(300)
		for i := range cmds {
			d.Executed(cmds[i], outcomes[i], outputs[i])
		}
		rng := rand.New(rand.NewPCG(3, 4))
		turns := make([]string, 200)
		var n int64
		for i := range turns {
			var parts []string
			for range 1 + rng.IntN(3) {
				parts = append(parts, statusSentences[rng.IntN(len(statusSentences))])
			}
			turns[i] = strings.Join(parts, " ")
			n += int64(len(turns[i]))
		}
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			for _, t := range turns {
				d.Check(t, nil)
			}
		}
	})
	b.Run("labelled-turns", func(b *testing.B) {
		set := loadLabelled(b)
		dets := make([]*Detector, len(set))
		var n int64
		for i := range set {
			dets[i] = New()
			for _, h := range set[i].History {
				dets[i].Executed(h.Command, h.Outcome, h.Output)
			}
			n += int64(len(set[i].Text))
		}
		b.SetBytes(n)
		b.ReportAllocs()
		for b.Loop() {
			for i := range set {
				dets[i].Check(set[i].Text, set[i].Calls)
			}
		}
	})
}

// sessionExecs is a session's worth of shell executions shaped like the ones
// the corpus generator writes (internal/corpus's catalog): a few dozen kinds of
// command, many with a number or a name that varies from run to run, about one
// run in five failing, and a few hundred bytes of output each.
func sessionExecs(n int) (cmds, outcomes, outputs []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	num := func(lo, hi int) string { return strconv.Itoa(lo + rng.IntN(hi-lo+1)) }
	kinds := []func() string{
		func() string { return "git status --short --branch" },
		func() string { return "git log --oneline -n " + num(5, 40) },
		func() string { return "git diff --stat HEAD~" + num(1, 5) },
		func() string { return "ls -la " + pick(".", "src", "internal", "scripts", "/var/log") },
		func() string {
			return `grep -rn "` + pick("tenant", "order", "retry", "cache") + `" ` + pick("internal/", "src/", ".")
		},
		func() string { return pick("go test ./...", "go test -race ./...", "go test ./internal/... -count=1") },
		func() string { return pick("go build ./...", "go vet ./...", "gofmt -l .") },
		func() string { return pick("npm test", "npm run build", "npx eslint src --color", "npm ci") },
		func() string {
			return pick("pytest -q", "python -m pytest -q tests/", "python3 scripts/export.py --month 2026-08")
		},
		func() string {
			return "curl -s https://" + pick("api.acme.dev", "localhost:8080") + pick("/healthz", "/v1/orders")
		},
		func() string {
			return "docker logs --tail " + num(50, 500) + " acme-" + pick("api", "worker", "web") + "-1"
		},
		func() string { return "kubectl get pods -n " + pick("prod", "staging", "default") },
		func() string {
			return "journalctl -u " + pick("api", "caddy", "redis") + " -n " + num(20, 300) + " --no-pager"
		},
		func() string { return "tail -n " + num(50, 400) + " /var/log/nginx/access.log" },
		func() string { return "ps aux --sort=-%mem | head -n 15" },
		func() string { return "cd acme-api && " + pick("make test", "make lint", "./scripts/check.sh") },
		func() string { return "terraform -chdir=envs/staging plan -no-color" },
	}
	line := "internal/orders/handler.go:42:\treturn fmt.Errorf(\"tenant %s: %w\", id, err)\n"
	for range n {
		cmds = append(cmds, kinds[rng.IntN(len(kinds))]())
		o := "succeeded"
		if rng.IntN(5) == 0 {
			o = pick("nonzero_exit", "nonzero_exit", "timed_out", "not_found", "denied")
		}
		outcomes = append(outcomes, o)
		outputs = append(outputs, strings.Repeat(line, 1+rng.IntN(8)))
	}
	return cmds, outcomes, outputs
}

func BenchmarkExecuted(b *testing.B) {
	b.Run("corpus-like", func(b *testing.B) {
		const n = 1000
		cmds, outcomes, outputs := sessionExecs(n)
		b.ReportAllocs()
		for b.Loop() {
			d := New()
			for i := range cmds {
				d.Executed(cmds[i], outcomes[i], outputs[i])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/exec")
	})
	b.Run("labelled-histories", func(b *testing.B) {
		set := loadLabelled(b)
		var execs int
		for i := range set {
			execs += len(set[i].History)
		}
		b.ReportAllocs()
		for b.Loop() {
			for i := range set {
				d := New()
				for _, h := range set[i].History {
					d.Executed(h.Command, h.Outcome, h.Output)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*execs), "ns/exec")
	})
}

// statusSentences is the prose the corpus generator writes for the assistant.
var statusSentences = corpus.AssistantSentences()
