package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/clawtrail/clawtrail/internal/daemon"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/scan"
)

const runAbout = `The sidecar daemon: follows every agent's session transcripts as OpenClaw writes them
(file events plus a periodic sweep, so a missed event never means a missed line) and
appends each record to the ledger as soon as its result line lands. Records are
fsynced before anything moves past them; after kill -9 at any instant and a restart,
every exec is in the ledger exactly once. One writer per ledger: a second one is
refused with the holder's pid. SIGTERM or SIGINT stops it within 2 s with everything
read made durable.

HTTP (loopback by default): /healthz (alive and ledger writable), /readyz (caught up).

Examples:
  clawtrail run --source ~/.openclaw --ledger /data/governance.jsonl
  clawtrail run --once --source ./state     # catch up, then exit`

func runRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[flags]", runAbout, stderr)
	var sources listFlag
	fs.Var(&sources, "source", "OpenClaw state `dir` to follow (repeatable; default $OPENCLAW_STATE_DIR, else ~/.openclaw)")
	ledgerPath := fs.String("ledger", "governance.jsonl", "ledger `file`")
	listen := fs.String("listen", "127.0.0.1:7391", "HTTP `address` for health endpoints; \"off\" to disable")
	token := fs.String("token", "", "bearer `token` required on every request (mandatory when --listen is not loopback)")
	once := fs.Bool("once", false, "stop when caught up")
	allTools := fs.Bool("all-tools", false, "also record non-shell tool calls")
	agent := fs.String("agent", "main", "agent `name` for a sessions dir outside agents/<id>/")
	noResult := fs.Duration("no-result-after", 30*time.Minute, "record a call without a result as no_result after this `duration`")
	sweep := fs.Duration("sweep", 5*time.Second, "full rediscovery and stat sweep every `duration`")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(sources) == 0 {
		sources = listFlag{defaultSource(getenv)}
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageErr("--log-level %q: %v", *logLevel, err)
	}
	var h slog.Handler
	switch *logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		return usageErr("--log-format %q: want text or json", *logFormat)
	}
	log := slog.New(h)

	d := daemon.New(daemon.Config{Sources: sources, Ledger: *ledgerPath, DefaultAgent: *agent, AllTools: *allTools,
		MaxLine: scan.DefaultMaxLine, NoResultAfter: *noResult, Reconcile: *sweep, Once: *once, Logger: log})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var srv *http.Server
	serveErr := make(chan error, 1)
	if *listen != "off" && !*once {
		if err := checkListen(*listen, *token); err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return withCode(exitUsage, fmt.Errorf("cannot listen on %s: %w", *listen, err))
		}
		srv = &http.Server{Handler: healthHandler(d, *token), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
		go func() { serveErr <- srv.Serve(ln) }()
		log.Info("http listening", "addr", ln.Addr().String())
	}
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	var err error
	select {
	case err = <-runErr:
	case err = <-serveErr:
		cancel()
		<-runErr
		err = fmt.Errorf("http server: %w", err)
	}
	if srv != nil {
		shut, cancelShut := context.WithTimeout(context.Background(), time.Second)
		_ = srv.Shutdown(shut)
		cancelShut()
	}
	if err != nil {
		if errors.Is(err, ledger.ErrLocked) || errors.Is(err, ledger.ErrDamaged) || strings.Contains(err.Error(), "ledger") {
			return withCode(exitLedger, err)
		}
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	}
	return nil
}

// checkListen refuses to expose the audit trail beyond this host without a token.
func checkListen(addr, token string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("--listen %q: %v", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if token == "" {
		return usageErr("--listen %s is not a loopback address: set --token so the audit trail is not open to the network", addr)
	}
	return nil
}

func healthHandler(d *daemon.Daemon, token string) http.Handler {
	mux := http.NewServeMux()
	write := func(w http.ResponseWriter, ok bool, st daemon.Status) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(st)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		st := d.Status()
		write(w, st.Healthy, st)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := d.Status()
		write(w, st.Healthy && st.Ready, st)
	})
	return requireToken(token, mux)
}

func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="clawtrail"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
