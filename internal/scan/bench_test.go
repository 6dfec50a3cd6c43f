package scan_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

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

// BenchmarkClaimChecksCost measures what the claim checks add to a scan, issue 5's
// budget being 10 %: each iteration scans the same generated corpus with and
// without them, in alternating order, and "claims-%" is the extra time with them
// over the time without, summed over all iterations. ns/op is one pair of scans.
// CLAWTRAIL_BENCH_MB sets the corpus size (default 64).
func BenchmarkClaimChecksCost(b *testing.B) {
	mb := 64
	if v, err := strconv.Atoi(os.Getenv("CLAWTRAIL_BENCH_MB")); err == nil && v > 0 {
		mb = v
	}
	dir := b.TempDir()
	state := filepath.Join(dir, "state")
	if _, err := corpus.Generate(state, corpus.Options{Seed: 1, Agents: 4, SessionsPerAgent: 10, TargetBytes: int64(mb) << 20}); err != nil {
		b.Fatal(err)
	}
	scanOnce := func(i int, noClaims bool) (time.Duration, int) {
		ledgerPath := filepath.Join(dir, "governance-"+strconv.Itoa(i)+".jsonl")
		defer os.Remove(ledgerPath)
		start := time.Now()
		sum, err := scan.Run(context.Background(), scan.Options{Ledger: ledgerPath, Sources: []string{state}, NoClaimChecks: noClaims})
		if err != nil {
			b.Fatal(err)
		}
		return time.Since(start), len(sum.Claims)
	}
	var with, without time.Duration
	for i := 0; b.Loop(); i++ {
		order := []bool{false, true}
		if i%2 == 1 {
			order = []bool{true, false}
		}
		for _, noClaims := range order {
			d, claims := scanOnce(i, noClaims)
			if noClaims {
				without += d
				if claims != 0 {
					b.Fatalf("claims recorded with the checks off: %d reasons", claims)
				}
			} else {
				with += d
			}
		}
	}
	b.ReportMetric(100*float64(with-without)/float64(without), "claims-%")
}
