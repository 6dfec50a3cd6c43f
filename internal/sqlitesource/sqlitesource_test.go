package sqlitesource

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"modernc.org/sqlite"
)

// TestMain doubles as the writer process: the test re-executes its own binary
// with SQLITESOURCE_WRITER=1 so that the writer is a separate process with its
// own locks, as OpenClaw's gateway is.
func TestMain(m *testing.M) {
	if os.Getenv("SQLITESOURCE_WRITER") == "1" {
		os.Exit(writerMain())
	}
	code := m.Run()
	if benchData.dir != "" {
		os.RemoveAll(benchData.dir)
	}
	os.Exit(code)
}

// writerMain inserts rows in transactions: SQLITESOURCE_SESSIONS sessions,
// rows SQLITESOURCE_FROM..SQLITESOURCE_TO of each, SQLITESOURCE_TXROWS rows per
// transaction, odd seqs zstd-compressed. It prints one "commit <unixnano>
// <latency ns>" line per commit. Its busy timeout is 0: if a reader ever made
// it wait for a lock, the insert fails and the process exits 1. In mode
// "crash" it disables automatic checkpoints and exits without closing, leaving
// every row in the -wal as a killed gateway would.
func writerMain() int {
	env := func(k string) int64 {
		v, err := strconv.ParseInt(os.Getenv(k), 10, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "writer: %s: %v\n", k, err)
			os.Exit(2)
		}
		return v
	}
	path := os.Getenv("SQLITESOURCE_DB")
	crash := os.Getenv("SQLITESOURCE_MODE") == "crash"
	sessions, from, to, txRows := env("SQLITESOURCE_SESSIONS"), env("SQLITESOURCE_FROM"), env("SQLITESOURCE_TO"), env("SQLITESOURCE_TXROWS")
	busy := 0
	if crash {
		busy = 5000
	}
	db, err := openWriterDB(path, busy)
	if err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		return 1
	}
	if crash {
		if _, err := db.Exec("PRAGMA wal_autocheckpoint = 0"); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			return 1
		}
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "ready")
	out.Flush()
	ctx := context.Background()
	for seq := from; seq <= to; seq += txRows {
		end := min(seq+txRows-1, to)
		for s := range sessions {
			start := time.Now()
			if err := insertRows(ctx, db, fmt.Sprintf("sess-%03d", s), seq, end, true); err != nil {
				fmt.Fprintln(os.Stderr, "writer: insert:", err)
				return 1
			}
			fmt.Fprintf(out, "commit %d %d\n", time.Now().UnixNano(), time.Since(start))
		}
		out.Flush()
		if !crash {
			time.Sleep(time.Millisecond) // a live gateway commits in bursts, not in a tight loop
		}
	}
	out.Flush()
	if crash {
		os.Exit(0) // no Close: the -wal is left as a killed process leaves it
	}
	if err := db.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "writer: close:", err)
		return 1
	}
	return 0
}

func startWriter(t *testing.T, path, mode string, sessions, from, to, txRows int) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"SQLITESOURCE_WRITER=1", "SQLITESOURCE_DB="+path, "SQLITESOURCE_MODE="+mode,
		fmt.Sprintf("SQLITESOURCE_SESSIONS=%d", sessions), fmt.Sprintf("SQLITESOURCE_FROM=%d", from),
		fmt.Sprintf("SQLITESOURCE_TO=%d", to), fmt.Sprintf("SQLITESOURCE_TXROWS=%d", txRows))
	var stdout, stderr bytes.Buffer
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		first := true
		for sc.Scan() {
			if first {
				close(ready)
				first = false
				continue
			}
			stdout.WriteString(sc.Text() + "\n")
		}
		if first {
			close(ready)
		}
		err := cmd.Wait()
		if err != nil {
			err = fmt.Errorf("writer: %v: %s", err, stderr.String())
		}
		done <- err
	}()
	<-ready
	return cmd, &stdout, done
}

func newDB(t *testing.T, ddl string) (string, func(*testing.T) *DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent", "openclaw-agent.sqlite")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, path, 5000)
	mustExec(t, w, ddl)
	return path, func(t *testing.T) *DB {
		t.Helper()
		db, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// reader keeps positions as a caller would (from its ledger) and checks every
// row: seqs contiguous from 1 per session, each exactly once, content intact.
type reader struct {
	t   *testing.T
	pos map[string]int64
	bad []string
}

func newReader(t *testing.T) *reader { return &reader{t: t, pos: map[string]int64{}} }

func (r *reader) after(s string) int64 {
	if p, ok := r.pos[s]; ok {
		return p
	}
	return math.MinInt64
}

func (r *reader) row(row Row) error {
	if want := r.pos[row.Session] + 1; row.Seq != want {
		return fmt.Errorf("session %s: got seq %d, want %d (duplicate or gap)", row.Session, row.Seq, want)
	}
	if want := eventFor(row.Session, row.Seq); !bytes.Equal(row.Event, want) {
		return fmt.Errorf("session %s seq %d: event differs (%d bytes, want %d)", row.Session, row.Seq, len(row.Event), len(want))
	}
	if row.CreatedAt != 1789512233686+row.Seq {
		return fmt.Errorf("session %s seq %d: created_at %d", row.Session, row.Seq, row.CreatedAt)
	}
	r.pos[row.Session] = row.Seq
	return nil
}

func (r *reader) badRow(s string, seq int64, err error) {
	r.bad = append(r.bad, fmt.Sprintf("%s/%d: %v", s, seq, err))
}

func (r *reader) read(db *DB) int {
	r.t.Helper()
	n, err := db.Read(context.Background(), r.after, r.row, r.badRow)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func TestReadPlainAndZstd(t *testing.T) {
	for _, tc := range []struct {
		name, ddl string
		zstd      bool
	}{{"schema8", ddlSchema8, false}, {"schema23", ddlSchema23, true}} {
		t.Run(tc.name, func(t *testing.T) {
			path, open := newDB(t, tc.ddl)
			w := openWriter(t, path, 5000)
			ctx := context.Background()
			// Sessions inserted out of name order: the read is ordered by
			// (session_id, seq) whatever the insertion order.
			for _, s := range []string{"sess-b", "sess-a", "sess-c"} {
				if err := insertRows(ctx, w, s, 1, 120, tc.zstd); err != nil {
					t.Fatal(err)
				}
			}
			db := open(t)
			sch, err := db.Schema(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sch.HasZstd != tc.zstd || len(sch.Warnings) != 0 {
				t.Fatalf("schema %+v", sch)
			}
			var order []string
			r := newReader(t)
			n, err := db.Read(ctx, r.after, func(row Row) error {
				if len(order) == 0 || order[len(order)-1] != row.Session {
					order = append(order, row.Session)
				}
				if !json.Valid(row.Event) {
					return fmt.Errorf("%s/%d: not JSON", row.Session, row.Seq)
				}
				return r.row(row)
			}, r.badRow)
			if err != nil {
				t.Fatal(err)
			}
			if n != 360 || len(r.bad) != 0 || strings.Join(order, ",") != "sess-a,sess-b,sess-c" {
				t.Fatalf("n=%d bad=%v order=%v", n, r.bad, order)
			}
			for s, p := range r.pos {
				if p != 120 {
					t.Fatalf("%s read to %d", s, p)
				}
			}
			// Nothing new: nothing read.
			if n := r.read(db); n != 0 {
				t.Fatalf("second read returned %d rows", n)
			}
			st := db.Stats()
			t.Logf("statements %d, longest read transaction %v", st.Statements, st.MaxTx)
		})
	}
}

func TestIncremental(t *testing.T) {
	path, open := newDB(t, ddlSchema23)
	w := openWriter(t, path, 5000)
	ctx := context.Background()
	for _, s := range []string{"a", "b", "c", "d"} {
		if err := insertRows(ctx, w, s, 1, 50, true); err != nil {
			t.Fatal(err)
		}
	}
	db := open(t)
	// A caller that has read a to 50, b to 20, c to 60 (more than exists,
	// e.g. a position from a replaced database) and d never.
	r := newReader(t)
	r.pos = map[string]int64{"a": 50, "b": 20, "c": 60}
	if n := r.read(db); n != 30+50 {
		t.Fatalf("read %d rows, want 80", n)
	}
	if r.pos["a"] != 50 || r.pos["b"] != 50 || r.pos["c"] != 60 || r.pos["d"] != 50 {
		t.Fatalf("positions %v", r.pos)
	}
	// New rows in some sessions, a new session: only those.
	if err := insertRows(ctx, w, "b", 51, 55, true); err != nil {
		t.Fatal(err)
	}
	if err := insertRows(ctx, w, "0new", 1, 3, false); err != nil {
		t.Fatal(err)
	}
	if n := r.read(db); n != 8 || r.pos["b"] != 55 || r.pos["0new"] != 3 {
		t.Fatalf("n=%d positions %v", n, r.pos)
	}
	// after is asked once per session entered, not once per row.
	asked := map[string]int{}
	if _, err := db.Read(ctx, func(s string) int64 { asked[s]++; return r.after(s) }, r.row, r.badRow); err != nil {
		t.Fatal(err)
	}
	for s, k := range asked {
		if k != 1 {
			t.Fatalf("after(%s) asked %d times", s, k)
		}
	}
	// A fn error stops the read and is returned.
	stop := errors.New("stop")
	r2 := newReader(t)
	seen := 0
	n, err := db.Read(ctx, r2.after, func(row Row) error {
		seen++
		if row.Session == "a" && row.Seq == 10 {
			return stop
		}
		return r2.row(row)
	}, nil)
	if !errors.Is(err, stop) || n != seen || r2.pos["a"] != 9 || r2.pos["b"] != 0 {
		t.Fatalf("n=%d err=%v", n, err)
	}
}

// TestBatchBoundaries makes batches tiny (7 rows, 40 KB, so that the 64 KB
// events end a batch alone) so that they end inside sessions and at their
// edges, in full and incremental reads.
func TestBatchBoundaries(t *testing.T) {
	defer func(r, b int) { batchRows, batchBytes = r, b }(batchRows, batchBytes)
	batchRows, batchBytes = 7, 40<<10
	path, open := newDB(t, ddlSchema23)
	w := openWriter(t, path, 5000)
	ctx := context.Background()
	for _, s := range []string{"x", "y", "z"} {
		if err := insertRows(ctx, w, s, 1, 50, true); err != nil {
			t.Fatal(err)
		}
	}
	db := open(t)
	r := newReader(t)
	if n := r.read(db); n != 150 {
		t.Fatalf("read %d", n)
	}
	for _, s := range []string{"x", "z"} {
		if err := insertRows(ctx, w, s, 51, 64, true); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.read(db); n != 28 {
		t.Fatalf("read %d new rows, want 28", n)
	}
	st := db.Stats()
	t.Logf("178 rows in %d statements, longest read transaction %v", st.Statements, st.MaxTx)
}

// TestQueryPlans: every read statement must start with an index seek and
// stream in index order; a scan or a sort would make statement time grow with
// the table and break the short-transaction guarantee.
func TestQueryPlans(t *testing.T) {
	_, open := newDB(t, ddlSchema23)
	db := open(t)
	sch, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	q := buildReadQueries(sch)
	sf, sn := sessionQueries()
	for _, stmt := range []struct {
		q    string
		args []any
	}{{q.first, nil}, {q.next, []any{"s", int64(3)}}, {sf, []any{nil, nil, 10}}, {sn, []any{"s", int64(3), 10}}} {
		p, err := db.plan(context.Background(), stmt.q, stmt.args...)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(p)
		if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "INDEX") {
			t.Fatalf("plan for %q: %s", stmt.q, p)
		}
	}
}

// TestWriterProcess: a separate process commits rows (plain and zstd) while
// this process backfills and then follows. The reader must see every row
// exactly once and in order, and the writer, whose busy timeout is 0, must
// never be refused a lock.
func TestWriterProcess(t *testing.T) {
	path, open := newDB(t, ddlSchema23)
	ctx := context.Background()
	const sessions, backfill, total = 4, 150, 240
	{
		w, err := openWriterDB(path, 5000)
		if err != nil {
			t.Fatal(err)
		}
		for s := range sessions {
			if err := insertRows(ctx, w, fmt.Sprintf("sess-%03d", s), 1, backfill, true); err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
	}
	_, commits, done := startWriter(t, path, "follow", sessions, backfill+1, total, 5)
	db := open(t)
	r := newReader(t)

	backStart := time.Now()
	n := r.read(db)
	backEnd := time.Now()
	t.Logf("backfill: %d rows in %v", n, backEnd.Sub(backStart))

	var writerErr error
	exited := false
	polls, reads := 0, 0
	lastDV, _ := db.DataVersion(ctx)
	for {
		if !exited {
			select {
			case writerErr = <-done:
				exited = true
			default:
			}
		}
		dv, err := db.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		polls++
		if dv == lastDV && !exited {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		lastDV = dv
		got := r.read(db)
		reads++
		if exited && got == 0 {
			break
		}
	}
	if writerErr != nil {
		t.Fatal(writerErr)
	}
	if len(r.bad) != 0 {
		t.Fatalf("bad rows: %v", r.bad)
	}
	for s := range sessions {
		if p := r.pos[fmt.Sprintf("sess-%03d", s)]; p != total {
			t.Fatalf("sess-%03d read to %d, want %d", s, p, total)
		}
	}
	var during, all int
	var maxCommit time.Duration
	for _, line := range strings.Split(strings.TrimSpace(commits.String()), "\n") {
		var at, lat int64
		if _, err := fmt.Sscanf(line, "commit %d %d", &at, &lat); err != nil {
			t.Fatalf("writer output %q", line)
		}
		all++
		maxCommit = max(maxCommit, time.Duration(lat))
		if ts := time.Unix(0, at); ts.After(backStart) && ts.Before(backEnd) {
			during++
		}
	}
	st := db.Stats()
	t.Logf("writer: %d commits (%d during the backfill), longest commit %v; reader: %d polls, %d reads, %d statements, longest read transaction %v",
		all, during, maxCommit, polls, reads, st.Statements, st.MaxTx)
	if all != sessions*(total-backfill)/5 {
		t.Fatalf("writer made %d commits", all)
	}
	// The writer commits every millisecond or two: a backfill this long with
	// no commit inside it would mean the writer was held up.
	if during == 0 && backEnd.Sub(backStart) > 200*time.Millisecond {
		t.Fatalf("no commit during a %v backfill", backEnd.Sub(backStart))
	}
}

// TestNeverWrites: a database left by a killed writer (every row still in the
// -wal, no checkpoint) is read completely, and the database file and the -wal
// are byte-for-byte the same afterwards: the reader neither checkpoints nor
// writes. Writes attempted through the reader's connection fail.
func TestNeverWrites(t *testing.T) {
	path, open := newDB(t, ddlSchema23)
	_, _, done := startWriter(t, path, "crash", 3, 1, 40, 10)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	hash := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return "missing"
		}
		return fmt.Sprintf("%x", sha256.Sum256(b))
	}
	dbBefore, walBefore := hash(path), hash(path+"-wal")
	if walBefore == "missing" {
		t.Fatal("no -wal left by the crashed writer")
	}
	func() {
		db := open(t)
		defer db.Close()
		r := newReader(t)
		if n := r.read(db); n != 120 {
			t.Fatalf("read %d rows, want 120 (rows in the -wal must be seen)", n)
		}
		for _, q := range []string{
			"INSERT INTO session_windows(session_id, created_at) VALUES ('x', 1)",
			"DELETE FROM transcript_events",
			"PRAGMA user_version = 5",
			"CREATE TABLE t(x)",
		} {
			if _, err := db.sql.Exec(q); err == nil {
				t.Fatalf("%s: succeeded on the read-only connection", q)
			}
		}
		// The package never checkpoints; asked to, the read-only descriptor
		// refuses the write (SQLITE_IOERR_WRITE) and nothing moves (checked below).
		var busy, logFrames, done int
		if err := db.sql.QueryRow("PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logFrames, &done); err == nil && done > 0 {
			t.Fatalf("checkpoint through the reader copied %d frames", done)
		}
	}()
	if dbAfter, walAfter := hash(path), hash(path+"-wal"); dbAfter != dbBefore || walAfter != walBefore {
		t.Fatalf("files changed: db %v, wal %v", dbAfter != dbBefore, walAfter != walBefore)
	}
	// Open never creates a database.
	if _, err := Open(filepath.Join(t.TempDir(), "none.sqlite")); err == nil {
		t.Fatal("Open created a missing database")
	}
	if !sqlite.OFDLockingEnabled() {
		t.Log("OFD locks unavailable here: Identity does not read headers")
	}
}

func TestDeletedSession(t *testing.T) {
	path, open := newDB(t, ddlSchema23)
	w := openWriter(t, path, 5000)
	ctx := context.Background()
	for _, s := range []string{"keep", "gone", "reset"} {
		if err := insertRows(ctx, w, s, 1, 30, true); err != nil {
			t.Fatal(err)
		}
	}
	db := open(t)
	r := newReader(t)
	r.read(db)
	before, err := db.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 3 || before["gone"] != (SessionInfo{MaxSeq: 30, Rows: 30}) {
		t.Fatalf("sessions %v", before)
	}
	// Deleting the session window cascades to its transcript rows; a session
	// replaced under the same id starts again at a lower seq.
	mustExec(t, w, "DELETE FROM session_windows WHERE session_id IN ('gone', 'reset')")
	if err := insertRows(ctx, w, "reset", 1, 4, false); err != nil {
		t.Fatal(err)
	}
	after, err := db.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := after["gone"]; ok {
		t.Fatalf("deleted session still listed: %v", after)
	}
	if got := after["reset"]; got.MaxSeq >= r.pos["reset"] || got.Rows != 4 {
		t.Fatalf("replaced session %v, read to %d", got, r.pos["reset"])
	}
	if after["keep"] != before["keep"] {
		t.Fatalf("untouched session changed: %v", after["keep"])
	}
}

// TestSessionsChunks counts a table larger than one Sessions statement, with
// sessions cut by chunk ends.
func TestSessionsChunks(t *testing.T) {
	defer func(a, b, c int) { sessionChunkMin, sessionChunkStart, sessionChunkMax = a, b, c }(sessionChunkMin, sessionChunkStart, sessionChunkMax)
	sessionChunkMin, sessionChunkStart, sessionChunkMax = 50, 100, 300
	path, open := newDB(t, ddlSchema8)
	w := openWriter(t, path, 5000)
	tx, err := w.Begin()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]SessionInfo{}
	seqs := []int64{1, 705, 7, 1301, 3}
	for i, n := range seqs {
		s := fmt.Sprintf("s%d", i)
		if _, err := tx.Exec("INSERT INTO session_windows VALUES (?, 0)", s); err != nil {
			t.Fatal(err)
		}
		for q := int64(1); q <= n; q++ {
			if _, err := tx.Exec("INSERT INTO transcript_events VALUES (?, ?, '{}', 0)", s, q); err != nil {
				t.Fatal(err)
			}
		}
		want[s] = SessionInfo{MaxSeq: n, Rows: n}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db := open(t)
	got, err := db.Sessions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	st := db.Stats()
	t.Logf("2017 rows counted in %d statements, longest %v", st.Statements, st.MaxTx)
	if st.Statements < 9 {
		t.Fatalf("%d statements: chunks not exercised", st.Statements)
	}
}

func TestReplacedFile(t *testing.T) {
	path, open := newDB(t, ddlSchema8)
	w := openWriter(t, path, 5000)
	ctx := context.Background()
	if err := insertRows(ctx, w, "a", 1, 5, false); err != nil {
		t.Fatal(err)
	}
	db := open(t)
	id1, err := Identity(path)
	if err != nil {
		t.Fatal(err)
	}
	if !id1.SameFile(db.OpenedID()) || !id1.WALExists {
		t.Fatalf("identity %+v vs opened %+v", id1, db.OpenedID())
	}
	if sqlite.OFDLockingEnabled() && (!id1.HeaderRead || id1.PageSize == 0) {
		t.Fatalf("header not read: %+v", id1)
	}
	// A commit keeps the inode and shows in the -wal.
	if err := insertRows(ctx, w, "a", 6, 9, false); err != nil {
		t.Fatal(err)
	}
	id2, err := Identity(path)
	if err != nil {
		t.Fatal(err)
	}
	if !id2.SameFile(id1) || !id2.Changed(id1) {
		t.Fatalf("after a commit: same %v changed %v", id2.SameFile(id1), id2.Changed(id1))
	}
	// The reader keeps working after Identity opened and closed the file (its
	// locks survive: OFD).
	r := newReader(t)
	if n := r.read(db); n != 9 {
		t.Fatalf("read %d", n)
	}
	// Another database renamed over the name: a new inode.
	other := filepath.Join(filepath.Dir(path), "new.sqlite")
	w2 := openWriter(t, other, 5000)
	mustExec(t, w2, ddlSchema8)
	w2.Close()
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	id3, err := Identity(path)
	if err != nil {
		t.Fatal(err)
	}
	if id3.SameFile(id1) || db.OpenedID().SameFile(id3) {
		t.Fatalf("replacement not detected: %+v vs %+v", id3, id1)
	}
}

func TestSchemaDrift(t *testing.T) {
	// A future schema: columns reordered, an unknown column, no CHECK (so a row
	// can have neither event), a newer user_version.
	_, open := newDB(t, ddlSessionWindows+`
CREATE TABLE transcript_events(
	event_zstd BLOB,
	session_id TEXT NOT NULL,
	tokens INTEGER,
	seq INTEGER NOT NULL,
	event_json TEXT,
	created_at INTEGER NOT NULL,
	PRIMARY KEY(session_id, seq)
);
PRAGMA user_version = 99;
INSERT INTO transcript_events(session_id, seq, event_json, created_at, tokens) VALUES ('s', 1, '{"type":"reset"}', 10, 5);
INSERT INTO transcript_events(session_id, seq, event_zstd, created_at) VALUES ('s', 2, X'28b52ffd00deadbeef', 11);
INSERT INTO transcript_events(session_id, seq, created_at) VALUES ('s', 3, 12);
INSERT INTO transcript_events(session_id, seq, event_zstd, created_at) VALUES ('s', 4, X'0102', 13);
INSERT INTO transcript_events(session_id, seq, event_json, created_at) VALUES ('s', 5, '{"type":"message"}', 14);`)
	db := open(t)
	ctx := context.Background()
	sch, err := db.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(sch.Warnings, " | ")
	if sch.UserVersion != 99 || !sch.HasZstd || !strings.Contains(w, "unknown column tokens") || !strings.Contains(w, "newer") {
		t.Fatalf("schema %+v", sch)
	}
	t.Log(w)
	var got []string
	var bad []int64
	n, err := db.Read(ctx, nil, func(r Row) error {
		got = append(got, fmt.Sprintf("%d:%s@%d", r.Seq, r.Event, r.CreatedAt))
		return nil
	}, func(s string, seq int64, err error) {
		bad = append(bad, seq)
		t.Logf("bad %s/%d: %v", s, seq, err)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 || fmt.Sprint(bad) != "[2 3 4]" || strings.Join(got, " ") != `1:{"type":"reset"}@10 5:{"type":"message"}@14` {
		t.Fatalf("n=%d good=%v bad=%v", n, got, bad)
	}
}

// TestUnindexed: a table without an index on (session_id, seq) would make
// every batch a full scan and sort inside its transaction: refused, loudly.
func TestUnindexed(t *testing.T) {
	_, open := newDB(t, `CREATE TABLE transcript_events(session_id TEXT, seq INTEGER, event_json TEXT, created_at INTEGER);
INSERT INTO transcript_events VALUES ('s', 1, '{}', 0);`)
	db := open(t)
	sch, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(sch.Warnings, " "), "no index") {
		t.Fatalf("%+v", sch)
	}
	if _, err := db.Read(context.Background(), nil, func(Row) error { return nil }, nil); !errors.Is(err, ErrUnindexed) {
		t.Fatalf("Read: %v", err)
	}
}

// TestCreatedFilesKeepOwner: a reader that is the first connection to a WAL
// database creates the -wal and -shm (every SQLite reader does). Run as root,
// as clawtrail often is, they must belong to the database's owner with its
// mode, or the gateway (another user) could no longer open its own database.
func TestCreatedFilesKeepOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give the database to another user")
	}
	path := filepath.Join(t.TempDir(), "openclaw-agent.sqlite")
	if err := os.Chmod(filepath.Dir(path), 0o777); err != nil {
		t.Fatal(err)
	}
	w, err := openWriterDB(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, w, ddlSchema8)
	if err := insertRows(context.Background(), w, "s", 1, 3, false); err != nil {
		t.Fatal(err)
	}
	w.Close() // the last connection: it checkpoints and removes -wal and -shm
	for _, suf := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suf); err == nil {
			t.Fatalf("%s left by a clean close", suf)
		}
	}
	if err := os.Chown(path, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := db.Read(context.Background(), nil, func(Row) error { return nil }, nil); n != 3 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	db.Close()
	for _, suf := range []string{"-wal", "-shm"} {
		fi, err := os.Stat(path + suf)
		if err != nil {
			t.Logf("%s not created", suf)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if st.Uid != 1000 || st.Gid != 1000 || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: uid %d gid %d mode %v", suf, st.Uid, st.Gid, fi.Mode())
		}
	}
}

func TestSchemaMissing(t *testing.T) {
	// OpenClaw 2026.7.35's schema-1 agent database: other tables, no transcripts.
	_, open := newDB(t, `CREATE TABLE auth_profiles(id TEXT PRIMARY KEY); PRAGMA user_version = 1;`)
	db := open(t)
	sch, err := db.Schema(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sch.Columns != nil || len(sch.Warnings) != 1 || !strings.Contains(sch.Warnings[0], "not found") {
		t.Fatalf("%+v", sch)
	}
	if _, err := db.Read(context.Background(), nil, func(Row) error { return nil }, nil); !errors.Is(err, ErrNoTranscripts) {
		t.Fatalf("Read: %v", err)
	}
	if _, err := db.Sessions(context.Background()); !errors.Is(err, ErrNoTranscripts) {
		t.Fatalf("Sessions: %v", err)
	}
}

// TestCorruptZstd: in the schema-23 table, a zstd blob that is damaged, one
// that is not zstd, and one that claims more than MaxEventBytes go to bad; the
// rows around them are read.
func TestCorruptZstd(t *testing.T) {
	path, open := newDB(t, ddlSchema23)
	w := openWriter(t, path, 5000)
	good := compress(eventFor("s", 2))
	damaged := bytes.Clone(good)
	damaged[len(damaged)/2] ^= 0xff
	damaged[len(damaged)/2+1] ^= 0xff
	// A frame header announcing 1 GiB of content (single segment, 8-byte size).
	huge := []byte{0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0x40, 0, 0, 0, 0}
	mustExec(t, w, "INSERT INTO session_windows VALUES ('s', 0)")
	for i, blob := range [][]byte{good, damaged, []byte("not zstd at all"), huge, good} {
		mustExec(t, w, "INSERT INTO transcript_events(session_id, seq, event_zstd, created_at) VALUES ('s', ?, ?, 0)", i+1, blob)
	}
	db := open(t)
	var seqs []int64
	bad := map[int64]error{}
	n, err := db.Read(context.Background(), nil, func(r Row) error {
		seqs = append(seqs, r.Seq)
		return nil
	}, func(_ string, seq int64, err error) { bad[seq] = err })
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 || fmt.Sprint(seqs) != "[1 5]" || len(bad) != 3 {
		t.Fatalf("n=%d good=%v bad=%v", n, seqs, bad)
	}
	for seq, err := range bad {
		t.Logf("bad %d: %v", seq, err)
	}
}

func TestDetectEra(t *testing.T) {
	root := t.TempDir()
	mk := func(agent string, files ...string) string {
		dir := filepath.Join(root, agent)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("{}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	withDB := func(dir, ddl string) {
		p := DBPath(dir)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		w := openWriter(t, p, 5000)
		mustExec(t, w, ddl)
		w.Close()
	}
	jsonl := mk("jsonl", "sessions/sessions.json", "sessions/11c7893e-aaaa.jsonl")
	archived := mk("archived", "sessions/sessions.json", "sessions/abc.jsonl.reset.2026-02-28T02-49-37.632Z")
	sqliteOnly := mk("sqlite", "sessions/cold/0123abcd.jsonl.zst", "agent/auth-profiles.json")
	withDB(sqliteOnly, ddlSchema23)
	both := mk("both", "sessions/session-sqlite-import-archive/abc.jsonl")
	withDB(both, ddlSchema8)
	none := mk("none", "sessions/sessions.json", "sessions/x.trajectory.jsonl", "sessions/x.checkpoint.0123abcd-0000.jsonl", "sessions/sessions.json.lock")
	schema1 := mk("schema1")
	withDB(schema1, `CREATE TABLE cache(k TEXT); PRAGMA user_version = 1;`)
	jsonlSchema1 := mk("jsonl-schema1", "sessions/s.jsonl")
	withDB(jsonlSchema1, `CREATE TABLE cache(k TEXT); PRAGMA user_version = 1;`)
	empty := mk("empty")
	if err := os.MkdirAll(filepath.Join(empty, "agent"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(DBPath(empty), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := mk("garbage", "agent/openclaw-agent.sqlite")

	for dir, want := range map[string]Era{
		jsonl: EraJSONL, archived: EraJSONL, sqliteOnly: EraSQLite, both: EraBoth, none: EraNone,
		schema1: EraNone, jsonlSchema1: EraJSONL, empty: EraNone,
	} {
		got, err := DetectEra(dir)
		if err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", filepath.Base(dir), got, err, want)
		}
	}
	// A database file that is not a database: counted, and the error says why.
	if got, err := DetectEra(garbage); got != EraSQLite || err == nil {
		t.Errorf("garbage: %s, %v", got, err)
	}
	if _, err := DetectEra(filepath.Join(root, "missing")); err == nil {
		t.Error("missing agent dir: no error")
	}
}

func TestReadCold(t *testing.T) {
	dir := t.TempDir()
	long := bytes.Repeat([]byte("x"), 600<<10) // longer than the line reader's buffer
	lines := [][]byte{
		[]byte(`{"type":"session","version":3,"id":"8555a0a4"}`),
		eventFor("cold", 1),
		append(append([]byte(`{"type":"message","t":"`), long...), `"}`...),
		eventFor("cold", 97), // 64 KB
		[]byte(`{"type":"reset"}`),
	}
	var raw bytes.Buffer
	for i, l := range lines {
		raw.Write(l)
		switch i {
		case 1:
			raw.WriteString("\r\n\n") // CRLF and an empty line
		case len(lines) - 1: // the last line has no newline
		default:
			raw.WriteByte('\n')
		}
	}
	path := filepath.Join(dir, fmt.Sprintf("%x.jsonl.zst", sha256.Sum256(raw.Bytes())))
	if err := os.WriteFile(path, compress(raw.Bytes()), 0o644); err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	if err := ReadCold(path, func(l []byte) error { got = append(got, bytes.Clone(l)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lines) {
		t.Fatalf("%d lines, want %d", len(got), len(lines))
	}
	for i := range lines {
		if !bytes.Equal(got[i], lines[i]) {
			t.Fatalf("line %d differs", i)
		}
	}
	// Truncated archive: the lines before the damage, then an error.
	cut := filepath.Join(dir, "cut.jsonl.zst")
	full := compress(raw.Bytes())
	if err := os.WriteFile(cut, full[:len(full)-200], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReadCold(cut, func([]byte) error { return nil }); err == nil {
		t.Fatal("truncated archive read without error")
	}
	// A line over the cap is skipped and reported; the others are read.
	defer func(old int) { maxColdLine = old }(maxColdLine)
	maxColdLine = 100 << 10
	got = got[:0]
	var lle *LongLinesError
	err := ReadCold(path, func(l []byte) error { got = append(got, bytes.Clone(l)); return nil })
	if !errors.As(err, &lle) || fmt.Sprint(lle.Lines) != "[4]" || len(got) != len(lines)-1 {
		t.Fatalf("err=%v lines=%d", err, len(got))
	}
}
