package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/sqlitesource/sqlitetest"
)

// readyzBody is the JSON of /readyz as docs/api.md describes it.
type readyzBody struct {
	Healthy  bool  `json:"healthy"`
	Ready    bool  `json:"ready"`
	Files    int   `json:"files"`
	Records  int64 `json:"records"`
	Agents   []struct{ Agent, Dir, Era string }
	Warnings []string `json:"warnings"`
}

// An agent directory with nothing readable is audited by nobody: /readyz, asked
// over HTTP of the real daemon, lists each agent's storage era and names that agent
// and a transcript database that does not open, while staying 200 (readiness is
// being caught up with what can be read). The warning goes once the agent has a
// transcript.
func TestReadyzNamesAgentsWithNothingReadable(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	mkdir := func(p string) string {
		t.Helper()
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write := func(p, data string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// legacy: a JSONL transcript (OpenClaw up to 2026.7).
	legacy := mkdir(filepath.Join(state, "agents", "legacy", "sessions"))
	call, res, _ := execLines(rand.New(rand.NewPCG(1, 1)), 1, "call_1", "2026-09-01T10:00:01.000Z")
	write(filepath.Join(legacy, "s1.jsonl"), headerLine("s1", "2026-09-01T10:00:00.000Z")+"\n"+call+"\n"+res+"\n")
	// main: an SQLite transcript database (2026.8+).
	mainDB := agentDB(state, "main")
	mkdir(filepath.Dir(mainDB))
	db, err := sqlitetest.Create(mainDB, sqlitetest.DDLSchema23, 5000)
	if err != nil {
		t.Fatal(err)
	}
	call2, res2, _ := execLines(rand.New(rand.NewPCG(1, 1)), 2, "call_2", "2026-09-01T10:00:01.000Z")
	for i, ev := range []string{call2, res2} {
		if err := sqlitetest.Insert(context.Background(), db, "s2", int64(i+1), []byte(ev), i == 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// idle: an agent before its first session (only the session index).
	idle := mkdir(filepath.Join(state, "agents", "idle", "sessions"))
	write(filepath.Join(idle, "sessions.json"), "{}")
	// broken: a database file that is not a database.
	broken := agentDB(state, "broken")
	mkdir(filepath.Dir(broken))
	write(broken, strings.Repeat("not a database ", 300))

	addr := startRun(t, "--source", state, "--ledger", filepath.Join(dir, "governance.jsonl"), "--sweep", "100ms", "--log-level", "error")
	get := func() (int, readyzBody) {
		t.Helper()
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0, readyzBody{}
		}
		defer resp.Body.Close()
		var b readyzBody
		if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
			t.Fatalf("/readyz body: %v", err)
		}
		return resp.StatusCode, b
	}
	wait := func(what string, ok func(int, readyzBody) bool) readyzBody {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, b := get()
			if ok(code, b) {
				return b
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: /readyz answered %d %+v", what, code, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	b := wait("both execs recorded", func(code int, b readyzBody) bool { return code == http.StatusOK && b.Ready && b.Records >= 2 })
	var eras []string
	for _, a := range b.Agents {
		eras = append(eras, fmt.Sprintf("%s:%s:%s", a.Agent, a.Dir, a.Era))
	}
	slices.Sort(eras)
	if want := []string{"idle:agents/idle:none", "legacy:agents/legacy:jsonl", "main:agents/main:sqlite"}; !slices.Equal(eras, want) {
		t.Errorf("agents %v, want %v", eras, want)
	}
	if len(b.Warnings) != 2 || !strings.Contains(b.Warnings[0], "agent broken: the transcript database agents/broken/agent/openclaw-agent.sqlite does not open") ||
		!strings.Contains(b.Warnings[1], "agent idle (agents/idle) has no readable transcripts") {
		t.Errorf("warnings %q", b.Warnings)
	}
	// The idle agent's first session: its warning goes.
	write(filepath.Join(idle, "s3.jsonl"), headerLine("s3", "2026-09-01T10:00:00.000Z")+"\n")
	wait("idle agent no longer warned about", func(code int, b readyzBody) bool {
		return code == http.StatusOK && len(b.Warnings) == 1 && strings.Contains(b.Warnings[0], "agent broken")
	})
}
