package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clawtrail/clawtrail/internal/sqlitesource/sqlitetest"
)

// TestMain doubles as the SQLite writer: TestCrashExactlyOnceSQLite re-executes the
// test binary with CLAWTRAIL_SQLITE_WRITER set, so that the database is written by
// another process with its own connection and locks, as OpenClaw's gateway does.
// It also removes the binary the crash tests build once.
func TestMain(m *testing.M) {
	if os.Getenv("CLAWTRAIL_SQLITE_WRITER") != "" {
		if err := sqliteWriterMain(); err != nil {
			fmt.Fprintln(os.Stderr, "sqlite writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// planRow is one transcript_events row; ts in the event is filled in when written.
type planRow struct {
	session string
	seq     int64
	event   string
	zstd    bool
}

type planTx struct {
	agent string
	rows  []planRow
}

// sqlitePlan is what the writer process commits, transaction by transaction, and
// what the ledger must end up holding. Both processes derive it from the seed.
type sqlitePlan struct {
	txs        []planTx
	want       map[string]string // session/call -> outcome
	newAgentAt int               // the transaction that creates agent "ops" and its database
}

// Agent "main" has the schema-23 table (half its rows zstd-compressed), agent "ops"
// the 2026.8.1 table, created while the daemon runs. Half the sessions start with a
// header event, half do not (whether OpenClaw stores one is unverified): either way
// the session is the row's session_id. Calls and results land in the same
// transaction or in later ones, several execs per transaction or one.
func makeSQLitePlan(seed uint64, n int) sqlitePlan {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	type sess struct {
		id  string
		seq int64
	}
	type pending struct {
		s   *sess
		row string
	}
	sessions := map[string][]*sess{}
	waiting := map[string][]pending{}
	p := sqlitePlan{want: map[string]string{}, newAgentAt: n / 3}
	execs, nsess := 0, 0
	next := func(s *sess, ev string, compress bool) planRow {
		s.seq++
		return planRow{session: s.id, seq: s.seq, event: ev, zstd: compress}
	}
	for i := 0; i < n; i++ {
		agent := "main"
		if i >= p.newAgentAt && rng.IntN(3) == 0 {
			agent = "ops"
		}
		compress := func() bool { return agent == "main" && rng.IntN(2) == 0 }
		tx := planTx{agent: agent}
		if len(sessions[agent]) == 0 || rng.IntN(8) == 0 {
			nsess++
			s := &sess{id: fmt.Sprintf("%s-s%04d", agent, nsess)}
			sessions[agent] = append(sessions[agent], s)
			if rng.IntN(2) == 0 {
				tx.rows = append(tx.rows, next(s, headerLine(s.id, "%TS%"), compress()))
			}
		}
		// Results of earlier calls, each with even odds of landing now.
		keep := waiting[agent][:0]
		for _, w := range waiting[agent] {
			if rng.IntN(2) == 0 {
				tx.rows = append(tx.rows, next(w.s, w.row, compress()))
			} else {
				keep = append(keep, w)
			}
		}
		waiting[agent] = keep
		for range 1 + rng.IntN(3) {
			s := sessions[agent][rng.IntN(len(sessions[agent]))]
			execs++
			callID := fmt.Sprintf("call_%05d|fc_%d", execs, rng.IntN(1000))
			call, res, outcome := execLines(rng, execs, callID, "%TS%")
			p.want[s.id+"/"+callID] = outcome
			tx.rows = append(tx.rows, next(s, call, compress()))
			if rng.IntN(5) < 3 {
				tx.rows = append(tx.rows, next(s, res, compress()))
			} else {
				waiting[agent] = append(waiting[agent], pending{s, res})
			}
		}
		if rng.IntN(3) == 0 {
			s := sessions[agent][rng.IntN(len(sessions[agent]))]
			tx.rows = append(tx.rows, next(s, fmt.Sprintf(`{"type":"message","id":"t%07d","timestamp":"%%TS%%","message":{"role":"assistant","content":[{"type":"text","text":"done"}],"stopReason":"stop"}}`, i), compress()))
		}
		p.txs = append(p.txs, tx)
	}
	for _, agent := range []string{"main", "ops"} {
		tx := planTx{agent: agent}
		for _, w := range waiting[agent] {
			tx.rows = append(tx.rows, next(w.s, w.row, agent == "main" && rng.IntN(2) == 0))
		}
		if len(tx.rows) > 0 {
			p.txs = append(p.txs, tx)
		}
	}
	return p
}

func agentDB(state, agent string) string {
	return filepath.Join(state, "agents", agent, "agent", "openclaw-agent.sqlite")
}

// sqliteWriterMain commits the plan into the databases under the state dir
// CLAWTRAIL_SQLITE_WRITER, one transaction every CLAWTRAIL_SQLITE_PACE, and
// truncates the -wal with a checkpoint now and then, as a gateway's checkpoints
// restart it. It prints "done" when everything is committed.
func sqliteWriterMain() error {
	state := os.Getenv("CLAWTRAIL_SQLITE_WRITER")
	seed, err := strconv.ParseUint(os.Getenv("CLAWTRAIL_SQLITE_SEED"), 10, 64)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	n, err := strconv.Atoi(os.Getenv("CLAWTRAIL_SQLITE_TXS"))
	if err != nil {
		return fmt.Errorf("transaction count: %w", err)
	}
	pace, err := time.ParseDuration(os.Getenv("CLAWTRAIL_SQLITE_PACE"))
	if err != nil {
		return fmt.Errorf("pace: %w", err)
	}
	plan := makeSQLitePlan(seed, n)
	dbs := map[string]*sql.DB{}
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	ctx := context.Background()
	for i, tx := range plan.txs {
		db := dbs[tx.agent]
		if db == nil {
			path := agentDB(state, tx.agent)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			ddl := sqlitetest.DDLSchema23
			if tx.agent == "ops" {
				ddl = sqlitetest.DDLSchema8
			}
			if _, err := os.Stat(path); err == nil {
				db, err = sqlitetest.OpenWriter(path, 5000)
			} else {
				db, err = sqlitetest.Create(path, ddl, 5000)
			}
			if err != nil {
				return err
			}
			dbs[tx.agent] = db
		}
		ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		t, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("transaction %d: %w", i, err)
		}
		for _, r := range tx.rows {
			if err := sqlitetest.Insert(ctx, t, r.session, r.seq, []byte(strings.ReplaceAll(r.event, "%TS%", ts)), r.zstd, time.Now().UnixMilli()); err != nil {
				t.Rollback()
				return fmt.Errorf("transaction %d: %w", i, err)
			}
		}
		if err := t.Commit(); err != nil {
			return fmt.Errorf("commit %d: %w", i, err)
		}
		if i%400 == 399 {
			if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
				return fmt.Errorf("checkpoint: %w", err)
			}
		}
		time.Sleep(pace)
	}
	fmt.Println("done")
	return nil
}

// The real daemon follows two agents' SQLite databases while another process
// commits plain and zstd rows to them for many sessions, and is killed with SIGKILL
// at random moments and restarted. The last daemon, left running, must catch up by
// itself; then the ledger verifies and holds every exec exactly once.
func TestCrashExactlyOnceSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	began := time.Now()
	bin := buildBinary(t)
	t.Logf("build %v", time.Since(began))
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	ledgerPath := filepath.Join(dir, "governance.jsonl")
	// The first agent's database exists before the daemon starts, as after an
	// upgrade; the second appears while it runs.
	mainDB := agentDB(state, "main")
	if err := os.MkdirAll(filepath.Dir(mainDB), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitetest.Create(mainDB, sqlitetest.DDLSchema23, 5000)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	const seed, txs = 7, 300
	pace := time.Millisecond
	writer := exec.Command(os.Args[0], "-test.run=^$")
	writer.Env = append(os.Environ(), "CLAWTRAIL_SQLITE_WRITER="+state, fmt.Sprintf("CLAWTRAIL_SQLITE_SEED=%d", seed),
		fmt.Sprintf("CLAWTRAIL_SQLITE_TXS=%d", txs), "CLAWTRAIL_SQLITE_PACE="+pace.String())
	var werr strings.Builder
	writer.Stderr = &werr
	out, err := writer.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	rig := &crashRig{t: t, bin: bin, state: state, ledger: ledgerPath, rng: rand.New(rand.NewPCG(5, 6))}
	rig.start()
	if err := writer.Start(); err != nil {
		t.Fatalf("start writer: %v", err)
	}
	written := make(chan error, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		io.Copy(io.Discard, out)
		err := writer.Wait()
		if err == nil && line != "done\n" {
			err = errors.New("writer ended without committing everything")
		}
		if err != nil {
			err = fmt.Errorf("%w: %s", err, werr.String())
		}
		written <- err
	}()
	// Kill at least -crash-kills times, and on until the writer is done, so that
	// every commit happens under fire however fast this machine writes.
	kills := 0
	for done := false; !done || kills < *crashKills; kills++ {
		rig.killRepeatedly(1, func(until time.Time) { time.Sleep(time.Until(until)) })
		select {
		case err := <-written:
			if err != nil {
				t.Fatalf("writer: %v", err)
			}
			done = true
		default:
		}
	}
	t.Logf("writer done, %d kills, %v", kills, time.Since(began))
	plan := makeSQLitePlan(seed, txs)
	sessions := map[string]bool{}
	for k := range plan.want {
		sessions[k[:strings.IndexByte(k, '/')]] = true
	}
	t.Logf("%d transactions, %d execs in %d sessions of 2 agents", len(plan.txs), len(plan.want), len(sessions))

	// The daemon running now catches up without another restart.
	deadline := time.Now().Add(20 * time.Second)
	for {
		count, _, _ := ledgerExecs(ledgerPath)
		if len(count) >= len(plan.want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("caught up %v", time.Since(began))
	// A process signalled before the Go runtime installed its handlers dies of the
	// signal instead of shutting down; the last restart may be that recent.
	time.Sleep(time.Until(rig.startedAt.Add(time.Second)))
	rig.cmd.Process.Signal(syscall.SIGTERM)
	if err := rig.cmd.Wait(); err != nil {
		t.Errorf("daemon stopped with %v", err)
	}
	checkExactlyOnce(t, bin, ledgerPath, plan.want, kills)
	t.Logf("%d of %d restarts started from an index snapshot", rig.fromSnapshot, kills)
}
