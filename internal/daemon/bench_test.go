package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/daemon"
)

// BenchmarkResultToDurableLatency measures, with 1,000 followed session files, the
// time from a result line being written to its record being fsynced in the ledger.
// Results are written one at a time (no queueing), to random files.
func BenchmarkResultToDurableLatency(b *testing.B) {
	dir := b.TempDir()
	sessions := filepath.Join(dir, "state", "agents", "main", "sessions")
	os.MkdirAll(sessions, 0o755)
	const files = 1000
	for i := range files {
		os.WriteFile(filepath.Join(sessions, fmt.Sprintf("s%04d.jsonl", i)), []byte(header(fmt.Sprintf("s%04d", i))+"\n"), 0o600)
	}
	committed := make(chan int64, 1024)
	d := daemon.New(daemon.Config{Sources: []string{filepath.Join(dir, "state")}, Ledger: filepath.Join(dir, "governance.jsonl"),
		OnCommit: func(seq int64) { committed <- seq }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for !d.Status().Ready {
		time.Sleep(10 * time.Millisecond)
	}
	var lat []time.Duration
	var seq int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := filepath.Join(sessions, fmt.Sprintf("s%04d.jsonl", i%files))
		id := fmt.Sprintf("c%d", i)
		appendTo(b, f, call("a"+id, id, "true", t0))
		start := time.Now()
		appendTo(b, f, result("r"+id, id, 0))
		want := seq + 1
		for seq < want {
			select {
			case seq = <-committed:
			case <-time.After(5 * time.Second):
				b.Fatalf("record %d not committed within 5 s", want)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	cancel()
	<-done
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(q(1.0), "max_ms")
}

func appendTo(tb testing.TB, path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	f.WriteString(line + "\n")
	f.Close()
}

// BenchmarkIdleFiles measures CPU and memory of following 10,000 idle session files
// for 10 s after catching up (CLAWTRAIL_IDLE_FILES overrides the count).
func BenchmarkIdleFiles(b *testing.B) {
	n := 10000
	if v := os.Getenv("CLAWTRAIL_IDLE_FILES"); v != "" {
		fmt.Sscan(v, &n)
	}
	dir := b.TempDir()
	sessions := filepath.Join(dir, "state", "agents", "main", "sessions")
	os.MkdirAll(sessions, 0o755)
	for i := range n {
		id := fmt.Sprintf("s%05d", i)
		os.WriteFile(filepath.Join(sessions, id+".jsonl"), []byte(header(id)+"\n"+call("a1", "c"+id, "ls", t0)+"\n"+result("r1", "c"+id, 0)+"\n"), 0o600)
	}
	st, after := measureIdle(b, daemon.Config{Sources: []string{filepath.Join(dir, "state")}, Ledger: filepath.Join(dir, "governance.jsonl")})
	b.ReportMetric(float64(after.Maxrss)/1024, "maxrss_MB")
	b.ReportMetric(float64(st.Files), "files")
}

// vmRSS is the resident set now, in KiB (the benchmark's steady state, where
// Maxrss includes the catch-up and the setup).
func vmRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			var kb float64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "VmRSS:"), "kB")), &kb)
			return kb
		}
	}
	return 0
}

// measureIdle runs a daemon on cfg, lets it catch up, and reports the CPU its
// process spends over 10 s of idling (%core) and its RSS after; it returns the
// daemon's status and the process's resource usage at the end.
func measureIdle(b *testing.B, cfg daemon.Config) (daemon.Status, syscall.Rusage) {
	b.Helper()
	d := daemon.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for !d.Status().Ready {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(time.Second)
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	idle := 10 * time.Second
	time.Sleep(idle)
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	b.ReportMetric(100*cpu.Seconds()/idle.Seconds(), "%core")
	b.ReportMetric(vmRSS()/1024, "rss_MB")
	st := d.Status()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return st, after
}
