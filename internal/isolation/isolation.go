// Package isolation reports what a process actually runs under: which container
// runtime, which namespaces it shares with the host, its credentials and
// capabilities, its kernel confinement (seccomp, no_new_privs, AppArmor or
// SELinux), and what it can reach (runtime sockets, writable host mounts, host
// devices, listeners on all interfaces, writable audit sources).
//
// Deployment files say what an operator intended; a compose file can be edited,
// a flag forgotten, a sidecar started by hand. Every verdict here is therefore
// derived from what the kernel exposes in /proc and on the filesystem at the
// moment of the check, and every Check carries the file and value it was derived
// from so a reader can verify it. When the kernel does not expose enough to
// decide, the verdict is "unknown" and the evidence says why; nothing is guessed
// in the safe direction.
package isolation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Severity ranks a finding. The zero value is Info.
type Severity int

// Severities, from harmless to "a way out".
const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

var severityNames = [...]string{"info", "low", "medium", "high", "critical"}

// String returns the lower-case name used in JSON and text output.
func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalJSON writes the name, so JSON consumers do not depend on the ordinals.
func (s Severity) MarshalJSON() ([]byte, error) {
	if s < 0 || int(s) >= len(severityNames) {
		return nil, fmt.Errorf("isolation: invalid severity %d", int(s))
	}
	return json.Marshal(s.String())
}

// UnmarshalJSON reads the name written by MarshalJSON.
func (s *Severity) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // encoding/json's convention: null leaves the value alone
	}
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return fmt.Errorf("isolation: severity must be a name: %w", err)
	}
	for i, n := range severityNames {
		if n == name {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("isolation: unknown severity %q", name)
}

// Check is one verdict about the inspected process.
type Check struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Verdict  string   `json:"verdict"`
	Severity Severity `json:"severity"`
	Why      string   `json:"why"`
	Evidence string   `json:"evidence"`
}

// Report is the result of one inspection.
type Report struct {
	PID int `json:"pid"`
	// Container is the detected runtime: docker, containerd, podman, kubernetes,
	// lxc, systemd-nspawn, or "" when no runtime could be named (which is not
	// proof of running on the host: see the container.runtime check).
	Container   string  `json:"container"`
	ContainerID string  `json:"container_id,omitempty"`
	Checks      []Check `json:"checks"`
}

// Worst returns the highest severity among the checks (Info for none).
func (r *Report) Worst() Severity {
	w := Info
	for _, c := range r.Checks {
		if c.Severity > w {
			w = c.Severity
		}
	}
	return w
}

// Options selects the process to inspect.
type Options struct {
	PID      int      // 0: the calling process
	ProcRoot string   // "": "/proc"
	Sources  []string // paths that should be mounted read-only (check "source.readonly")
}

// Inspect reads what the kernel exposes about one process and returns one Check
// per aspect. It fails only when the process cannot be found at all; a file it
// may not read (another user's process) turns the affected checks into
// "unknown" with the reason in the evidence.
func Inspect(opt Options) (*Report, error) {
	in, err := newInspector(opt)
	if err != nil {
		return nil, err
	}
	in.gather()
	r := &Report{PID: in.pid}
	steps := []struct {
		id, title string
		run       func() []Check
	}{
		{"container.runtime", "container runtime", in.checkContainer},
		{"user.root", "runs as root", in.checkRoot},
		{"caps.effective", "effective capabilities", in.checkCaps},
		{"seccomp", "seccomp", in.checkSeccomp},
		{"nnp", "no_new_privs", in.checkNNP},
		{"lsm", "AppArmor / SELinux", in.checkLSM},
		{"socket.docker", "container runtime socket", in.checkSockets},
		{"mount.host_writable", "writable host mounts", in.checkMounts},
		{"device.host", "host devices", in.checkDevices},
		{"net.listen_all", "listeners on all interfaces", in.checkListen},
		{"source.readonly", "audit sources read-only", in.checkSources},
	}
	for i, s := range steps {
		r.Checks = append(r.Checks, guarded(s.id, s.title, s.run)...)
		if i == 0 {
			// Namespaces right after the runtime: together they answer "where does it run".
			for _, k := range nsKinds {
				r.Checks = append(r.Checks, guarded("ns."+k.name, k.title, func() []Check {
					return []Check{in.checkNS(k)}
				})...)
			}
		}
	}
	r.Container, r.ContainerID = in.ctr.runtime, in.ctr.id
	return r, nil
}

// guarded runs one check so that a parser bug on an unusual kernel costs that
// check, not the whole report: the command is a diagnostic and must always answer.
func guarded(id, title string, run func() []Check) (out []Check) {
	defer func() {
		if v := recover(); v != nil {
			out = []Check{{ID: id, Title: title, Verdict: "unknown", Severity: Info,
				Why:      "this check failed internally, so it proves nothing either way",
				Evidence: fmt.Sprintf("internal error: %v", v)}}
		}
	}()
	return run()
}

// ExitCode maps the worst severity to a process exit code: 0 for info and low,
// 1 for medium, 2 for high, 3 for critical. Low findings exit 0 because they
// describe ordinary deployments (a Docker default capability set, a data
// volume); scripts that must be stricter can read the JSON.
func ExitCode(s Severity) int {
	switch {
	case s >= Critical:
		return 3
	case s == High:
		return 2
	case s == Medium:
		return 1
	default:
		return 0
	}
}

// WriteText prints one aligned line per check (SEVERITY, ID, verdict — why) and
// a final line with the worst severity and the exit code it maps to. Evidence is
// left to the JSON form, where it cannot break the alignment.
func WriteText(w io.Writer, r *Report) error {
	where := "no container runtime detected"
	if r.Container != "" {
		where = "container: " + r.Container
		if r.ContainerID != "" {
			where += " " + shortID(r.ContainerID)
		}
	}
	if _, err := fmt.Fprintf(w, "isolation of pid %d (%s)\n", r.PID, where); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Checks {
		fmt.Fprintf(tw, "%s\t%s\t%s — %s\n", strings.ToUpper(c.Severity.String()),
			oneLine(c.ID), oneLine(c.Verdict), oneLine(c.Why))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	worst := r.Worst()
	_, err := fmt.Fprintf(w, "worst: %s (exit %d)\n", strings.ToUpper(worst.String()), ExitCode(worst))
	return err
}

// oneLine keeps a hostile mount point or label (they may hold newlines or
// terminal escapes) from forging extra report lines.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// inspector holds what was read about the target once, so that checks agree
// with each other (one mountinfo, one status) and errors are reported where
// they matter.
type inspector struct {
	proc string // procfs mount point
	pid  int    // reported pid
	dir  string // procfs directory of the target
	self bool
	// root is where the inspector reaches the target's filesystem: "/" for
	// itself, <proc>/<pid>/root for another process (its own mount namespace).
	root    string
	rootErr error

	kernelMajor, kernelMinor int

	st    *procStatus
	stErr error

	mounts    []mountEntry
	mountsErr error

	ns map[string]nsState

	ctr containerInfo

	sources []string
}

func newInspector(opt Options) (*inspector, error) {
	in := &inspector{proc: opt.ProcRoot, pid: opt.PID}
	if in.proc == "" {
		in.proc = "/proc"
	}
	if opt.PID < 0 {
		return nil, fmt.Errorf("isolation: invalid pid %d", opt.PID)
	}
	if opt.PID == 0 {
		in.self = true
		in.pid = os.Getpid()
		in.dir = filepath.Join(in.proc, "self")
		in.root = "/"
	} else {
		in.dir = filepath.Join(in.proc, strconv.Itoa(opt.PID))
		in.root = filepath.Join(in.dir, "root")
	}
	if _, err := os.Stat(in.dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("isolation: no process %d in %s", in.pid, in.proc)
		}
		return nil, fmt.Errorf("isolation: %w", err)
	}
	in.sources = opt.Sources
	return in, nil
}
