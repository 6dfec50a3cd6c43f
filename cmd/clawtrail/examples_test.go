package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/clawtrail/clawtrail/internal/ledger"
)

// The shipped example state dir's README says, for every exec, how a person reading
// the transcript would record it. README's first command must produce exactly that.
func TestExamplesMatchTheirREADME(t *testing.T) {
	type want struct{ outcome, exit, verdict string }
	wantExecs := map[string]want{}
	wantProviders := map[string]int{}
	f, err := os.Open("../../examples/openclaw/README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	classOf := map[string]string{"budget": "budget_cap", "quota": "quota_exhausted", "(gateway)": "other"}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := splitRow(line)
		// Exec table: | # | File | toolCall id | Command | First | Final | Exit | Verdict | Notes |
		if len(cells) == 9 {
			if _, err := strconv.Atoi(cells[0]); err == nil {
				id := strings.Trim(cells[2], "`")
				exit := cells[6]
				if exit == "—" {
					exit = "null"
				}
				wantExecs[id] = want{cells[5], exit, cells[7]}
			}
		}
		// Provider table: | File | Line | Provider / model | Class | errorMessage |
		if _, err := strconv.Atoi(cells[1]); len(cells) == 5 && err == nil && strings.Contains(cells[2], " / ") {
			c := cells[3]
			if m, ok := classOf[c]; ok {
				c = m
			}
			wantProviders[c]++
		}
	}
	if len(wantExecs) != 45 {
		t.Fatalf("read %d execs from the README table, want 45", len(wantExecs))
	}

	ledgerPath := filepath.Join(t.TempDir(), "governance.jsonl")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"scan", "--ledger", ledgerPath, "../../examples/openclaw"}, os.Getenv, nil, &out, &errOut); err != nil {
		t.Fatalf("scan: %v\n%s", err, errOut.String())
	}
	lf, err := os.Open(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	got := map[string]want{}
	execCount := map[string]int{}
	gotProviders := map[string]int{}
	var gotClaims []string
	if _, err := ledger.Walk(lf, func(r *ledger.Record, _ []byte) error {
		exit := "null"
		if r.ExitCode != nil {
			exit = strconv.Itoa(*r.ExitCode)
		}
		switch r.Kind {
		case ledger.KindExec:
			execCount[r.CorrelationID]++
			got[r.CorrelationID] = want{r.Outcome, exit, r.Verdict}
		case ledger.KindExecUpdate:
			got[r.CorrelationID] = want{r.Outcome, exit, r.Verdict}
		case ledger.KindProviderError:
			gotProviders[r.Class]++
		case ledger.KindClaim:
			gotClaims = append(gotClaims, r.EntryID+":"+r.Reason+":"+r.ClaimedCommand)
		}
		return nil
	}); err != nil {
		t.Fatalf("ledger does not verify: %v", err)
	}
	for id, w := range wantExecs {
		if execCount[id] != 1 {
			t.Errorf("%s: %d exec records, want 1", id, execCount[id])
			continue
		}
		if g := got[id]; g != w {
			t.Errorf("%s: got %+v, want %+v", id, g, w)
		}
	}
	if len(execCount) != len(wantExecs) {
		t.Errorf("ledger has %d execs, README lists %d (an ignored file was read?)", len(execCount), len(wantExecs))
	}
	for c, n := range wantProviders {
		if gotProviders[c] != n {
			t.Errorf("provider errors of class %s: %d, want %d", c, gotProviders[c], n)
		}
	}
	// The README's claims table: exactly these, no false positives elsewhere.
	if got, want := strings.Join(gotClaims, " "), "b2c0ffee:no_call:uname -a d4c0ffee:contradicts_result:"; got != want {
		t.Errorf("claims = %q, want %q", got, want)
	}
	for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "Xk9mQ2vL7r", "Q7v2sLx9wK", "sk-ant-api03-"} {
		data, _ := os.ReadFile(ledgerPath)
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("secret %q reached the ledger", secret)
		}
	}
	// Scanning again appends nothing.
	out.Reset()
	if err := run(context.Background(), []string{"scan", "--ledger", ledgerPath, "../../examples/openclaw"}, os.Getenv, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "appended 0 records") {
		t.Errorf("second scan output:\n%s\nwant it to append nothing", out.String())
	}
}

// splitRow splits a markdown table row on unescaped pipes.
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}
