package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const healthAbout = `Asks a running 'clawtrail run' whether it is healthy (alive and able to write its
ledger): exit 0 when the URL answers 200, 1 otherwise. It exists for container
health checks in images without curl or a shell:
  HEALTHCHECK CMD ["/clawtrail", "health"]

The token defaults to $CLAWTRAIL_TOKEN, so a health check does not need it on its
command line.`

func runHealth(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("health", "[flags]", healthAbout, stderr)
	url := fs.String("url", "http://127.0.0.1:7391/healthz", "health `URL` of the daemon")
	token := fs.String("token", getenv("CLAWTRAIL_TOKEN"), "bearer `token` (default $CLAWTRAIL_TOKEN)")
	timeout := fs.Duration("timeout", 2*time.Second, "give up after this `duration`")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("health takes no arguments, got %q", pos)
	}
	if *timeout <= 0 {
		return usageErr("--timeout %v: must be positive", *timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usageErr("--url %q: %v", *url, err)
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	// No proxy from the environment: a health check is about this host's daemon,
	// and HTTP_PROXY set for the agent must not route it elsewhere.
	client := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return withCode(exitFailed, fmt.Errorf("health: %w", err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return withCode(exitFailed, fmt.Errorf("health: %s answered %s: %s", *url, resp.Status, strings.TrimSpace(oneLineText(string(body)))))
	}
	fmt.Fprintf(stdout, "healthy: %s\n", strings.TrimSpace(oneLineText(string(body))))
	return nil
}

// oneLineText keeps a hostile or broken server from writing terminal escapes or
// extra lines into the health check log.
func oneLineText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
