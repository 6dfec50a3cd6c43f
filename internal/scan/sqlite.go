package scan

import (
	"context"
	"fmt"
	"math"
	"os"
	"sync/atomic"

	"github.com/clawtrail/clawtrail/internal/correlate"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/sqlitesource"
	"github.com/clawtrail/clawtrail/internal/transcript/openclaw"
)

// Database is an agent's SQLite-era transcript database (OpenClaw 2026.8+).
type Database struct {
	Path  string
	Rel   string // relative to the source root; records say <Rel>#<session> and the seq as line
	Agent string
	Size  int64
}

// SessionRel is how records name one session of the database: <Rel>#<session>.
func (d Database) SessionRel(session string) string { return d.Rel + "#" + session }

// Era is the storage era found for an agent (reference §1).
type Era struct {
	Agent string
	Dir   string // agent dir, relative to the source root
	Era   string // jsonl, sqlite, both, none
}

// readDatabase reads every transcript event of db in (session, seq) order, feeding
// each event to the same decoder and pairing as a JSONL line: the event JSON is the
// line. Sessions are finished when the next session starts.
func readDatabase(ctx context.Context, d Database, opt Options, cur *groupOut, pending *[]ledger.Body, send func(bool) bool, bytesDone *atomic.Int64) bool {
	db, err := sqlitesource.Open(d.Path)
	if err != nil {
		cur.skipped = append(cur.skipped, Skipped{Path: d.Rel, Reason: fmt.Sprintf("cannot open the SQLite transcript database: %v", err)})
		return true
	}
	defer db.Close()
	if sc, err := db.Schema(ctx); err == nil {
		for _, w := range sc.Warnings {
			cur.problems = append(cur.problems, Problem{Path: d.Rel, Reason: "schema: " + w})
		}
	}
	var (
		session string
		sess    *correlate.Session
		feed    *Feeder
		stopped bool
	)
	finish := func() {
		if sess != nil {
			*pending = sess.Finish(*pending)
			cur.otherCalls += sess.Counts.OtherCalls
		}
	}
	_, err = db.Read(ctx, func(string) int64 { return math.MinInt64 }, func(r sqlitesource.Row) error {
		if r.Session != session {
			finish()
			session = r.Session
			sess = correlate.NewSession(openclaw.Runtime, d.Agent, r.Session, correlate.Options{AllTools: opt.AllTools, OutputCap: opt.OutputCap, NoClaimChecks: opt.NoClaimChecks})
			file := File{Path: d.Path, Rel: d.SessionRel(r.Session), Agent: d.Agent}
			feed = NewFeeder(file, opt.MaxLine, func(string, string) *correlate.Session { return sess })
		}
		cur.lines++
		bytesDone.Add(int64(len(r.Event)))
		var p *Problem
		*pending, p = feed.Line(*pending, r.Event, r.Seq, 0, int64(len(r.Event)), len(r.Event) > opt.MaxLine)
		if p != nil {
			cur.problems = append(cur.problems, *p)
		}
		if !send(false) {
			stopped = true
			return ctx.Err()
		}
		return nil
	}, func(session string, seq int64, err error) {
		cur.problems = append(cur.problems, Problem{Path: d.SessionRel(session), Line: seq, Reason: "unreadable event: " + err.Error()})
	})
	if stopped {
		return false
	}
	if err != nil {
		cur.problems = append(cur.problems, Problem{Path: d.Rel, Reason: fmt.Sprintf("read error: %v (events read before it are kept)", err)})
	}
	finish()
	return true
}

// discoverDatabase adds an agent's database, if it has one.
func (d *discovery) database(agentDir, agent string) {
	p := sqlitesource.DBPath(agentDir)
	fi, err := os.Stat(p)
	if err != nil {
		return
	}
	d.dbs = append(d.dbs, Database{Path: p, Rel: d.rel(p), Agent: agent, Size: fi.Size()})
}

// era records which storage an agent uses, so a scan never silently audits nothing.
func (d *discovery) era(agentDir, agent string) {
	e, err := sqlitesource.DetectEra(agentDir)
	if err != nil {
		d.skip(agentDir, "cannot tell the storage era: %v", err)
		return
	}
	d.eras = append(d.eras, Era{Agent: agent, Dir: d.rel(agentDir), Era: string(e)})
	if e == sqlitesource.EraNone {
		d.skip(agentDir, "agent %s has no readable transcripts (neither JSONL nor SQLite): nothing of it is audited", agent)
	}
}

// readCold reads a zstd-compressed cold-storage archive line by line (streaming);
// line numbers and offsets are those of the decompressed text.
func readCold(ctx context.Context, f File, cur *groupOut, pending *[]ledger.Body, feed *Feeder, send func(bool) bool, bytesDone *atomic.Int64) bool {
	var no, offset int64
	stopped := false
	err := sqlitesource.ReadCold(f.Path, func(line []byte) error {
		no++
		cur.lines++
		var p *Problem
		*pending, p = feed.Line(*pending, line, no, offset, int64(len(line))+1, false)
		offset += int64(len(line)) + 1
		if p != nil {
			cur.problems = append(cur.problems, *p)
		}
		if !send(false) {
			stopped = true
			return ctx.Err()
		}
		return nil
	})
	bytesDone.Add(f.Size)
	if stopped {
		return false
	}
	if err != nil {
		cur.problems = append(cur.problems, Problem{Path: f.Rel, Line: no, Reason: fmt.Sprintf("cold archive: %v (lines read before it are kept)", err)})
	}
	return true
}
