// Package corpus writes synthetic OpenClaw state directories of any size.
//
// The transcripts imitate what OpenClaw 2026.1.30, 2026.5 and 2026.7 write in
// the JSONL era (pi session format v3, see openclaw-transcripts.md): headers,
// model snapshots, user envelopes, assistant tool calls with usage blocks,
// exec results of every outcome in the shape each version uses, background
// execs resolved later by process polls or System lines, approvals resolved by
// follow-up messages, other tools, and provider errors. Generate reports
// exactly what it wrote, so a scan of the directory can be checked against the
// returned Stats.
//
// Output depends only on Options: the same seed gives the same bytes, whatever
// the number of CPUs, because every session draws from its own random stream
// and gets a fixed share of the byte budget.
package corpus

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Exec outcomes, as counted in Stats.ExecsByOutcome. Background and
// approval-gated execs are counted under their final outcome; the ones never
// resolved in their session stay OutcomeRunning or OutcomePendingApproval.
const (
	OutcomeSucceeded       = "succeeded"
	OutcomeNonzeroExit     = "nonzero_exit"
	OutcomeTimedOut        = "timed_out"
	OutcomeKilled          = "killed"
	OutcomeNotFound        = "not_found"
	OutcomeDenied          = "denied"
	OutcomeBlocked         = "blocked"
	OutcomePendingApproval = "pending_approval"
	OutcomeRunning         = "running"
	OutcomeError           = "error"
	OutcomeNoResult        = "no_result"
)

// Versions accepted by Options.Version.
const (
	Version2026_1_30 = "2026.1.30"
	Version2026_5    = "2026.5"
	Version2026_7    = "2026.7"
	VersionMixed     = "mixed"
)

// Options control the shape and size of a generated corpus.
type Options struct {
	// Seed selects the corpus; equal options give identical bytes.
	Seed int64
	// Agents is the number of agent directories (default 1).
	Agents int
	// SessionsPerAgent is the number of transcripts per agent (default 1).
	SessionsPerAgent int
	// TargetBytes is the total size of all transcripts, approximate
	// (default 1 MiB). Each transcript gets an equal share.
	TargetBytes int64
	// ExecRatio is the share of tool calls that are exec (default 0.8).
	ExecRatio float64
	// OutputBytes is the typical size of one exec output (default 2048).
	OutputBytes int
	// Version is "2026.1.30", "2026.5", "2026.7" or "mixed" (default),
	// which picks a version per session.
	Version string
	// Progress, if set, is called after each transcript is complete with
	// the number of transcript bytes written so far. Calls never overlap.
	Progress func(written int64)
}

// Stats counts what Generate wrote. Files, Bytes and Lines cover the
// transcripts only, not the sessions.json indexes.
type Stats struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	Lines int64 `json:"lines"`
	// Execs counts shell exec calls: tool calls named exec or bash whose
	// arguments carry a string command. Code Mode exec calls are not execs.
	Execs int64 `json:"execs"`
	// ExecsByOutcome holds the final outcome of every exec; zero counts are
	// left out.
	ExecsByOutcome map[string]int64 `json:"execs_by_outcome"`
	// ProviderErrors counts assistant messages with stopReason "error".
	ProviderErrors int64 `json:"provider_errors"`
	// ToolCalls counts every toolCall block, execs included.
	ToolCalls int64 `json:"tool_calls"`
}

var outcomeNames = [...]string{
	OutcomeSucceeded, OutcomeNonzeroExit, OutcomeTimedOut, OutcomeKilled, OutcomeNotFound,
	OutcomeDenied, OutcomeBlocked, OutcomePendingApproval, OutcomeRunning, OutcomeError, OutcomeNoResult,
}

type outcome uint8

const (
	oSucceeded outcome = iota
	oNonzero
	oTimedOut
	oKilled
	oNotFound
	oDenied
	oBlocked
	oPendingApproval
	oRunning
	oError
	oNoResult
	numOutcomes
)

// sessionStats is the per-transcript tally, merged after all workers finish.
type sessionStats struct {
	bytes, lines, execs, providerErrors, toolCalls int64
	outcomes                                       [numOutcomes]int64
}

// sessionMeta is what the per-agent sessions.json needs about a transcript.
type sessionMeta struct {
	id, file, key, channel, label string
	updatedAt                     int64
}

// Generate writes a state dir under dir: <dir>/agents/<agent>/sessions/
// with <uuid>.jsonl transcripts and a sessions.json index per agent. Files
// are created exclusively, so generating twice into one dir fails.
func Generate(dir string, opt Options) (Stats, error) {
	return GenerateContext(context.Background(), dir, opt)
}

// GenerateContext is Generate with cancellation; on cancellation it returns
// ctx.Err() and leaves the files written so far.
func GenerateContext(ctx context.Context, dir string, opt Options) (Stats, error) {
	opt, vers, err := opt.withDefaults()
	if err != nil {
		return Stats{}, err
	}
	n := opt.Agents * opt.SessionsPerAgent
	agents := make([]string, opt.Agents)
	for i := range agents {
		agents[i] = agentName(i)
		if err := os.MkdirAll(filepath.Join(dir, "agents", agents[i], "sessions"), 0o700); err != nil {
			return Stats{}, err
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	type done struct {
		idx  int
		st   sessionStats
		meta sessionMeta
		err  error
	}
	jobs := make(chan int)
	results := make(chan done)
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for idx := range jobs {
				a := idx / opt.SessionsPerAgent
				spec := sessionSpec{
					seed:     opt.Seed,
					index:    idx,
					agent:    agents[a],
					ordinal:  idx % opt.SessionsPerAgent,
					budget:   share(opt.TargetBytes, n, idx),
					vers:     vers,
					opt:      &opt,
					sessDir:  filepath.Join(dir, "agents", agents[a], "sessions"),
					stateDir: "/home/node/.openclaw",
				}
				st, meta, err := writeSession(ctx, spec)
				results <- done{idx, st, meta, err}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	var total sessionStats
	metas := make([]sessionMeta, n)
	var firstErr error
	for r := range results {
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
				cancel()
			}
			continue
		}
		metas[r.idx] = r.meta
		total.add(&r.st)
		if opt.Progress != nil {
			opt.Progress(total.bytes)
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return Stats{}, firstErr
	}
	for a, name := range agents {
		if err := writeIndex(filepath.Join(dir, "agents", name, "sessions", "sessions.json"),
			metas[a*opt.SessionsPerAgent:(a+1)*opt.SessionsPerAgent]); err != nil {
			return Stats{}, err
		}
	}
	return total.stats(n), nil
}

func (o Options) withDefaults() (Options, []version, error) {
	if o.Agents == 0 {
		o.Agents = 1
	}
	if o.SessionsPerAgent == 0 {
		o.SessionsPerAgent = 1
	}
	if o.TargetBytes == 0 {
		o.TargetBytes = 1 << 20
	}
	if o.ExecRatio == 0 {
		o.ExecRatio = 0.8
	}
	if o.OutputBytes == 0 {
		o.OutputBytes = 2048
	}
	if o.Version == "" {
		o.Version = VersionMixed
	}
	var errs []error
	if o.Agents < 0 || o.SessionsPerAgent < 0 {
		errs = append(errs, fmt.Errorf("agents (%d) and sessions per agent (%d) must be positive", o.Agents, o.SessionsPerAgent))
	}
	if o.TargetBytes < 0 {
		errs = append(errs, fmt.Errorf("target bytes %d is negative", o.TargetBytes))
	}
	if o.ExecRatio < 0 || o.ExecRatio > 1 {
		errs = append(errs, fmt.Errorf("exec ratio %v is outside [0, 1]", o.ExecRatio))
	}
	if o.OutputBytes < 0 {
		errs = append(errs, fmt.Errorf("output bytes %d is negative", o.OutputBytes))
	}
	var vers []version
	switch o.Version {
	case Version2026_1_30:
		vers = []version{v2026_1_30}
	case Version2026_5:
		vers = []version{v2026_5}
	case Version2026_7:
		vers = []version{v2026_7}
	case VersionMixed:
		vers = []version{v2026_1_30, v2026_5, v2026_7}
	default:
		errs = append(errs, fmt.Errorf("unknown version %q (want %s, %s, %s or %s)",
			o.Version, Version2026_1_30, Version2026_5, Version2026_7, VersionMixed))
	}
	return o, vers, errors.Join(errs...)
}

// share splits total into n parts that differ by at most one byte.
func share(total int64, n, i int) int64 {
	s := total / int64(n)
	if int64(i) < total%int64(n) {
		s++
	}
	return s
}

var agentNames = [...]string{"main", "ops", "research", "support", "billing", "infra", "data", "qa"}

func agentName(i int) string {
	if i < len(agentNames) {
		return agentNames[i]
	}
	return fmt.Sprintf("agent-%02d", i)
}

func (t *sessionStats) add(o *sessionStats) {
	t.bytes += o.bytes
	t.lines += o.lines
	t.execs += o.execs
	t.providerErrors += o.providerErrors
	t.toolCalls += o.toolCalls
	for i := range t.outcomes {
		t.outcomes[i] += o.outcomes[i]
	}
}

func (t *sessionStats) stats(files int) Stats {
	s := Stats{
		Files:          files,
		Bytes:          t.bytes,
		Lines:          t.lines,
		Execs:          t.execs,
		ExecsByOutcome: make(map[string]int64),
		ProviderErrors: t.providerErrors,
		ToolCalls:      t.toolCalls,
	}
	for i, c := range t.outcomes {
		if c != 0 {
			s.ExecsByOutcome[outcomeNames[i]] = c
		}
	}
	return s
}

// indexEntry follows the field order OpenClaw writes in sessions.json.
type indexEntry struct {
	SessionID       string      `json:"sessionId"`
	UpdatedAt       int64       `json:"updatedAt"`
	SystemSent      bool        `json:"systemSent"`
	AbortedLastRun  bool        `json:"abortedLastRun"`
	ChatType        string      `json:"chatType"`
	Origin          indexOrigin `json:"origin"`
	SessionFile     string      `json:"sessionFile"`
	CompactionCount int         `json:"compactionCount"`
}

type indexOrigin struct {
	Label    string `json:"label"`
	Provider string `json:"provider"`
}

func writeIndex(path string, metas []sessionMeta) error {
	var b bytes.Buffer
	b.WriteString("{")
	for i, m := range metas {
		if i > 0 {
			b.WriteString(",")
		}
		e := indexEntry{
			SessionID: m.id, UpdatedAt: m.updatedAt, SystemSent: true, ChatType: "direct",
			Origin:      indexOrigin{Label: m.label, Provider: m.channel},
			SessionFile: m.file,
		}
		v, err := json.MarshalIndent(e, "  ", "  ")
		if err != nil {
			return err
		}
		k, _ := json.Marshal(m.key)
		fmt.Fprintf(&b, "\n  %s: %s", k, v)
	}
	b.WriteString("\n}")
	return os.WriteFile(path, b.Bytes(), 0o600)
}

// sessionSpec is everything one worker needs to write one transcript.
type sessionSpec struct {
	seed     int64
	index    int
	agent    string
	ordinal  int
	budget   int64
	vers     []version
	opt      *Options
	sessDir  string
	stateDir string
}

func writeSession(ctx context.Context, spec sessionSpec) (sessionStats, sessionMeta, error) {
	// One stream per session keeps the output independent of scheduling.
	rng := rand.New(rand.NewPCG(uint64(spec.seed), 0x9e3779b97f4a7c15*uint64(spec.index+1)))
	s := newSession(rng, spec)
	name := s.id + ".jsonl"
	path := filepath.Join(spec.sessDir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return sessionStats{}, sessionMeta{}, err
	}
	s.w = bufio.NewWriterSize(f, 256<<10)
	err = s.run(ctx)
	if ferr := s.w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return sessionStats{}, sessionMeta{}, fmt.Errorf("write %s: %w", path, err)
	}
	meta := sessionMeta{
		id:        s.id,
		file:      spec.stateDir + "/agents/" + spec.agent + "/sessions/" + name,
		key:       s.key,
		channel:   s.channel.name,
		label:     s.sender.label,
		updatedAt: s.now.UnixMilli(),
	}
	return s.st, meta, nil
}
