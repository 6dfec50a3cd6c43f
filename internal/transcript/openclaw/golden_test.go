package openclaw_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	_ "modernc.org/sqlite"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/scan"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from what the code derives (review them against the reference before committing)")

// realDir holds real transcript lines from public repositories (../shared beside the
// repository, always present in CI); see its SOURCES.md.
const realDir = "../../../../shared/fixtures/real"

// TestGoldenByVersion runs one transcript per OpenClaw version era (testdata/transcripts,
// see the README there) through the path scan uses, decode -> correlate -> index ->
// ledger, and compares the records written to testdata/golden/<era>.json. The goldens
// are what shared/reference/openclaw-transcripts.md §8 says each line means, checked by
// hand; -update rewrites them from the code, which then has to be reviewed again.
func TestGoldenByVersion(t *testing.T) {
	ins, err := filepath.Glob("testdata/transcripts/*.jsonl.in")
	if err != nil || len(ins) == 0 {
		t.Fatalf("no transcripts in testdata/transcripts (%v)", err)
	}
	for _, in := range ins {
		era := strings.TrimSuffix(filepath.Base(in), ".jsonl.in")
		t.Run(era, func(t *testing.T) {
			t.Parallel()
			tr := buildTranscript(t, in)
			got := scanRecords(t, tr)
			golden := filepath.Join("testdata", "golden", era+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenByVersion -update, then review the file)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("records differ from %s (-update rewrites it; review the diff against the reference):\n%s", golden, lineDiff(string(want), string(got)))
			}
		})
	}
}

// transcript is a transcript as scan will find it.
type transcript struct {
	file  string // name in agents/<agent>/sessions/
	agent string
	store string // "" (a JSONL file), "sqlite" (2026.8.1) or "sqlite-zstd" (2026.9.6)
	lines []string
}

// buildTranscript reads a .jsonl.in file: one JSON line per line, '#' comments, blank
// lines ignored, and these directives:
//
//	@file NAME              name of the transcript file in the sessions dir (default <era>.jsonl)
//	@agent ID               agent id (default main)
//	@store sqlite           SQLite era (reference §1, §1.1): the lines become the
//	                        transcript_events rows of agents/<agent>/agent/openclaw-agent.sqlite,
//	                        session = the header's id, seq = 1, 2, …
//	@store sqlite-zstd      the same with agent schema 23: every second row as event_zstd
//	@real FILE SPEC...      lines of ../shared/fixtures/real/FILE, read now: N, N-M, or
//	                        N+M (physical lines N and M joined, for a record the quoting
//	                        author broke across two lines)
func buildTranscript(t *testing.T, in string) transcript {
	t.Helper()
	data, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	tr := transcript{file: strings.TrimSuffix(filepath.Base(in), ".in"), agent: "main"}
	for n, l := range strings.Split(string(data), "\n") {
		l = strings.TrimRight(l, "\r")
		switch {
		case strings.TrimSpace(l) == "", strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "@file "):
			tr.file = strings.TrimSpace(l[len("@file "):])
		case strings.HasPrefix(l, "@agent "):
			tr.agent = strings.TrimSpace(l[len("@agent "):])
		case strings.HasPrefix(l, "@store "):
			tr.store = strings.TrimSpace(l[len("@store "):])
			if tr.store != "sqlite" && tr.store != "sqlite-zstd" {
				t.Fatalf("%s:%d: unknown store %q", in, n+1, tr.store)
			}
		case strings.HasPrefix(l, "@real "):
			f := strings.Fields(l[len("@real "):])
			if len(f) < 2 {
				t.Fatalf("%s:%d: @real FILE SPEC...", in, n+1)
			}
			tr.lines = append(tr.lines, realLines(t, f[0], f[1:])...)
		case strings.HasPrefix(l, "{"):
			if !json.Valid([]byte(l)) {
				t.Fatalf("%s:%d: not valid JSON", in, n+1)
			}
			tr.lines = append(tr.lines, l)
		default:
			t.Fatalf("%s:%d: neither JSON, a comment nor a directive: %.60q", in, n+1, l)
		}
	}
	return tr
}

func realLines(t *testing.T, name string, specs []string) []string {
	t.Helper()
	path := filepath.Join(realDir, name)
	fh, err := os.Open(path)
	if err != nil {
		t.Fatalf("real fixture: %v (../shared must sit beside the repository)", err)
	}
	defer fh.Close()
	var phys []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		phys = append(phys, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	line := func(s string) string {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > len(phys) {
			t.Fatalf("%s: no line %q", name, s)
		}
		return phys[n-1]
	}
	var out []string
	for _, spec := range specs {
		switch {
		case strings.Contains(spec, "+"):
			var joined string
			for _, p := range strings.Split(spec, "+") {
				joined += line(p)
			}
			out = append(out, joined)
		case strings.Contains(spec, "-"):
			a, b, _ := strings.Cut(spec, "-")
			from, _ := strconv.Atoi(a)
			to, _ := strconv.Atoi(b)
			if from < 1 || to < from {
				t.Fatalf("%s: bad range %q", name, spec)
			}
			for i := from; i <= to; i++ {
				out = append(out, line(strconv.Itoa(i)))
			}
		default:
			out = append(out, line(spec))
		}
	}
	for _, l := range out {
		if !json.Valid([]byte(l)) {
			t.Fatalf("%s: line %.80q is not JSON", name, l)
		}
	}
	return out
}

// scanRecords writes the transcript into a fresh state dir, runs scan over it and
// renders the ledger it wrote.
func scanRecords(t *testing.T, tr transcript) []byte {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "state")
	if tr.store != "" {
		writeAgentDB(t, filepath.Join(root, "agents", tr.agent, "agent"), tr)
	} else {
		sessions := filepath.Join(root, "agents", tr.agent, "sessions")
		if err := os.MkdirAll(sessions, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sessions, tr.file), []byte(strings.Join(tr.lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	led := filepath.Join(dir, "governance.jsonl")
	now := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	sum, err := scan.Run(context.Background(), scan.Options{Ledger: led, Sources: []string{root}, AllTools: true, Workers: 1,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	for _, p := range sum.Problems {
		t.Errorf("scan problem: %s:%d: %s", p.Path, p.Line, p.Reason)
	}
	for _, s := range sum.Skipped {
		t.Errorf("scan skipped %s: %s", s.Path, s.Reason)
	}
	return renderLedger(t, led)
}

// writeAgentDB writes the transcript as the SQLite era stores it: 2026.8.1's
// transcript_events (event_json TEXT NOT NULL, reference §1.1), or schema 23's
// (2026.9.6) where a row holds event_json or zstd event_zstd.
func writeAgentDB(t *testing.T, dir string, tr transcript) {
	t.Helper()
	var hdr struct{ Type, ID string }
	if len(tr.lines) == 0 || json.Unmarshal([]byte(tr.lines[0]), &hdr) != nil || hdr.Type != "session" || hdr.ID == "" {
		t.Fatal("a SQLite-era transcript starts with its session header")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "openclaw-agent.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := []string{
		`CREATE TABLE session_windows(session_id TEXT NOT NULL PRIMARY KEY, created_at INTEGER NOT NULL) STRICT`,
		`CREATE TABLE transcript_events(session_id TEXT NOT NULL REFERENCES session_windows(session_id) ON DELETE CASCADE,
			seq INTEGER NOT NULL, event_json TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY(session_id, seq)) STRICT`,
	}
	if tr.store == "sqlite-zstd" {
		schema = []string{
			`CREATE TABLE session_windows(session_id TEXT NOT NULL PRIMARY KEY, created_at INTEGER NOT NULL) STRICT`,
			`CREATE TABLE transcript_events(session_id TEXT NOT NULL REFERENCES session_windows(session_id) ON DELETE CASCADE,
				seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB,
				PRIMARY KEY(session_id, seq), CHECK ((event_json IS NULL) <> (event_zstd IS NULL))) STRICT`,
			`PRAGMA user_version = 23`,
		}
	}
	for _, q := range append([]string{`PRAGMA journal_mode=WAL`}, schema...) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.Exec(`INSERT INTO session_windows VALUES(?, 1)`, hdr.ID); err != nil {
		t.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for i, l := range tr.lines {
		if tr.store == "sqlite-zstd" && i%2 == 1 {
			_, err = db.Exec(`INSERT INTO transcript_events(session_id, seq, event_json, created_at, event_zstd) VALUES(?,?,NULL,1,?)`, hdr.ID, i+1, enc.EncodeAll([]byte(l), nil))
		} else {
			_, err = db.Exec(`INSERT INTO transcript_events(session_id, seq, event_json, created_at) VALUES(?,?,?,1)`, hdr.ID, i+1, l)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// renderLedger renders every record derived from the transcript (source records, the
// era, are left out) in the ledger's canonical key order, without recorded_at, prev
// and hash, which vary from run to run.
func renderLedger(t *testing.T, path string) []byte {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var out bytes.Buffer
	out.WriteString("[")
	first := true
	if _, err := ledger.Walk(fh, func(r *ledger.Record, line []byte) error {
		if r.Kind == ledger.KindSource || r.Kind == ledger.KindCheckpoint {
			return nil
		}
		obj, err := withoutKeys(line, "recorded_at", "prev", "hash")
		if err != nil {
			return err
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, obj, "  ", "  "); err != nil {
			return err
		}
		if !first {
			out.WriteString(",")
		}
		first = false
		out.WriteString("\n  ")
		out.Write(ind.Bytes())
		return nil
	}); err != nil {
		t.Fatalf("ledger: %v", err)
	}
	out.WriteString("\n]\n")
	return out.Bytes()
}

// withoutKeys copies a JSON object's members in order, leaving out keys.
func withoutKeys(obj []byte, keys ...string) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not an object: %v", err)
	}
	var out bytes.Buffer
	out.WriteByte('{')
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		skip := false
		for _, x := range keys {
			skip = skip || k == x
		}
		if skip {
			continue
		}
		if n > 0 {
			out.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// lineDiff shows the first lines where want and got part.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			var sb strings.Builder
			for j := max(0, i-3); j < i; j++ {
				fmt.Fprintf(&sb, "  %4d   %s\n", j+1, w[j])
			}
			fmt.Fprintf(&sb, "- %4d   %s\n+ %4d   %s\n", i+1, a, i+1, b)
			return sb.String()
		}
	}
	return "(no line differs; whitespace at the end?)"
}
