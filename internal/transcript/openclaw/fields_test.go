package openclaw

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/jsonscan"
)

// FuzzFieldsAgreeWithEncodingJSON checks the fast field readers against
// encoding/json filling the same structs, on every input encoding/json accepts
// without complaint. Keys written with escapes or in another case are skipped:
// encoding/json folds them, OpenClaw never writes them.
func FuzzFieldsAgreeWithEncodingJSON(f *testing.F) {
	seeds := []string{
		`{"type":"message","id":"a1","timestamp":"2026-09-01T00:00:00Z","message":{"role":"toolResult","toolCallId":"c|1","toolName":"exec","content":[{"type":"text","text":"out\n"}],"details":{"status":"completed","exitCode":0,"durationMs":12,"exitSignal":null,"timedOut":false,"cwd":"/w"},"isError":false,"timestamp":1788256802000}}`,
		`{"type":"message","message":{"role":"assistant","content":[{"type":"toolCall","id":"x","name":"exec","arguments":{"command":"ls \"a\"","workdir":"/w","host":"gateway","background":true}}],"stopReason":"error","errorMessage":"429 \u00e9","provider":"p","model":"m"}}`,
		`{"type":"session","version":3,"id":"s","cwd":"C:\\Users","parentSession":"/p"}`,
		`{"type":"custom","customType":"openclaw:prompt-error","data":{"error":"x"},"id":"c"}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want line
		if json.Unmarshal(raw, &want) != nil || foldedKeys(raw) {
			return
		}
		got, err := parseLine(raw)
		if err != nil {
			t.Fatalf("parseLine rejected what encoding/json accepts: %v", err)
		}
		// What was decoded in the same pass equals decoding the raw value afterwards.
		if m := got.Message; m != nil {
			if m.textOK {
				if again, _ := contentText(m.Content); again != m.text {
					t.Fatalf("in-place content text %q, decoded again %q", m.text, again)
				}
			}
			if m.detailsOK {
				again, err := parseDetails(m.Details)
				if err != nil || !reflect.DeepEqual(again, m.details) {
					t.Fatalf("in-place details %+v, decoded again %+v (%v)", m.details, again, err)
				}
			}
			if m.blocksOK {
				again, _ := parseBlocks(m.Content)
				if !reflect.DeepEqual(again, m.blocks) {
					t.Fatalf("in-place blocks %+v, decoded again %+v", m.blocks, again)
				}
			}
		}
		normalize(&want)
		normalize(&got)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line differs:\n got %+v\nwant %+v", got, want)
		}
		if want.Message == nil {
			return
		}
		var wd details
		if len(want.Message.Details) > 0 && json.Unmarshal(want.Message.Details, &wd) == nil {
			gd, err := parseDetails(got.Message.Details)
			wd.ExitSignal, gd.ExitSignal = compact(wd.ExitSignal), compact(gd.ExitSignal)
			if err != nil || !reflect.DeepEqual(gd, wd) {
				t.Fatalf("details differ: %+v vs %+v (%v)", gd, wd, err)
			}
		}
		var wb []block
		if len(want.Message.Content) > 0 && want.Message.Content[0] == '[' && json.Unmarshal(want.Message.Content, &wb) == nil {
			gb, err := parseBlocks(got.Message.Content)
			for i := range wb {
				wb[i].Arguments = compact(wb[i].Arguments)
			}
			for i := range gb {
				gb[i].Arguments = compact(gb[i].Arguments)
			}
			if err != nil || len(gb) != len(wb) || (len(wb) > 0 && !reflect.DeepEqual(gb, wb)) {
				t.Fatalf("blocks differ: %+v vs %+v (%v)", gb, wb, err)
			}
		}
	})
}

// parseLine is parseLineInto with the message in l.Message, as encoding/json
// fills the same struct.
func parseLine(raw []byte) (line, error) {
	m := new(message)
	l, ok, err := parseLineInto(raw, m)
	if ok {
		l.Message = m
	}
	return l, err
}

// foldedKeys reports keys encoding/json would match case-insensitively or after
// unescaping.
func foldedKeys(raw []byte) bool {
	if bytes.Contains(raw, []byte(`\`)) {
		return true // conservative: escapes may sit in keys
	}
	lower := bytes.ToLower(raw)
	for _, k := range []string{"type", "id", "timestamp", "cwd", "message", "customType", "data", "parentSession", "role", "content", "toolCallId", "toolName", "details", "isError", "stopReason", "errorMessage", "provider", "model", "text", "name", "arguments", "status", "exitCode", "exitSignal", "durationMs", "timedOut", "failureKind", "sessionId", "approvalId", "approvalSlug", "error", "deniedReason", "reason", "persistedDetailsTruncated", "command", "workdir", "host", "background"} {
		exact := bytes.Count(raw, []byte(`"`+k+`"`))
		folded := bytes.Count(lower, []byte(`"`+strings.ToLower(k)+`"`))
		if exact != folded {
			return true
		}
	}
	return false
}

func compact(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

func normalize(l *line) {
	l.Data = compact(l.Data)
	if l.Message != nil {
		l.Message.text, l.Message.textOK, l.Message.blocks, l.Message.blocksOK = "", false, nil, false
		l.Message.details, l.Message.detailsOK = details{}, false
		if l.Message.msOK {
			l.Message.Timestamp = json.Number(strconv.FormatInt(l.Message.ms, 10))
			l.Message.ms, l.Message.msOK = 0, false
		}
		l.Message.Content = compact(l.Message.Content)
		l.Message.Details = compact(l.Message.Details)
	}
}

// FuzzVocabulary: a word returned as a constant is what decoding it would give.
func FuzzVocabulary(f *testing.F) {
	for _, w := range []string{"message", "session", "custom", "toolResult", "assistant", "user", "text", "toolCall", "thinking", "exec", "bash",
		"process", "stop", "toolUse", "error", "completed", "failed", "running", "openclaw", "", "mess\\u0061ge", "exec\xff", "other"} {
		f.Add([]byte(w))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw := append(append([]byte{'"'}, b...), '"')
		got, ok := vocabulary(b)
		if !ok {
			return
		}
		if want, _ := jsonscan.String(raw); got != want {
			t.Fatalf("vocabulary(%q) = %q, decoding gives %q", b, got, want)
		}
	})
}

// TestAggregatedRepeatingTheText: details.aggregated is usually the content's text
// again and is then compared rather than scanned; whatever it holds, the line is
// accepted exactly when it is valid JSON and the details keep all their bytes.
func TestAggregatedRepeatingTheText(t *testing.T) {
	const head = `{"type":"message","message":{"role":"toolResult","toolCallId":"c1","toolName":"exec","content":[{"type":"text","text":"a \"b\" \\"}],"details":{"status":"completed","aggregated":`
	for _, agg := range []string{
		`"a \"b\" \\"`,                // the same string
		`"a \"b\" \\" , "exitCode":3`, // the same, then more members
		`"a \"b\" \\\" more"`,         // longer: the text's closing quote is escaped here
		`"a \"b\""`,                   // shorter
		`"a \"b\" \\"x`,               // the same bytes, then garbage
		`"a \"b\" \\`,                 // cut inside
		`12`,
	} {
		raw := []byte(head + agg + `}}}`)
		l, err := parseLine(raw)
		if valid := json.Valid(raw); (err == nil) != valid {
			t.Errorf("aggregated %s: parseLine error %v, but json.Valid = %v", agg, err, valid)
			continue
		}
		if err != nil {
			continue
		}
		var want line
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(l.Message.Details, want.Message.Details) || !l.Message.detailsOK {
			t.Errorf("aggregated %s: details %s, want %s", agg, l.Message.Details, want.Message.Details)
		}
		if wantCode := strings.Contains(agg, `"exitCode":3`); wantCode != (l.Message.details.ExitCode != nil) {
			t.Errorf("aggregated %s: exit code %v", agg, l.Message.details.ExitCode)
		}
	}
}
