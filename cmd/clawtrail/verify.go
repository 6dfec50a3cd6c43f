package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

const verifyAbout = `Recomputes the whole hash chain of a ledger: every record's hash over its own bytes,
every prev link, seq without gaps. Exit 0 when intact; exit 1 naming the first bad
record for a changed byte, a deleted, duplicated or reordered line, or a torn end.
It takes no lock and never writes.

Records cut off cleanly at a line boundary from the END of the file cannot be told
from a shorter ledger by the chain alone: keep the head hash printed here somewhere
else and compare it later (--head).`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "[flags] [LEDGER]", verifyAbout, stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	head := fs.String("head", "", "also require this `hash` to be a record in the chain (a head noted earlier)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageErr("verify takes one ledger file, got %d arguments", len(pos))
	}
	path := "governance.jsonl"
	if len(pos) == 1 {
		path = pos[0]
	}
	f, err := os.Open(path)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("open ledger: %w", err))
	}
	defer f.Close()
	found := *head == ""
	st, werr := ledger.WalkIdentity(f, func(r *ledger.Record, _ []byte) error {
		if !found && r.Hash == *head {
			found = true
		}
		return ctx.Err()
	})
	var p *ledger.Problem
	if werr != nil && !errors.As(werr, &p) {
		return withCode(exitInput, werr)
	}
	if p == nil && !found {
		p = &ledger.Problem{Line: st.Records + 1, Reason: fmt.Sprintf("head %s is not in the chain: records were removed from the end or the ledger was replaced", *head)}
	}
	if *asJSON {
		res := struct {
			Ok      bool            `json:"ok"`
			Ledger  string          `json:"ledger"`
			State   ledger.State    `json:"state"`
			Problem *ledger.Problem `json:"problem,omitempty"`
		}{p == nil, path, st, p}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
		if p != nil {
			return withCode(exitFailed, nil)
		}
		return nil
	}
	if p != nil {
		fmt.Fprintf(stdout, "FAIL %s: %s\n", path, p)
		fmt.Fprintf(stdout, "  the %d records before it are intact (last seq %d, head %s)\n", st.Records, st.LastSeq, st.Head)
		return withCode(exitFailed, nil)
	}
	fmt.Fprintf(stdout, "ok %s: %d records, seq 1..%d, intact\nhead %s\n", path, st.Records, st.LastSeq, st.Head)
	return nil
}
