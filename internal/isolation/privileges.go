package isolation

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// capNames follows include/uapi/linux/capability.h; index is the bit.
var capNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

const capDACOverride = 1

// dangerousCaps are the capabilities with a documented path from a container
// to the host: mounting and namespace tricks (SYS_ADMIN), kernel modules,
// reading other processes' memory, reading any file by handle
// (DAC_READ_SEARCH, the "shocker" escape), reconfiguring the network, raw I/O
// ports and memory, and loading eBPF programs.
var dangerousCaps = []int{21, 16, 19, 2, 12, 17, 39}

// dockerDefaultCaps is Docker's default bounding set, the baseline operators
// compare against: chown, dac_override, fowner, fsetid, kill, setgid, setuid,
// setpcap, net_bind_service, net_raw, sys_chroot, mknod, audit_write, setfcap.
const dockerDefaultCaps uint64 = 1<<0 | 1<<1 | 1<<3 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 |
	1<<10 | 1<<13 | 1<<18 | 1<<27 | 1<<29 | 1<<31

func capName(bit int) string {
	if bit < len(capNames) {
		return capNames[bit]
	}
	return "CAP_" + strconv.Itoa(bit)
}

func decodeCaps(v uint64) []string {
	var out []string
	for bit := 0; bit < 64; bit++ {
		if v&(1<<uint(bit)) != 0 {
			out = append(out, capName(bit))
		}
	}
	return out
}

func (in *inspector) statusUnknown(id, title, why string) []Check {
	ev := "status not read"
	if in.stErr != nil {
		ev = describeErr(in.stErr)
	}
	return []Check{{ID: id, Title: title, Verdict: unknownV, Severity: Info, Why: why, Evidence: ev}}
}

func (in *inspector) checkRoot() []Check {
	const id, title = "user.root", "runs as root"
	why := "uid 0 owns every root-owned file the process can reach and turns any capability or mount mistake into host compromise"
	if in.st == nil {
		return in.statusUnknown(id, title, why)
	}
	u := in.st.uid
	c := Check{ID: id, Title: title, Why: why,
		Evidence: fmt.Sprintf("%s Uid: %d %d %d %d (real, effective, saved, fs)", in.procPath("status"), u[0], u[1], u[2], u[3])}
	switch {
	case u[1] == 0 || u[3] == 0:
		c.Verdict, c.Severity = "root", High
		switch in.ns["user"].verdict {
		case isolatedV:
			b, err := in.readProc("uid_map")
			if err != nil {
				c.Evidence += "; in its own user namespace, but uid_map is unreadable: " + describeErr(err)
				break
			}
			c.Evidence += "; " + in.procPath("uid_map") + ": " + strings.Join(strings.Fields(string(b)), " ")
			if outside, ok := mapID(parseIDMap(string(b)), 0); ok && outside != 0 {
				c.Verdict = fmt.Sprintf("root in a user namespace (uid %d outside)", outside)
				c.Severity = Low
			} else if ok {
				c.Verdict = "root (its user namespace maps uid 0 to root)"
			}
		case unknownV:
			c.Evidence += "; whether a user namespace remaps uid 0 is unknown: " + in.ns["user"].evidence
		default:
			c.Evidence += "; no user namespace: this is the host's uid 0"
		}
	case u[0] == 0 || u[2] == 0:
		c.Verdict, c.Severity = fmt.Sprintf("uid %d (real or saved uid 0: can switch back to root)", u[1]), Medium
	default:
		c.Verdict, c.Severity = fmt.Sprintf("uid %d (not root)", u[1]), Info
	}
	return []Check{c}
}

func (in *inspector) capLastCap() int {
	b, err := readFile(filepath.Join(in.proc, "sys", "kernel", "cap_last_cap"))
	if err == nil {
		if n := atoiOr(string(b), -1); n >= 0 && n < 64 {
			return n
		}
	}
	return len(capNames) - 1
}

func (in *inspector) checkCaps() []Check {
	const id, title = "caps.effective", "effective capabilities"
	why := "capabilities are root's powers one by one; CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH and CAP_NET_ADMIN each have known container escapes"
	if in.st == nil || !in.st.haveCapEff {
		if in.st != nil {
			return []Check{{ID: id, Title: title, Verdict: unknownV, Why: why, Evidence: in.procPath("status") + " has no CapEff line"}}
		}
		return in.statusUnknown(id, title, why)
	}
	eff := in.st.capEff
	last := in.capLastCap()
	all := uint64(1)<<uint(last+1) - 1
	names := decodeCaps(eff)
	list := "none"
	if len(names) > 0 {
		list = strings.Join(names, " ")
	}
	c := Check{ID: id, Title: title, Why: why,
		Evidence: fmt.Sprintf("%s CapEff: %016x = %s; cap_last_cap %d", in.procPath("status"), eff, list, last)}
	var danger []string
	for _, bit := range dangerousCaps {
		if eff&(1<<uint(bit)) != 0 {
			danger = append(danger, capName(bit))
		}
	}
	switch {
	case eff == 0:
		c.Verdict, c.Severity = "none", Info
	case eff&all == all:
		c.Verdict, c.Severity = "full capability set (privileged)", High
		if in.ctr.contained {
			c.Severity = Critical
		}
	case len(danger) > 0:
		c.Verdict = fmt.Sprintf("%d capabilities, including %s", len(names), strings.Join(danger, ", "))
		c.Severity = High
	case eff&^dockerDefaultCaps == 0:
		c.Verdict = fmt.Sprintf("%d capabilities, within Docker's default set", len(names))
		c.Severity = Low
	default:
		extra := decodeCaps(eff &^ dockerDefaultCaps)
		c.Verdict = fmt.Sprintf("%d capabilities, beyond Docker's default: %s", len(names), strings.Join(extra, ", "))
		c.Severity = Medium
	}
	if in.ns["user"].verdict == isolatedV && c.Severity > Medium {
		c.Severity = Medium
		c.Evidence += "; held inside a user namespace, so they act on that namespace's resources, not the host's (kernel attack surface remains)"
	}
	return []Check{c}
}

func (in *inspector) checkSeccomp() []Check {
	const id, title = "seccomp", "seccomp"
	why := "a seccomp filter removes the rarely needed system calls most kernel exploits and escapes go through"
	if in.st == nil {
		return in.statusUnknown(id, title, why)
	}
	c := Check{ID: id, Title: title, Why: why,
		Evidence: fmt.Sprintf("%s Seccomp: %s, Seccomp_filters: %s", in.procPath("status"), orAbsent(in.st.raw["Seccomp"]), orAbsent(in.st.raw["Seccomp_filters"]))}
	switch in.st.seccomp {
	case 0:
		c.Verdict, c.Severity = "disabled (mode 0)", Low
		if in.ctr.contained {
			c.Severity = High
			c.Evidence += "; in a container: the runtime's default profile was turned off (seccomp=unconfined or --privileged)"
		}
	case 1:
		c.Verdict = "mode 1 (strict)"
	case 2:
		c.Verdict = "mode 2 (filter)"
		switch n := in.st.seccompFilters; {
		case n == 1:
			c.Verdict = "mode 2 (filter, 1 filter)"
		case n > 1:
			c.Verdict = fmt.Sprintf("mode 2 (filter, %d filters)", n)
		}
	default:
		c.Verdict = unknownV
		c.Evidence += "; the kernel reports no seccomp mode (built without CONFIG_SECCOMP?)"
	}
	return []Check{c}
}

func orAbsent(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

func (in *inspector) checkNNP() []Check {
	const id, title = "nnp", "no_new_privs"
	why := "without no_new_privs a setuid binary or file capability (sudo, ping, newuidmap) can raise the process's privileges"
	if in.st == nil {
		return in.statusUnknown(id, title, why)
	}
	c := Check{ID: id, Title: title, Why: why,
		Evidence: fmt.Sprintf("%s NoNewPrivs: %s", in.procPath("status"), orAbsent(in.st.raw["NoNewPrivs"]))}
	switch in.st.nnp {
	case 1:
		c.Verdict = "set"
	case 0:
		c.Verdict, c.Severity = "not set", Low
	default:
		c.Verdict = unknownV
		c.Evidence += "; the kernel predates the NoNewPrivs field (4.10)"
	}
	return []Check{c}
}

// selinuxUnconfined are SELinux types that impose no container confinement.
var selinuxUnconfined = map[string]bool{"unconfined_t": true, "spc_t": true, "kernel_t": true,
	"initrc_t": true, "unconfined_service_t": true, "init_t": true}

func (in *inspector) checkLSM() []Check {
	const id, title = "lsm", "AppArmor / SELinux"
	c := Check{ID: id, Title: title,
		Why: "an AppArmor profile or SELinux type limits files and operations even for root; a container without one relies on capabilities and seccomp alone"}
	// The AppArmor-specific file exists on kernels with LSM stacking, where
	// attr/current belongs to whichever LSM registered first.
	p := in.procPath(filepath.Join("attr", "apparmor", "current"))
	b, err := readFile(p)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.EINVAL) {
		p = in.procPath(filepath.Join("attr", "current"))
		b, err = readFile(p)
	}
	label := strings.TrimSpace(strings.TrimRight(string(b), "\x00\n"))
	switch {
	case errors.Is(err, syscall.EINVAL) || errors.Is(err, os.ErrNotExist) || err == nil && label == "":
		c.Verdict = "none"
		if err != nil {
			c.Evidence = describeErr(err) + ": no AppArmor or SELinux label for this process"
		} else {
			c.Evidence = p + " is empty"
		}
		if in.ctr.contained {
			c.Severity = Low
		}
		return []Check{c}
	case err != nil:
		c.Verdict, c.Evidence = unknownV, describeErr(err)
		return []Check{c}
	}
	c.Evidence = p + ": " + label
	if parts := strings.Split(label, ":"); len(parts) >= 3 && !strings.Contains(label, " ") {
		typ := parts[2]
		c.Verdict = "selinux " + typ
		if selinuxUnconfined[typ] {
			c.Verdict += " (unconfined)"
			c.Severity = Low
			if in.ctr.contained {
				c.Severity = Medium
			}
		}
		return []Check{c}
	}
	if label == "unconfined" {
		c.Verdict, c.Severity = "apparmor unconfined", Low
		if in.ctr.contained {
			c.Severity = Medium
		}
		return []Check{c}
	}
	c.Verdict = "apparmor " + label
	if open := strings.LastIndex(label, " ("); open >= 0 {
		mode := strings.TrimSuffix(label[open+2:], ")")
		if mode != "enforce" && mode != "kill" {
			c.Severity = Low
			c.Evidence += "; mode " + mode + " logs violations instead of blocking them"
		}
	}
	return []Check{c}
}
