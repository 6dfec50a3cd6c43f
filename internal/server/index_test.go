package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

func TestVocabularies(t *testing.T) {
	for _, c := range []struct {
		names []string
		n     int
	}{{kindNames, numKinds}, {outcomeNames, numOutcomes}, {verdictNames, numVerdicts}, {classNames, numClasses}} {
		if len(c.names) != c.n {
			t.Errorf("%v has %d names, the index's arrays %d", c.names, len(c.names), c.n)
		}
	}
	if got := code(outcomeNames, "made_up"); name(outcomeNames, got) != "other" {
		t.Errorf("an unknown outcome maps to %q, want other", name(outcomeNames, got))
	}
	if s := unsafe.Sizeof(row{}); s != 32 {
		t.Errorf("a row takes %d bytes; the memory budget assumes 32", s)
	}
}

// TestIndexBounded fills the index past MaxIndex: the oldest rows go, a block of
// memory at a time, while totals still describe the whole ledger.
func TestIndexBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	w, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = blockSize + 500
	early := &ledger.Exec{Runtime: "openclaw", Agent: "main", Session: "s0", CorrelationID: "early", Tool: "exec", Command: "sleep 999",
		Outcome: "running", Verdict: "executed", Findings: []ledger.Finding{}}
	w.Append(early)
	for i := 1; i < n-1; i++ {
		w.Append(&ledger.Exec{TS: time.Unix(1_700_000_000+int64(i), 0).UTC().Format(time.RFC3339), Runtime: "openclaw", Agent: "main",
			Session: fmt.Sprintf("s%d", i%7), CorrelationID: fmt.Sprint(i), Tool: "exec", Command: fmt.Sprintf("echo %d", i),
			Outcome: "succeeded", Verdict: "executed", Findings: []ledger.Finding{}})
	}
	// The update of an exec long dropped from the index still counts.
	w.Append(&ledger.ExecUpdate{Runtime: "openclaw", Agent: "main", Session: "s0", CorrelationID: "early", Outcome: "killed", Verdict: "executed"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := New(Config{Ledger: path, MaxIndex: 100, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.idx.mu.RLock()
		records, caught := s.idx.c.records, s.idx.chain.caughtUp
		s.idx.mu.RUnlock()
		if records == n && caught {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("indexed %d of %d", records, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.idx.mu.RLock()
	rows, blocks, lo := s.idx.n-s.idx.lo, len(s.idx.blocks), s.idx.lo
	sum := s.idx.summary()
	s.idx.mu.RUnlock()
	if rows != 100 || blocks > 2 || lo != n-100 {
		t.Errorf("index holds %d rows in %d blocks from %d; want 100 rows in at most 2 blocks", rows, blocks, lo)
	}
	if sum.Executions != n-1 {
		t.Errorf("executions = %d, want %d (totals cover dropped rows)", sum.Executions, n-1)
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/executions/1", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "older than the records kept") {
		t.Errorf("a dropped record = %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/?text=echo", nil))
	if !strings.Contains(rec.Body.String(), "99 match among the newest records kept") {
		t.Errorf("the page does not say older records were dropped")
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[uint32]uint32{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 11: 20, 49: 50, 51: 100, 999: 1000, 1001: 2000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d, want %d", in, got, want)
		}
	}
}
