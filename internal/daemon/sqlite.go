package daemon

import (
	"context"
	"math"
	"time"

	"github.com/clawtrail/clawtrail/internal/correlate"
	"github.com/clawtrail/clawtrail/internal/event"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/scan"
	"github.com/clawtrail/clawtrail/internal/sqlitesource"
)

// followedDB is an agent's SQLite-era transcript database (OpenClaw 2026.8+), polled
// for rows past the last seq read in each session. A restart resumes from the
// positions hint (positions.go); without one every row is read again and the ledger's
// index drops what it holds.
type followedDB struct {
	d     scan.Database
	db    *sqlitesource.DB
	id    sqlitesource.FileID
	last  map[string]int64 // session -> last seq read
	feeds map[string]*scan.Feeder
	fol   map[string]*followed // per session, so sessions live as long as the database

	// Rows above mark (a rowid) are the ones committed since the last poll. hint
	// is false when rowids cannot say (sqlitesource.Changed): every poll is full.
	mark    int64
	hint    bool
	version int64 // data_version at the last full read
	read    bool  // a full read has completed
	dirty   bool  // a file event says the database or its -wal changed
	recheck bool  // written to recently: polled again as the commit may not have been visible yet
}

// dbRecheckFirst is the first of the polls that follow a write to a database
// (see Run).
const dbRecheckFirst = 2 * time.Millisecond

// pollRecheck polls the databases written to recently; last ends their series.
func (d *Daemon) pollRecheck(ctx context.Context, last bool) {
	for _, f := range d.dbs {
		if f.recheck {
			d.pollDB(ctx, f, false)
			f.recheck = !last
		}
	}
}

// position is the database's entry in the positions hint: the last seq read in each
// session, pulled back before the oldest call there still waiting for its result
// (held: the earliest such event per source path).
func (f *followedDB) position(held map[string]event.Position) dbPosition {
	sessions := make(map[string]int64, len(f.last))
	for s, seq := range f.last {
		if h, ok := held[f.d.SessionRel(s)]; ok && h.Line-1 < seq {
			seq = h.Line - 1
		}
		sessions[s] = seq
	}
	return dbPosition{Path: f.d.Path, Dev: f.id.Dev, Ino: f.id.Ino, Sessions: sessions}
}

func (d *Daemon) followDB(sd scan.Database) {
	db, err := sqlitesource.Open(sd.Path)
	if err != nil {
		// Tried again at every rediscovery; said once per reason.
		if d.dbErrors[sd.Path] != err.Error() {
			d.log.Warn("cannot open the SQLite transcript database: nothing in it is audited", "path", sd.Path, "err", err)
		}
		d.dbErrors[sd.Path] = err.Error()
		return
	}
	delete(d.dbErrors, sd.Path)
	id, _ := sqlitesource.Identity(sd.Path)
	d.dbs[sd.Path] = &followedDB{d: sd, db: db, id: id, last: d.hints.dbLast(sd.Path, id), feeds: map[string]*scan.Feeder{}, fol: map[string]*followed{}}
	d.log.Info("following SQLite transcripts", "agent", sd.Agent, "path", sd.Rel)
}

// pollDB reads the rows committed since the last poll. A full poll enters every
// session of the database (a seek each); the others ask which sessions have rows
// above the mark and read only those, so what a commit costs does not grow with
// the sessions the database holds. Full polls run at start and with each
// rediscovery (and then only if another connection committed since the last one):
// they are the net for what rowids cannot show.
func (d *Daemon) pollDB(ctx context.Context, f *followedDB, full bool) int {
	f.dirty = false
	if id, err := sqlitesource.Identity(f.d.Path); err == nil && !id.SameFile(f.id) {
		// Replaced (restored from a backup, vacuumed into a new file): read it anew.
		d.queue = append(d.queue, &ledger.SourceChange{Type: "replaced", Runtime: "openclaw", Agent: f.d.Agent, Path: f.d.Rel,
			Detail: "the transcript database was replaced; events already recorded are not recorded again"})
		f.db.Close()
		db, err := sqlitesource.Open(f.d.Path)
		if err != nil {
			d.log.Warn("cannot reopen the SQLite transcript database", "path", f.d.Path, "err", err)
			delete(d.dbs, f.d.Path)
			return 0
		}
		f.db, f.id, f.last = db, id, map[string]int64{}
		f.feeds = map[string]*scan.Feeder{}
		f.hint, f.read, full = false, false, true
	} else if err == nil {
		if id.HeaderRead && f.id.HeaderRead && id.SchemaCookie != f.id.SchemaCookie {
			// Rewritten in place: a VACUUM (which may renumber rowids) or a schema
			// change. Rows keep their (session, seq), so reading resumes where it
			// was, by a full read, since rowid marks say nothing any more.
			d.queue = append(d.queue, &ledger.SourceChange{Type: "reset", Runtime: "openclaw", Agent: f.d.Agent, Path: f.d.Rel,
				Detail: "the transcript database was rewritten in place (VACUUM or a schema change); events already recorded are not recorded again"})
			f.hint, full = false, true
		}
		f.id = id
	}
	var sessions []string
	var mark int64
	if full || !f.hint {
		v, err := f.db.DataVersion(ctx)
		if err == nil && f.read && v == f.version {
			return 0 // nothing committed since the last full read
		}
		f.version = v
		// The mark is taken before the read: a row committed during it is above
		// the mark, and read by the next poll if not by this one.
		m, ok, err := f.db.Mark(ctx)
		if err != nil {
			d.log.Warn("cannot read the SQLite transcript database", "path", f.d.Rel, "err", err)
		}
		mark, f.hint, full = m, ok && err == nil, true
	} else {
		s, next, ok, err := f.db.Changed(ctx, f.mark)
		switch {
		case err != nil:
			d.log.Warn("cannot read the SQLite transcript database", "path", f.d.Rel, "err", err)
			return 0
		case !ok:
			// Rows deleted at the end, renumbered, or a large batch: read it all.
			f.hint = false
			return d.pollDB(ctx, f, true)
		case len(s) == 0:
			f.mark = next
			return 0
		}
		sessions, mark = s, next
	}
	var out []ledger.Body
	after := func(s string) int64 {
		if v, ok := f.last[s]; ok {
			return v
		}
		return math.MinInt64
	}
	row := func(r sqlitesource.Row) error {
		f.last[r.Session] = r.Seq
		feed := f.feeds[r.Session]
		if feed == nil {
			file := scan.File{Path: f.d.Path, Rel: f.d.SessionRel(r.Session), Agent: f.d.Agent}
			holder := f.fol[r.Session]
			if holder == nil {
				holder = &followed{file: file}
				f.fol[r.Session] = holder
			}
			// The session is the row's session_id, whatever a header event says
			// (or without one): `scan` names it so, and the ledger's identity of an
			// exec must not depend on which of the two read it.
			session := r.Session
			feed = scan.NewFeeder(file, d.cfg.MaxLine, func(agent, _ string) *correlate.Session {
				return d.session(holder, agent, session)
			})
			f.feeds[r.Session] = feed
		}
		var p *scan.Problem
		out, p = feed.Line(out, r.Event, r.Seq, 0, int64(len(r.Event)), len(r.Event) > d.cfg.MaxLine)
		if p != nil {
			d.problems++
		}
		if len(out) > commitBatch {
			d.admit(out)
			out = out[:0]
		}
		return nil
	}
	bad := func(session string, seq int64, err error) {
		d.problems++
		d.log.Warn("unreadable SQLite transcript event", "path", f.d.Rel, "session", session, "seq", seq, "err", err)
	}
	var n int
	var err error
	if full {
		n, err = f.db.Read(ctx, after, row, bad)
	} else {
		n, err = f.db.ReadSessions(ctx, sessions, after, row, bad)
	}
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("cannot read the SQLite transcript database", "path", f.d.Rel, "err", err)
		}
		f.read = false // read everything again next time
	} else {
		f.mark = mark
		f.read = f.read || full
	}
	d.admit(out)
	return n
}

// pollDBs polls every database (full: entering every session), or with dirty
// only those a file event named.
func (d *Daemon) pollDBs(ctx context.Context, full, dirty bool) int {
	n := 0
	for _, f := range d.dbs {
		if !dirty || f.dirty {
			n += d.pollDB(ctx, f, full)
		}
	}
	return n
}

// checkDBSessions notices sessions deleted from a database (OpenClaw deletes a
// session's rows by cascade): they are recorded as archived, and their calls still
// without a result become no_result, as for a deleted transcript file.
func (d *Daemon) checkDBSessions(ctx context.Context) {
	for _, f := range d.dbs {
		live, err := f.db.Sessions(ctx)
		if err != nil {
			continue
		}
		for session := range f.last {
			if _, ok := live[session]; ok {
				continue
			}
			d.queue = append(d.queue, &ledger.SourceChange{Type: "archived", Runtime: "openclaw", Agent: f.d.Agent, Path: f.d.SessionRel(session),
				Detail: "the session was deleted from the transcript database; every event read before is recorded"})
			if holder := f.fol[session]; holder != nil && holder.sess != nil {
				d.admit(holder.sess.s.Finish(nil))
				delete(d.sessions, holder.sess.key)
			}
			delete(f.last, session)
			delete(f.feeds, session)
			delete(f.fol, session)
		}
	}
}
