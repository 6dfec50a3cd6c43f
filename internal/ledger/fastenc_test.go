package ledger

import (
	"bytes"
	"encoding/json"
	"math/bits"
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
	for _, s := range []string{"", "plain", "a\"b\\c", "\x00\x01\b\f\n\r\t\x1f\x7f", "é中😀", "bad \xff\xfe utf8", "\u2028\u2029", "<&>", strings.Repeat("x", 100),
		// Longer than a word, with each kind of byte at each offset of one.
		"0123456789abcdef\"0123456789abcde\\0123456789abcd\n012345678\x7f\x80\xffabcdefgh\u2028ijklmnop",
		strings.Repeat("ls -la /tmp\n", 20) + "\x1b[0m" + strings.Repeat("é", 9)} {
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

// TestUnsafeBytes holds the eight-byte test to the byte table: every byte value at
// every position of an otherwise safe word, and pairs of bytes (a borrow from one
// must not hide the other or flag a byte before the first unsafe one).
func TestUnsafeBytes(t *testing.T) {
	check := func(b [8]byte) {
		t.Helper()
		first := 8
		for i, c := range b {
			if !safeASCII[c] {
				first = i
				break
			}
		}
		bad := unsafeBytes(load64(string(b[:]), 0))
		if got := bits.TrailingZeros64(bad) >> 3; got != first {
			t.Fatalf("unsafeBytes(%q) = %#x: first unsafe byte %d, want %d", b, bad, got, first)
		}
	}
	base := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			b := base
			b[pos] = byte(c)
			check(b)
		}
	}
	for c1 := 0; c1 < 256; c1++ {
		for c2 := 0; c2 < 256; c2++ {
			for _, p := range [...][2]int{{0, 1}, {3, 4}, {6, 7}, {0, 7}, {2, 5}, {5, 2}} {
				b := base
				b[p[0]], b[p[1]] = byte(c1), byte(c2)
				check(b)
			}
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

// BenchmarkAppendStringOutput is typical command output: lines of plain ASCII, whose
// only escapes are the newlines.
func BenchmarkAppendStringOutput(b *testing.B) {
	s := strings.Repeat("drwxr-xr-x  5 agent agent  4096 Nov 25 22:38 node_modules/some-package\n", 800)
	b.SetBytes(int64(len(s)))
	var buf []byte
	for b.Loop() {
		buf = appendString(buf[:0], s)
	}
}
