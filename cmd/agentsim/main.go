// Command agentsim stands in for an OpenClaw agent in deployment tests: it really
// executes shell commands where it runs (inside its own container) and records each
// one the way OpenClaw does, as an assistant toolCall "exec" line and a toolResult
// line in agents/<agent>/sessions/<session>.jsonl under a state dir, mode 0600.
//
// It is a test tool, not a model of an agent's behaviour: the point is that the
// commands audited by the sidecar ran in a different place (hostname, namespaces,
// uid) than the sidecar itself, and that the transcript bytes follow the format a
// real gateway writes (docs in reference/openclaw-transcripts.md §6-§7).
//
//	agentsim [--state DIR] [--agent ID] [--session ID] [--count N | --forever] [--interval D] [COMMAND...]
//
// COMMAND defaults to "uname -a", "hostname" and "id"; with --count larger than the
// number of commands they are repeated in order, with --forever until SIGTERM or
// SIGINT (docker stop), which ends the run after the call under way has its result. "{n}" in a command is replaced by
// the call's sequence number (1, 2, ...), so every call can be told apart. Each
// finished call is reported on stdout as "exec N CALLID exit=CODE", and the run
// ends with "done N".
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	// As PID 1 in its container it gets no default signal handling: stop on
	// SIGTERM explicitly, between calls, so no call is left without its result.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "agentsim: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("agentsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDefault := getenv("OPENCLAW_STATE_DIR")
	if stateDefault == "" {
		stateDefault = "/state"
	}
	state := fs.String("state", stateDefault, "OpenClaw state `dir` to write transcripts under")
	agent := fs.String("agent", "main", "agent `id`")
	session := fs.String("session", "", "session `id` (default: a new UUID)")
	cwd := fs.String("cwd", "/", "working `dir` of the commands")
	count := fs.Int("count", 0, "number of calls (default: one per command)")
	interval := fs.Duration("interval", 0, "pause between calls")
	forever := fs.Bool("forever", false, "repeat the commands until SIGTERM or SIGINT")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cmds := fs.Args()
	if len(cmds) == 0 {
		cmds = []string{"uname -a", "hostname", "id"}
	}
	n := *count
	if n <= 0 {
		n = len(cmds)
	}
	if *session == "" {
		*session = uuid()
	}
	dir := filepath.Join(*state, "agents", *agent, "sessions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	path := filepath.Join(dir, *session+".jsonl")
	// OpenClaw creates transcripts 0600 (reference §13.1): only its own uid reads them.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	w := &transcript{f: f}
	if err := w.line(header{Type: "session", Version: 3, ID: *session, Timestamp: iso(time.Now()), Cwd: *cwd}); err != nil {
		return err
	}
	if err := w.message(msg{Role: "user", Content: []block{{Type: "text", Text: "Run the environment checks and report."}}}); err != nil {
		return err
	}
	i := 0
	for i < n || *forever {
		if i > 0 && *interval > 0 {
			select {
			case <-time.After(*interval):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		i++
		command := strings.ReplaceAll(cmds[(i-1)%len(cmds)], "{n}", strconv.Itoa(i))
		callID := "call_" + randHex(12)
		if err := w.message(msg{Role: "assistant", Content: []block{{Type: "toolCall", ID: callID, Name: "exec",
			Arguments: map[string]string{"command": command}}},
			API: "anthropic-messages", Provider: "agentsim", Model: "agentsim-1", StopReason: "toolUse"}); err != nil {
			return err
		}
		res := execute(command, *cwd)
		if err := w.message(msg{Role: "toolResult", ToolCallID: callID, ToolName: "exec",
			Content: []block{{Type: "text", Text: res.text}}, Details: &res.details, IsError: new(false)}); err != nil {
			return err
		}
		code := "null"
		if res.details.ExitCode != nil {
			code = strconv.Itoa(*res.details.ExitCode)
		}
		fmt.Fprintf(stdout, "exec %d %s exit=%s\n", i, callID, code)
	}
	fmt.Fprintf(stdout, "done %d\n", i)
	return nil
}

type result struct {
	text    string
	details details
}

// execute runs the command as OpenClaw's exec tool does on a sandbox host: through
// sh -c, output and errors interleaved, the exit code and wall time recorded.
func execute(command, cwd string) result {
	var out bytes.Buffer
	c := exec.Command("/bin/sh", "-c", command)
	c.Dir = cwd
	c.Stdout, c.Stderr = &out, &out
	start := time.Now()
	err := c.Run()
	ms := time.Since(start).Milliseconds()
	text := strings.TrimRight(out.String(), "\n")
	d := details{Status: "completed", DurationMs: ms, Aggregated: text, Cwd: cwd}
	var ee *exec.ExitError
	switch {
	case err == nil:
		d.ExitCode = new(0)
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		d.ExitCode = new(ee.ExitCode())
		text = strings.TrimLeft(text+fmt.Sprintf("\n\n(Command exited with code %d)", ee.ExitCode()), "\n")
	default:
		// Not started, or killed by a signal: OpenClaw reports these as failed with no exit code.
		d.Status = "failed"
		text = strings.TrimSpace(text + "\n\n" + err.Error())
	}
	if text == "" {
		text = "(no output)"
	}
	return result{text, d}
}

// The types below fix the key order of the lines, so transcripts read like the
// real ones in reference/openclaw-transcripts.md.

type header struct {
	Type      string `json:"type"`
	Version   int    `json:"version"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Cwd       string `json:"cwd"`
}

type entry struct {
	Type      string  `json:"type"`
	ID        string  `json:"id"`
	ParentID  *string `json:"parentId"`
	Timestamp string  `json:"timestamp"`
	Message   msg     `json:"message"`
}

type msg struct {
	Role       string   `json:"role"`
	ToolCallID string   `json:"toolCallId,omitempty"`
	ToolName   string   `json:"toolName,omitempty"`
	Content    []block  `json:"content"`
	Details    *details `json:"details,omitempty"`
	IsError    *bool    `json:"isError,omitempty"`
	API        string   `json:"api,omitempty"`
	Provider   string   `json:"provider,omitempty"`
	Model      string   `json:"model,omitempty"`
	StopReason string   `json:"stopReason,omitempty"`
	Timestamp  int64    `json:"timestamp"`
}

type block struct {
	Type      string            `json:"type"`
	Text      string            `json:"text,omitempty"`
	ID        string            `json:"id,omitempty"`
	Name      string            `json:"name,omitempty"`
	Arguments map[string]string `json:"arguments,omitempty"`
}

type details struct {
	Status     string `json:"status"`
	ExitCode   *int   `json:"exitCode"`
	DurationMs int64  `json:"durationMs"`
	Aggregated string `json:"aggregated"`
	Cwd        string `json:"cwd"`
}

type transcript struct {
	f    *os.File
	last *string
}

// line writes one JSON line with a single write, as an appending runtime does, so a
// reader sees either nothing or whole lines plus at most one partial tail.
func (t *transcript) line(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = t.f.Write(append(b, '\n'))
	return err
}

func (t *transcript) message(m msg) error {
	now := time.Now()
	m.Timestamp = now.UnixMilli()
	id := randHex(4)
	err := t.line(entry{Type: "message", ID: id, ParentID: t.last, Timestamp: iso(now), Message: m})
	t.last = &id
	return err
}

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
