package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
)

func TestRunPrintsStats(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var stdout, stderr bytes.Buffer
	args := []string{"-out", dir, "-size", "300KB", "-seed", "3", "-agents", "2", "-sessions", "2", "-version", "2026.7"}
	if err := run(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v (stderr %q)", err, stderr.String())
	}
	var got summary
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("stdout %q is not a JSON stats line: %v", stdout.String(), err)
	}
	if got.Files != 4 || got.Bytes < 250_000 || got.Execs == 0 || got.Dir != dir {
		t.Errorf("stats = %+v, want 4 files of about 300 KB with execs", got)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr = %q, want nothing when not on a terminal", stderr.String())
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-out", t.TempDir(), "-size", "lots"},
		{"-out", t.TempDir(), "extra"},
		{"-nope"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), args, &stdout, &stderr)
		var u usageError
		if !errors.As(err, &u) {
			t.Errorf("run(%q) = %v, want a usage error", args, err)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1GB": 1_000_000_000, "100MB": 100_000_000, "512MiB": 512 << 20, "1.5GB": 1_500_000_000,
		"1048576": 1 << 20, "10 kb": 10_000, "2GiB": 2 << 30,
	} {
		got, err := parseSize(in)
		if err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GB", "-1MB", "1XB", "1.2.3MB"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) succeeded, want an error", in)
		}
	}
}
