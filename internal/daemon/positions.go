package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/clawtrail/clawtrail/internal/atomicfile"
	"github.com/clawtrail/clawtrail/internal/sqlitesource"
	"github.com/clawtrail/clawtrail/internal/tail"
)

// positionsVersion is the format of the positions hint file (docs/daemon.md).
const positionsVersion = 1

// position is where reading a file may safely resume: every line before it is either
// recorded in the ledger or carries nothing the ledger still needs.
type position struct {
	Path   string        `json:"path"`
	ID     tail.Identity `json:"id"`
	Offset int64         `json:"offset"`
	Line   int64         `json:"line"`
	Done   bool          `json:"done,omitempty"` // an archive read to its end
	// For telling the operator about a file that vanished while the daemon was down.
	Rel   string `json:"rel,omitempty"`
	Agent string `json:"agent,omitempty"`
	Size  int64  `json:"size,omitempty"` // the file's size when last read
}

type positionsFile struct {
	V     int          `json:"v"`
	Files []position   `json:"files"`
	DBs   []dbPosition `json:"dbs,omitempty"`
}

// dbPosition is where reading a transcript database may resume: per session, the
// last seq whose events need not be read again (pulled back, like a file's, to
// before the oldest call still waiting for its result).
type dbPosition struct {
	Path     string           `json:"path"`
	Dev      uint64           `json:"dev"`
	Ino      uint64           `json:"ino"`
	Sessions map[string]int64 `json:"sessions"`
}

// positions is only a hint, written after the ledger is durable: if it is lost,
// stale or corrupt, files are read again from the start and the ledger's index drops
// what it already holds. It can make a restart faster, never lose or double a record.
type positions struct {
	byPath map[string]position
	byIno  map[[2]uint64]position
	used   map[[2]uint64]bool // hints a file found at start took up
	dbs    map[string]dbPosition
}

func loadPositions(path string) (*positions, error) {
	p := &positions{byPath: map[string]position{}, byIno: map[[2]uint64]position{}, used: map[[2]uint64]bool{}, dbs: map[string]dbPosition{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read positions hint: %w", err)
	}
	var pf positionsFile
	if err := json.Unmarshal(data, &pf); err != nil || pf.V != positionsVersion {
		return p, fmt.Errorf("positions hint %s is unusable (%v); reading every file from the start", path, err)
	}
	for _, f := range pf.Files {
		p.byPath[f.Path] = f
		p.byIno[[2]uint64{f.ID.Dev, f.ID.Ino}] = f
	}
	for _, db := range pf.DBs {
		p.dbs[db.Path] = db
	}
	return p, nil
}

// dbLast is where each session of the database at path may resume: the hint's, if
// it is the same file (a replaced database is read anew), else nothing.
func (p *positions) dbLast(path string, id sqlitesource.FileID) map[string]int64 {
	last := map[string]int64{}
	if h, ok := p.dbs[path]; ok && h.Dev == id.Dev && h.Ino == id.Ino {
		maps.Copy(last, h.Sessions)
	}
	return last
}

// lookup finds the hint for a file by path, or by identity when it was renamed (into
// an archive) while the daemon was down.
func (p *positions) lookup(path string, id tail.Identity) (position, bool) {
	if f, ok := p.byPath[path]; ok && f.ID.Dev == id.Dev && f.ID.Ino == id.Ino {
		return f, true
	}
	f, ok := p.byIno[[2]uint64{id.Dev, id.Ino}]
	return f, ok
}

// take marks a hint as belonging to a file that is still there.
func (p *positions) take(h position) { p.used[[2]uint64{h.ID.Dev, h.ID.Ino}] = true }

// vanished lists the files the last run was following that no file found now took
// up: deleted (or moved out of sight) while the daemon was not running.
func (p *positions) vanished() []position {
	var out []position
	for k, h := range p.byIno {
		if !h.Done && h.Path != "" && !p.used[k] {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b position) int { return strings.Compare(a.Path, b.Path) })
	return out
}

func savePositions(path string, files []position, dbs []dbPosition) error {
	data, err := json.Marshal(positionsFile{V: positionsVersion, Files: files, DBs: dbs})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}
