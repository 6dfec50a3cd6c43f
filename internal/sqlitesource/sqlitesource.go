// Package sqlitesource reads OpenClaw transcripts from the SQLite era (OpenClaw
// 2026.8.1 and later): the table transcript_events of
// agents/<id>/agent/openclaw-agent.sqlite, rows of (session_id, seq, event_json,
// created_at), with zstd-compressed event_zstd rows from agent schema 23
// (2026.9.6). It also detects which storage era an agent directory is in and
// reads cold-storage archives (sessions/cold/<sha256>.jsonl.zst).
//
// The database belongs to a live OpenClaw gateway, so the reader is built to be
// invisible to it:
//   - the file is opened read-only (mode=ro, query_only): a write, a schema change or
//     a checkpoint from this side fails inside SQLite instead of happening;
//   - never immutable=1: that would tell SQLite the file cannot change and make it
//     skip the WAL and the locks, so it would read torn or stale pages;
//   - every read is a short statement of its own (bounded in rows, bytes and a
//     5 ms time budget), and nothing is called back while a statement is open: a
//     reader that keeps a WAL snapshot open stops the writer's checkpoints at that
//     snapshot and the -wal file grows without bound;
//   - POSIX locks on the database file are dropped by the kernel at ANY close of
//     ANY descriptor of that file in the process, so this package switches the
//     modernc driver to Linux OFD locks (see init) before the first connection;
//     Identity's header read would otherwise strip the reader's own locks.
//
// modernc.org/sqlite is pure Go, so the clawtrail binary stays static.
package sqlitesource

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
)

// init switches SQLite to OFD locks process-wide. It has to run before the
// first database is opened (the driver freezes the mode at the first lock), and
// a package init is the only place that is guaranteed for every binary that
// imports this package. Where OFD locks do not exist (not Linux, old kernels)
// the driver keeps POSIX locks and Identity stops reading the header.
func init() {
	_, _ = sqlite.OFDLocking(true)
}

// Table is the transcript table of the SQLite era.
const Table = "transcript_events"

// DBRelPath is where an agent's database lives inside its agent directory
// (<state>/agents/<agentId>).
const DBRelPath = "agent/openclaw-agent.sqlite"

// KnownSchema is the newest agent schema version this reader was written
// against (23: event_zstd, OpenClaw 2026.9.6). A newer user_version is read by
// the columns it has and reported in Schema.Warnings.
const KnownSchema = 23

// MaxEventBytes caps one decompressed event: a zstd frame that claims or
// produces more is reported to bad, so a corrupt or hostile blob cannot take
// the daemon's memory.
const MaxEventBytes = 64 << 20

// busyTimeoutMS bounds how long opening a read may wait for a lock (only WAL
// recovery by another connection holds one against readers). It is a wait
// before a read transaction starts, never time spent holding one.
const busyTimeoutMS = 2000

// ErrUnindexed is returned by Read (wrapped) when no index answers
// (session_id, seq) ranges, so that every read would scan the table inside
// one long read transaction.
var ErrUnindexed = errors.New("transcript_events has no index on (session_id, seq)")

// ErrNoTranscripts is returned by Read (wrapped) when the database has no
// readable transcript_events table: a schema-1 agent database of OpenClaw
// 2026.7.35, or a schema this reader cannot map.
var ErrNoTranscripts = errors.New("no readable transcript_events table")

// DB is one agent database opened read-only. Its methods may be called from
// several goroutines; they share one connection (PRAGMA data_version is only
// meaningful on one connection) and so run one at a time.
type DB struct {
	sql    *sql.DB
	path   string
	opened FileID

	// txTrace, for benchmarks, is called on the goroutine of each Read
	// statement as it starts; what it returns is called with its duration.
	txTrace func() func(wall time.Duration)

	schemaMu      sync.Mutex
	schema        Schema // as of schemaVersion, for ReadSessions
	schemaVersion int64
	schemaOK      bool

	stats struct {
		statements atomic.Int64
		maxTx      atomic.Int64 // ns
		totalTx    atomic.Int64 // ns
	}
}

// Stats describes the read statements a DB has run. Each statement is one
// SQLite read transaction; MaxTx is the longest, measured from the query call
// to the statement's reset (rows closed), i.e. the whole time a WAL snapshot
// was held.
type Stats struct {
	Statements int64
	MaxTx      time.Duration
	TotalTx    time.Duration
}

// Stats returns the transaction statistics since Open.
func (db *DB) Stats() Stats {
	return Stats{
		Statements: db.stats.statements.Load(),
		MaxTx:      time.Duration(db.stats.maxTx.Load()),
		TotalTx:    time.Duration(db.stats.totalTx.Load()),
	}
}

func (db *DB) recordTx(d time.Duration) {
	db.stats.statements.Add(1)
	db.stats.totalTx.Add(int64(d))
	for {
		cur := db.stats.maxTx.Load()
		if int64(d) <= cur || db.stats.maxTx.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// Open opens an agent database read-only. It never creates the database, never
// writes it, never takes a write lock and never checkpoints (see the package
// comment). The -wal and -shm files of a live writer are used as they are; a
// reader that is the first connection to a WAL database may have to create the
// -shm index (SQLite does that for every reader, with the database file's owner
// and mode).
func Open(path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", abs)
	}
	// file: URI so SQLite honours mode=ro (it is dropped from a plain name).
	// query_only is a second, independent refusal of writes; trusted_schema=0
	// stops views or triggers in a foreign file from calling functions with side
	// effects. The _pragma keys are the driver's and are ignored by SQLite.
	dsn := "file:" + uriPath(abs) + "?mode=ro" +
		fmt.Sprintf("&_pragma=busy_timeout(%d)", busyTimeoutMS) +
		"&_pragma=query_only(1)&_pragma=trusted_schema(0)"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	// One connection: data_version compares commits seen by one connection, and
	// the reader needs no parallelism inside one database.
	sdb.SetMaxOpenConns(1)
	sdb.SetMaxIdleConns(1)
	sdb.SetConnMaxLifetime(0)
	sdb.SetConnMaxIdleTime(0)
	db := &DB{sql: sdb, path: abs}
	// Reading the schema table proves this is a SQLite database and that the
	// read-only open works (a WAL database whose -shm cannot be opened fails here).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := db.queryRow(ctx, "SELECT count(*) FROM sqlite_master", nil, &n); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open %s: %w", abs, err)
	}
	var qo int
	if err := db.queryRow(ctx, "PRAGMA query_only", nil, &qo); err != nil || qo != 1 {
		sdb.Close()
		return nil, fmt.Errorf("open %s: query_only not in effect (%v)", abs, err)
	}
	db.opened, _ = Identity(abs)
	return db, nil
}

// Close closes the connection. A read-only connection cannot checkpoint or
// delete the WAL on close: the last-connection checkpoint needs a write lock
// that a read-only descriptor cannot take.
func (db *DB) Close() error { return db.sql.Close() }

// Path is the absolute path the database was opened from.
func (db *DB) Path() string { return db.path }

// OpenedID is the Identity of the file taken right after Open. Compare it with
// Identity(db.Path()) to learn that the file under the name was replaced (the
// open connection keeps reading the old inode until it is reopened).
func (db *DB) OpenedID() FileID { return db.opened }

// DataVersion returns PRAGMA data_version: it changes when another connection
// has committed since the previous call on this DB, and is a cheap poll (one
// tiny read) for "is there anything new to Read".
func (db *DB) DataVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.queryRow(ctx, "PRAGMA data_version", nil, &v)
	return v, err
}

// queryRow runs one single-row statement as its own measured read transaction.
func (db *DB) queryRow(ctx context.Context, q string, args []any, dest ...any) error {
	start := time.Now()
	err := db.sql.QueryRowContext(ctx, q, args...).Scan(dest...)
	db.recordTx(time.Since(start))
	return err
}

// Schema describes the transcript table as found.
type Schema struct {
	UserVersion int
	Columns     []string // transcript_events columns in table order; nil if the table is missing
	HasZstd     bool     // event_zstd exists (schema 23+)
	Warnings    []string // unknown columns, a newer schema than known, missing table or columns, no index

	unindexed bool // no index answers (session_id, seq) ranges: Read refuses
}

// known columns of transcript_events; anything else is tolerated and reported.
var knownColumns = map[string]bool{
	"session_id": true, "seq": true, "event_json": true, "created_at": true, "event_zstd": true,
}

// Schema reads PRAGMA user_version and the columns of transcript_events
// (PRAGMA table_info). Drift is never an error: it is reported in Warnings, and
// Read builds its query from what exists.
func (db *DB) Schema(ctx context.Context) (Schema, error) {
	var s Schema
	if err := db.queryRow(ctx, "PRAGMA user_version", nil, &s.UserVersion); err != nil {
		return s, err
	}
	start := time.Now()
	rows, err := db.sql.QueryContext(ctx, "SELECT name FROM pragma_table_info('"+Table+"') ORDER BY cid")
	if err != nil {
		db.recordTx(time.Since(start))
		return s, err
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			db.recordTx(time.Since(start))
			return s, err
		}
		s.Columns = append(s.Columns, name)
	}
	err = rows.Err()
	rows.Close()
	db.recordTx(time.Since(start))
	if err != nil {
		return s, err
	}
	if s.UserVersion > KnownSchema {
		s.Warnings = append(s.Warnings, fmt.Sprintf("agent schema version %d is newer than the newest this reader knows (%d); reading the columns found", s.UserVersion, KnownSchema))
	}
	if len(s.Columns) == 0 {
		s.Warnings = append(s.Warnings, "table "+Table+" not found: no SQLite-era transcripts in this database (an OpenClaw 2026.7.x schema-1 database holds none)")
		return s, nil
	}
	have := map[string]bool{}
	for _, c := range s.Columns {
		lc := strings.ToLower(c)
		have[lc] = true
		if !knownColumns[lc] {
			s.Warnings = append(s.Warnings, fmt.Sprintf("unknown column %s in %s: ignored", c, Table))
		}
	}
	s.HasZstd = have["event_zstd"]
	if !have["session_id"] || !have["seq"] {
		s.Warnings = append(s.Warnings, Table+" has no session_id or seq column: cannot be read")
	}
	if !have["event_json"] && !have["event_zstd"] {
		s.Warnings = append(s.Warnings, Table+" has neither event_json nor event_zstd: cannot be read")
	}
	if !have["created_at"] {
		s.Warnings = append(s.Warnings, Table+" has no created_at column: rows are read with CreatedAt 0")
	}
	if s.readable() {
		plan, err := db.plan(ctx, buildReadQueries(s).next, "", int64(0))
		if err != nil {
			return s, err
		}
		// A read must start with a seek and stream in index order; without an
		// index on (session_id, seq) every batch would scan and sort the whole
		// table inside its read transaction and hold back the writer's
		// checkpoints for as long. Better to refuse loudly.
		s.unindexed = strings.Contains(plan, "TEMP B-TREE") || !(strings.Contains(plan, "INDEX") || strings.Contains(plan, "PRIMARY KEY"))
		if s.unindexed {
			s.Warnings = append(s.Warnings, Table+" has no index on (session_id, seq) (query plan: "+plan+"): not read, a read would scan the table")
		}
	}
	return s, nil
}

// plan returns EXPLAIN QUERY PLAN of q, its steps joined with "; ".
func (db *DB) plan(ctx context.Context, q string, args ...any) (string, error) {
	start := time.Now()
	defer func() { db.recordTx(time.Since(start)) }()
	rows, err := db.sql.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			return "", err
		}
		steps = append(steps, detail)
	}
	return strings.Join(steps, "; "), rows.Err()
}

func (s Schema) has(col string) bool {
	for _, c := range s.Columns {
		if strings.EqualFold(c, col) {
			return true
		}
	}
	return false
}

// readable reports whether Read can map this schema.
func (s Schema) readable() bool {
	return s.has("session_id") && s.has("seq") && (s.has("event_json") || s.has("event_zstd"))
}

// uriPath escapes a file path for a SQLite file: URI. '?', '#' and '%' would
// otherwise end or corrupt the path; everything outside a small safe set is
// percent-encoded, which SQLite decodes.
func uriPath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '/', c == '.', c == '_', c == '-', c == '~':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
