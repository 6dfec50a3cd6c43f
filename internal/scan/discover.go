// Package scan is the one-shot audit: it finds every OpenClaw transcript under the
// paths it is given, reads each once, pairs calls with results, and appends to the
// ledger only what the ledger does not already hold.
package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
)

// Class is what a file in a sessions directory is to the audit (reference §3).
type Class int

const (
	// Primary is a live transcript.
	Primary Class = iota + 1
	// Archive is a transcript renamed on reset, delete or compaction: it holds
	// commands that ran, so a scan reads it too.
	Archive
	// Cold is an SQLite-era cold-storage archive, sessions/cold/<sha256>.jsonl.zst:
	// old transcript events moved out of the database, read by scan.
	Cold
)

// File is a transcript to read.
type File struct {
	Path  string // as opened
	Rel   string // relative to the source root, slash-separated (ledger source.path)
	Agent string
	Group string // agent + base transcript name: archives read together with their successor
	Class Class
	Size  int64
	Order string // sort key within the group: archives by timestamp, primary last
}

// Skipped is a path the scan did not read, and why.
type Skipped struct {
	Path   string
	Reason string
}

var (
	reArchive    = regexp.MustCompile(`^(.+\.jsonl)\.(reset|deleted|bak)\.(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d{3})?Z?)$`)
	reCheckpoint = regexp.MustCompile(`(?i)\.checkpoint\.[0-9a-f-]{8,}\.jsonl$`)
	reCorrupt    = regexp.MustCompile(`\.corrupt-[^/]*-[0-9a-f]{8}\.jsonl$`)
	reRepairBak  = regexp.MustCompile(`\.bak-\d+-\d+$`)
	reIndexTemp  = regexp.MustCompile(`^sessions\.json\.\d+\.[0-9a-fA-F-]+\.tmp$`)
	reIndexBak   = regexp.MustCompile(`^sessions\.json\.bak\.\d+$`)
)

// classify returns a file's class, the transcript name it belongs to and its order in
// that group; for a file not to be read, class 0 and the reason in place of the order.
func classify(name string) (Class, string, string) {
	switch {
	case name == "sessions.json":
		return 0, "", "session index, not a transcript"
	case reIndexTemp.MatchString(name), reIndexBak.MatchString(name), strings.HasSuffix(name, ".lock"):
		return 0, "", "index temp file, backup or lock"
	case strings.HasSuffix(name, ".trajectory.jsonl"), strings.HasSuffix(name, ".trajectory-path.json"):
		return 0, "", "trajectory artifact"
	case reCheckpoint.MatchString(name):
		return 0, "", "compaction checkpoint copy (duplicates its transcript)"
	case reCorrupt.MatchString(name):
		return 0, "", "backup of a transcript with a corrupt header"
	case reRepairBak.MatchString(name):
		return 0, "", "backup written before transcript repair"
	case strings.HasSuffix(name, ".jsonl.zst"):
		return 0, "", "SQLite-era cold storage (OpenClaw 2026.9+): not read by this version"
	case strings.HasSuffix(name, ".sqlite"), strings.HasSuffix(name, ".sqlite-wal"), strings.HasSuffix(name, ".sqlite-shm"):
		return 0, "", "SQLite-era transcript database (OpenClaw 2026.8+): not read by this version"
	}
	if m := reArchive.FindStringSubmatch(name); m != nil {
		return Archive, m[1], "0" + m[3]
	}
	if strings.HasSuffix(name, ".jsonl") {
		return Primary, name, "1"
	}
	return 0, "", "not a transcript file name"
}

// Sources is everything Discover found under a root.
type Sources struct {
	Files     []File
	Databases []Database
	Eras      []Era
	Skipped   []Skipped
}

// DiscoverAll is Discover plus SQLite-era databases and each agent's storage era.
func DiscoverAll(root, defaultAgent string) (Sources, error) {
	files, skipped, dbs, eras, err := discover(root, defaultAgent)
	return Sources{Files: files, Databases: dbs, Eras: eras, Skipped: skipped}, err
}

// Discover finds the transcripts under root: an OpenClaw state dir (with agents/), an
// agents dir, one agent's sessions dir, or a single transcript file. Only sessions
// directories are read, so a workspace full of unrelated .jsonl files is never
// mistaken for transcripts.
func Discover(root, defaultAgent string) ([]File, []Skipped, error) {
	files, skipped, _, _, err := discover(root, defaultAgent)
	return files, skipped, err
}

func discover(root, defaultAgent string) ([]File, []Skipped, []Database, []Era, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("source %s: %w", root, err)
	}
	d := &discovery{root: root, visited: map[[2]uint64]string{}}
	if !fi.IsDir() {
		class, group, order := classify(filepath.Base(root))
		if class == 0 {
			// A file named explicitly is read whatever its name says.
			class, group, order = Primary, filepath.Base(root), "1"
		}
		agent := agentOf(filepath.Dir(root), defaultAgent)
		if strings.HasSuffix(root, ".sqlite") {
			return nil, nil, []Database{{Path: root, Rel: filepath.Base(root), Agent: agentOfDB(root, defaultAgent), Size: fi.Size()}}, nil, nil
		}
		d.files = append(d.files, File{Path: root, Rel: filepath.Base(root), Agent: agent, Group: agent + "/" + group, Class: class, Size: fi.Size(), Order: order})
		return d.files, nil, nil, nil, nil
	}
	switch {
	case isDir(filepath.Join(root, "agents")):
		d.agents(filepath.Join(root, "agents"))
	case looksLikeAgentsDir(root):
		d.agents(root)
	case isDir(filepath.Join(root, "sessions")):
		d.sessions(filepath.Join(root, "sessions"), agentOf(filepath.Join(root, "sessions"), defaultAgent))
	default:
		d.sessions(root, agentOf(root, defaultAgent))
	}
	if len(d.files) == 0 && len(d.skipped) == 0 && len(d.dbs) == 0 {
		return nil, nil, nil, nil, fmt.Errorf("source %s: no OpenClaw transcripts found (expected a state dir with agents/<id>/sessions/, an agents dir, a sessions dir or a .jsonl file)", root)
	}
	sort.SliceStable(d.files, func(i, j int) bool {
		a, b := d.files[i], d.files[j]
		if a.Group != b.Group {
			return a.Group < b.Group
		}
		return a.Order < b.Order
	})
	return d.files, d.skipped, d.dbs, d.eras, nil
}

// agentOfDB names the agent of agents/<id>/agent/openclaw-agent.sqlite.
func agentOfDB(path, def string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return def
	}
	agentDir := filepath.Dir(filepath.Dir(abs))
	if filepath.Base(filepath.Dir(agentDir)) == "agents" {
		return filepath.Base(agentDir)
	}
	return def
}

type discovery struct {
	root    string
	files   []File
	dbs     []Database
	eras    []Era
	skipped []Skipped
	visited map[[2]uint64]string
}

func (d *discovery) rel(p string) string {
	r, err := filepath.Rel(d.root, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(r)
}

func (d *discovery) skip(p, format string, args ...any) {
	d.skipped = append(d.skipped, Skipped{Path: d.rel(p), Reason: fmt.Sprintf(format, args...)})
}

func (d *discovery) agents(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		d.skip(dir, "cannot list: %v", err)
		return
	}
	for _, e := range entries {
		agentDir := filepath.Join(dir, e.Name())
		if !isDir(agentDir) {
			continue
		}
		if key, ok := dirKey(agentDir); ok {
			if first, seen := d.visited[key]; seen {
				d.skip(agentDir, "same directory as %s (a symlink loop or alias): read once", first)
				continue
			}
			d.visited[key] = d.rel(agentDir)
		}
		d.era(agentDir, e.Name())
		d.database(agentDir, e.Name())
		sessions := filepath.Join(agentDir, "sessions")
		if !isDir(sessions) {
			continue
		}
		d.sessions(sessions, e.Name())
	}
}

func (d *discovery) sessions(dir, agent string) {
	if key, ok := dirKey(dir); ok {
		if first, seen := d.visited[key]; seen {
			d.skip(dir, "same directory as %s (a symlink loop or alias): read once", first)
			return
		}
		d.visited[key] = d.rel(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		d.skip(dir, "cannot list: %v", err)
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p) // follows symlinks on purpose: a linked transcript is still one
		if err != nil {
			d.skip(p, "cannot stat: %v", err)
			continue
		}
		if fi.IsDir() {
			switch e.Name() {
			case "session-sqlite-import-archive":
				d.sessions(p, agent)
			case "cold":
				d.cold(p, agent)
			default:
				d.skip(p, "directory inside a sessions directory: not a transcript")
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			d.skip(p, "not a regular file")
			continue
		}
		class, group, order := classify(e.Name())
		if class == 0 {
			d.skip(p, "%s", order)
			continue
		}
		d.files = append(d.files, File{Path: p, Rel: d.rel(p), Agent: agent, Group: agent + "/" + group, Class: class, Size: fi.Size(), Order: order})
	}
}

// cold adds the cold-storage archives of a sessions directory.
func (d *discovery) cold(dir, agent string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		d.skip(dir, "cannot list: %v", err)
		return
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() || !strings.HasSuffix(e.Name(), ".jsonl.zst") {
			d.skip(p, "not a cold-storage archive (<sha256>.jsonl.zst)")
			continue
		}
		d.files = append(d.files, File{Path: p, Rel: d.rel(p), Agent: agent, Group: agent + "/cold/" + e.Name(), Class: Cold, Size: fi.Size(), Order: "1"})
	}
}

func dirKey(p string) ([2]uint64, bool) {
	fi, err := os.Stat(p)
	if err != nil {
		return [2]uint64{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return [2]uint64{}, false
	}
	return [2]uint64{uint64(st.Dev), st.Ino}, true
}

// agentOf names the agent of a sessions dir: the <id> in agents/<id>/sessions, else
// the default.
func agentOf(sessionsDir, def string) string {
	abs, err := filepath.Abs(sessionsDir)
	if err != nil {
		return def
	}
	if filepath.Base(abs) == "sessions" {
		agentDir := filepath.Dir(abs)
		if filepath.Base(filepath.Dir(agentDir)) == "agents" {
			return filepath.Base(agentDir)
		}
	}
	return def
}

func looksLikeAgentsDir(dir string) bool {
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "sessions"))
	for _, m := range matches {
		if isDir(m) {
			return true
		}
	}
	return false
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
