package ledger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func viaEncodingJSON(t testing.TB, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// FuzzAppendStringMatchesEncodingJSON: the hand encoder is byte-for-byte
// encoding/json's, or the format document would lie.
func FuzzAppendStringMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x01\b\f\n\r\t\x1f\x7f", "é中😀", "bad \xff\xfe utf8", "\u2028\u2029", "<&>", strings.Repeat("x", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		want := viaEncodingJSON(t, s)
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

func TestAppendBodyMatchesEncodingJSON(t *testing.T) {
	one, two := 1, int64(2)
	for _, b := range []Body{
		&Exec{TS: "t", Runtime: "openclaw", Command: "a\nb \"c\" <&>", ExitCode: &one, DurationMs: &two, Output: Output{Text: "\x1b[31mred\u2028", Bytes: 9, SHA256: "ab", Truncated: true}, Findings: []Finding{{Rule: "r", Severity: "high", Message: "m"}}, Source: Source{Path: "p", Line: 3, Offset: 9, EntryID: "e"}},
		&Exec{Outcome: "no_result"},
		&Exec{Outcome: "succeeded", Witness: &Witness{Status: "matched", PID: 42, ExitCode: &one, Namespaces: map[string]uint64{"pid": 1, "net": 2}, Container: "abc"}},
		&ExecUpdate{Outcome: "succeeded", ExitCode: &one, Output: &Output{Text: "x"}},
		&ExecUpdate{Outcome: "denied"},
	} {
		got, ok := appendBody(nil, b)
		if want := viaEncodingJSON(t, b); !ok || !bytes.Equal(got, want) {
			t.Errorf("appendBody(%T):\n got %s\nwant %s", b, got, want)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("ordinary output line with \"quotes\" and a tab\there\n", 1000)
	b.SetBytes(int64(len(s)))
	var buf []byte
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}
