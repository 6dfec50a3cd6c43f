package daemon_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/daemon"
	"github.com/clawtrail/clawtrail/internal/sqlitesource/sqlitetest"
)

// TestMain doubles as the SQLite writer of BenchmarkSQLiteResultToDurableLatency: the
// test binary re-executed with DAEMON_SQLITE_WRITER set, so that the database is
// committed to by another process with its own connection and locks, as by
// OpenClaw's gateway.
func TestMain(m *testing.M) {
	if path := os.Getenv("DAEMON_SQLITE_WRITER"); path != "" {
		if err := latencyWriter(path, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sqlite writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// latencyWriter reads "<session> <n>" lines; for each it commits an exec call, then
// the exec's result, each in its own transaction, and prints the wall-clock times
// (Unix ns) at which the result's commit began and returned.
func latencyWriter(path string, in io.Reader, out io.Writer) error {
	db, err := sqlitetest.OpenWriter(path, 5000)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx := context.Background()
	seqs := map[string]int64{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			return fmt.Errorf("bad command %q", sc.Text())
		}
		session, id := f[0], "c"+f[1]
		if _, ok := seqs[session]; !ok {
			var last int64
			if err := db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM transcript_events WHERE session_id = ?`, session).Scan(&last); err != nil {
				return fmt.Errorf("max seq of %s: %w", session, err)
			}
			seqs[session] = last
		}
		seqs[session]++
		// Odd commands store their events compressed (schema 23), even ones as text.
		n, _ := strconv.Atoi(f[1])
		if err := sqlitetest.Insert(ctx, db, session, seqs[session], []byte(call("a"+id, id, "true", time.Now())), n%2 == 1, time.Now().UnixMilli()); err != nil {
			return err
		}
		seqs[session]++
		start := time.Now()
		if err := sqlitetest.Insert(ctx, db, session, seqs[session], []byte(result("r"+id, id, 0)), n%2 == 1, time.Now().UnixMilli()); err != nil {
			return err
		}
		fmt.Fprintln(out, start.UnixNano(), time.Now().UnixNano())
	}
	return sc.Err()
}

// BenchmarkSQLiteResultToDurableLatency measures, with 1,000 sessions in an agent's
// SQLite database (OpenClaw 2026.8+), the time from the start of the commit of a
// row holding an exec result (by another process) to its record being fsynced in
// the ledger. Results are committed one at a time, to random sessions, half of
// them zstd-compressed.
func BenchmarkSQLiteResultToDurableLatency(b *testing.B) {
	dir := b.TempDir()
	const sessions = 1000
	state, path, _ := benchAgentDB(b, dir, sessions, oneExec)

	writer := exec.Command(os.Args[0], "-test.run=^$")
	writer.Env = append(os.Environ(), "DAEMON_SQLITE_WRITER="+path)
	writer.Stderr = os.Stderr
	toWriter, err := writer.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	fromWriter, err := writer.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := writer.Start(); err != nil {
		b.Fatal(err)
	}
	defer writer.Wait()
	defer toWriter.Close()
	started := bufio.NewScanner(fromWriter)

	type commit struct {
		seq int64
		at  time.Time
	}
	committed := make(chan commit, 1024)
	d := daemon.New(daemon.Config{Sources: []string{state}, Ledger: filepath.Join(dir, "governance.jsonl"),
		OnCommit: func(seq int64) { committed <- commit{seq, time.Now()} }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	for !d.Status().Ready {
		time.Sleep(10 * time.Millisecond)
	}
	var seq int64
	for len(committed) > 0 {
		seq = (<-committed).seq
	}
	var lat, commits []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fmt.Fprintf(toWriter, "s%04d %d\n", (i*7919)%sessions, i+1)
		if !started.Scan() {
			b.Fatalf("writer stopped: %v", started.Err())
		}
		var ns, endNs int64
		if _, err := fmt.Sscan(started.Text(), &ns, &endNs); err != nil {
			b.Fatalf("writer said %q", started.Text())
		}
		commits = append(commits, time.Duration(endNs-ns))
		want := seq + 1
		var at time.Time
		for seq < want {
			select {
			case c := <-committed:
				seq, at = c.seq, c.at
			case <-time.After(10 * time.Second):
				b.Fatalf("record %d not committed within 10 s", want)
			}
		}
		lat = append(lat, at.Sub(time.Unix(0, ns)))
		if l := lat[len(lat)-1]; l > time.Second {
			b.Logf("result %d: %v to durable, of which the writer's commit %v", i, l, commits[len(commits)-1])
		}
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(q(1.0), "max_ms")
	// The writer's own commit (part of the above): what the daemon cannot shorten.
	sort.Slice(commits, func(i, j int) bool { return commits[i] < commits[j] })
	b.ReportMetric(float64(commits[len(commits)-1].Microseconds())/1000, "commit_max_ms")
}

// BenchmarkSQLiteIdle measures the CPU of following an idle agent database of
// 1,000 sessions (3,000 rows) for 10 s after catching up, with the default sweep.
func BenchmarkSQLiteIdle(b *testing.B) {
	dir := b.TempDir()
	state, _, _ := benchAgentDB(b, dir, 1000, oneExec)
	measureIdle(b, daemon.Config{Sources: []string{state}, Ledger: filepath.Join(dir, "governance.jsonl")})
}

// BenchmarkSQLiteRestart measures `run --once` over an agent database already
// audited: 1,000 sessions of 100 events (exec calls and results with 1 KiB outputs).
// Each session resumes after its last seq from the positions hint; without the hint
// every row is read again (reported as reread_s for comparison).
//
//	go test -run '^$' -bench SQLiteRestart -benchtime 5x ./internal/daemon
func BenchmarkSQLiteRestart(b *testing.B) {
	dir := b.TempDir()
	out := strings.Repeat("drwxr-xr-x 2 node node 4096 Nov 25 10:00 src\n", 22)
	state, _, bytes := benchAgentDB(b, dir, 1000, func(s string) []string {
		events := []string{header(s)}
		for j := range 49 {
			id := fmt.Sprintf("c%d", j)
			events = append(events, call("a"+id, id, "ls -la src", t0), resultOut("r"+id, id, 0, out))
		}
		return events
	})
	ledgerPath := filepath.Join(dir, "governance.jsonl")
	once := func() time.Duration {
		start := time.Now()
		if err := daemon.New(daemon.Config{Sources: []string{state}, Ledger: ledgerPath, Once: true}).Run(context.Background()); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	first := once()
	os.Remove(ledgerPath + ".positions")
	reread := once()
	b.ResetTimer()
	for range b.N {
		once()
	}
	b.StopTimer()
	b.ReportMetric(float64(bytes)/1e6, "event_MB")
	b.ReportMetric(first.Seconds(), "first_s")
	b.ReportMetric(reread.Seconds(), "reread_s")
}

// benchAgentDB creates a state dir holding one agent database (schema 23) whose
// sessions s0000… get the events of rows, one transaction per session, every other
// event zstd-compressed. It returns the state dir, the database's path and the
// bytes of event JSON written; the writer connection is closed.
func benchAgentDB(b *testing.B, dir string, sessions int, rows func(session string) []string) (state, path string, bytes int64) {
	b.Helper()
	state = filepath.Join(dir, "state")
	path = filepath.Join(state, "agents", "main", "agent", "openclaw-agent.sqlite")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	db, err := sqlitetest.Create(path, sqlitetest.DDLSchema23, 5000)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for i := range sessions {
		s := fmt.Sprintf("s%04d", i)
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		for seq, ev := range rows(s) {
			bytes += int64(len(ev))
			if err := sqlitetest.Insert(context.Background(), tx, s, int64(seq+1), []byte(ev), seq%2 == 1, 1); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	return state, path, bytes
}

// oneExec is a session of a header, an exec call and its result.
func oneExec(s string) []string {
	return []string{header(s), call("a0", "c0"+s, "ls", t0), result("r0", "c0"+s, 0)}
}
