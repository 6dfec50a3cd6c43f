package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/server"
)

type sse struct {
	id, event, data string
}

// stream opens /api/stream on a real listener (a recorder does not stream) and
// returns its events as they come.
func stream(t *testing.T, h http.Handler, query string, header ...string) <-chan sse {
	t.Helper()
	ts := httptest.NewServer(h)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(ts.Close)
	t.Cleanup(cancel) // runs first: the handler ends, then the listener closes
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/stream?"+query, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("stream = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sse, 64)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var ev sse
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev.event != "" {
					out <- ev
				}
				ev = sse{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out
}

func next(t *testing.T, events <-chan sse, within time.Duration) (sse, server.Execution) {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("stream ended")
		}
		var e server.Execution
		if ev.event == "exec" {
			if err := json.Unmarshal([]byte(ev.data), &e); err != nil {
				t.Fatalf("event data %q: %v", ev.data, err)
			}
		}
		return ev, e
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
	}
	return sse{}, server.Execution{}
}

func TestStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "governance.jsonl")
	writeLedger(t, path, fixtureBodies()[:3]...)
	f := start(t, path, server.Config{})
	f.waitRecords(3)
	all := stream(t, f.h, "after=3")
	ops := stream(t, f.h, "after=3&agent=ops")

	w, _, err := ledger.Open(path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	appendSync := func(b ledger.Body) {
		t.Helper()
		if _, err := w.Append(b); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	bg := execBody("main", "s9", "b1", "make -j8 all", "running", nil, 20)
	appendSync(bg)
	ev, e := next(t, all, 5*time.Second)
	if ev.id != "4" || e.Seq != 4 || e.Command != "make -j8 all" || e.Badge != "EXECUTED" || e.Outcome != "running" {
		t.Errorf("first event = %+v %+v", ev, e)
	}
	appendSync(updateBody(bg, "nonzero_exit", intp(2)))
	ev, e = next(t, all, 5*time.Second)
	if ev.id != "5" || e.Seq != 4 || e.UpdateSeq != 5 || e.Outcome != "nonzero_exit" || *e.ExitCode != 2 {
		t.Errorf("update event = %+v %+v", ev, e)
	}
	appendSync(execBody("ops", "s3", "o1", hostileImg, "succeeded", intp(0), 21))
	ev, e = next(t, ops, 5*time.Second)
	if ev.id != "6" || e.Command != hostileImg || e.Agent != "ops" {
		t.Errorf("filtered stream: first event = %+v %+v (main's must not arrive)", ev, e)
	}
	if !strings.Contains(ev.data, `\u003cimg`) {
		t.Errorf("event data does not escape markup: %s", ev.data)
	}

	// A client reconnecting with the last id it saw gets what it missed.
	replay := stream(t, f.h, "", "Last-Event-ID", "4")
	for _, want := range []string{"5", "6"} {
		if ev, _ := next(t, replay, 5*time.Second); ev.id != want {
			t.Errorf("replayed id %s, want %s", ev.id, want)
		}
	}
}

func TestFollowTornAndReplaced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "governance.jsonl")
	bodies := fixtureBodies()
	full := filepath.Join(dir, "full.jsonl")
	writeLedger(t, full, bodies[:4]...)
	data, _ := os.ReadFile(full)
	lines := bytes.SplitAfter(data, []byte("\n"))
	fourth := lines[3]
	if err := os.WriteFile(path, bytes.Join(lines[:3], nil), 0o600); err != nil {
		t.Fatal(err)
	}

	f := start(t, path, server.Config{})
	f.waitRecords(3)
	// A record being written: half of it, no newline yet.
	file, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	file.Write(fourth[:len(fourth)/2])
	time.Sleep(100 * time.Millisecond) // ten polls
	var in server.Integrity
	f.getJSON("/api/integrity", &in)
	if in.Records != 3 || !in.Intact {
		t.Fatalf("with a torn tail: %+v, want 3 records, intact", in)
	}
	file.Write(fourth[len(fourth)/2:])
	f.waitRecords(4)
	f.getJSON("/api/integrity", &in)
	if !in.Intact || in.LastSeq != 4 {
		t.Errorf("after the record completed: %+v", in)
	}

	// The file is replaced by another ledger: read again from the start.
	other := filepath.Join(dir, "other.jsonl")
	writeLedger(t, other, bodies[:2]...)
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	f.waitRecords(2)
	f.getJSON("/api/integrity", &in)
	if len(in.Rereads) != 1 || !in.Intact {
		t.Errorf("after a replace: %+v", in)
	}

	// Rewritten in place with different bytes at the same place: noticed by content.
	rewritten := filepath.Join(dir, "rewritten.jsonl")
	alt := bodies[:5]
	alt[0] = execBody("main", "s1", "c1", "make test --other-bytes", "succeeded", intp(0), 0)
	writeLedger(t, rewritten, alt...)
	data, _ = os.ReadFile(rewritten)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f.waitRecords(5)
	f.getJSON("/api/integrity", &in)
	if len(in.Rereads) != 2 {
		t.Errorf("after an in-place rewrite: %d re-reads, want 2", len(in.Rereads))
	}
}

func TestMetrics(t *testing.T) {
	var healthy atomic.Bool
	var calls atomic.Int64
	healthy.Store(true)
	status := func() server.StatusInfo {
		calls.Add(1)
		st := server.StatusInfo{Healthy: healthy.Load(), Ready: true, Files: 7, LagBytes: 1234, Problems: 5,
			Warnings: []string{"agent idle (agents/idle) has no readable transcripts (neither JSONL nor SQLite): nothing of it is audited"}}
		if !st.Healthy {
			st.Error = "write ledger: no space left on device"
		}
		return st
	}
	reg := prometheus.NewRegistry()
	f := fixtureServer(t, server.Config{Status: status, Registry: reg})
	// The ledger becomes unwritable twice; each state lasts until the server has
	// looked at it a few times.
	seen := func() {
		for n := calls.Load() + 3; calls.Load() < n; {
			time.Sleep(time.Millisecond)
		}
	}
	for range 2 {
		healthy.Store(false)
		seen()
		healthy.Store(true)
		seen()
	}
	rec := f.get("/metrics")
	if rec.Code != http.StatusOK {
		t.Fatalf("metrics = %d", rec.Code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	value := func(name string, labels ...string) float64 {
		t.Helper()
		fam, ok := fams[name]
		if !ok {
			t.Errorf("no %s", name)
			return -1
		}
	metrics:
		for _, m := range fam.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				if labelOf(m, labels[i]) != labels[i+1] {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
		t.Errorf("no %s%v", name, labels)
		return -1
	}
	fi, _ := os.Stat(f.path)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"clawtrail_records_total", []string{"kind", "exec", "outcome", "succeeded"}, 3},
		{"clawtrail_records_total", []string{"kind", "exec", "outcome", "pending_approval"}, 2},
		{"clawtrail_records_total", []string{"kind", "exec_update", "outcome", "succeeded"}, 2},
		{"clawtrail_records_total", []string{"kind", "provider_error", "outcome", ""}, 2},
		{"clawtrail_records_total", []string{"kind", "claim", "outcome", ""}, 1},
		{"clawtrail_provider_errors_total", []string{"class", "rate_limit"}, 1},
		{"clawtrail_provider_errors_total", []string{"class", "budget_cap"}, 0},
		{"clawtrail_findings_total", []string{"rule", "destructive-rm", "severity", "high"}, 1},
		{"clawtrail_source_files", nil, 7},
		{"clawtrail_source_lag_bytes", nil, 1234},
		{"clawtrail_parse_errors_total", nil, 5},
		{"clawtrail_ledger_bytes", nil, float64(fi.Size())},
		{"clawtrail_ledger_write_errors_total", nil, 2},
		{"clawtrail_last_record_timestamp_seconds", nil, float64(time.Date(2026, 9, 15, 11, 0, 0, 0, time.UTC).Unix())},
		{"clawtrail_ledger_chain_intact", nil, 1},
		{"clawtrail_index_records", nil, 15},
		{"clawtrail_source_warnings", nil, 1},
	} {
		if got := value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no runtime metric %s", name)
		}
	}
	if fams["clawtrail_records_total"].GetType() != dto.MetricType_COUNTER || fams["clawtrail_source_files"].GetType() != dto.MetricType_GAUGE {
		t.Errorf("metric types are wrong")
	}
	// The caller's registry holds them too, and a second server cannot register twice.
	if n, err := reg.Gather(); err != nil || len(n) < 10 {
		t.Errorf("registry gather: %d families, %v", len(n), err)
	}
	if _, err := server.New(server.Config{Ledger: f.path, Registry: reg}); err == nil {
		t.Errorf("a second server on the same registry was accepted")
	}
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
