package server

import (
	"errors"
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are computed at scrape time from the index and the writer's status, so a
// scrape always agrees with the web view and the API, and nothing is counted twice.
// Names are the contract in design.md.

type ledgerCollector struct {
	s *Server

	records, sourceFiles, sourceLag, parseErrors, ledgerBytes, writeErrors, lastRecord *prometheus.Desc
	providerErrors, findings, chainIntact, indexRows, sourceWarnings                   *prometheus.Desc
}

func newLedgerCollector(s *Server) *ledgerCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("clawtrail_"+name, help, labels, nil)
	}
	return &ledgerCollector{s: s,
		records:        d("records_total", "Ledger records read, by kind and outcome (outcome empty for kinds without one).", "kind", "outcome"),
		sourceFiles:    d("source_files", "Transcript files being followed."),
		sourceLag:      d("source_lag_bytes", "Transcript bytes written but not read yet."),
		parseErrors:    d("parse_errors_total", "Transcript lines skipped because they could not be read."),
		ledgerBytes:    d("ledger_bytes", "Size of the ledger file."),
		writeErrors:    d("ledger_write_errors_total", "Times the ledger became unwritable (each failure episode, as seen by sampling the writer's health)."),
		lastRecord:     d("last_record_timestamp_seconds", "recorded_at of the newest ledger record, as a Unix time."),
		providerErrors: d("provider_errors_total", "Failed model calls, by class.", "class"),
		findings:       d("findings_total", "Findings on executions, by rule and severity.", "rule", "severity"),
		chainIntact:    d("ledger_chain_intact", "1 while the hash chain verifies so far, 0 once a problem is found."),
		indexRows:      d("index_records", "Records held in the web view's in-memory index."),
		sourceWarnings: d("source_warnings", "Sources found but not audited: agent directories with no readable transcripts, transcript databases that do not open (listed by /readyz)."),
	}
}

// Describe implements prometheus.Collector.
func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.records, c.sourceFiles, c.sourceLag, c.parseErrors, c.ledgerBytes, c.writeErrors,
		c.lastRecord, c.providerErrors, c.findings, c.chainIntact, c.indexRows, c.sourceWarnings} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	x := s.idx
	x.mu.RLock()
	byKind := x.c.byKind
	var classes [numClasses]int64
	for i := range classes {
		classes[i] = x.c.classes[i].count
	}
	findings := make(map[findingKey]int64, len(x.c.findings))
	for k, v := range x.c.findings {
		findings[k] = v
	}
	last := x.c.lastRecorded
	intact := x.chain.problem == nil
	rows := x.n - x.lo
	x.mu.RUnlock()

	for k := 1; k < numKinds; k++ {
		for o := 0; o < numOutcomes; o++ {
			if n := byKind[k][o]; n > 0 {
				ch <- prometheus.MustNewConstMetric(c.records, prometheus.CounterValue, float64(n), kindNames[k], outcomeNames[o])
			}
		}
	}
	for cl := 1; cl < numClasses; cl++ {
		ch <- prometheus.MustNewConstMetric(c.providerErrors, prometheus.CounterValue, float64(classes[cl]), classNames[cl])
	}
	for k, n := range findings {
		ch <- prometheus.MustNewConstMetric(c.findings, prometheus.CounterValue, float64(n), k.rule, k.severity)
	}
	if !last.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.lastRecord, prometheus.GaugeValue, float64(last.UnixNano())/1e9)
	}
	if fi, err := os.Stat(s.cfg.Ledger); err == nil {
		ch <- prometheus.MustNewConstMetric(c.ledgerBytes, prometheus.GaugeValue, float64(fi.Size()))
	}
	ch <- prometheus.MustNewConstMetric(c.chainIntact, prometheus.GaugeValue, float64(b2u(intact)))
	ch <- prometheus.MustNewConstMetric(c.indexRows, prometheus.GaugeValue, float64(rows))
	ch <- prometheus.MustNewConstMetric(c.writeErrors, prometheus.CounterValue, float64(s.writeErrors.Load()))
	if s.cfg.Status != nil {
		st := s.cfg.Status()
		ch <- prometheus.MustNewConstMetric(c.sourceFiles, prometheus.GaugeValue, float64(st.Files))
		ch <- prometheus.MustNewConstMetric(c.sourceLag, prometheus.GaugeValue, float64(st.LagBytes))
		ch <- prometheus.MustNewConstMetric(c.parseErrors, prometheus.CounterValue, float64(st.Problems))
		ch <- prometheus.MustNewConstMetric(c.sourceWarnings, prometheus.GaugeValue, float64(len(st.Warnings)))
	}
}

// registerMetrics adds clawtrail's metrics and the Go runtime and process collectors
// to the server's registry. A registry that already has the runtime collectors (the
// caller's own) is fine; one that already has clawtrail's is a mistake.
func (s *Server) registerMetrics() error {
	if err := s.reg.Register(newLedgerCollector(s)); err != nil {
		return fmt.Errorf("register clawtrail metrics: %w", err)
	}
	for _, c := range []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := s.reg.Register(c); err != nil {
			var dup prometheus.AlreadyRegisteredError
			if !errors.As(err, &dup) {
				return fmt.Errorf("register runtime metrics: %w", err)
			}
		}
	}
	return nil
}
