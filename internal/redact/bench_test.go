package redact_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/clawtrail/clawtrail/internal/corpus"
	"github.com/clawtrail/clawtrail/internal/redact"
)

// BenchmarkOutputs redacts the command outputs of a generated corpus (the text of
// every tool result, as the scan hands them over): mostly clean output with the odd
// secret, which is what an audit reads all day.
func BenchmarkOutputs(b *testing.B) {
	dir := b.TempDir()
	if _, err := corpus.Generate(dir, corpus.Options{Seed: 3, Agents: 1, SessionsPerAgent: 4, TargetBytes: 16 << 20}); err != nil {
		b.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "agents", "*", "sessions", "*.jsonl"))
	var outputs []string
	var total int64
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var l struct {
				Message struct {
					Role    string `json:"role"`
					Content []struct {
						Text string `json:"text"`
					} `json:"content"`
				} `json:"message"`
			}
			if json.Unmarshal(sc.Bytes(), &l) != nil || l.Message.Role != "toolResult" {
				continue
			}
			for _, c := range l.Message.Content {
				outputs = append(outputs, c.Text)
				total += int64(len(c.Text))
			}
		}
		fh.Close()
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		for _, s := range outputs {
			redact.String(s)
		}
	}
}
