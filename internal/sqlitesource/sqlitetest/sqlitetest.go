// Package sqlitetest writes transcript databases the way OpenClaw's gateway does
// (WAL mode, its own read-write connection, the transcript_events schemas of 2026.8.1
// and 2026.9.6), for the tests and benchmarks of the code that reads them. It is
// imported only from _test files.
package sqlitetest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/klauspost/compress/zstd"
	_ "modernc.org/sqlite" // the driver the readers use too
)

// The schemas the tests create: the table as OpenClaw 2026.8.1 creates it
// (reference §1.1), and our best reading of schema 23 (2026.9.6): event_json
// nullable, event_zstd BLOB, exactly one of them set. The real schema-23 DDL is
// unverified.
const (
	DDLSessionWindows = `CREATE TABLE session_windows(
	session_id TEXT NOT NULL PRIMARY KEY,
	created_at INTEGER NOT NULL
) STRICT;`

	DDLSchema8 = DDLSessionWindows + `
CREATE TABLE transcript_events(
	session_id TEXT NOT NULL REFERENCES session_windows(session_id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	event_json TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY(session_id, seq)
) STRICT;
PRAGMA user_version = 8;`

	DDLSchema23 = DDLSessionWindows + `
CREATE TABLE transcript_events(
	session_id TEXT NOT NULL REFERENCES session_windows(session_id) ON DELETE CASCADE,
	seq INTEGER NOT NULL,
	event_json TEXT,
	created_at INTEGER NOT NULL,
	event_zstd BLOB,
	PRIMARY KEY(session_id, seq),
	CHECK ((event_json IS NULL) <> (event_zstd IS NULL))
) STRICT;
PRAGMA user_version = 23;`
)

// OpenWriter opens a database read-write in WAL mode, as the gateway does, with
// foreign keys on so that deleting a session window cascades, and transactions
// that take the write lock at BEGIN. A busy timeout of 0 makes any lock wait an
// error, which is how tests prove that a reader never blocks the writer.
func OpenWriter(path string, busyMS int) (*sql.DB, error) {
	u := url.URL{Scheme: "file", Path: path}
	dsn := u.String() + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate", busyMS)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open writer %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open writer %s: %w", path, err)
	}
	return db, nil
}

// Create makes a new database at path with ddl and returns its writer.
func Create(path, ddl string, busyMS int) (*sql.DB, error) {
	db, err := OpenWriter(path, busyMS)
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(ddl); err != nil {
		db.Close()
		return nil, fmt.Errorf("create schema in %s: %w", path, err)
	}
	return db, nil
}

var encoder = func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		panic(err)
	}
	return e
}()

// Compress is a plain zstd frame of b, as schema 23 stores event_zstd.
func Compress(b []byte) []byte { return encoder.EncodeAll(b, nil) }

// Execer is a *sql.DB or a *sql.Tx.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Insert writes one transcript event, its session window first (the foreign key
// of transcript_events), compressed into event_zstd when compressed is set.
func Insert(ctx context.Context, ex Execer, session string, seq int64, event []byte, compressed bool, createdAt int64) error {
	if _, err := ex.ExecContext(ctx, `INSERT OR IGNORE INTO session_windows(session_id, created_at) VALUES (?, ?)`, session, createdAt); err != nil {
		return fmt.Errorf("insert session window %s: %w", session, err)
	}
	var err error
	if compressed {
		_, err = ex.ExecContext(ctx, `INSERT INTO transcript_events(session_id, seq, event_zstd, created_at) VALUES (?, ?, ?, ?)`, session, seq, Compress(event), createdAt)
	} else {
		_, err = ex.ExecContext(ctx, `INSERT INTO transcript_events(session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)`, session, seq, string(event), createdAt)
	}
	if err != nil {
		return fmt.Errorf("insert event %s/%d: %w", session, seq, err)
	}
	return nil
}
