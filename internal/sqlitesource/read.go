package sqlitesource

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Row is one transcript event. Event is a fresh allocation per row: the caller
// may keep it.
type Row struct {
	Session   string
	Seq       int64
	CreatedAt int64
	Event     []byte // the event JSON, decompressed when it came from event_zstd
}

// Limits of one read statement. Time is the one that matters (a statement is a
// read transaction, and a long one holds back the writer's checkpoints); rows
// and bytes bound the memory of a batch, which is held between the statement's
// end and the callbacks.
// (Variables so that tests can make batches small.)
var (
	batchRows   = 2048
	batchBytes  = 8 << 20
	batchBudget = 5 * time.Millisecond
)

// rawRow is a row as it left SQLite. Decoding (zstd) happens after its
// statement is closed, so it costs no transaction time.
type rawRow struct {
	session   string
	seq       int64
	createdAt int64
	json, zst []byte
	ev        []byte // decoded event, set by decodeBatch
	err       error  // why the event could not be decoded
}

// Read calls fn for every row with seq > after(session), ordered by
// (session_id, seq), and returns how many rows it passed to fn or bad.
//
// after is asked once per session as the scan enters it; return math.MinInt64
// (or any value below the first seq) for a session never read: whether
// OpenClaw's seq starts at 0 or 1 is not documented, so 0 is not a safe "none".
// A nil after reads everything. after must be cheap and must not use db: it is
// called while a read statement is open.
//
// The rows are fetched in batches, each one statement and so one short read
// transaction (bounded at a few milliseconds, a few thousand rows or a few MB),
// and fn and bad are called only between statements: a slow fn (a ledger
// fsync) never holds a WAL snapshot. A row whose event cannot be decoded (bad
// zstd, both event columns NULL or empty, an event over MaxEventBytes) goes to
// bad and the read goes on. An error from fn stops the read and is returned;
// the rows before it were delivered.
func (db *DB) Read(ctx context.Context, after func(session string) int64, fn func(Row) error, bad func(session string, seq int64, err error)) (int, error) {
	sch, err := db.Schema(ctx)
	if err != nil {
		return 0, err
	}
	after, bad, err = db.readable(sch, after, bad)
	if err != nil {
		return 0, err
	}
	return db.read(ctx, buildReadQueries(sch), readCursor{}, after, fn, bad)
}

// readable refuses a schema Read cannot read, and fills in the optional callbacks.
func (db *DB) readable(sch Schema, after func(string) int64, bad func(string, int64, error)) (func(string) int64, func(string, int64, error), error) {
	if after == nil {
		after = func(string) int64 { return math.MinInt64 }
	}
	if bad == nil {
		bad = func(string, int64, error) {}
	}
	if !sch.readable() {
		return nil, nil, fmt.Errorf("%s: %w (%v)", db.path, ErrNoTranscripts, sch.Warnings)
	}
	if sch.unindexed {
		return nil, nil, fmt.Errorf("%s: %w (%v)", db.path, ErrUnindexed, sch.Warnings)
	}
	return after, bad, nil
}

// ReadSessions is Read restricted to the given sessions: for each, the rows with
// seq > after(session), one seek into the primary-key index per session. It is
// the cheap follow-up of Changed, where Read would enter every session of the
// database once.
func (db *DB) ReadSessions(ctx context.Context, sessions []string, after func(session string) int64, fn func(Row) error, bad func(session string, seq int64, err error)) (int, error) {
	sch, err := db.schemaCached(ctx)
	if err != nil {
		return 0, err
	}
	after, bad, err = db.readable(sch, after, bad)
	if err != nil {
		return 0, err
	}
	q := buildReadQueries(sch)
	total := 0
	for _, s := range sessions {
		a := after(s)
		n, err := db.read(ctx, q, readCursor{started: true, session: s, seq: a, inSession: true, after: a, only: true}, after, fn, bad)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// read runs the batches of Read from cur.
func (db *DB) read(ctx context.Context, q readQueries, cur readCursor, after func(string) int64, fn func(Row) error, bad func(string, int64, error)) (int, error) {
	// Pipeline: while the previous batch is decompressed on another goroutine,
	// this one runs the next statement; then it delivers the previous batch.
	// fn, bad and after all run on the calling goroutine, never concurrently,
	// and never while a statement is open. Asking after() for the next batch
	// before fn has seen the previous one is safe: a session is asked for
	// only when the scan enters it, so the previous batch holds none of its rows.
	var (
		n       int
		pending []rawRow      // fetched batch being decoded, then delivered
		decoded chan struct{} // closed when pending is decoded
		free    []rawRow      // a buffer no goroutine uses: the next batch goes there
	)
	deliver := func() error {
		if decoded == nil {
			return nil
		}
		<-decoded
		decoded = nil
		for i := range pending {
			r := &pending[i]
			n++
			if r.err != nil {
				bad(r.session, r.seq, r.err)
			} else if err := fn(Row{Session: r.session, Seq: r.seq, CreatedAt: r.createdAt, Event: r.ev}); err != nil {
				return err
			}
			// Drop the references so the reused buffer does not pin old events.
			*r = rawRow{}
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			if decoded != nil {
				<-decoded
			}
			return n, err
		}
		batch, done, err := db.readBatch(ctx, q, &cur, after, free[:0])
		if err != nil {
			// The rows fetched before the failure are still delivered.
			_ = deliver()
			return n, err
		}
		if err := deliver(); err != nil {
			return n, err
		}
		// pending is delivered and cleared: its buffer takes the batch after next.
		free, pending = pending[:0], batch
		decoded = make(chan struct{})
		go decodeBatch(pending, decoded)
		if done {
			return n, deliver()
		}
	}
}

// decodeBatch decodes every row's event and closes done. zstd decoding costs
// about twice what reading the rows from SQLite does, so a batch with enough
// compressed bytes is split between two goroutines: with the reader that
// keeps both cores of a small host busy.
func decodeBatch(rows []rawRow, done chan struct{}) {
	defer close(done)
	var zbytes int
	for i := range rows {
		if len(rows[i].json) == 0 {
			zbytes += len(rows[i].zst)
		}
	}
	if zbytes < 256<<10 || len(rows) < 2 || runtime.GOMAXPROCS(0) < 2 {
		decodeRows(rows)
		return
	}
	// Split at half the compressed bytes, not half the rows: 64 KB events
	// are not spread evenly.
	half, acc := len(rows)/2, 0
	for i := range rows {
		if len(rows[i].json) == 0 {
			acc += len(rows[i].zst)
		}
		if acc >= zbytes/2 {
			half = i + 1
			break
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { decodeRows(rows[half:]) })
	decodeRows(rows[:half])
	wg.Wait()
}

func decodeRows(rows []rawRow) {
	for i := range rows {
		r := &rows[i]
		r.ev, r.err = decodeEvent(r.json, r.zst)
		r.json, r.zst = nil, nil
	}
}

// readCursor is where the next statement starts, and which session the scan
// is in with its after() value.
type readCursor struct {
	started   bool // false: start at the first row of the table
	session   string
	seq       int64 // next statement reads (session_id, seq) > (session, seq)
	inSession bool
	after     int64 // after(session), asked when the scan entered it
	only      bool  // read this session only: its end is the end
}

type readQueries struct {
	first, next string
}

// buildReadQueries selects the columns that exist and constants for the ones
// that do not. The (session_id, seq) row-value range is answered from the
// primary-key index, so every statement starts with a seek, never a scan.
func buildReadQueries(s Schema) readQueries {
	created := "0"
	if s.has("created_at") {
		created = `"created_at"`
	}
	// CAST AS BLOB hands the text over as bytes: no string conversion, and a
	// non-STRICT table holding a BLOB there works the same.
	js := "NULL"
	if s.has("event_json") {
		js = `CAST("event_json" AS BLOB)`
	}
	zs := "NULL"
	if s.has("event_zstd") {
		zs = `CAST("event_zstd" AS BLOB)`
	}
	sel := `SELECT "session_id", "seq", ` + created + ", " + js + ", " + zs + ` FROM "` + Table + `"`
	order := fmt.Sprintf(` ORDER BY "session_id", "seq" LIMIT %d`, batchRows)
	return readQueries{
		first: sel + order,
		next:  sel + ` WHERE ("session_id", "seq") > (?1, ?2)` + order,
	}
}

// readBatch runs one statement and collects rows until the statement ends, a
// limit is reached, or the scan enters a session at a row already read (then
// the next statement seeks past after(session) instead of walking old rows).
// done is true when the table has no row beyond the cursor.
//
// It talks to the driver connection directly (sql.Conn.Raw): database/sql
// would copy every event once more in Scan, and the per-row locking and
// conversion are a measurable part of a backfill. The driver hands out a
// freshly allocated slice for every BLOB value (the tests compare every event
// after its batch is complete, so a driver that reused buffers would fail them).
func (db *DB) readBatch(ctx context.Context, q readQueries, cur *readCursor, after func(string) int64, out []rawRow) ([]rawRow, bool, error) {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return out, false, err
	}
	defer conn.Close()
	var done bool
	err = conn.Raw(func(dc any) error {
		qc, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("sqlite driver connection %T cannot query", dc)
		}
		var args []driver.NamedValue
		query := q.first
		if cur.started {
			query = q.next
			args = []driver.NamedValue{{Ordinal: 1, Value: cur.session}, {Ordinal: 2, Value: cur.seq}}
		}
		var traced func(time.Duration)
		if db.txTrace != nil {
			traced = db.txTrace()
		}
		start := time.Now()
		finish := func() {
			d := time.Since(start)
			db.recordTx(d)
			if traced != nil {
				traced(d)
			}
		}
		rows, err := qc.QueryContext(ctx, query, args)
		if err != nil {
			finish()
			return err
		}
		var (
			dest    [5]driver.Value
			got     int
			bytes   int
			stopped bool // left the statement early: more may follow
			ended   bool // reached the end of the only session read
			rowErr  error
		)
		for {
			if rowErr = rows.Next(dest[:]); rowErr != nil {
				if rowErr == io.EOF {
					rowErr = nil
				}
				break
			}
			got++
			var r rawRow
			if r, rowErr = toRawRow(dest[:], cur.session); rowErr != nil {
				break
			}
			if cur.only && r.session != cur.session {
				ended = true
				break
			}
			if !cur.inSession || r.session != cur.session {
				cur.inSession = true
				cur.session = r.session
				cur.after = after(r.session)
			}
			if r.seq <= cur.after {
				// Entering a session at rows already read: seek past them.
				cur.started = true
				cur.seq = cur.after
				stopped = true
				break
			}
			cur.started = true
			cur.seq = r.seq
			out = append(out, r)
			bytes += len(r.json) + len(r.zst)
			if bytes >= batchBytes || time.Since(start) >= batchBudget {
				stopped = true
				break
			}
		}
		// Close resets the statement: that ends the read transaction.
		if err := rows.Close(); rowErr == nil {
			rowErr = err
		}
		finish()
		// A statement that ran to its end with fewer rows than its LIMIT has
		// seen the whole table beyond the cursor.
		done = rowErr == nil && (ended || !stopped && got < batchRows)
		return rowErr
	})
	return out, done, err
}

// toRawRow converts one driver row. The session string of the previous row is
// reused when equal, so a batch holds one copy per session, not one per row.
func toRawRow(v []driver.Value, prevSession string) (rawRow, error) {
	var r rawRow
	switch s := v[0].(type) {
	case string:
		r.session = s
	case []byte:
		r.session = string(s)
	default:
		return r, fmt.Errorf("session_id is %T, not text", v[0])
	}
	if r.session == prevSession {
		r.session = prevSession
	}
	seq, ok := v[1].(int64)
	if !ok {
		return r, fmt.Errorf("session %s: seq is %T, not an integer", r.session, v[1])
	}
	r.seq = seq
	switch c := v[2].(type) {
	case int64:
		r.createdAt = c
	case float64:
		r.createdAt = int64(c)
	}
	r.json = asBytes(v[3])
	r.zst = asBytes(v[4])
	return r, nil
}

func asBytes(v driver.Value) []byte {
	switch b := v.(type) {
	case []byte:
		return b
	case string:
		return []byte(b)
	}
	return nil
}

// decoder is shared by every DB: DecodeAll is safe for concurrent use, and a
// few decoders are enough for the few agents read at once. Built on first use.
var decoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(4),
		zstd.WithDecoderMaxMemory(MaxEventBytes),
	)
})

// errNoEvent is the reason given to bad for a row with no event at all.
var errNoEvent = errors.New("row has neither event_json nor event_zstd")

// decodeEvent returns the event JSON of a row. event_json wins when both are
// set (it is the original text; the schema-23 CHECK is expected to forbid
// both, but that is not verified). An empty value counts as absent: the driver
// cannot tell an empty BLOB from NULL, and an empty event is no event.
func decodeEvent(js, zst []byte) ([]byte, error) {
	if len(js) > 0 {
		return js, nil
	}
	if len(zst) == 0 {
		return nil, errNoEvent
	}
	d, err := decoder()
	if err != nil {
		return nil, err
	}
	ev, err := d.DecodeAll(zst, nil)
	if err != nil {
		return nil, fmt.Errorf("event_zstd: %w", err)
	}
	if len(ev) == 0 {
		return nil, fmt.Errorf("event_zstd: decompresses to nothing")
	}
	return ev, nil
}

// SessionInfo is one session's last seq and row count.
type SessionInfo struct{ MaxSeq, Rows int64 }

// Sessions aggregates the primary-key index in chunks, one statement each. A
// chunk's size adapts to how fast the previous one ran so that a statement
// stays near sessionTarget on any machine (the aggregate runs inside SQLite
// and cannot be stopped by a clock check between rows as Read's batches are).
var (
	sessionChunkMin   = 256
	sessionChunkMax   = 1 << 17
	sessionChunkStart = 1024
	sessionTarget     = 5 * time.Millisecond
)

// Sessions lists the sessions with their max seq and row count. A session the
// caller has read that is missing here, or whose MaxSeq is lower than what was
// read, was deleted (cascade from session_windows), replaced or rewritten;
// recording that is the caller's job.
//
// The count walks the primary-key index in chunks, each its own short read
// transaction, so the result is not one snapshot: a commit between chunks can
// show up in the sessions after it. That is harmless for deletion detection,
// which compares with positions already read.
func (db *DB) Sessions(ctx context.Context) (map[string]SessionInfo, error) {
	sch, err := db.Schema(ctx)
	if err != nil {
		return nil, err
	}
	if !sch.has("session_id") || !sch.has("seq") {
		return nil, fmt.Errorf("%s: %w (%v)", db.path, ErrNoTranscripts, sch.Warnings)
	}
	first, next := sessionQueries()

	out := map[string]SessionInfo{}
	var (
		started bool
		lastS   string
		lastQ   int64
		chunk   = sessionChunkStart
	)
	for {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		start := time.Now()
		query, args := first, []any{nil, nil, chunk}
		if started {
			query, args = next, []any{lastS, lastQ, chunk}
		}
		rows, err := db.sql.QueryContext(ctx, query, args...)
		if err != nil {
			db.recordTx(time.Since(start))
			return out, err
		}
		var total int64
		for rows.Next() {
			var (
				s     string
				c, mx int64
			)
			if err := rows.Scan(&s, &c, &mx); err != nil {
				rows.Close()
				db.recordTx(time.Since(start))
				return out, err
			}
			total += c
			info := out[s]
			info.Rows += c
			if info.Rows == c || mx > info.MaxSeq {
				info.MaxSeq = mx
			}
			out[s] = info
			// Groups come in session order; the last one is where the chunk ended.
			lastS, lastQ, started = s, mx, true
		}
		err = rows.Err()
		rows.Close()
		took := time.Since(start)
		db.recordTx(took)
		if err != nil {
			return out, err
		}
		if total < int64(chunk) {
			return out, nil
		}
		chunk = nextChunk(chunk, took)
	}
}

// sessionQueries: the inner LIMIT bounds the work of one statement whatever
// the session sizes; the last group may be cut and is continued by the next
// chunk. first binds ?1 and ?2 as NULL so that both take the same arguments.
func sessionQueries() (first, next string) {
	inner := `SELECT "session_id" AS s, "seq" AS q FROM "` + Table + `"`
	tail := ` ORDER BY "session_id", "seq" LIMIT ?3`
	first = `SELECT s, count(*), max(q) FROM (` + inner + ` WHERE ?1 IS NULL AND ?2 IS NULL` + tail + `) GROUP BY s ORDER BY s`
	next = `SELECT s, count(*), max(q) FROM (` + inner + ` WHERE ("session_id", "seq") > (?1, ?2)` + tail + `) GROUP BY s ORDER BY s`
	return first, next
}

// nextChunk scales a chunk toward sessionTarget, at most doubling or halving
// per step so that one odd measurement (a preempted thread) does not swing it.
func nextChunk(chunk int, took time.Duration) int {
	switch {
	case took > sessionTarget:
		chunk /= 2
	case took < sessionTarget/2:
		chunk *= 2
	}
	return min(max(chunk, sessionChunkMin), sessionChunkMax)
}
