package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The operator's flow: make a key, sign the checkpoint of every scan, keep a signed
// checkpoint elsewhere, and later prove the ledger still holds what it committed to:
// a ledger cut back at a line boundary, or rewritten, fails although its own chain
// is intact.
func TestSignedCheckpointCatchesTruncationAndRewrite(t *testing.T) {
	dir := t.TempDir()
	if out, errOut, code := ckRun(t, nil, "keygen", "--dir", dir, "gw-1"); code != 0 || !strings.Contains(out, "gw-1+") {
		t.Fatalf("keygen: exit %d\n%s%s", code, out, errOut)
	}
	key, pub := filepath.Join(dir, "gw-1.key"), filepath.Join(dir, "gw-1.pub")
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if _, _, code := ckRun(t, nil, "keygen", "--dir", dir, "gw-1"); code != exitUsage {
		t.Fatalf("keygen over an existing key: exit %d, want %d", code, exitUsage)
	}

	led := filepath.Join(dir, "governance.jsonl")
	if out, errOut, code := ckRun(t, nil, "scan", "--ledger", led, "--checkpoint-key", key, "../../examples/openclaw"); code != 0 || !strings.Contains(out, "checkpoint:") || !strings.Contains(out, "signed") {
		t.Fatalf("signed scan: exit %d\n%s%s", code, out, errOut)
	}
	if out, _, _ := ckRun(t, nil, "show", "--kind", "checkpoint", led); !strings.Contains(out, "67 records before it") || !strings.Contains(out, "signed") {
		t.Fatalf("show --kind checkpoint:\n%s", out)
	}
	out, _, code := ckRun(t, nil, "verify", "--json", "--key", pub, led)
	var res struct {
		Ok          bool
		Checkpoints struct {
			Count, Signed, Verified int
			Last                    struct{ Note string }
		}
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 0 || !res.Ok || res.Checkpoints.Verified != 1 || res.Checkpoints.Last.Note == "" {
		t.Fatalf("verify --key: exit %d, %+v, %v\n%s", code, res, err, out)
	}
	saved := filepath.Join(dir, "kept-elsewhere.note")
	os.WriteFile(saved, []byte(res.Checkpoints.Last.Note), 0o644)
	if out, _, code := ckRun(t, nil, "verify", "--key", pub, "--checkpoint", saved, led); code != 0 || !strings.Contains(out, "still holds") {
		t.Fatalf("verify against the saved checkpoint: exit %d\n%s", code, out)
	}

	data, _ := os.ReadFile(led)
	lines := strings.SplitAfter(string(data), "\n")
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:40], "")), 0o600)
	if _, _, code := ckRun(t, nil, "verify", cut); code != 0 {
		t.Fatalf("the cut ledger's own chain should still verify (exit %d): that is what the saved checkpoint is for", code)
	}
	if out, _, code := ckRun(t, nil, "verify", "--key", pub, "--checkpoint", saved, cut); code != exitFailed || !strings.Contains(out, "removed from the end") {
		t.Fatalf("cut ledger against the saved checkpoint: exit %d\n%s", code, out)
	}

	// Rewritten: the same number of records, one of them changed and the chain and
	// checkpoint recomputed by scanning again into a fresh ledger after the edit.
	other := filepath.Join(dir, "other")
	if err := os.CopyFS(other, os.DirFS("../../examples/openclaw")); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(other, "agents", "*", "sessions", "*.jsonl"))
	b, _ := os.ReadFile(files[0])
	os.WriteFile(files[0], bytes.Replace(b, []byte(`"command":"`), []byte(`"command":"true; `), 1), 0o644)
	forged := filepath.Join(dir, "forged.jsonl")
	if _, errOut, code := ckRun(t, nil, "scan", "--ledger", forged, "--checkpoint-key", key, other); code != 0 {
		t.Fatalf("scan of the edited copy: %s", errOut)
	}
	if out, _, code := ckRun(t, nil, "verify", "--key", pub, "--checkpoint", saved, forged); code != exitFailed || !strings.Contains(out, "rewritten") {
		t.Fatalf("rewritten ledger against the saved checkpoint: exit %d\n%s", code, out)
	}

	// Another key's verifier accepts neither the ledger's signatures nor the note.
	if _, _, code := ckRun(t, nil, "keygen", "--dir", dir, "gw-2"); code != 0 {
		t.Fatal("keygen gw-2")
	}
	if out, _, code := ckRun(t, nil, "verify", "--key", filepath.Join(dir, "gw-2.pub"), led); code != exitFailed || !strings.Contains(out, "signature") {
		t.Fatalf("verify with another key: exit %d\n%s", code, out)
	}
	if _, errOut, code := ckRun(t, nil, "verify", "--key", filepath.Join(dir, "gw-2.pub"), "--checkpoint", saved, led); code != exitFailed || !strings.Contains(errOut, "saved checkpoint") {
		t.Fatalf("saved note with another key: exit %d\n%s", code, errOut)
	}

	// A signing key others can read is refused before anything is written.
	os.Chmod(key, 0o644)
	if _, errOut, code := ckRun(t, nil, "scan", "--ledger", filepath.Join(dir, "x.jsonl"), "--checkpoint-key", key, "../../examples/openclaw"); code != exitUsage || !strings.Contains(errOut, "chmod 600") {
		t.Fatalf("world-readable key: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a ledger was created although the key was refused")
	}
}
