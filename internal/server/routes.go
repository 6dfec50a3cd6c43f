package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every endpoint the server has; all are read-only. guard (security.go)
// wraps them all: headers, method, size, rate limit, token.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// Web view (server-rendered; the one script only adds live rows).
	mux.HandleFunc("GET /{$}", s.handleExecutions)
	mux.HandleFunc("GET /exec/{seq}", s.handleRecord)
	mux.HandleFunc("GET /session/{agent}/{session}", s.handleSession)
	mux.HandleFunc("GET /providers", s.handleProviders)
	mux.HandleFunc("GET /integrity", s.handleIntegrity)
	mux.HandleFunc("GET /static/{file}", s.handleStatic)
	mux.HandleFunc("GET /login", s.handleLogin)

	// JSON API (docs/api.md) and the live stream.
	mux.HandleFunc("GET /api/executions", s.apiExecutions)
	mux.HandleFunc("GET /api/executions/{seq}", s.apiExecution)
	mux.HandleFunc("GET /api/sessions", s.apiSessions)
	mux.HandleFunc("GET /api/provider-errors", s.apiProviderErrors)
	mux.HandleFunc("GET /api/stats", s.apiStats)
	mux.HandleFunc("GET /api/integrity", s.apiIntegrity)
	mux.HandleFunc("GET /api/stream", s.handleStream)

	// For machines: Prometheus and supervisors' probes.
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)

	return s.guard(mux)
}
