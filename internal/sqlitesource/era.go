package sqlitesource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Era is the transcript storage an agent directory holds.
type Era string

const (
	// EraJSONL: JSONL transcripts only (OpenClaw up to 2026.7.x).
	EraJSONL Era = "jsonl"
	// EraSQLite: a database with transcript_events only (2026.8.1 and later).
	EraSQLite Era = "sqlite"
	// EraBoth: both, typically a migrated install that kept its JSONL files
	// (hot transcripts not yet imported, or session-sqlite-import-archive/).
	// The same events can be in both: the caller must audit them once.
	EraBoth Era = "both"
	// EraNone: nothing readable. Never silently fine: the caller warns.
	EraNone Era = "none"
)

// ImportArchiveDir is where OpenClaw moves JSONL transcripts it imported into
// SQLite. Where exactly it sits is not verified; DetectEra looks in the
// sessions directory and in the agent directory.
const ImportArchiveDir = "session-sqlite-import-archive"

// DBPath is the transcript database of an agent directory.
func DBPath(agentDir string) string { return filepath.Join(agentDir, filepath.FromSlash(DBRelPath)) }

var (
	// A transcript archived on reset, delete or compaction still holds
	// transcript lines (reference §3).
	reEraArchive = regexp.MustCompile(`\.jsonl\.(reset|deleted|bak)\.\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(\.\d{3})?Z?$`)
	// Copies that duplicate a transcript or are not one (reference §3).
	reEraCheckpoint = regexp.MustCompile(`(?i)\.checkpoint\.[0-9a-f-]{8,}\.jsonl$`)
	reEraCorrupt    = regexp.MustCompile(`\.corrupt-[^/]*-[0-9a-f]{8}\.jsonl$`)
)

// isJSONLTranscript reports whether a file name in a sessions directory is a
// JSONL transcript (primary or archived) by the classes of reference §3.
func isJSONLTranscript(name string) bool {
	switch {
	case strings.HasSuffix(name, ".trajectory.jsonl"),
		reEraCheckpoint.MatchString(name),
		reEraCorrupt.MatchString(name):
		return false
	case strings.HasSuffix(name, ".jsonl"), reEraArchive.MatchString(name):
		return true
	}
	return false
}

// DetectEra tells which storage an agent directory (<state>/agents/<id>) holds.
//
// JSONL: a transcript (primary or archived, reference §3) in sessions/, or a
// .jsonl under an import archive. SQLite: agent/openclaw-agent.sqlite exists
// AND has a transcript_events table; the schema-1 database that OpenClaw
// 2026.7.35 also writes holds cache, auth and memory data, not transcripts, and
// does not count. Cold archives (sessions/cold/*.jsonl.zst) do not decide the
// era: they only exist beside a database.
//
// An error means something could not be inspected (a permission, a database
// that does not open); the Era returned is what could be established, counting
// an existing but unreadable database as SQLite so that the caller reports a
// source it cannot read rather than none at all.
func DetectEra(agentDir string) (Era, error) {
	fi, err := os.Stat(agentDir)
	if err != nil {
		return EraNone, err
	}
	if !fi.IsDir() {
		return EraNone, fmt.Errorf("%s: not a directory", agentDir)
	}
	var errs []error
	jsonl, err := hasJSONL(agentDir)
	if err != nil {
		errs = append(errs, err)
	}
	sqlite, err := hasTranscriptDB(DBPath(agentDir))
	if err != nil {
		errs = append(errs, err)
	}
	era := EraNone
	switch {
	case jsonl && sqlite:
		era = EraBoth
	case jsonl:
		era = EraJSONL
	case sqlite:
		era = EraSQLite
	}
	return era, errors.Join(errs...)
}

func hasJSONL(agentDir string) (bool, error) {
	sessions := filepath.Join(agentDir, "sessions")
	ents, err := os.ReadDir(sessions)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	for _, e := range ents {
		if e.Type().IsRegular() && isJSONLTranscript(e.Name()) {
			return true, nil
		}
	}
	for _, dir := range []string{filepath.Join(sessions, ImportArchiveDir), filepath.Join(agentDir, ImportArchiveDir)} {
		found, err := anyJSONLUnder(dir, 3)
		if err != nil {
			return false, err
		}
		if found {
			return true, nil
		}
	}
	return false, nil
}

// anyJSONLUnder looks a few levels deep: the layout inside the import archive
// is not documented.
func anyJSONLUnder(dir string, depth int) (bool, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, e := range ents {
		switch {
		case e.Type().IsRegular() && isJSONLTranscript(e.Name()):
			return true, nil
		case e.IsDir() && depth > 1:
			if found, err := anyJSONLUnder(filepath.Join(dir, e.Name()), depth-1); found || err != nil {
				return found, err
			}
		}
	}
	return false, nil
}

// hasTranscriptDB opens the database read-only and looks for the table.
func hasTranscriptDB(path string) (bool, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		// An empty file is what a crashed first open leaves: no transcripts.
		return false, nil
	}
	db, err := Open(path)
	if err != nil {
		return true, err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := db.queryRow(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", []any{Table}, &n); err != nil {
		return true, fmt.Errorf("%s: %w", path, err)
	}
	return n > 0, nil
}
