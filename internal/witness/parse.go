package witness

import (
	"path"
	"strconv"
	"strings"
)

// shells are the argv[0] base names treated as a shell running `-c <command>`.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true, "ash": true, "yash": true}

// shellCommand returns the command string of a shell invocation `<shell>
// [options] -c <command> ...` from a NUL-joined argv. isShell is false for
// anything else, including a shell running a script file.
func shellCommand(cmdline string) (arg string, isShell bool) {
	argv0, rest, more := strings.Cut(cmdline, "\x00")
	// A login shell's argv[0] starts with '-'.
	if !shells[strings.TrimPrefix(path.Base(argv0), "-")] {
		return "", false
	}
	hasC, skip := false, 0
	for more {
		var a string
		a, rest, more = strings.Cut(rest, "\x00")
		switch {
		case skip > 0:
			skip-- // the argument of -o / -O / --rcfile
		case a == "--" || a == "-":
			// End of options: the next argument is the command.
			if !hasC || !more {
				return "", false
			}
			a, _, _ = strings.Cut(rest, "\x00")
			return a, true
		case strings.HasPrefix(a, "--"):
			if a == "--rcfile" || a == "--init-file" {
				skip++
			}
		case len(a) > 1 && (a[0] == '-' || a[0] == '+'):
			// An option cluster such as -c, -lc, -ec, -euo pipefail.
			for _, ch := range a[1:] {
				switch ch {
				case 'c':
					hasC = true
				case 'o', 'O':
					skip++
				}
			}
		default:
			if hasC {
				return a, true
			}
			return "", false // a script file, not -c
		}
	}
	return "", false
}

// shellWords splits a command the way a POSIX shell would when it is a plain
// word list (quotes and backslashes only). ok is false when the shell would do
// more than split it — expansions, redirections, pipes, lists, globs,
// assignments — because then the exec'd argv need not equal the words.
func shellWords(s string) (words []string, ok bool) {
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				switch s[i] {
				case '$', '`':
					return nil, false
				case '\\':
					if i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
						i++
					}
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, false
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(s) || s[i+1] == '\n' {
				return nil, false
			}
			i++
			cur.WriteByte(s[i])
			inWord = true
		case strings.IndexByte("|&;<>()$`*?[{}\n\r", c) >= 0:
			return nil, false
		case (c == '~' || c == '#') && !inWord:
			return nil, false
		case c == '=' && len(words) == 0:
			return nil, false // VAR=value cmd: an assignment, not argv[0]
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, len(words) > 0
}

// normalize collapses runs of whitespace to one space and trims the ends.
func normalize(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// decodeStatus turns a wait status into an exit code (128+signal when killed)
// and the signal's name.
func decodeStatus(st uint32) (code int, signal string) {
	if sig := st & 0x7f; sig != 0 && sig != 0x7f {
		return 128 + int(sig), sigName(int(sig))
	}
	return int(st>>8) & 0xff, ""
}

var sigNames = [...]string{1: "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
	"SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD",
	"SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM",
	"SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS"}

// sigName names a Linux signal number (the x86/arm numbering; the witness only
// runs on Linux).
func sigName(n int) string {
	if n > 0 && n < len(sigNames) {
		return sigNames[n]
	}
	if n >= 34 && n <= 64 {
		return "SIGRTMIN+" + strconv.Itoa(n-34)
	}
	return "SIG" + strconv.Itoa(n)
}

// containerID finds a container id in the text of /proc/<pid>/cgroup: the
// 64-hex-digit id that Docker, containerd, CRI-O, Podman and Kubernetes put in
// the cgroup path (cgroupfs and systemd drivers, v1 and v2), or the name of an
// LXC container. The last one on the deepest line wins, as nested runtimes put
// the innermost container last.
func containerID(cgroup []byte) string {
	id := ""
	for len(cgroup) > 0 {
		line := cgroup
		if i := indexByte(cgroup, '\n'); i >= 0 {
			line, cgroup = cgroup[:i], cgroup[i+1:]
		} else {
			cgroup = nil
		}
		// hierarchy-id:controllers:path
		p := line
		for n := 0; n < 2; n++ {
			i := indexByte(p, ':')
			if i < 0 {
				p = nil
				break
			}
			p = p[i+1:]
		}
		if len(p) < 2 {
			continue
		}
		if h := lastHex64(p); h != "" {
			id = h
			continue
		}
		if i := strings.Index(string(p), "lxc.payload."); i >= 0 {
			name := string(p[i+len("lxc.payload."):])
			name, _, _ = strings.Cut(name, "/")
			if name != "" {
				id = name
			}
		}
	}
	return id
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// lastHex64 returns the last run of exactly 64 lowercase hex digits in p.
func lastHex64(p []byte) string {
	found := ""
	run := 0
	for i := 0; i <= len(p); i++ {
		if i < len(p) && (p[i] >= '0' && p[i] <= '9' || p[i] >= 'a' && p[i] <= 'f') {
			run++
			continue
		}
		if run == 64 {
			found = string(p[i-64 : i])
		}
		run = 0
	}
	return found
}
