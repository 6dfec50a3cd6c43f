package sqlitesource

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// maxChanged bounds the new rows Changed walks: past it, one Read of everything
// is cheaper than a seek per session.
const maxChanged = 8192

// changedBatch is the rows one Changed statement walks (a short read transaction).
const changedBatch = 1024

const changedQuery = `SELECT "session_id", rowid FROM "` + Table + `" WHERE rowid > ?1 ORDER BY rowid LIMIT ?2`

// Mark returns the largest rowid of transcript_events (0 when empty), the mark
// Changed compares with. Take it before a full Read: rows committed during the
// Read then show up in the next Changed, never in neither. ok is false when the
// table has no rowid (WITHOUT ROWID; OpenClaw's has one): Changed cannot be used.
func (db *DB) Mark(ctx context.Context) (mark int64, ok bool, err error) {
	var v sql.NullInt64
	if err := db.queryRow(ctx, `SELECT max(rowid) FROM "`+Table+`"`, nil, &v); err != nil {
		if strings.Contains(err.Error(), "no such column") {
			return 0, false, nil
		}
		return 0, false, fmt.Errorf("%s: max rowid: %w", db.path, err)
	}
	return v.Int64, true, nil
}

// Changed returns the sessions that have rows committed since mark (from Mark or
// a previous Changed), and the mark for next time. It walks only the new rows, by
// rowid: SQLite gives an inserted row a rowid above every row in the table, so
// what was committed after the mark was taken lies above it. That makes a live
// poll cost a few index steps however many sessions the database holds, where
// Read enters every session.
//
// ok is false when the rowids cannot tell, and the caller must Read everything:
// the largest rowid is below the mark (rows at the end of the table were deleted,
// or a VACUUM renumbered them), the table has no rowid, or more than maxChanged
// rows are new. One case it cannot see: rows at the end deleted and more rows
// than that inserted before the next call reuse the freed rowids below the mark.
// Such rows of a session that also has a row above the mark are still read (a
// session is read from its position); for the others, the caller's periodic full
// Read is the net.
func (db *DB) Changed(ctx context.Context, mark int64) (sessions []string, next int64, ok bool, err error) {
	top, ok, err := db.Mark(ctx)
	if err != nil || !ok {
		return nil, mark, false, err
	}
	if top < mark {
		return nil, top, false, nil
	}
	seen := map[string]bool{}
	next = mark
	for walked := 0; next < top; {
		if walked >= maxChanged {
			return nil, next, false, nil
		}
		n, err := db.changedBatch(ctx, next, func(session string, rowid int64) {
			if !seen[session] {
				seen[session] = true
				sessions = append(sessions, session)
			}
			next = rowid
		})
		if err != nil {
			return nil, mark, false, err
		}
		walked += n
		if n < changedBatch {
			break
		}
	}
	return sessions, next, true, nil
}

// changedBatch is one statement of Changed: at most changedBatch rows above from,
// in rowid order (a seek into the table's own b-tree).
func (db *DB) changedBatch(ctx context.Context, from int64, fn func(session string, rowid int64)) (int, error) {
	start := reportTx(db)
	defer start()
	rows, err := db.sql.QueryContext(ctx, changedQuery, from, changedBatch)
	if err != nil {
		return 0, fmt.Errorf("%s: new rows: %w", db.path, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var s string
		var id int64
		if err := rows.Scan(&s, &id); err != nil {
			return n, fmt.Errorf("%s: new rows: %w", db.path, err)
		}
		fn(s, id)
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("%s: new rows: %w", db.path, err)
	}
	return n, nil
}

// reportTx starts timing a statement; the function it returns records it.
func reportTx(db *DB) func() {
	t := time.Now()
	return func() { db.recordTx(time.Since(t)) }
}

// schemaCached is Schema, read again only when PRAGMA schema_version says the
// schema changed: a live poll then costs one tiny statement instead of three.
func (db *DB) schemaCached(ctx context.Context) (Schema, error) {
	var v int64
	if err := db.queryRow(ctx, "PRAGMA schema_version", nil, &v); err != nil {
		return Schema{}, fmt.Errorf("%s: schema version: %w", db.path, err)
	}
	db.schemaMu.Lock()
	if db.schemaOK && db.schemaVersion == v {
		s := db.schema
		db.schemaMu.Unlock()
		return s, nil
	}
	db.schemaMu.Unlock()
	s, err := db.Schema(ctx)
	if err != nil {
		return s, err
	}
	db.schemaMu.Lock()
	db.schema, db.schemaVersion, db.schemaOK = s, v, true
	db.schemaMu.Unlock()
	return s, nil
}
