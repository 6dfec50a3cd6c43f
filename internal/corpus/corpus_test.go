package corpus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestGenerateMatchesDisk(t *testing.T) {
	for _, v := range []string{Version2026_1_30, Version2026_5, Version2026_7, VersionMixed} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			opt := Options{Seed: 42, Agents: 2, SessionsPerAgent: 3, TargetBytes: 3 << 20, Version: v}
			got, err := Generate(dir, opt)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			want := scan(t, dir)
			if got.Files != want.Files || got.Bytes != want.Bytes || got.Lines != want.Lines {
				t.Errorf("files/bytes/lines = %d/%d/%d, on disk %d/%d/%d", got.Files, got.Bytes, got.Lines, want.Files, want.Bytes, want.Lines)
			}
			if got.Execs != want.Execs || got.ToolCalls != want.ToolCalls || got.ProviderErrors != want.ProviderErrors {
				t.Errorf("execs/toolCalls/providerErrors = %d/%d/%d, on disk %d/%d/%d",
					got.Execs, got.ToolCalls, got.ProviderErrors, want.Execs, want.ToolCalls, want.ProviderErrors)
			}
			if !maps.Equal(got.ExecsByOutcome, want.ExecsByOutcome) {
				t.Errorf("ExecsByOutcome = %v, on disk %v", got.ExecsByOutcome, want.ExecsByOutcome)
			}
			var sum int64
			for _, n := range got.ExecsByOutcome {
				sum += n
			}
			if sum != got.Execs {
				t.Errorf("outcomes add up to %d, want %d execs", sum, got.Execs)
			}
			if got.Execs == 0 || got.ExecsByOutcome[OutcomeSucceeded] <= got.Execs/2 {
				t.Errorf("want mostly successful execs, got %v of %d", got.ExecsByOutcome, got.Execs)
			}
		})
	}
}

// Every outcome must show up somewhere, or the corpus tests nothing about it.
func TestGenerateCoversOutcomes(t *testing.T) {
	got, err := Generate(t.TempDir(), Options{Seed: 3, Agents: 3, SessionsPerAgent: 4, TargetBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomeNames {
		if got.ExecsByOutcome[o] == 0 && o != OutcomeNoResult {
			t.Errorf("no exec with outcome %s in %v", o, got.ExecsByOutcome)
		}
	}
	if got.ProviderErrors == 0 {
		t.Error("no provider errors")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	opt := Options{Seed: 9, Agents: 2, SessionsPerAgent: 4, TargetBytes: 1 << 20}
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	sa, err := Generate(a, opt)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Generate(b, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !statsEqual(sa, sb) {
		t.Errorf("same seed, different stats: %+v vs %+v", sa, sb)
	}
	fa, fb := readTree(t, a), readTree(t, b)
	if !slices.Equal(slices.Sorted(maps.Keys(fa)), slices.Sorted(maps.Keys(fb))) {
		t.Fatalf("same seed, different files")
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("same seed, %s differs", name)
		}
	}
	opt.Seed++
	if _, err := Generate(c, opt); err != nil {
		t.Fatal(err)
	}
	fc := readTree(t, c)
	if slices.Equal(slices.Sorted(maps.Keys(fa)), slices.Sorted(maps.Keys(fc))) {
		t.Errorf("different seeds gave the same file names")
	}
}

func TestGenerateTargetSize(t *testing.T) {
	const target = 10 << 20
	for _, opt := range []Options{
		{Seed: 1, Agents: 4, SessionsPerAgent: 5, TargetBytes: target},
		{Seed: 2, Agents: 1, SessionsPerAgent: 1, TargetBytes: target, OutputBytes: 8192},
		{Seed: 3, Agents: 2, SessionsPerAgent: 50, TargetBytes: target, ExecRatio: 0.5, OutputBytes: 512},
	} {
		st, err := Generate(t.TempDir(), opt)
		if err != nil {
			t.Fatal(err)
		}
		if d := float64(st.Bytes-target) / target; d < -0.1 || d > 0.1 {
			t.Errorf("%+v: wrote %d bytes, want %d ± 10%%", opt, st.Bytes, target)
		}
	}
}

func TestGenerateRefusesExistingFiles(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Seed: 5, TargetBytes: 64 << 10}
	if _, err := Generate(dir, opt); err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(dir, opt); err == nil {
		t.Error("second Generate into the same dir succeeded; want an error")
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, opt := range []Options{
		{Version: "2026.3"},
		{ExecRatio: 1.5},
		{Agents: -1},
		{TargetBytes: -1},
	} {
		if _, err := Generate(t.TempDir(), opt); err == nil {
			t.Errorf("Generate(%+v) succeeded; want an error", opt)
		}
	}
}

func TestAppendStringMatchesJSONStringify(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{"a\"b\\c", `"a\"b\\c"`},
		{"2>&1 <stdin>", `"2>&1 <stdin>"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x1b[33m\x00\x7f", `"\u001b[33m\u0000` + "\x7f" + `"`},
		{"✓ › \u2028 ⚠️", "\"✓ › \u2028 ⚠️\""},
	} {
		if got := string(appendString(nil, tc.in)); got != tc.want {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if got := string(appendStringBytes(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("appendStringBytes(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestAppendFloatMatchesJSONStringify(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{12, "12"},
		{0.000009, "0.000009"},
		{0.0000001, "1e-7"},
		{0.024485299999999998, "0.024485299999999998"},
		{1e21, "1e+21"},
		{-0.5, "-0.5"},
	} {
		if got := string(appendFloat(nil, tc.in)); got != tc.want {
			t.Errorf("appendFloat(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// Key order is part of the format: a real OpenClaw 2026.7 exec result and a
// generated one must list the same keys in the same order.
func TestKeyOrderMatchesRealLines(t *testing.T) {
	const realCall = `{"type":"message","id":"fe60e3ed","parentId":"2428aab8","timestamp":"2026-09-15T22:43:56.196Z","message":{"role":"assistant","content":[{"type":"toolCall","id":"call_be4836232fab40cd82c0c862b01f","name":"exec","arguments":{"command":"~/csce465-agentsec/hw1/bin/safe_marker.sh course-marker"},"partialArgs":"{\"command\": \"~/csce465-agentsec/hw1/bin/safe_marker.sh course-marker\"}"}],"api":"openai-completions","provider":"tamus","model":"protected.gemini-2.5-flash","usage":{"input":10696,"output":75,"cacheRead":0,"cacheWrite":0,"reasoningTokens":50,"totalTokens":10771,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"toolUse","timestamp":1789512233686,"responseId":"K8qpapxG8cDzwA-g45co"}}`
	const realResult = `{"type":"message","id":"f159262d","parentId":"fe60e3ed","timestamp":"2026-09-15T22:43:59.516Z","message":{"role":"toolResult","toolCallId":"call_be4836232fab40cd82c0c862b01f","toolName":"exec","content":[{"type":"text","text":"Successfully created hw1/markers/marker.txt!"}],"details":{"status":"completed","exitCode":0,"exitSignal":null,"exitReason":"exit","durationMs":1857,"aggregated":"Successfully created hw1/markers/marker.txt!","noOutputTimedOut":false,"cwd":"/home/student/.openclaw/workspace"},"isError":false,"timestamp":1789512239510}}`
	dir := t.TempDir()
	if _, err := Generate(dir, Options{Seed: 11, SessionsPerAgent: 6, TargetBytes: 2 << 20, Version: Version2026_7}); err != nil {
		t.Fatal(err)
	}
	wantCall, wantResult := keyPaths(t, realCall), keyPaths(t, realResult)
	var sawCall, sawResult bool
	walkLines(t, dir, func(_ string, line []byte) {
		if !bytes.Contains(line, []byte(`"model":"google/gemini-2.5-flash"`)) && !bytes.Contains(line, []byte(`"toolName":"exec"`)) {
			return
		}
		got := keyPaths(t, string(line))
		switch {
		case slices.Equal(withPrefix(got, "message.content."), withPrefix(wantCall, "message.content.")) &&
			bytes.Contains(line, []byte(`"stopReason":"toolUse"`)):
			sawCall = true
			if !slices.Equal(got, wantCall) {
				t.Errorf("assistant toolCall keys\n got %v\nwant %v", got, wantCall)
			}
		case bytes.Contains(line, []byte(`"details":{"status":"completed","exitCode":0,`)):
			sawResult = true
			if !slices.Equal(got, wantResult) {
				t.Errorf("exec result keys\n got %v\nwant %v", got, wantResult)
			}
		}
	})
	if !sawCall || !sawResult {
		t.Fatalf("corpus lacks a comparable line (call %v, result %v)", sawCall, sawResult)
	}
}

func BenchmarkGenerate(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	root := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		dir := filepath.Join(root, strconv.Itoa(i))
		if _, err := Generate(dir, Options{Seed: int64(i), Agents: 4, SessionsPerAgent: 8, TargetBytes: size}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// --- reference scanner -----------------------------------------------------

// scan recomputes Stats from the files alone, following the outcome rules in
// examples/openclaw/README.md, and checks the structural invariants on the way.
func scan(t *testing.T, dir string) Stats {
	t.Helper()
	st := Stats{ExecsByOutcome: map[string]int64{}}
	files := map[string]*fileScan{}
	walkLines(t, dir, func(path string, line []byte) {
		f := files[path]
		if f == nil {
			f = &fileScan{path: path, ids: map[string]bool{}, calls: map[string]*execState{}, names: map[string]string{}, answered: map[string]bool{}, approvals: map[string]*execState{}}
			files[path] = f
			st.Files++
		}
		st.Lines++
		st.Bytes += int64(len(line)) + 1
		f.line(t, &st, line)
	})
	for _, f := range files {
		f.finish(t, &st)
	}
	for k, v := range st.ExecsByOutcome {
		if v == 0 {
			delete(st.ExecsByOutcome, k)
		}
	}
	return st
}

type execState struct {
	outcome string
	slug    string
}

type fileScan struct {
	path      string
	n         int
	lastTS    string
	ids       map[string]bool
	calls     map[string]*execState // exec calls by toolCall id
	names     map[string]string     // every toolCall id → tool name
	answered  map[string]bool
	running   []*execState
	approvals map[string]*execState
}

type entry struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	ParentID  *string         `json:"parentId"`
	Timestamp string          `json:"timestamp"`
	Version   int             `json:"version"`
	Message   json.RawMessage `json:"message"`
}

type message struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	StopReason string          `json:"stopReason"`
	ToolCallID string          `json:"toolCallId"`
	ToolName   string          `json:"toolName"`
	Details    map[string]any  `json:"details"`
	IsError    *bool           `json:"isError"`
	Timestamp  int64           `json:"timestamp"`
}

type block struct {
	Type      string         `json:"type"`
	Text      string         `json:"text"`
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Arguments map[string]any `json:"arguments"`
}

var (
	reSystemExec  = regexp.MustCompile(`Exec (?:completed|failed) \(([^,]+), code (\d+)\)`)
	reFinished    = regexp.MustCompile(`Exec finished \(gateway id=([0-9a-f-]{36}), session=[^,]+, code (\d+)\)`)
	reDeniedLater = regexp.MustCompile(`Exec denied \(gateway id=([0-9a-f-]{36}), `)
)

func (f *fileScan) line(t *testing.T, st *Stats, raw []byte) {
	f.n++
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%s:%d: invalid JSON: %v", f.path, f.n, err)
	}
	if f.n == 1 {
		if e.Type != "session" || e.Version != 3 || e.ID+".jsonl" != filepath.Base(f.path) {
			t.Fatalf("%s: bad header %s", f.path, raw)
		}
		return
	}
	if len(e.ID) != 8 || f.ids[e.ID] {
		t.Fatalf("%s:%d: entry id %q missing or reused", f.path, f.n, e.ID)
	}
	if f.n == 2 && e.ParentID != nil || f.n > 2 && (e.ParentID == nil || !f.ids[*e.ParentID]) {
		t.Fatalf("%s:%d: parentId does not point at an earlier entry", f.path, f.n)
	}
	f.ids[e.ID] = true
	if e.Timestamp < f.lastTS {
		t.Fatalf("%s:%d: timestamp %s goes back from %s", f.path, f.n, e.Timestamp, f.lastTS)
	}
	f.lastTS = e.Timestamp
	if e.Type != "message" {
		return
	}
	var m message
	if err := json.Unmarshal(e.Message, &m); err != nil {
		t.Fatalf("%s:%d: %v", f.path, f.n, err)
	}
	if ts, err := time.Parse(time.RFC3339Nano, e.Timestamp); err != nil || m.Timestamp > ts.UnixMilli() {
		t.Fatalf("%s:%d: message timestamp %d is after entry timestamp %s (%v)", f.path, f.n, m.Timestamp, e.Timestamp, err)
	}
	switch m.Role {
	case "assistant":
		if m.StopReason == "error" {
			st.ProviderErrors++
		}
		var blocks []block
		if err := json.Unmarshal(m.Content, &blocks); err != nil {
			t.Fatalf("%s:%d: %v", f.path, f.n, err)
		}
		for _, b := range blocks {
			if b.Type != "toolCall" {
				continue
			}
			st.ToolCalls++
			f.names[b.ID] = b.Name
			if _, ok := b.Arguments["command"].(string); ok && (b.Name == "exec" || b.Name == "bash") {
				st.Execs++
				f.calls[b.ID] = &execState{}
			}
		}
	case "toolResult":
		if _, ok := f.names[m.ToolCallID]; !ok || f.answered[m.ToolCallID] {
			t.Fatalf("%s:%d: result for unknown or already answered call %s", f.path, f.n, m.ToolCallID)
		}
		f.answered[m.ToolCallID] = true
		var blocks []block
		json.Unmarshal(m.Content, &blocks)
		text := ""
		if len(blocks) > 0 {
			text = blocks[0].Text
		}
		if x := f.calls[m.ToolCallID]; x != nil {
			f.classify(st, x, m.Details, text)
		}
		if m.ToolName == "process" {
			slug, _ := m.Details["sessionId"].(string)
			x := f.takeRunning(func(s string) bool { return s == slug })
			if x == nil {
				t.Fatalf("%s:%d: process poll for unknown session %q", f.path, f.n, slug)
			}
			f.final(st, x, exitOutcome(m.Details["exitCode"]))
		}
	case "user":
		text := userText(m.Content)
		for _, g := range reSystemExec.FindAllStringSubmatch(text, -1) {
			x := f.takeRunning(func(s string) bool { return strings.HasPrefix(s, g[1]) })
			if x == nil {
				t.Fatalf("%s:%d: System line for unknown process %q", f.path, f.n, g[1])
			}
			f.final(st, x, codeOutcome(g[2]))
		}
		for _, g := range reFinished.FindAllStringSubmatch(text, -1) {
			f.resolveApproval(t, st, g[1], codeOutcome(g[2]))
		}
		for _, g := range reDeniedLater.FindAllStringSubmatch(text, -1) {
			f.resolveApproval(t, st, g[1], OutcomeDenied)
		}
	}
}

// reason is the part of a result text that OpenClaw wrote itself: the last
// paragraph. Command output comes before it and may say anything, including
// "timeout".
func reason(text string) string {
	if i := strings.LastIndex(text, "\n\n"); i >= 0 {
		return text[i+2:]
	}
	return text
}

func (f *fileScan) classify(st *Stats, x *execState, d map[string]any, text string) {
	status, _ := d["status"].(string)
	switch status {
	case "completed":
		f.final(st, x, exitOutcome(d["exitCode"]))
	case "failed":
		switch {
		case strings.HasPrefix(text, "Exec denied ("): // approval-timeout denials also set timedOut
			f.final(st, x, OutcomeDenied)
		case d["timedOut"] == true:
			f.final(st, x, OutcomeTimedOut)
		case d["exitCode"] == 127.0:
			f.final(st, x, OutcomeNotFound)
		case d["failureKind"] == "signal" || strings.HasPrefix(reason(text), "Command aborted by signal"):
			f.final(st, x, OutcomeKilled)
		default:
			f.final(st, x, OutcomeError)
		}
	case "error":
		msg, _ := d["error"].(string)
		r := reason(msg)
		switch {
		case strings.HasPrefix(r, "exec denied") || strings.HasPrefix(r, "exec host not allowed"):
			f.final(st, x, OutcomeDenied)
		case strings.HasPrefix(r, "Command timed out"):
			f.final(st, x, OutcomeTimedOut)
		case strings.HasPrefix(r, "Command aborted by signal"):
			f.final(st, x, OutcomeKilled)
		case r == "Command exited with code 127":
			f.final(st, x, OutcomeNotFound)
		case strings.HasPrefix(r, "Command exited with code "):
			f.final(st, x, OutcomeNonzeroExit)
		default:
			f.final(st, x, OutcomeError)
		}
	case "blocked":
		f.final(st, x, OutcomeBlocked)
	case "running":
		x.outcome = OutcomeRunning
		x.slug, _ = d["sessionId"].(string)
		f.running = append(f.running, x)
	case "approval-pending":
		x.outcome = OutcomePendingApproval
		id, _ := d["approvalId"].(string)
		f.approvals[id] = x
	default:
		f.final(st, x, OutcomeError)
	}
}

func (f *fileScan) final(st *Stats, x *execState, outcome string) {
	x.outcome = outcome
	st.ExecsByOutcome[outcome]++
}

// takeRunning resolves the most recent unresolved background exec that
// matches, as a scanner must: process ids are only unique while running.
func (f *fileScan) takeRunning(match func(string) bool) *execState {
	for i := len(f.running) - 1; i >= 0; i-- {
		if match(f.running[i].slug) {
			x := f.running[i]
			f.running = slices.Delete(f.running, i, i+1)
			return x
		}
	}
	return nil
}

func (f *fileScan) resolveApproval(t *testing.T, st *Stats, id, outcome string) {
	x := f.approvals[id]
	if x == nil {
		t.Fatalf("%s:%d: approval update for unknown id %s", f.path, f.n, id)
	}
	delete(f.approvals, id)
	f.final(st, x, outcome)
}

func (f *fileScan) finish(t *testing.T, st *Stats) {
	for range f.running {
		st.ExecsByOutcome[OutcomeRunning]++
	}
	for range f.approvals {
		st.ExecsByOutcome[OutcomePendingApproval]++
	}
	for id, name := range f.names {
		if f.answered[id] {
			continue
		}
		if f.calls[id] == nil {
			t.Errorf("%s: non-exec call %s (%s) has no result", f.path, id, name)
			continue
		}
		st.ExecsByOutcome[OutcomeNoResult]++
	}
}

func exitOutcome(code any) string {
	if code == 0.0 {
		return OutcomeSucceeded
	}
	return OutcomeNonzeroExit
}

func codeOutcome(code string) string {
	if code == "0" {
		return OutcomeSucceeded
	}
	return OutcomeNonzeroExit
}

func userText(content json.RawMessage) string {
	var s string
	if json.Unmarshal(content, &s) == nil {
		return s
	}
	var blocks []block
	json.Unmarshal(content, &blocks)
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.Text)
	}
	return b.String()
}

// --- helpers ---------------------------------------------------------------

func walkLines(t *testing.T, dir string, fn func(path string, line []byte)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r := bufio.NewReaderSize(f, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				if line[len(line)-1] != '\n' {
					t.Fatalf("%s: last line has no newline", path)
				}
				if !utf8.Valid(line) {
					t.Fatalf("%s: invalid UTF-8 in %.200q", path, line)
				}
				fn(path, line[:len(line)-1])
			}
			if err != nil {
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func statsEqual(a, b Stats) bool {
	return a.Files == b.Files && a.Bytes == b.Bytes && a.Lines == b.Lines && a.Execs == b.Execs &&
		a.ProviderErrors == b.ProviderErrors && a.ToolCalls == b.ToolCalls && maps.Equal(a.ExecsByOutcome, b.ExecsByOutcome)
}

// keyPaths lists every object key in document order, with its nesting path.
func keyPaths(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	var out []string
	var walk func(prefix string)
	walk = func(prefix string) {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("keyPaths: %v", err)
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, _ := dec.Token()
				key := k.(string)
				out = append(out, prefix+key)
				walk(prefix + key + ".")
			}
			dec.Token()
		case json.Delim('['):
			for dec.More() {
				walk(prefix + "[].")
			}
			dec.Token()
		}
	}
	walk("")
	return out
}

func withPrefix(paths []string, prefix string) []string {
	var out []string
	for _, p := range paths {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out
}
