package claims

import (
	"strings"
	"testing"
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
