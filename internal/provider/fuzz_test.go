package provider

import (
	"strings"
	"testing"
)

func FuzzClassify(f *testing.F) {
	seeds := []string{
		"", "fetch failed", "terminated", "Request was aborted",
		`429 {"error":{"code":"insufficient_quota"}}`,
		`529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
		`{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota PerMinute"}}`,
		`402 {"error":{"message":"Key limit exceeded","code":402}}`,
		cloudflare524, nginx504,
		"[[[[[[[[", `{"error":`, "<title>5", "Error code: 4", "\xff\xfe429",
	}
	for _, s := range seeds {
		f.Add(s, false)
		f.Add(s, true)
	}
	// pad is left to the fuzzer because building a 1 MiB string costs far
	// more than classifying it; padding every input starves the search.
	f.Fuzz(func(t *testing.T, msg string, pad bool) {
		c := Classify(msg)
		if !validClass(c) {
			t.Fatalf("Classify(%q) = %q, not a known class", msg, c)
		}
		if Hint(c) == "" {
			t.Fatalf("empty hint for %q", c)
		}
		checkGates(t, strings.ToLower(msg))
		if !pad {
			return
		}
		// Padding to 1 MiB must not change the answer from that of the
		// inspected 64 KiB prefix. The filler is neutral so each run stays
		// fast; dense adversarial input is TestClassifyLargeInputBounded's.
		big := msg + strings.Repeat(". ", max(0, (1<<20-len(msg))/2))
		if got, want := Classify(big), Classify(big[:min(len(big), maxInspect)]); got != want {
			t.Fatalf("1 MiB input classified %s, its 64 KiB prefix %s", got, want)
		}
	})
}
