package witness

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func argv(a ...string) string { return strings.Join(a, "\x00") }

func TestShellCommand(t *testing.T) {
	cases := []struct {
		cmdline string
		arg     string
		shell   bool
	}{
		{argv("sh", "-c", "ls -la"), "ls -la", true},
		{argv("/bin/sh", "-c", "echo hi; exit 3"), "echo hi; exit 3", true},
		{argv("/bin/bash", "-lc", "make test"), "make test", true},
		{argv("bash", "-e", "-u", "-c", "x"), "x", true},
		{argv("bash", "-euo", "pipefail", "-c", "x"), "x", true},
		{argv("bash", "-o", "pipefail", "-c", "x", "arg0", "arg1"), "x", true},
		{argv("bash", "--noprofile", "--norc", "-c", "x"), "x", true},
		{argv("bash", "--rcfile", "/etc/rc", "-c", "x"), "x", true},
		{argv("-bash", "-c", "x"), "x", true},
		{argv("/usr/bin/zsh", "-c", ""), "", true},
		{argv("dash", "-c", "--", "x"), "x", true}, // "--" ends the options
		{argv("sh", "script.sh"), "", false},
		{argv("sh"), "", false},
		{argv("sh", "-c"), "", false},
		{argv("python3", "-c", "print(1)"), "", false},
		{argv("ls", "-la"), "", false},
		{argv("/usr/local/bin/bash-wrapper", "-c", "x"), "", false},
	}
	for _, c := range cases {
		arg, shell := shellCommand(c.cmdline)
		if arg != c.arg || shell != c.shell {
			t.Errorf("shellCommand(%q) = %q, %v; want %q, %v", c.cmdline, arg, shell, c.arg, c.shell)
		}
	}
}

func TestShellWords(t *testing.T) {
	ok := map[string][]string{
		"ls -la":                       {"ls", "-la"},
		"  ls\t -la  ":                 {"ls", "-la"},
		`echo 'hello world'`:           {"echo", "hello world"},
		`echo "a b" c`:                 {"echo", "a b", "c"},
		`echo "say \"hi\"" \$HOME`:     {"echo", `say "hi"`, "$HOME"},
		`grep -r 'a|b' .`:              {"grep", "-r", "a|b", "."},
		`git commit -m "fix: x=1"`:     {"git", "commit", "-m", "fix: x=1"},
		`a\ b`:                         {"a b"},
		`echo ''`:                      {"echo", ""},
		`printf "%s\n" x`:              {"printf", `%s\n`, "x"},
		`python3 -c 'print("a;b")'`:    {"python3", "-c", `print("a;b")`},
		`find . -name x -print0 --x=y`: {"find", ".", "-name", "x", "-print0", "--x=y"},
	}
	for in, want := range ok {
		got, good := shellWords(in)
		if !good || !slices.Equal(got, want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", in, got, good, want)
		}
	}
	for _, in := range []string{"", "   ", "ls | wc", "a && b", "a; b", "echo $HOME", "echo `id`", "echo \"$x\"",
		"ls *.go", "cat <f", "echo >f", "(ls)", "X=1 cmd", "~/bin/x", "echo 'unterminated", `echo "open`,
		"a\nb", "echo {a,b}", "# comment", "ls ?"} {
		if got, good := shellWords(in); good {
			t.Errorf("shellWords(%q) = %q, ok; want not a plain word list", in, got)
		}
	}
}

func TestDecodeStatus(t *testing.T) {
	cases := []struct {
		st   uint32
		code int
		sig  string
	}{
		{0, 0, ""},
		{3 << 8, 3, ""},
		{255 << 8, 255, ""},
		{9, 137, "SIGKILL"},
		{15, 143, "SIGTERM"},
		{6 | 0x80, 134, "SIGABRT"}, // core dumped
		{13, 141, "SIGPIPE"},
		{40, 168, "SIGRTMIN+6"},
	}
	for _, c := range cases {
		code, sig := decodeStatus(c.st)
		if code != c.code || sig != c.sig {
			t.Errorf("decodeStatus(%#x) = %d, %q; want %d, %q", c.st, code, sig, c.code, c.sig)
		}
	}
}

func TestContainerID(t *testing.T) {
	id := strings.Repeat("0a7c5ba4710d", 5) + "abcd"
	cases := map[string]string{
		"0::/\n": "",
		"12:memory:/docker/" + id + "\n11:cpu:/docker/" + id + "\n":                                                   id,
		"0::/system.slice/docker-" + id + ".scope\n":                                                                  id,
		"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-" + id + ".scope\n": id,
		"0::/machine.slice/libpod-" + id + ".scope/container\n":                                                       id,
		"0::/lxc.payload.web01/init.scope\n":                                                                          "web01",
		"4:memory:/process_api/c30dde3a48ee2716ddb87e34667ec739\n0::/\n":                                              "",
		"0::/user.slice/" + id + "ff\n":                                                                               "", // 66 hex digits: not an id
		"garbage":                                                                                                     "",
	}
	for in, want := range cases {
		if got := containerID([]byte(in)); got != want {
			t.Errorf("containerID(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestNormalize(t *testing.T) {
	if got := normalize("  ls\t-la \n\n"); got != "ls -la" {
		t.Errorf("normalize = %q", got)
	}
}

// TestNilAndUnavailable: a nil Witness, and the one Start returns with its
// error, answer "unavailable" and never panic.
func TestNilAndUnavailable(t *testing.T) {
	var w *Witness
	now := time.Now()
	if r := w.Match("ls", "", now.Add(-time.Second), now); r.Status != statusUnavailable {
		t.Errorf("nil Match = %+v", r)
	}
	if s := w.Stats(); s != (Stats{}) {
		t.Errorf("nil Stats = %+v", s)
	}
	if err := w.Close(); err != nil {
		t.Errorf("nil Close = %v", err)
	}
	u := unavailableWitness(Config{}, errors.New("x"))
	if r := u.Match("ls", "/", now.Add(-time.Second), now); r.Status != statusUnavailable || r.PID != 0 {
		t.Errorf("unavailable Match = %+v", r)
	}
	if s := u.Stats(); s.Available {
		t.Errorf("unavailable Stats = %+v", s)
	}
	if err := u.Close(); err != nil {
		t.Errorf("unavailable Close = %v", err)
	}
}
