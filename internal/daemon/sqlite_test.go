package daemon_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/daemon"
	"github.com/clawtrail/clawtrail/internal/sqlitesource/sqlitetest"
)

// agentDB creates an agent's transcript database (2026.8.1 schema) under the
// env's state dir and returns its writer connection.
func (e *env) agentDB(agent string) *sql.DB {
	e.t.Helper()
	path := filepath.Join(e.state, "agents", agent, "agent", "openclaw-agent.sqlite")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		e.t.Fatal(err)
	}
	db, err := sqlitetest.Create(path, sqlitetest.DDLSchema8, 5000)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { db.Close() })
	return db
}

func insertEvents(t *testing.T, db *sql.DB, session string, from int64, events ...string) {
	t.Helper()
	for i, ev := range events {
		if err := sqlitetest.Insert(context.Background(), db, session, from+int64(i), []byte(ev), false, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// OpenClaw 2026.8+ writes no live JSONL: the daemon follows the agent database as a
// writer commits rows to it.
func TestFollowsSQLiteTranscripts(t *testing.T) {
	e := newEnv(t)
	db := e.agentDB("main")
	insertEvents(t, db, "db1", 1, header("db1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0))
	e.start()
	e.waitExecs("db1/c1:succeeded")
	insertEvents(t, db, "db1", 4, call("a2", "c2", "make", t0), result("r2", "c2", 2))
	e.waitExecs("db1/c1:succeeded db1/c2:nonzero_exit")
	// A session without a header event is named by its session_id, as scan names it.
	insertEvents(t, db, "bare", 1, call("b1", "c9", "id", t0), result("b2", "c9", 0))
	e.waitExecs("bare/c9:succeeded db1/c1:succeeded db1/c2:nonzero_exit")
	// Deleting the session (cascade) is recorded; its unanswered call becomes no_result.
	insertEvents(t, db, "db1", 6, call("a3", "c3", "sleep 999", t0))
	e.waitFor("pending call read", func() bool { return len(e.records()) >= 4 })
	time.Sleep(300 * time.Millisecond)
	if _, err := db.Exec(`DELETE FROM session_windows WHERE session_id='db1'`); err != nil {
		t.Fatal(err)
	}
	e.waitExecs("bare/c9:succeeded db1/c1:succeeded db1/c2:nonzero_exit db1/c3:no_result")
	var archived bool
	for _, r := range e.records() {
		archived = archived || r.Kind == "source" && r.Type == "archived"
	}
	if !archived {
		t.Fatal("no source record for the deleted session")
	}
	e.stop()
	e.restartAppendsNothing()
}

// A live poll reads only the sessions with rows above the last rowid seen. Rows
// that reuse the rowids of a session deleted at the end of the table, committed
// together with rows above them in another session, are invisible to that: the
// periodic full read must still find them.
func TestSQLiteRowidReuseIsReadByTheFullPoll(t *testing.T) {
	e := newEnv(t)
	db := e.agentDB("main")
	insertEvents(t, db, "keep", 1, call("k1", "k1", "ls", t0), result("k2", "k1", 0))
	insertEvents(t, db, "gone", 1, call("g1", "g1", "ls", t0), result("g2", "g1", 0), call("g3", "g3", "ls", t0), result("g4", "g3", 0))
	// Sweeps every 50 ms: a full read (every twelfth) at least every 0.6 s.
	e.start(func(c *daemon.Config) { c.Reconcile = 50 * time.Millisecond })
	e.waitExecs("gone/g1:succeeded gone/g3:succeeded keep/k1:succeeded")
	// rowids 3-6 are freed, then 3-6 go to "reused", 7 to "above", in one commit.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`DELETE FROM session_windows WHERE session_id='gone'`); err != nil {
		t.Fatal(err)
	}
	for i, ev := range []string{call("u1", "u1", "id", t0), result("u2", "u1", 0), call("u3", "u3", "id", t0), result("u4", "u3", 0)} {
		if err := sqlitetest.Insert(context.Background(), tx, "reused", int64(i+1), []byte(ev), false, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlitetest.Insert(context.Background(), tx, "above", 1, []byte(call("v1", "v1", "true", t0)), false, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var above int64
	if err := db.QueryRow(`SELECT rowid FROM transcript_events WHERE session_id='reused' AND seq=4`).Scan(&above); err != nil || above != 6 {
		t.Fatalf("rowid of reused/4 = %d (%v): the test no longer sets up rowid reuse", above, err)
	}
	insertEvents(t, db, "above", 2, result("v2", "v1", 0))
	e.waitExecs("above/v1:succeeded gone/g1:succeeded gone/g3:succeeded keep/k1:succeeded reused/u1:succeeded reused/u3:succeeded")
}

// A commit's file events (its WAL frames) come before the commit is visible:
// SQLite publishes it afterwards in the memory-mapped -shm, which makes no event,
// and with synchronous=FULL only after an fsync. Each commit must still be
// recorded promptly, without waiting for the sweep (here an hour).
func TestSQLiteCommitSeenWithoutTheSweep(t *testing.T) {
	e := newEnv(t)
	db := e.agentDB("main")
	if _, err := db.Exec(`PRAGMA synchronous=FULL`); err != nil {
		t.Fatal(err)
	}
	insertEvents(t, db, "s", 1, header("s"))
	e.start(func(c *daemon.Config) { c.Reconcile = time.Hour })
	want := ""
	for i := range 10 {
		id := fmt.Sprintf("c%d", i)
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for j, ev := range []string{call("a"+id, id, "true", t0), result("r"+id, id, 0)} {
			if err := sqlitetest.Insert(context.Background(), tx, "s", int64(2+2*i+j), []byte(ev), false, 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		want = strings.TrimSpace(want + " s/" + id + ":succeeded")
		// Without a poll after the commit is visible it is never recorded (the
		// sweep is an hour away); the margin is for a loaded CI machine.
		deadline := time.Now().Add(5 * time.Second)
		for e.execs() != want {
			if time.Now().After(deadline) {
				t.Fatalf("commit %d not recorded within 5 s: %s", i, e.execs())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// A restart resumes each database session after the last event read (the positions
// hint), pulled back to a call still waiting for its result: rows already audited are
// not read again, and a result committed while the daemon was down still lands.
func TestSQLiteRestartResumesFromPositions(t *testing.T) {
	e := newEnv(t)
	db := e.agentDB("main")
	insertEvents(t, db, "s1", 1, header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0), call("a2", "c2", "make", t0))
	insertEvents(t, db, "s2", 1, header("s2"), call("b1", "d1", "id", t0), result("b2", "d1", 0))
	e.start()
	e.waitExecs("s1/c1:succeeded s2/d1:succeeded")
	e.stop()
	// While down: the pending call's result lands, and an event already audited is
	// spoiled. Read again, it would count as a problem; resumed past, it is not read.
	insertEvents(t, db, "s1", 5, result("r2", "c2", 2))
	if _, err := db.Exec(`UPDATE transcript_events SET event_json = '{"type":"message","id":"b2","message":{' WHERE session_id = 's2' AND seq = 3`); err != nil {
		t.Fatal(err)
	}
	e.start()
	e.waitExecs("s1/c1:succeeded s1/c2:nonzero_exit s2/d1:succeeded")
	if p := e.d.Status().Problems; p != 0 {
		t.Fatalf("%d problems after the restart: events already audited were read again", p)
	}
}

// A VACUUM rewrites the database in place (and may renumber rowids): the ledger says
// so with a source record, nothing is recorded twice, and following goes on.
func TestSQLiteVacuumIsRecorded(t *testing.T) {
	e := newEnv(t)
	db := e.agentDB("main")
	insertEvents(t, db, "s1", 1, header("s1"), call("a1", "c1", "ls", t0), result("r1", "c1", 0))
	insertEvents(t, db, "s2", 1, header("s2"), call("b1", "d1", "id", t0), result("b2", "d1", 0))
	e.start()
	e.waitExecs("s1/c1:succeeded s2/d1:succeeded")
	if _, err := db.Exec(`DELETE FROM transcript_events WHERE session_id = 's2'`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`VACUUM`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	insertEvents(t, db, "s1", 4, call("a2", "c2", "pwd", t0), result("r2", "c2", 0))
	e.waitExecs("s1/c1:succeeded s1/c2:succeeded s2/d1:succeeded")
	e.waitFor("a reset record for the database", func() bool {
		for _, r := range e.records() {
			if r.Kind == "source" && r.Type == "reset" && strings.HasSuffix(r.Path, "openclaw-agent.sqlite") {
				return true
			}
		}
		return false
	})
}
