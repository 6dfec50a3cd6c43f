package scan_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	_ "modernc.org/sqlite"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// makeAgentDB creates agents/<agent>/agent/openclaw-agent.sqlite with the 2026.9
// schema (event_json or zstd event_zstd), in WAL mode as OpenClaw runs it.
func makeAgentDB(t *testing.T, root, agent string, rows map[string][]string, compress bool) {
	t.Helper()
	dir := filepath.Join(root, "agents", agent, "agent")
	os.MkdirAll(dir, 0o755)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "openclaw-agent.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`PRAGMA journal_mode=WAL`,
		`CREATE TABLE session_windows(session_id TEXT NOT NULL PRIMARY KEY, created_at INTEGER NOT NULL) STRICT`,
		`CREATE TABLE transcript_events(session_id TEXT NOT NULL REFERENCES session_windows(session_id) ON DELETE CASCADE,
			seq INTEGER NOT NULL, event_json TEXT, created_at INTEGER NOT NULL, event_zstd BLOB,
			PRIMARY KEY(session_id, seq), CHECK ((event_json IS NULL) <> (event_zstd IS NULL))) STRICT`,
		`PRAGMA user_version = 23`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	enc, _ := zstd.NewWriter(nil)
	for session, events := range rows {
		db.Exec(`INSERT INTO session_windows VALUES(?, 1)`, session)
		for i, ev := range events {
			if compress && i%2 == 1 {
				_, err = db.Exec(`INSERT INTO transcript_events(session_id, seq, event_json, created_at, event_zstd) VALUES(?,?,NULL,1,?)`, session, i+1, enc.EncodeAll([]byte(ev), nil))
			} else {
				_, err = db.Exec(`INSERT INTO transcript_events(session_id, seq, event_json, created_at) VALUES(?,?,?,1)`, session, i+1, ev)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestSQLiteEraAndMigratedInstallAuditedOnce(t *testing.T) {
	e := newEnv(t)
	events := []string{header("s9"), call("a1", "c1", "make deploy"), result("r1", "c1", 2, "boom"),
		call("a2", "c2", "uname -a"), result("r2", "c2", 0, "Linux box")}
	makeAgentDB(t, e.root, "main", map[string][]string{"s9": events}, true)
	// A migrated install keeps the imported JSONL too: the same session, read once.
	e.write("agents/main/sessions/session-sqlite-import-archive/s9.jsonl", events[:3]...)
	sum := e.scan()
	if got := summary(e.records()); got != "exec:c1:nonzero_exit exec:c2:succeeded" {
		t.Fatalf("records = %s", got)
	}
	var era string
	for _, x := range sum.Eras {
		era += x.Agent + ":" + x.Era
	}
	if era != "main:both" {
		t.Fatalf("eras = %q, want main:both", era)
	}
	recs := e.records()
	if src := recs[0].Source; src == nil || !strings.HasSuffix(src.Path, "openclaw-agent.sqlite#s9") && !strings.HasSuffix(src.Path, "s9.jsonl") {
		t.Fatalf("source = %+v", recs[0].Source)
	}
	if s := e.scan(); s.Appended != 0 {
		t.Fatalf("rescan appended %d", s.Appended)
	}
	_ = ledger.KindExec
}

// Cold storage (OpenClaw 2026.9+) moves old events out of the database into
// sessions/cold/<sha256>.jsonl.zst; they hold commands that ran.
func TestColdArchiveIsRead(t *testing.T) {
	e := newEnv(t)
	lines := []string{header("old1"), call("a1", "c1", "backup.sh"), result("r1", "c1", 0, "done")}
	enc, _ := zstd.NewWriter(nil)
	data := enc.EncodeAll([]byte(strings.Join(lines, "\n")+"\n"), nil)
	dir := filepath.Join(e.root, "agents", "main", "sessions", "cold")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.jsonl.zst"), data, 0o600)
	e.scan()
	recs := e.records()
	if got := summary(recs); got != "exec:c1:succeeded" {
		t.Fatalf("records = %s", got)
	}
	if recs[0].Session != "old1" || !strings.Contains(recs[0].Source.Path, "cold/") || recs[0].Source.Line != 3 {
		t.Fatalf("record = %+v source %+v", recs[0], recs[0].Source)
	}
	if s := e.scan(); s.Appended != 0 {
		t.Fatalf("rescan appended %d", s.Appended)
	}
}
