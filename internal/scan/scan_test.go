package scan_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/clawtrail/clawtrail/internal/ledger"
	"github.com/clawtrail/clawtrail/internal/scan"
)

// Lines in the shape OpenClaw 2026.7 writes them.
func header(id string) string {
	return fmt.Sprintf(`{"type":"session","version":3,"id":%q,"timestamp":"2026-09-01T10:00:00.000Z","cwd":"/home/node/.openclaw/workspace"}`, id)
}

func call(entry, id, command string) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"parentId":null,"timestamp":"2026-09-01T10:00:01.000Z","message":{"role":"assistant","content":[{"type":"toolCall","id":%q,"name":"exec","arguments":{"command":%q}}],"stopReason":"toolUse","timestamp":1788256801000}}`, entry, id, command)
}

func result(entry, id string, code int, out string) string {
	text := out
	if code != 0 {
		text += fmt.Sprintf("\n\n(Command exited with code %d)", code)
	}
	return fmt.Sprintf(`{"type":"message","id":%q,"parentId":null,"timestamp":"2026-09-01T10:00:02.000Z","message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":%q}],"details":{"status":"completed","exitCode":%d,"durationMs":12,"cwd":"/w"},"isError":%v,"timestamp":1788256802000}}`, entry, id, text, code, code != 0)
}

func running(entry, id, slug string) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":"Command still running (session %s, pid 42)."}],"details":{"status":"running","sessionId":%q,"pid":42,"cwd":"/w"},"isError":false,"timestamp":1788256802000}}`, entry, id, slug, slug)
}

func systemLine(entry, slug string, code int) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"message":{"role":"user","content":"System: [2026-09-01 10:05:00 UTC] Exec completed (%s, code %d) :: done\n\ncontinue","timestamp":1788257100000}}`, entry, slug[:8], code)
}

func providerErr(entry string) string {
	return fmt.Sprintf(`{"type":"message","id":%q,"message":{"role":"assistant","content":[],"stopReason":"error","provider":"anthropic","model":"claude","errorMessage":"429 {\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}","timestamp":1788256803000}}`, entry)
}

type env struct {
	t      *testing.T
	root   string
	ledger string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	root := filepath.Join(dir, "state")
	return &env{t: t, root: root, ledger: filepath.Join(dir, "governance.jsonl")}
}

func (e *env) write(rel string, lines ...string) {
	e.t.Helper()
	p := filepath.Join(e.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) append(rel string, lines ...string) {
	e.t.Helper()
	f, err := os.OpenFile(filepath.Join(e.root, rel), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) scan(opts ...func(*scan.Options)) *scan.Summary {
	e.t.Helper()
	o := scan.Options{Ledger: e.ledger, Sources: []string{e.root}}
	for _, f := range opts {
		f(&o)
	}
	s, err := scan.Run(context.Background(), o)
	if err != nil {
		e.t.Fatalf("scan: %v", err)
	}
	return s
}

func (e *env) records() []ledger.Record {
	e.t.Helper()
	f, err := os.Open(e.ledger)
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []ledger.Record
	// Era records (one per agent) are checked in TestEraRecords and checkpoints in
	// TestScanEndsWithACheckpoint; the rest of the tests look at what the transcripts
	// hold.
	if _, err := ledger.Walk(f, func(r *ledger.Record, _ []byte) error {
		if r.Kind != ledger.KindSource && r.Kind != ledger.KindCheckpoint {
			out = append(out, *r)
		}
		return nil
	}); err != nil {
		e.t.Fatalf("ledger does not verify: %v", err)
	}
	return out
}

// summary renders records compactly: kind:correlation:outcome.
func summary(recs []ledger.Record) string {
	var parts []string
	for _, r := range recs {
		switch r.Kind {
		case ledger.KindExec, ledger.KindExecUpdate:
			parts = append(parts, r.Kind+":"+r.CorrelationID+":"+r.Outcome)
		case ledger.KindProviderError:
			parts = append(parts, r.Kind+":"+r.Class)
		default:
			parts = append(parts, r.Kind+":"+r.Reason)
		}
	}
	return strings.Join(parts, " ")
}

func TestScanIsIdempotentAndIncremental(t *testing.T) {
	e := newEnv(t)
	s1 := "agents/main/sessions/s1.jsonl"
	e.write(s1, header("s1"), call("a1", "c1", "make"), result("r1", "c1", 0, "ok"),
		call("a2", "c2", "sleep 999"), providerErr("p1"))
	e.scan()
	want := "exec:c1:succeeded provider_error:rate_limit exec:c2:no_result"
	if got := summary(e.records()); got != want {
		t.Fatalf("first scan:\n got %s\nwant %s", got, want)
	}
	if s := e.scan(); s.Appended != 0 {
		t.Fatalf("second scan over the same input appended %d records", s.Appended)
	}
	// The missing result lands, plus a new call.
	e.append(s1, result("r2", "c2", 3, "late"), call("a3", "c3", "ls"), result("r3", "c3", 0, "."))
	e.scan()
	want += " exec_update:c2:nonzero_exit exec:c3:succeeded"
	if got := summary(e.records()); got != want {
		t.Fatalf("after append:\n got %s\nwant %s", got, want)
	}
	if s := e.scan(); s.Appended != 0 {
		t.Fatalf("scan after append, repeated, appended %d records", s.Appended)
	}
}

func TestBackgroundExecSettledBySystemLine(t *testing.T) {
	e := newEnv(t)
	e.write("agents/ops/sessions/s2.jsonl", header("s2"), call("a1", "bg|fc_1", "npm run build"), running("r1", "bg|fc_1", "warm-cove-1234"),
		systemLine("u1", "warm-cove-1234", 0))
	e.scan()
	got := e.records()
	if s := summary(got); s != "exec:bg|fc_1:running exec_update:bg|fc_1:succeeded" {
		t.Fatalf("records = %s", s)
	}
	if got[0].Agent != "ops" || got[0].Session != "s2" || got[1].Verdict != "executed" {
		t.Fatalf("identity wrong: %+v", got[0])
	}
	if s := e.scan(); s.Appended != 0 {
		t.Fatalf("rescan appended %d", s.Appended)
	}
}

func TestArchiveAndSuccessorAuditedOnce(t *testing.T) {
	e := newEnv(t)
	lines := []string{header("s3"), call("a1", "c1", "echo one"), result("r1", "c1", 0, "one")}
	// The reset archive and a copy that survived under the live name hold the same entries.
	e.write("agents/main/sessions/s3.jsonl.reset.2026-09-01T04-00-00.123Z", lines...)
	e.write("agents/main/sessions/s3.jsonl", append(lines, call("a2", "c2", "echo two"), result("r2", "c2", 0, "two"))...)
	e.write("agents/main/sessions/s3.checkpoint.0b9f0d5e-1111-2222-3333-444455556666.jsonl", lines...)
	e.write("agents/main/sessions/s3.trajectory.jsonl", lines...)
	sum := e.scan()
	if s := summary(e.records()); s != "exec:c1:succeeded exec:c2:succeeded" {
		t.Fatalf("records = %s", s)
	}
	if len(sum.Skipped) != 2 {
		t.Fatalf("skipped = %+v, want the checkpoint copy and the trajectory", sum.Skipped)
	}
}

func TestBadInputIsReportedAndScanGoesOn(t *testing.T) {
	e := newEnv(t)
	huge := `{"type":"message","id":"big","message":{"role":"toolResult","toolCallId":"cx","toolName":"exec","content":[{"type":"text","text":"` + strings.Repeat("A", 3<<20) + `"}]}}`
	e.write("agents/main/sessions/bad.jsonl",
		header("bad"),
		call("a1", "c1", "true"),
		`{"type":"message","id":"zz","message":{"role":`, // truncated JSON
		"\x00\x00\x00binary\xff\xfe",
		huge,
		strings.Replace(result("r1", "c1", 0, "ok INVALID utf-8"), "INVALID", "\xff\xfe", 1),
	)
	e.write("agents/main/sessions/notes.jsonl", "just some text", "more text")
	unreadable := "agents/main/sessions/secret.jsonl"
	e.write(unreadable, header("x"), call("a1", "c9", "id"), result("r1", "c9", 0, "uid=0"))
	if err := os.Chmod(filepath.Join(e.root, unreadable), 0); err != nil {
		t.Fatal(err)
	}
	sum := e.scan(func(o *scan.Options) { o.MaxLine = 1 << 20 })
	recs := e.records()
	var execs []string
	for _, r := range recs {
		if r.Kind == ledger.KindExec {
			execs = append(execs, r.CorrelationID+":"+r.Outcome)
		}
	}
	wantExecs := "c1:succeeded"
	if os.Geteuid() == 0 {
		wantExecs += " c9:succeeded" // root reads a mode-0 file anyway
	}
	if strings.Join(execs, " ") != wantExecs {
		t.Fatalf("execs = %v, want %s", execs, wantExecs)
	}
	if sum.ProblemCount["malformed line"] != 4 || sum.ProblemCount["line too long"] != 1 { // 2 in bad.jsonl, 2 in notes.jsonl
		t.Fatalf("problems = %v, want 4 malformed and 1 too long", sum.ProblemCount)
	}
	var notTranscript, cannotOpen bool
	for _, s := range sum.Skipped {
		notTranscript = notTranscript || s.Path == "agents/main/sessions/notes.jsonl" && strings.Contains(s.Reason, "not a transcript")
		cannotOpen = cannotOpen || strings.Contains(s.Reason, "cannot open")
	}
	if !notTranscript || (os.Geteuid() != 0 && !cannotOpen) {
		t.Fatalf("skipped = %+v", sum.Skipped)
	}
}

func TestSymlinkLoopIsReported(t *testing.T) {
	e := newEnv(t)
	e.write("agents/main/sessions/s.jsonl", header("s"), call("a1", "c1", "ls"), result("r1", "c1", 0, ""))
	if err := os.Symlink(filepath.Join(e.root, "agents"), filepath.Join(e.root, "agents", "main", "sessions", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(e.root, "agents", "main"), filepath.Join(e.root, "agents", "alias")); err != nil {
		t.Fatal(err)
	}
	done := make(chan *scan.Summary)
	go func() { done <- e.scan() }()
	select {
	case sum := <-done:
		if s := summary(e.records()); s != "exec:c1:succeeded" {
			t.Fatalf("records = %s, want the session once", s)
		}
		var alias bool
		for _, s := range sum.Skipped {
			alias = alias || strings.Contains(s.Reason, "symlink loop or alias")
		}
		if !alias {
			t.Fatalf("skipped = %+v, want the aliased sessions dir reported", sum.Skipped)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("scan did not finish: symlink loop followed")
	}
}

func TestSessionNamesWithoutHeader(t *testing.T) {
	e := newEnv(t)
	e.write("agents/main/sessions/2026-02-28T02-49-37-632Z_11c7893e-aaaa.jsonl", call("a1", "c1", "ls"), result("r1", "c1", 0, ""))
	e.write("agents/main/sessions/77aa-topic-42.jsonl", call("a1", "c2", "ls"), result("r1", "c2", 0, ""))
	e.scan()
	var sessions []string
	for _, r := range e.records() {
		sessions = append(sessions, r.Session)
	}
	if strings.Join(sessions, ",") != "11c7893e-aaaa,77aa" {
		t.Fatalf("sessions = %v", sessions)
	}
}

func TestRedactionBeforeTheLedger(t *testing.T) {
	e := newEnv(t)
	e.write("agents/main/sessions/s.jsonl", header("s"),
		call("a1", "c1", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 ls --profile AKIAIOSFODNN7EXAMPLE"),
		result("r1", "c1", 0, "connecting to postgres://app:hunter2hunter2@db:5432/prod\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"))
	e.scan()
	data, _ := os.ReadFile(e.ledger)
	for _, secret := range []string{"wJalrXUtnFEMI", "AKIAIOSFODNN7EXAMPLE", "hunter2hunter2", "MIIEowIBAAKCAQEA"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("secret %q reached the ledger", secret)
		}
	}
	if !strings.Contains(string(data), "REDACTED") {
		t.Error("no redaction marker in the ledger")
	}
}

func TestOutputCapKeepsHeadTailAndDigest(t *testing.T) {
	e := newEnv(t)
	out := "HEAD" + strings.Repeat("x", 200<<10) + "TAIL"
	e.write("agents/main/sessions/s.jsonl", header("s"), call("a1", "c1", "cat big"), result("r1", "c1", 0, out))
	e.scan()
	r := e.records()[0]
	if !r.Output.Truncated || r.Output.Bytes != int64(len(out)) || len(r.Output.Text) > 65<<10 ||
		!strings.HasPrefix(r.Output.Text, "HEAD") || !strings.HasSuffix(r.Output.Text, "TAIL") {
		t.Fatalf("output = truncated %v, bytes %d, text %d bytes", r.Output.Truncated, r.Output.Bytes, len(r.Output.Text))
	}
}

// A 100 MiB line (a tool output OpenClaw did not cap) is skipped without being held in
// memory, and the lines after it are still read.
func TestHundredMiBLineIsSkippedWithoutBuffering(t *testing.T) {
	e := newEnv(t)
	p := filepath.Join(e.root, "agents/main/sessions/s.jsonl")
	os.MkdirAll(filepath.Dir(p), 0o755)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, header("s"))
	fmt.Fprintln(f, call("a1", "c1", "cat /dev/urandom"))
	f.WriteString(`{"type":"message","id":"r0","message":{"role":"toolResult","toolCallId":"cz","content":[{"type":"text","text":"`)
	chunk := []byte(strings.Repeat("B", 1<<20))
	for range 100 {
		f.Write(chunk)
	}
	f.WriteString("\"}]}}\n")
	fmt.Fprintln(f, result("r1", "c1", 0, "after"))
	f.Close()

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sum := e.scan()
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("scan allocated %d MiB for a 100 MiB line: it was buffered", alloc>>20)
	}
	if sum.ProblemCount["line too long"] != 1 {
		t.Errorf("problems = %v, want the long line reported", sum.ProblemCount)
	}
	if s := summary(e.records()); s != "exec:c1:succeeded" {
		t.Errorf("records = %s, want the exec after the long line", s)
	}
}

func TestEraRecordsOncePerAgent(t *testing.T) {
	e := newEnv(t)
	e.write("agents/main/sessions/s.jsonl", header("s"), call("a1", "c1", "ls"), result("r1", "c1", 0, ""))
	os.MkdirAll(filepath.Join(e.root, "agents", "idle"), 0o755)
	sum := e.scan()
	e.scan()
	f, _ := os.Open(e.ledger)
	defer f.Close()
	var eras []string
	ledger.Walk(f, func(r *ledger.Record, _ []byte) error {
		if r.Kind == ledger.KindSource {
			eras = append(eras, r.Agent+":"+r.Detail)
		}
		return nil
	})
	if strings.Join(eras, " ") != "idle:none main:jsonl" {
		t.Fatalf("era records = %v, want one per agent", eras)
	}
	var warned bool
	for _, s := range sum.Skipped {
		warned = warned || strings.Contains(s.Reason, "no readable transcripts")
	}
	if !warned {
		t.Fatalf("an agent with nothing to read was not reported: %+v", sum.Skipped)
	}
}

// A scan that appends anything ends with a checkpoint over the whole ledger, signed
// when a key is given; a scan that appends nothing adds none.
func TestScanEndsWithACheckpoint(t *testing.T) {
	e := newEnv(t)
	s1 := "agents/main/sessions/s1.jsonl"
	e.write(s1, header("s1"), call("a1", "c1", "make"), result("r1", "c1", 0, "ok"))
	skey, vkey, err := note.GenerateKey(rand.Reader, "host-1")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	verifier, _ := note.NewVerifier(vkey)

	checkpoints := func() (cps []ledger.Record, records int64) {
		f, err := os.Open(e.ledger)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, err := ledger.WalkIdentity(f, func(r *ledger.Record, _ []byte) error {
			if r.Kind == ledger.KindCheckpoint {
				cps = append(cps, *r)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("ledger does not verify: %v", err)
		}
		return cps, st.Records
	}

	sum := e.scan()
	cps, n := checkpoints()
	if len(cps) != 1 || cps[0].Seq != n || cps[0].TreeSize != n-1 || sum.Checkpoint == nil || sum.CheckpointSeq != n || cps[0].Note != "" {
		t.Fatalf("after the first scan: checkpoints %+v in %d records, summary %+v; want one unsigned, last, over all before it", cps, n, sum.Checkpoint)
	}
	if sum := e.scan(); sum.Appended != 0 || sum.Checkpoint != nil {
		t.Fatalf("a scan with nothing new appended %d records and checkpoint %+v", sum.Appended, sum.Checkpoint)
	}
	e.append(s1, call("a2", "c2", "ls"), result("r2", "c2", 0, "."))
	e.scan(func(o *scan.Options) { o.Signer = signer })
	cps, n = checkpoints()
	if len(cps) != 2 || cps[1].Seq != n || cps[1].TreeSize != n-1 {
		t.Fatalf("after the second scan: checkpoints %+v in %d records", cps, n)
	}
	if err := ledger.CheckNote(&cps[1], note.VerifierList(verifier)); err != nil {
		t.Fatalf("the signed checkpoint does not verify: %v", err)
	}
}
