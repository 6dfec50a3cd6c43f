package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

const verifyAbout = `Recomputes the whole hash chain of a ledger: every record's hash over its own bytes,
every prev link, seq without gaps. Exit 0 when intact; exit 1 naming the first bad
record for a changed byte, a deleted, duplicated or reordered line, or a torn end.
It takes no lock and never writes.

Every checkpoint record must commit to exactly the records before it (its Merkle
tree size and root). With --key, signed checkpoints must verify with that key and
the last checkpoint must be signed by it.

Records cut off cleanly at a line boundary from the END of the file cannot be told
from a shorter ledger by the chain alone: keep the head hash printed here (--head),
or better a signed checkpoint (the "note" of 'verify --json'), somewhere the ledger's
host cannot change, and check against it later (--checkpoint with --key).`

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "[flags] [LEDGER]", verifyAbout, stderr)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	head := fs.String("head", "", "also require this `hash` to be a record in the chain (a head noted earlier)")
	keyFile := fs.String("key", "", "verifier key `file` ('clawtrail keygen'): check the checkpoints' signatures")
	saved := fs.String("checkpoint", "", "a signed checkpoint note `file` kept elsewhere: require the ledger to still hold what it commits to (needs --key)")
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
	var keys note.Verifiers
	if *keyFile != "" {
		v, err := loadVerifier(*keyFile)
		if err != nil {
			return err
		}
		keys = note.VerifierList(v)
	}
	want := struct {
		size       int64
		root, from string
	}{size: -1}
	if *saved != "" {
		if keys == nil {
			return usageErr("--checkpoint needs --key to check the note's signature")
		}
		msg, err := os.ReadFile(*saved)
		if err != nil {
			return withCode(exitInput, fmt.Errorf("saved checkpoint: %w", err))
		}
		if want.size, want.root, want.from, err = ledger.OpenCheckpoint(msg, keys); err != nil {
			return withCode(exitFailed, fmt.Errorf("saved checkpoint %s: %w", *saved, err))
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return withCode(exitInput, fmt.Errorf("open ledger: %w", err))
	}
	defer f.Close()
	found := *head == ""
	var cps checkpointSummary
	var tree ledger.Tree
	var p *ledger.Problem
	atSaved := func() {
		if want.size == tree.Len() && tree.Root() != want.root {
			p = &ledger.Problem{Line: tree.Len() + 1, Reason: fmt.Sprintf("the first %d records are not those the saved checkpoint (signed by %s) commits to: the ledger was rewritten", want.size, want.from)}
		}
	}
	st, werr := ledger.WalkIdentity(f, func(r *ledger.Record, _ []byte) error {
		if !found && r.Hash == *head {
			found = true
		}
		atSaved()
		if p != nil {
			return p
		}
		if r.Kind == ledger.KindCheckpoint {
			if err := cps.add(r, keys); err != nil {
				p = &ledger.Problem{Line: r.Seq, Seq: r.Seq, Reason: err.Error()}
				return p
			}
		}
		if err := tree.Add(r.Hash); err != nil {
			return err
		}
		return ctx.Err()
	})
	if werr != nil && !errors.As(werr, &p) {
		return withCode(exitInput, werr)
	}
	if p == nil {
		atSaved()
	}
	if p == nil && !found {
		p = &ledger.Problem{Line: st.Records + 1, Reason: fmt.Sprintf("head %s is not in the chain: records were removed from the end or the ledger was replaced", *head)}
	}
	if p == nil && want.size > st.Records {
		p = &ledger.Problem{Line: st.Records + 1, Reason: fmt.Sprintf("the saved checkpoint (signed by %s) covers %d records, the ledger holds %d: records were removed from the end", want.from, want.size, st.Records)}
	}
	if p == nil && keys != nil && cps.Count > 0 && !cps.lastVerified {
		p = &ledger.Problem{Line: cps.Last.Seq, Seq: cps.Last.Seq, Reason: "the last checkpoint is not signed with the --key given"}
	}
	if *asJSON {
		res := struct {
			Ok          bool               `json:"ok"`
			Ledger      string             `json:"ledger"`
			State       ledger.State       `json:"state"`
			Checkpoints *checkpointSummary `json:"checkpoints"`
			Problem     *ledger.Problem    `json:"problem,omitempty"`
		}{p == nil, path, st, &cps, p}
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
	switch {
	case cps.Count == 0:
		fmt.Fprintln(stdout, "checkpoints: none")
	default:
		fmt.Fprintf(stdout, "checkpoints: %d, each matching the records before it; %d signed", cps.Count, cps.Signed)
		if keys != nil {
			fmt.Fprintf(stdout, ", %d verified with %s", cps.Verified, *keyFile)
		} else if cps.Signed > 0 {
			fmt.Fprint(stdout, " (signatures not checked: no --key)")
		}
		fmt.Fprintf(stdout, "\nlast checkpoint: seq %d, %d records, root %s\n", cps.Last.Seq, cps.Last.TreeSize, cps.Last.Root)
	}
	if want.size >= 0 {
		fmt.Fprintf(stdout, "saved checkpoint: the ledger still holds the %d records it commits to (signed by %s)\n", want.size, want.from)
	}
	return nil
}

// checkpointSummary counts the checkpoints verify met.
type checkpointSummary struct {
	Count    int             `json:"count"`
	Signed   int             `json:"signed"`
	Verified int             `json:"verified"`
	Last     *lastCheckpoint `json:"last,omitempty"`

	lastVerified bool
}

type lastCheckpoint struct {
	Seq      int64  `json:"seq"`
	TreeSize int64  `json:"tree_size"`
	Root     string `json:"root"`
	Note     string `json:"note,omitempty"` // keep a copy elsewhere for --checkpoint
}

// add counts a checkpoint (Walk has checked its size and root); with keys, a signed
// one must verify.
func (c *checkpointSummary) add(r *ledger.Record, keys note.Verifiers) error {
	c.Count++
	c.lastVerified = false
	c.Last = &lastCheckpoint{r.Seq, r.TreeSize, r.Root, r.Note}
	if r.Note == "" {
		return nil
	}
	c.Signed++
	if keys == nil {
		return nil
	}
	if err := ledger.CheckNote(r, keys); err != nil {
		return fmt.Errorf("checkpoint signature: %w", err)
	}
	c.Verified++
	c.lastVerified = true
	return nil
}
