package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/clawtrail/clawtrail/internal/corpus"
	"github.com/clawtrail/clawtrail/internal/scan"
)

// BenchmarkScan scans a generated exec-heavy corpus (CLAWTRAIL_BENCH_MB, default 64)
// into a fresh ledger each iteration. Throughput is the corpus bytes per second.
func BenchmarkScan(b *testing.B) {
	mb := 64
	if v, err := strconv.Atoi(os.Getenv("CLAWTRAIL_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	dir := b.TempDir()
	st, err := corpus.Generate(filepath.Join(dir, "state"), corpus.Options{Seed: 1, Agents: 4, SessionsPerAgent: 10, TargetBytes: int64(mb) << 20})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Bytes)
	b.ResetTimer()
	var records int64
	for i := 0; i < b.N; i++ {
		ledgerPath := filepath.Join(dir, "governance-"+strconv.Itoa(i)+".jsonl")
		sum, err := scan.Run(context.Background(), scan.Options{Ledger: ledgerPath, Sources: []string{filepath.Join(dir, "state")}})
		if err != nil {
			b.Fatal(err)
		}
		records += sum.Appended
		b.StopTimer()
		os.Remove(ledgerPath)
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
