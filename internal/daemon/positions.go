package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/clawtrail/clawtrail/internal/atomicfile"
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
}

type positionsFile struct {
	V     int        `json:"v"`
	Files []position `json:"files"`
}

// positions is only a hint, written after the ledger is durable: if it is lost,
// stale or corrupt, files are read again from the start and the ledger's index drops
// what it already holds. It can make a restart faster, never lose or double a record.
type positions struct {
	byPath map[string]position
	byIno  map[[2]uint64]position
}

func loadPositions(path string) (*positions, error) {
	p := &positions{byPath: map[string]position{}, byIno: map[[2]uint64]position{}}
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
	return p, nil
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

func savePositions(path string, files []position) error {
	data, err := json.Marshal(positionsFile{V: positionsVersion, Files: files})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data, 0o600)
}
