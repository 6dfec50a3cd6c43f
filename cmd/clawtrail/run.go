package main

import (
	"context"
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
	"github.com/clawtrail/clawtrail/internal/server"
	"github.com/clawtrail/clawtrail/internal/witness"
)

const runAbout = `The sidecar daemon: follows every agent's session transcripts as OpenClaw writes them
(file events plus a periodic sweep, so a missed event never means a missed line) and
appends each record to the ledger as soon as its result line lands. Records are
fsynced before anything moves past them; after kill -9 at any instant and a restart,
every exec is in the ledger exactly once. One writer per ledger: a second one is
refused with the holder's pid. SIGTERM or SIGINT stops it within 2 s with everything
read made durable.

HTTP (loopback by default; any other address needs --token): the web view at /,
the JSON API under /api/ and its live stream /api/stream (docs/api.md), /metrics for
Prometheus, /healthz (alive and ledger writable) and /readyz (caught up), which answer
503 when not; both list each agent's storage era and warn of agents with nothing
readable. With --token, send "Authorization: Bearer TOKEN", or open the one-time
login link printed at start in a browser. Nothing served over HTTP can change the ledger.

Examples:
  clawtrail run --source ~/.openclaw --ledger /data/governance.jsonl
  clawtrail run --once --source ./state     # catch up, then exit`

func runRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[flags]", runAbout, stderr)
	var sources listFlag
	fs.Var(&sources, "source", "OpenClaw state `dir` to follow (repeatable; default $OPENCLAW_STATE_DIR, else ~/.openclaw)")
	ledgerPath := fs.String("ledger", "governance.jsonl", "ledger `file`")
	listen := fs.String("listen", "127.0.0.1:7391", "HTTP `address` for the web view, API, metrics and health; \"off\" to disable")
	// The token may come from the environment so that it is not visible in ps or
	// docker inspect.
	token := fs.String("token", getenv("CLAWTRAIL_TOKEN"), "bearer `token` required on every request (mandatory when --listen is not loopback; default $CLAWTRAIL_TOKEN)")
	once := fs.Bool("once", false, "stop when caught up")
	withWitness := fs.Bool("witness", false, "match every exec to the process the kernel saw (Linux, needs CAP_NET_ADMIN or root; see docs/witness.md)")
	witnessRuntime := fs.String("witness-runtime", "", "with --witness: the runtime's process `name` as ps -o comm shows it (node, openclaw-gateway); only its children count as its commands")
	allTools := fs.Bool("all-tools", false, "also record non-shell tool calls")
	agent := fs.String("agent", "main", "agent `name` for a sessions dir outside agents/<id>/")
	noResult := fs.Duration("no-result-after", 30*time.Minute, "record a call without a result as no_result after this `duration`")
	sweep := fs.Duration("sweep", 5*time.Second, "full rediscovery and stat sweep every `duration`")
	indexEvery := fs.Duration("index-every", time.Minute, "save the ledger's index snapshot (<ledger>.index) at most this often, so a restart checks only the ledger's tail")
	checkpointKey := fs.String("checkpoint-key", "", "sign checkpoints with this key `file` (from 'clawtrail keygen')")
	checkpointEvery := fs.Duration("checkpoint-every", 10*time.Minute, "write a checkpoint record over what was appended at most this often (and at shutdown)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(sources) == 0 {
		sources = listFlag{defaultSource(getenv)}
	}
	signer, err := loadSigner(*checkpointKey)
	if err != nil {
		return err
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

	var wit *witness.Witness
	if *withWitness {
		w, err := witness.Start(ctx, witness.Config{Logger: log.With("component", "witness"), Runtime: *witnessRuntime})
		if err != nil {
			// Said once; records then carry witness status "unavailable".
			log.Warn("kernel witness unavailable; execs are recorded with witness status unavailable", "err", err)
		}
		wit = w
		if w != nil {
			defer w.Close()
		}
	}
	d := daemon.New(daemon.Config{Witness: wit, Sources: sources, Ledger: *ledgerPath, DefaultAgent: *agent, AllTools: *allTools,
		MaxLine: scan.DefaultMaxLine, NoResultAfter: *noResult, Reconcile: *sweep, IndexEvery: *indexEvery, CheckpointEvery: *checkpointEvery, Signer: signer, Once: *once, Logger: log})

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopNotify := startNotify(ctx, d, getenv, log) // systemd READY/WATCHDOG/STOPPING; notify.go
	defer stopNotify()
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
		web, err := server.New(server.Config{Ledger: *ledgerPath, Status: serverStatus(d), Token: *token, Logger: log.With("component", "http")})
		if err != nil {
			ln.Close()
			return err
		}
		// The event stream holds its response open and extends its own write
		// deadline per event; every other response must finish within WriteTimeout.
		srv = &http.Server{Handler: web.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
		srv.RegisterOnShutdown(cancel) // ends the web index, and with it the open event streams
		go func() { serveErr <- srv.Serve(ln) }()
		webDone := make(chan struct{})
		go func() {
			defer close(webDone)
			if err := web.Run(ctx); err != nil {
				log.Error("web index stopped", "err", err)
			}
		}()
		defer func() { cancel(); <-webDone }()
		log.Info("http listening", "addr", ln.Addr().String())
		if p := web.LoginPath(); p != "" {
			fmt.Fprintf(stderr, "clawtrail: open http://%s%s to log in to the web view (the link works once)\n", ln.Addr().String(), p)
		}
	}
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	err = nil
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

// serverStatus adapts the daemon's status to what the HTTP server reports.
func serverStatus(d *daemon.Daemon) func() server.StatusInfo {
	return func() server.StatusInfo {
		st := d.Status()
		agents := make([]server.AgentInfo, len(st.Agents))
		for i, a := range st.Agents {
			agents[i] = server.AgentInfo(a)
		}
		return server.StatusInfo{Healthy: st.Healthy, Error: st.Error, Ready: st.Ready, Files: st.Files, LagBytes: st.LagBytes,
			Records: st.Records, LastRecord: st.LastRecord, Problems: st.Problems, Agents: agents, Warnings: st.Warnings}
	}
}
