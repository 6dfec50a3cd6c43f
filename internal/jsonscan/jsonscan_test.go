package jsonscan_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/jsonscan"
)

func TestObjectMembers(t *testing.T) {
	in := ` { "a" : 1, "b":"x\"y\\", "c":{"d":[1,2,{"e":null}]}, "f":true , "g":-1.5e3 } `
	var got []string
	err := jsonscan.Object([]byte(in), func(k, v []byte) error {
		got = append(got, fmt.Sprintf("%s=%s", k, v))
		return nil
	})
	want := `a=1|b="x\"y\\"|c={"d":[1,2,{"e":null}]}|f=true|g=-1.5e3`
	if err != nil || strings.Join(got, "|") != want {
		t.Fatalf("got %q, %v\nwant %q", strings.Join(got, "|"), err, want)
	}
}

func TestStringMatchesEncodingJSON(t *testing.T) {
	for _, raw := range []string{
		`""`, `"plain"`, `"a\nb\tc\"d\\e\/f"`, `"\u00e9\u4e2d\ud83d\ude00"`, `"lone \ud83d surrogate"`,
		`"bad \x escape"`, "\"invalid \xff utf8\"", `"\u12"`, `"ends with \\"`,
	} {
		got, ok := jsonscan.String([]byte(raw))
		var want string
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			// encoding/json rejects bad escapes; we must still not panic and say ok.
			if !ok {
				t.Errorf("String(%s) not ok", raw)
			}
			continue
		}
		if !ok || got != want {
			t.Errorf("String(%s) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}

func TestRejectsBrokenJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}x`, `{"a":"unterminated}`, `[1,2`, `{"a":tru}`, `{"a":01x}`, `{"a":-}`, strings.Repeat("[", 1000) + strings.Repeat("]", 1000)} {
		err := jsonscan.Object([]byte(in), func(k, v []byte) error { return nil })
		if err == nil {
			t.Errorf("Object(%.40q) accepted broken input", in)
		}
	}
}

// FuzzAgreesWithEncodingJSON: on any input, Valid never panics; on input that
// encoding/json accepts, Valid agrees and String decodes string values identically.
func FuzzAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `[1,"x",{"y":null}]`, `"\u00e9"`, `{"k":"v\\"}`, `-0.5e-3`, `{"a":[{},[]]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		valid := jsonscan.Valid(data)
		var v any
		if json.Unmarshal(data, &v) == nil && !valid {
			t.Fatalf("encoding/json accepts %q, jsonscan does not", data)
		}
		if s, ok := v.(string); ok {
			trimmed := strings.TrimSpace(string(data))
			got, ok := jsonscan.String([]byte(trimmed))
			if !ok || got != s {
				t.Fatalf("String(%q) = %q, want %q", trimmed, got, s)
			}
		}
		_ = jsonscan.Object(data, func(k, v []byte) error { _, _ = jsonscan.String(v); return nil })
		_ = jsonscan.Array(data, func(v []byte) error { return nil })
	})
}

func BenchmarkObjectLargeString(b *testing.B) {
	line := []byte(`{"type":"message","id":"a1","message":{"role":"toolResult","content":[{"type":"text","text":"` + strings.Repeat(`line of output \"quoted\" and more text\n`, 2000) + `"}]}}`)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		jsonscan.Object(line, func(k, v []byte) error { return nil })
	}
}

// FuzzSkipMemberAgrees: an object read member by member with SkipMember is accepted
// exactly when Skip accepts it, with the same length, nesting limit included.
func FuzzSkipMemberAgrees(f *testing.F) {
	for _, k := range []int{0, 1, 509, 510, 511, 512} {
		f.Add([]byte(`{"a":` + strings.Repeat("[", k) + strings.Repeat("]", k) + `,"b":"x\"y"} tail`))
		f.Add([]byte(`{"a":` + strings.Repeat(`{"b":`, k) + "1" + strings.Repeat("}", k) + `}`))
	}
	f.Add([]byte(`{"status":"completed","exitCode":0,"aggregated":"out\n","cwd":"/w"}`))
	f.Add([]byte(`{"a":1,}`))
	f.Add([]byte(`{ "a" : [ 1 , { } ] }x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || data[0] != '{' {
			return
		}
		want, werr := jsonscan.Skip(data)
		got, gerr := jsonscan.ObjectPrefix(data, func(_, rest []byte) (int, error) { return jsonscan.SkipMember(rest) })
		if (werr == nil) != (gerr == nil) || werr == nil && got != want {
			t.Fatalf("ObjectPrefix with SkipMember = %d, %v; Skip = %d, %v", got, gerr, want, werr)
		}
	})
}
