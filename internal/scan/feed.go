package scan

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/clawtrail/clawtrail/internal/correlate"
	"github.com/clawtrail/clawtrail/internal/event"
	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/transcript/openclaw"
)

// SessionFunc returns the pairing state of a session, creating it on first use. The
// owner decides how long sessions live: a scan per transcript group, the daemon for
// as long as their files are followed.
type SessionFunc func(agent, session string) *correlate.Session

// Feeder turns the lines of one transcript file into ledger records. The same code
// serves the one-shot scan and the live daemon, so both derive identical records.
type Feeder struct {
	file     File
	sessions SessionFunc
	maxLine  int
	sess     *correlate.Session
	evs      []event.Event
	fallback string

	Good, Bad int64 // lines decoded, lines that were not entries
}

// NewFeeder starts reading file.
func NewFeeder(file File, maxLine int, sessions SessionFunc) *Feeder {
	return &Feeder{file: file, sessions: sessions, maxLine: maxLine, fallback: sessionFromName(file.Path)}
}

// Session is the session this file feeds, once its first entry was read.
func (f *Feeder) Session() *correlate.Session { return f.sess }

// Reset forgets the session binding, for a file rewritten or replaced from the start:
// its first line may now name another session.
func (f *Feeder) Reset() { f.sess = nil }

// Line processes one complete line and appends the records it completes. A line that
// cannot be used is returned as a Problem; the caller reports it and goes on.
func (f *Feeder) Line(out []ledger.Body, raw []byte, no, offset, size int64, tooLong bool) ([]ledger.Body, *Problem) {
	if tooLong {
		f.Bad++
		return out, &Problem{Path: f.file.Rel, Line: no, Reason: fmt.Sprintf("line too long: %d bytes exceeds the %d-byte limit; skipped", size, f.maxLine)}
	}
	var prob *Problem
	evs, err := openclaw.Decode(f.evs[:0], raw, event.Position{Path: f.file.Rel, Line: no, Offset: offset})
	f.evs = evs
	if err != nil {
		if errors.Is(err, openclaw.ErrNotJSON) {
			if len(strings.TrimSpace(string(raw))) == 0 {
				return out, nil
			}
			f.Bad++
			return out, &Problem{Path: f.file.Rel, Line: no, Reason: "malformed line: " + shortErr(err) + "; skipped"}
		}
		prob = &Problem{Path: f.file.Rel, Line: no, Reason: "unexpected field types: " + shortErr(err) + "; read what was readable"}
	}
	f.Good++
	if len(evs) == 0 {
		return out, prob
	}
	if f.sess == nil {
		name := f.fallback
		if evs[0].Kind == event.Header && evs[0].SessionID != "" {
			name = evs[0].SessionID
		}
		f.sess = f.sessions(f.file.Agent, name)
	}
	if f.sess.Seen(evs[0].EntryID) {
		return out, prob
	}
	for i := range evs {
		out = f.sess.Add(out, &evs[i])
	}
	return out, prob
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// sessionFromName names a session whose file has no header: the file name without
// .jsonl, archive suffix, leading "<ts>_" or trailing "-topic-…" (design.md).
func sessionFromName(path string) string {
	name := filepath.Base(path)
	if m := reArchive.FindStringSubmatch(name); m != nil {
		name = m[1]
	}
	name = strings.TrimSuffix(name, ".jsonl")
	if i := strings.Index(name, "_"); i > 0 && strings.HasPrefix(name, "20") && strings.HasSuffix(name[:i], "Z") {
		name = name[i+1:]
	}
	if i := strings.Index(name, "-topic-"); i > 0 {
		name = name[:i]
	}
	return name
}
