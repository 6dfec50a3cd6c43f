package daemon_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// OpenClaw 2026.8+ writes no live JSONL: the daemon follows the agent database as a
// writer commits rows to it.
func TestFollowsSQLiteTranscripts(t *testing.T) {
	e := newEnv(t)
	dir := filepath.Join(e.state, "agents", "main", "agent")
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
			seq INTEGER NOT NULL, event_json TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY(session_id, seq)) STRICT`,
		`INSERT INTO session_windows VALUES('db1', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	insert := func(seq int, ev string) {
		if _, err := db.Exec(`INSERT INTO transcript_events VALUES('db1', ?, ?, 1)`, seq, ev); err != nil {
			t.Fatal(err)
		}
	}
	insert(1, header("db1"))
	insert(2, call("a1", "c1", "ls", t0))
	insert(3, result("r1", "c1", 0))
	e.start()
	e.waitExecs("db1/c1:succeeded")
	insert(4, call("a2", "c2", "make", t0))
	insert(5, result("r2", "c2", 2))
	e.waitExecs("db1/c1:succeeded db1/c2:nonzero_exit")
	// Deleting the session (cascade) is recorded; its unanswered call becomes no_result.
	insert(6, call("a3", "c3", "sleep 999", t0))
	e.waitFor("pending call read", func() bool { return len(e.records()) >= 3 })
	time.Sleep(300 * time.Millisecond)
	if _, err := db.Exec(`PRAGMA foreign_keys=ON; DELETE FROM session_windows WHERE session_id='db1'`); err != nil {
		t.Fatal(err)
	}
	e.waitExecs("db1/c1:succeeded db1/c2:nonzero_exit db1/c3:no_result")
	var archived bool
	for _, r := range e.records() {
		archived = archived || r.Kind == "source" && r.Type == "archived"
	}
	if !archived {
		t.Fatal("no source record for the deleted session")
	}
	e.stop()
	// A restart reads the database again; nothing is recorded twice.
	before := len(e.records())
	e.start()
	time.Sleep(300 * time.Millisecond)
	if after := len(e.records()); after != before {
		t.Fatalf("restart appended %d records", after-before)
	}
}
