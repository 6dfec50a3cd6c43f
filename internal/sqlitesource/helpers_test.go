package sqlitesource

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/sqlitesource/sqlitetest"
)

// The schemas the tests create (see sqlitetest).
const (
	ddlSessionWindows = sqlitetest.DDLSessionWindows
	ddlSchema8        = sqlitetest.DDLSchema8
	ddlSchema23       = sqlitetest.DDLSchema23
)

// openWriter opens a database read-write in WAL mode, as OpenClaw's gateway
// does, with foreign keys on so that deleting a session window cascades.
func openWriter(t testing.TB, path string, busyMS int) *sql.DB {
	t.Helper()
	db, err := openWriterDB(path, busyMS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func openWriterDB(path string, busyMS int) (*sql.DB, error) {
	return sqlitetest.OpenWriter(path, busyMS)
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func compress(b []byte) []byte { return sqlitetest.Compress(b) }

// insertRows writes rows seq from..to of a session in one transaction, the
// session window first; zstdOdd stores odd seqs in event_zstd.
func insertRows(ctx context.Context, db *sql.DB, session string, from, to int64, zstdOdd bool) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO session_windows(session_id, created_at) VALUES (?, ?)`, session, 1789512233686); err != nil {
		return err
	}
	for seq := from; seq <= to; seq++ {
		ev := eventFor(session, seq)
		if zstdOdd && seq%2 == 1 {
			_, err = tx.ExecContext(ctx, `INSERT INTO transcript_events(session_id, seq, event_zstd, created_at) VALUES (?, ?, ?, ?)`, session, seq, compress(ev), 1789512233686+seq)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO transcript_events(session_id, seq, event_json, created_at) VALUES (?, ?, ?, ?)`, session, seq, string(ev), 1789512233686+seq)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// eventFor is the deterministic event of (session, seq): a realistic OpenClaw
// transcript line (reference §6, §7.4) of 1-2 KB, and one in 97 (seq 7, 104,
// ...) a tool result with a 64 KB output. Both the writer process and the checking reader compute
// it, so content can be compared without passing it around.
func eventFor(session string, seq int64) []byte {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d", session, seq)
	return genEvent(rand.New(rand.NewPCG(h.Sum64(), uint64(seq))), session, seq, seq%97 == 7)
}

var words = strings.Fields(`the agent ran exec command output file directory build test failed passed
error warning install package node npm go cargo git commit push pull branch merge status diff log
config json yaml docker compose container image volume network port host user root home workspace
openclaw gateway session transcript model provider anthropic openai usage tokens cost cache read
write stdout stderr exit code signal timeout approval sandbox elevated background process yield`)

func genText(r *rand.Rand, n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			if r.IntN(12) == 0 {
				b.WriteString("\\n")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(words[r.IntN(len(words))])
		if r.IntN(9) == 0 {
			fmt.Fprintf(&b, "-%x", r.Uint32())
		}
	}
	return b.String()
}

func genEvent(r *rand.Rand, session string, seq int64, big bool) []byte {
	id := fmt.Sprintf("%08x", r.Uint32())
	parent := fmt.Sprintf("%08x", r.Uint32())
	ts := fmt.Sprintf("2026-09-15T22:%02d:%02d.%03dZ", seq/60%60, seq%60, r.IntN(1000))
	call := fmt.Sprintf("call_%x%x", r.Uint64(), r.Uint32())
	ms := 1789512233686 + seq*1000
	switch k := r.IntN(4); {
	case big:
		out := genText(r, 64<<10)
		return fmt.Appendf(nil, `{"type":"message","id":%q,"parentId":%q,"timestamp":%q,"message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":%q}],"details":{"status":"completed","exitCode":0,"exitSignal":null,"exitReason":"exit","durationMs":%d,"aggregated":%q,"noOutputTimedOut":false,"cwd":"/home/node/.openclaw/workspace"},"isError":false,"timestamp":%d},"session":%q,"seq":%d}`,
			id, parent, ts, call, out[:len(out)/2], r.IntN(90000), out[len(out)/2:], ms, session, seq)
	case k == 0:
		return fmt.Appendf(nil, `{"type":"message","id":%q,"parentId":%q,"timestamp":%q,"message":{"role":"assistant","content":[{"type":"thinking","thinking":%q,"thinkingSignature":"%x%x"},{"type":"toolCall","id":%q,"name":"exec","arguments":{"command":%q,"workdir":"/home/node/.openclaw/workspace"}}],"api":"openai-completions","provider":"tamus","model":"protected.gemini-2.5-flash","usage":{"input":%d,"output":%d,"cacheRead":0,"cacheWrite":0,"reasoningTokens":50,"totalTokens":%d,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"toolUse","timestamp":%d,"responseId":"%x"},"session":%q,"seq":%d}`,
			id, parent, ts, genText(r, 600+r.IntN(600)), r.Uint64(), r.Uint64(), call, genText(r, 40+r.IntN(120)), r.IntN(20000), r.IntN(500), r.IntN(20500), ms, r.Uint64(), session, seq)
	case k == 1:
		return fmt.Appendf(nil, `{"type":"message","id":%q,"parentId":%q,"timestamp":%q,"message":{"role":"toolResult","toolCallId":%q,"toolName":"exec","content":[{"type":"text","text":%q}],"details":{"status":"completed","exitCode":%d,"durationMs":%d,"aggregated":%q,"cwd":"/home/node/.openclaw/workspace"},"isError":false,"timestamp":%d},"session":%q,"seq":%d}`,
			id, parent, ts, call, genText(r, 300+r.IntN(500)), r.IntN(3), r.IntN(5000), genText(r, 300+r.IntN(400)), ms, session, seq)
	case k == 2:
		return fmt.Appendf(nil, `{"type":"message","id":%q,"parentId":%q,"timestamp":%q,"message":{"role":"user","content":[{"type":"text","text":"Sender (untrusted metadata):\n`+"```json"+`\n{\n  \"label\": \"openclaw-tui (gateway-client)\"\n}\n`+"```"+`\n\n[Tue 2026-09-15 22:03 GMT+0] %s"}],"timestamp":%d},"session":%q,"seq":%d}`,
			id, parent, ts, genText(r, 900+r.IntN(900)), ms, session, seq)
	default:
		return fmt.Appendf(nil, `{"type":"message","id":%q,"parentId":%q,"timestamp":%q,"message":{"role":"assistant","content":[{"type":"text","text":%q}],"api":"anthropic-messages","provider":"anthropic","model":"claude-sonnet-4-5","usage":{"input":%d,"output":%d,"cacheRead":%d,"cacheWrite":0,"totalTokens":%d,"cost":{"input":0.01,"output":0.02,"cacheRead":0,"cacheWrite":0,"total":0.03}},"stopReason":"stop","timestamp":%d},"session":%q,"seq":%d}`,
			id, parent, ts, genText(r, 900+r.IntN(900)), r.IntN(20000), r.IntN(900), r.IntN(9000), r.IntN(30000), ms, session, seq)
	}
}
