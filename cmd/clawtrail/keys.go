package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

const keygenAbout = `Makes an Ed25519 key pair for signing the ledger's checkpoints, in the signed-note
format of golang.org/x/mod/sumdb/note: NAME.key (the signing key, mode 0600: give it
to scan and run with --checkpoint-key) and NAME.pub (the verifier key: give it to
verify --key, and keep a copy where the ledger's host cannot change it).

NAME names the signer in every signed checkpoint (letters, digits, '.', '-', '_'),
e.g. the host or the deployment. Existing files are never overwritten.`

func runKeygen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("keygen", "[flags] NAME", keygenAbout, stderr)
	dir := fs.String("dir", ".", "`directory` to write NAME.key and NAME.pub in")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErr("keygen takes one NAME, got %d arguments", len(pos))
	}
	name := pos[0]
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return usageErr("key name %q: use letters, digits, '.', '-' and '_' only", name)
		}
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	keyPath, pubPath := filepath.Join(*dir, name+".key"), filepath.Join(*dir, name+".pub")
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return withCode(exitUsage, fmt.Errorf("%s exists; not overwriting a key", p))
		}
	}
	if err := writeNew(keyPath, skey+"\n", 0o600); err != nil {
		return err
	}
	if err := writeNew(pubPath, vkey+"\n", 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signing key  %s (keep it secret: scan/run --checkpoint-key)\nverifier key %s (verify --key)\n%s\n", keyPath, pubPath, vkey)
	return nil
}

// writeNew creates path with data, failing if it exists, and makes it durable.
func writeNew(path, data string, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadSigner reads a signing key written by keygen. A key readable by others is
// refused: whoever can read it can sign checkpoints for a rewritten ledger.
func loadSigner(path string) (note.Signer, error) {
	if path == "" {
		return nil, nil
	}
	// The mode is checked on the file that is read (one open), not on whatever the
	// path named a moment before.
	f, err := os.Open(path)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("checkpoint key: %w", err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("checkpoint key: %w", err))
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, withCode(exitUsage, fmt.Errorf("checkpoint key %s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm()))
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<16))
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("checkpoint key: %w", err))
	}
	s, err := note.NewSigner(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("checkpoint key %s: %w (make one with 'clawtrail keygen NAME')", path, err))
	}
	return s, nil
}

// loadVerifier reads a verifier key written by keygen.
func loadVerifier(path string) (note.Verifier, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("verifier key: %w", err))
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(data)))
	if err != nil {
		return nil, withCode(exitUsage, fmt.Errorf("verifier key %s: %w (the .pub file keygen wrote)", path, err))
	}
	return v, nil
}
