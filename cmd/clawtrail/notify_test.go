package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRunNotifiesSystemd runs the daemon as systemd would start a Type=notify unit
// with WatchdogSec=: a real unix datagram socket in $NOTIFY_SOCKET receives
// READY=1 once it has caught up, WATCHDOG=1 at half of $WATCHDOG_USEC, and
// STOPPING=1 when it is told to stop, before it exits.
func TestRunNotifiesSystemd(t *testing.T) {
	dir, err := os.MkdirTemp("", "ctn") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "notify")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type msg struct {
		at    time.Time
		lines []string
	}
	msgs := make(chan msg, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := c.ReadFromUnix(buf)
			if err != nil {
				return
			}
			msgs <- msg{time.Now(), strings.Split(string(buf[:n]), "\n")}
		}
	}()
	next := func(what string) msg {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s within 10s", what)
			return msg{}
		}
	}

	state := filepath.Join(dir, "state", "agents", "main", "sessions")
	if err := os.MkdirAll(state, 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "300000", "WATCHDOG_PID": fmt.Sprint(os.Getpid())}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() {
		done <- run(ctx, []string{"run", "--source", filepath.Join(dir, "state"), "--ledger", filepath.Join(dir, "governance.jsonl"),
			"--listen", "off", "--log-level", "error"}, func(k string) string { return env[k] }, strings.NewReader(""), &bytes.Buffer{}, &stderr)
	}()

	for {
		m := next("READY=1")
		if slices.Contains(m.lines, "READY=1") {
			break
		}
	}
	var pings []time.Time
	for len(pings) < 8 {
		m := next("WATCHDOG=1")
		if slices.Contains(m.lines, "WATCHDOG=1") {
			pings = append(pings, m.at)
		}
		if slices.Contains(m.lines, "STOPPING=1") {
			t.Fatalf("STOPPING=1 before stop: %q", m.lines)
		}
	}
	// Pinged every 150 ms; systemd would act at 300 ms. The typical gap must be
	// 150 ms; a loaded machine may delay a few.
	var gaps []time.Duration
	for i := 1; i < len(pings); i++ {
		gaps = append(gaps, pings[i].Sub(pings[i-1]))
	}
	slices.Sort(gaps)
	if m := gaps[len(gaps)/2]; m < 120*time.Millisecond || m > 225*time.Millisecond {
		t.Errorf("median ping gap %v, want about 150ms (half of WATCHDOG_USEC=300ms); gaps %v", m, gaps)
	}
	cancel()
	for {
		m := next("STOPPING=1")
		if slices.Contains(m.lines, "STOPPING=1") {
			break
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v\n%s", err, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after STOPPING=1")
	}
	select {
	case m := <-msgs:
		t.Errorf("message after STOPPING=1: %q", m.lines)
	case <-time.After(100 * time.Millisecond):
	}
}
