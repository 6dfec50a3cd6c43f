package ledger_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

func intp(v int) *int     { return &v }
func i64p(v int64) *int64 { return &v }
func sampleBodies() []ledger.Body {
	return []ledger.Body{
		&ledger.Exec{TS: "2026-09-15T22:43:56.196Z", Runtime: "openclaw", Agent: "main", Session: "s1", CorrelationID: "call_1|fc_2",
			Tool: "exec", Command: "make test && echo <ok>", Cwd: "/w", Outcome: "succeeded", ExitCode: intp(0), DurationMs: i64p(1857),
			StartedAt: "2026-09-15T22:43:56.196Z", EndedAt: "2026-09-15T22:43:59.51Z", Output: ledger.Output{Text: "ok\n", Bytes: 3, SHA256: strings.Repeat("a", 64)},
			Verdict: "executed", Findings: []ledger.Finding{}, Source: ledger.Source{Path: "agents/main/sessions/s1.jsonl", Line: 5, Offset: 900, EntryID: "f159262d"}},
		&ledger.Exec{Runtime: "openclaw", Agent: "main", Session: "s1", CorrelationID: "call_9", Tool: "exec", Command: "sleep 100",
			Outcome: "no_result", Verdict: "unknown", Findings: []ledger.Finding{}, Source: ledger.Source{Path: "a.jsonl", Line: 7, EntryID: "aa"}},
		&ledger.ProviderError{Runtime: "openclaw", Agent: "main", Session: "s1", EntryID: "9a533f48", Provider: "ollama", Model: "qwen3.5:9b", Class: "timeout", Message: "fetch failed", Hint: "check the network"},
		&ledger.Notice{Reason: "torn_tail_repaired", Detail: "cut 10 bytes"},
	}
}

func writeLedger(t *testing.T, path string, bodies []ledger.Body) {
	t.Helper()
	w, rep, err := ledger.Open(path, ledger.Options{Now: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	if rep != nil {
		t.Fatalf("unexpected repair on a new ledger: %+v", rep)
	}
	for _, b := range bodies {
		if _, err := w.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The canonical bytes are the format: any change to them is a format change and must
// show up as a golden diff.
func TestCanonicalBytesGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	writeLedger(t, path, sampleBodies())
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "canonical.golden.jsonl")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("canonical bytes changed:\n got: %s\nwant: %s", got, want)
	}
	st, err := ledger.Walk(bytes.NewReader(got), nil)
	if err != nil || st.Records != 4 || st.LastSeq != 4 {
		t.Fatalf("Walk = %+v, %v; want 4 intact records", st, err)
	}
}

func TestAppendContinuesChainAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	bodies := sampleBodies()
	writeLedger(t, path, bodies[:2])
	writeLedger(t, path, bodies[2:])
	f, _ := os.Open(path)
	defer f.Close()
	st, err := ledger.Walk(f, nil)
	if err != nil || st.Records != 4 {
		t.Fatalf("Walk = %+v, %v; want 4 intact records", st, err)
	}
}

func TestTamperIsDetected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	bodies := append(sampleBodies(), sampleBodies()...)
	writeLedger(t, path, bodies)
	orig, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(orig), "\n")
	lines = lines[:len(lines)-1] // trailing empty element
	join := func(ls ...string) []byte { return []byte(strings.Join(ls, "")) }
	cp := func() []string { return append([]string(nil), lines...) }

	flip := bytes.Clone(orig)
	i := bytes.Index(flip, []byte("make test"))
	flip[i] = 'M'

	cases := []struct {
		name     string
		data     []byte
		wantLine int64
		reason   string
	}{
		{"flipped byte", flip, 1, "hash mismatch"},
		{"deleted line", func() []byte { l := cp(); return join(append(l[:2], l[3:]...)...) }(), 3, "seq 4 follows seq 2"},
		{"reordered lines", func() []byte { l := cp(); l[2], l[3] = l[3], l[2]; return join(l...) }(), 3, "seq 4 follows seq 2"},
		{"duplicated line", func() []byte { l := cp(); return join(append(l[:3], l[2:]...)...) }(), 4, "seq 3 follows seq 3"},
		{"truncated mid-record", orig[:len(orig)-40], 8, "torn"},
		{"changed prev", bytes.Replace(orig, []byte(`"prev":"0000`), []byte(`"prev":"1000`), 1), 1, "prev does not match"},
		{"garbage line", join(append(cp()[:5], "not json\n")...), 6, "not a valid record"},
		{"first record removed", join(cp()[1:]...), 1, "seq 2 follows seq 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ledger.Walk(bytes.NewReader(c.data), nil)
			var p *ledger.Problem
			if !errors.As(err, &p) {
				t.Fatalf("Walk = %v, want a *Problem", err)
			}
			if p.Line != c.wantLine || !strings.Contains(p.Reason, c.reason) {
				t.Errorf("problem = %v, want line %d with %q", p, c.wantLine, c.reason)
			}
		})
	}
}

func TestOpenRepairsTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	writeLedger(t, path, sampleBodies())
	orig, _ := os.ReadFile(path)
	// A crash mid-append leaves part of a record without its newline.
	torn := append(bytes.Clone(orig), []byte(`{"v":1,"seq":5,"kind":"exec","recor`)...)
	if err := os.WriteFile(path, torn, 0o600); err != nil {
		t.Fatal(err)
	}
	w, rep, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep == nil || rep.TornBytes != int64(len(torn)-len(orig)) {
		t.Fatalf("repair = %+v, want %d torn bytes reported", rep, len(torn)-len(orig))
	}
	if _, err := w.Append(&ledger.Notice{Reason: "torn_tail_repaired", Detail: rep.Detail}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if !bytes.HasPrefix(got, orig) {
		t.Fatal("repair changed records before the torn tail")
	}
	st, err := ledger.Walk(bytes.NewReader(got), nil)
	if err != nil || st.LastSeq != 5 {
		t.Fatalf("after repair Walk = %+v, %v; want seq 5 intact", st, err)
	}
}

func TestOpenRefusesDamagedLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	writeLedger(t, path, sampleBodies())
	data, _ := os.ReadFile(path)
	data = bytes.Replace(data, []byte("fetch failed"), []byte("fetch passed"), 1)
	os.WriteFile(path, data, 0o600)
	_, _, err := ledger.Open(path, ledger.Options{})
	if !errors.Is(err, ledger.ErrDamaged) {
		t.Fatalf("Open = %v, want ErrDamaged", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(after, data) {
		t.Fatal("Open changed a damaged ledger")
	}
}

func TestSecondWriterIsRefusedWithPid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	w, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ledger.Open(path, ledger.Options{})
	if !errors.Is(err, ledger.ErrLocked) || !strings.Contains(err.Error(), "pid "+itoa(os.Getpid())) {
		t.Fatalf("second Open = %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	w.Close()
	w2, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatalf("Open after Close = %v", err)
	}
	w2.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestFailedWriteLeavesNoTornRecord(t *testing.T) {
	// /dev/full fails every write with ENOSPC, as a full disk does.
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "governance.jsonl")
	writeLedger(t, path, sampleBodies()[:1])
	before, _ := os.ReadFile(path)
	w, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Append(sampleBodies()[1]); err != nil {
		t.Fatal(err)
	}
	ledger.SwapFileForTest(w, "/dev/full")
	if err := w.Flush(); err == nil {
		t.Fatal("Flush to a full device succeeded")
	}
	if w.Seq() != 1 {
		t.Fatalf("after a failed write Seq = %d, want the last durable seq 1", w.Seq())
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("failed write changed the ledger")
	}
}
