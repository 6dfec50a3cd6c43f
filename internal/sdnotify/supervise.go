package sdnotify

import (
	"context"
	"time"
)

// Health is what a service reports about itself at one instant.
type Health struct {
	Ready   bool   // start-up is complete (sent once, as READY=1)
	Healthy bool   // the watchdog may be reset now
	Status  string // one line for `systemctl status`; sent when it changes
}

// readyPoll is how often the probe is asked before the service is ready: start-up
// completion should reach the supervisor within a blink, and the probe is cheap.
const readyPoll = 50 * time.Millisecond

// statusEvery refreshes STATUS= when no watchdog sets the pace.
const statusEvery = 5 * time.Second

// Supervise runs the notification side of a service until ctx ends. It asks
// probe for the service's health, sends READY=1 the first time it is ready,
// WATCHDOG=1 every interval/2 while it is healthy (interval as returned by
// WatchdogInterval; 0 disables pings), STATUS= whenever the status line changes,
// and STOPPING=1 when ctx ends, before it returns.
//
// An unhealthy service is deliberately not pinged: the supervisor's watchdog
// then restarts it, which is the corrective action WatchdogSec= exists for.
// Send errors are passed to onErr (which may be nil) and do not stop the loop:
// a supervisor restarting its socket must not take the service down.
func (n *Notifier) Supervise(ctx context.Context, interval time.Duration, probe func() Health, onErr func(error)) {
	if n == nil {
		return
	}
	report := func(err error) {
		if err != nil && onErr != nil {
			onErr(err)
		}
	}
	period := interval / 2
	var (
		ready      bool
		lastStatus string
		lastPing   time.Time
	)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			report(n.Send("STOPPING=1", "STATUS=stopping"))
			return
		case <-t.C:
		}
		h := probe()
		var msg []string
		if h.Status != "" && h.Status != lastStatus {
			msg = append(msg, "STATUS="+oneLine(h.Status))
			lastStatus = h.Status
		}
		if h.Ready && !ready {
			msg = append(msg, "READY=1")
			ready = true
		}
		now := time.Now()
		if period > 0 && h.Healthy && now.Sub(lastPing) >= period {
			msg = append(msg, "WATCHDOG=1")
			lastPing = now
		}
		report(n.Send(msg...))
		next := statusEvery
		switch {
		case !ready:
			next = readyPoll
		case period > 0 && h.Healthy:
			next = period - time.Since(lastPing)
		case period > 0:
			// Unhealthy: look again soon, so that a recovery resumes the pings
			// before the supervisor's timer runs out.
			next = min(period, time.Second)
		}
		t.Reset(max(next, time.Millisecond))
	}
}
