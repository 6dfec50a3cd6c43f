package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/clawtrail/clawtrail/internal/daemon"
	"github.com/clawtrail/clawtrail/internal/sdnotify"
)

// startNotify connects runRun to a notify-aware supervisor (systemd Type=notify):
// READY=1 once the daemon has caught up with its sources, WATCHDOG=1 while it
// can write the ledger, STATUS= with what it is doing, STOPPING=1 as soon as ctx
// ends. It is a no-op without $NOTIFY_SOCKET. The returned function stops the
// goroutine (sending STOPPING=1 if ctx has not ended yet, e.g. the daemon failed
// on its own) and waits for it, so nothing outlives runRun.
func startNotify(ctx context.Context, d *daemon.Daemon, getenv func(string) string, log *slog.Logger) (stop func()) {
	n, err := sdnotify.New(getenv)
	if err != nil {
		log.Warn("supervisor notification disabled", "err", err)
		return func() {}
	}
	if n == nil {
		return func() {}
	}
	interval, err := sdnotify.WatchdogInterval(getenv, os.Getpid())
	switch {
	case errors.Is(err, sdnotify.ErrWatchdogOtherPID):
		interval = 0 // inherited from someone else: not ours to ping
	case err != nil:
		log.Warn("watchdog disabled", "err", err)
	}
	log.Info("notifying supervisor", "socket", n.Socket(), "watchdog", interval)

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		n.Supervise(ctx, interval, func() sdnotify.Health { return daemonHealth(d.Status()) },
			func(err error) { log.Warn("supervisor notification failed", "err", err) })
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// daemonHealth maps the daemon's status to what the supervisor sees. Before the
// first catch-up ends the daemon has written nothing and so is not yet "healthy";
// it is alive and not failing, which is all a watchdog can ask of it during a long
// start-up (TimeoutStartSec= bounds that). Once the ledger cannot be written the
// pings stop and WatchdogSec= restarts the service: a restart reopens the ledger
// and re-reads from the positions the ledger itself records.
func daemonHealth(st daemon.Status) sdnotify.Health {
	h := sdnotify.Health{Ready: st.Ready, Healthy: st.Healthy || (!st.Ready && st.Error == "")}
	switch {
	case st.Error != "":
		h.Status = "ledger not writable: " + st.Error
	case !st.Ready:
		h.Status = fmt.Sprintf("catching up: %d files", st.Files)
	default:
		h.Status = fmt.Sprintf("following %d files, %d records, %d bytes behind", st.Files, st.Records, st.LagBytes)
	}
	return h
}
