// Package server is clawtrail's read-only HTTP face: the web view an operator opens to
// see every command the agent ran and how sure we are that it ran, the JSON API and
// live event stream that tools build on, Prometheus metrics, and the health endpoints
// supervisors probe.
//
// It reads the ledger the daemon writes and nothing else, never takes the writer's
// lock and never writes: whatever the HTTP side does, the audit trail cannot change.
// Run follows the ledger as it grows and keeps a compact index of it in memory (a
// few dozen bytes per record; details are read from the file by offset), checking the
// hash chain with `clawtrail verify`'s rules as it goes.
package server

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// StatusInfo is what the process that writes the ledger reports about itself; the
// daemon satisfies it through a small adapter. Its JSON is what /healthz and /readyz
// return.
type StatusInfo struct {
	Healthy    bool      `json:"healthy"`         // alive and the ledger writable
	Error      string    `json:"error,omitempty"` // why not healthy
	Ready      bool      `json:"ready"`           // caught up with the sources
	Files      int       `json:"files"`           // transcripts followed
	LagBytes   int64     `json:"lag_bytes"`       // transcript bytes not read yet
	Records    int64     `json:"records"`         // records in the ledger
	LastRecord time.Time `json:"last_record,omitzero"`
	Problems   int64     `json:"problems"` // transcript lines skipped as unreadable
	// Agents is the storage era found for every agent directory.
	Agents []AgentInfo `json:"agents,omitempty"`
	// Warnings name sources found but not audited (an agent directory with no
	// readable transcripts, a transcript database that does not open). They do
	// not make the daemon unready: readiness is being caught up with what can be
	// read, and an agent before its first session has nothing to read yet.
	Warnings []string `json:"warnings,omitempty"`
}

// AgentInfo is the storage era of one agent directory: jsonl, sqlite, both or none.
type AgentInfo struct {
	Agent string `json:"agent"`
	Dir   string `json:"dir"`
	Era   string `json:"era"`
}

// Config configures a Server.
type Config struct {
	// Ledger is the path of governance.jsonl. It is only ever read.
	Ledger string
	// Status reports the writer's state for /healthz, /readyz and metrics. Nil: the
	// server stands alone, healthy while it can read the ledger, ready once indexed.
	Status func() StatusInfo
	// Token, when set, is required on every request except /login and /static/: as
	// "Authorization: Bearer <token>", or as the session cookie a one-time login
	// link (LoginPath) sets.
	Token string
	// Registry receives the metrics; nil: a new one. Never the default registry.
	Registry *prometheus.Registry
	Logger   *slog.Logger
	// MaxIndex bounds the records kept in the in-memory index (default 1,000,000);
	// older ones drop out of the web view and API, not out of the ledger or metrics.
	MaxIndex int
	// Poll is how often the ledger is checked for new records (default 100 ms).
	Poll time.Duration
	// RatePerSecond and RateBurst limit each client address (defaults 20 and 60).
	RatePerSecond float64
	RateBurst     int
	// MaxStreams bounds concurrent /api/stream connections (default 32, a quarter
	// of them per client address).
	MaxStreams int
	// Now replaces time.Now (tests).
	Now func() time.Time
}

// Server serves the web view, API, metrics and health of one ledger. Create it with
// New, start Run in a goroutine, and serve Handler. Safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	reg     *prometheus.Registry
	idx     *index
	pages   map[string]*template.Template
	static  map[string]staticFile
	auth    *auth
	limiter *limiter
	streams *streamSlots
	handler http.Handler

	done        chan struct{} // closed when Run returns: ends the live streams
	running     atomic.Bool
	writeErrors atomic.Int64
	wasHealthy  atomic.Bool
}

// New returns a Server for cfg. It registers the metrics and parses the templates;
// it does not touch the ledger until Run.
func New(cfg Config) (*Server, error) {
	if cfg.Ledger == "" {
		return nil, errors.New("server: no ledger path")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.MaxIndex <= 0 {
		cfg.MaxIndex = 1_000_000
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 100 * time.Millisecond
	}
	if cfg.RatePerSecond <= 0 {
		cfg.RatePerSecond = 20
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = 60
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 32
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, log: cfg.Logger, reg: cfg.Registry, idx: newIndex(cfg.MaxIndex), done: make(chan struct{})}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.static, err = loadStatic(); err != nil {
		return nil, err
	}
	if s.auth, err = newAuth(cfg.Token, cfg.Now); err != nil {
		return nil, err
	}
	s.limiter = newLimiter(cfg.RatePerSecond, cfg.RateBurst, cfg.Now)
	s.streams = newStreamSlots(cfg.MaxStreams)
	if err := s.registerMetrics(); err != nil {
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// Handler returns the HTTP handler serving every route (routes.go).
func (s *Server) Handler() http.Handler { return s.handler }

// LoginPath returns the current one-time login link ("/login?t=…"), or "" when no
// token is configured. Once used, the link is spent and a new one is logged.
func (s *Server) LoginPath() string { return s.auth.loginPath() }

func (s *Server) now() time.Time { return s.cfg.Now() }

// status is the writer's status, or, standing alone, the reader's own.
func (s *Server) status() StatusInfo {
	if s.cfg.Status != nil {
		return s.cfg.Status()
	}
	s.idx.mu.RLock()
	defer s.idx.mu.RUnlock()
	st := StatusInfo{Healthy: s.idx.chain.readErr == "", Error: s.idx.chain.readErr, Ready: s.idx.chain.caughtUp, Records: s.idx.c.records,
		LastRecord: s.idx.c.lastRecorded}
	return st
}
