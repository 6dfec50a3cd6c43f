package isolation

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// nsKind describes one namespace type and how its initial (host) instance can
// be recognised.
//
// The kernel gives the initial ipc, uts, user, pid, cgroup and time namespaces
// fixed inode numbers (include/linux/proc_ns.h, since 3.8; cgroup since 4.6).
// Since Linux 6.18 the initial net and mnt namespaces have fixed numbers too
// (NET_NS_INIT_INO, MNT_NS_INIT_INO in include/uapi/linux/nsfs.h); before that
// they were allocated at boot like any other, so only a comparison with the
// host's init process can tell. Dynamically allocated inodes start at
// 0xF0000000, so the fixed numbers below it can never be reused by a container.
type nsKind struct {
	name     string
	title    string
	initIno  uint64
	fixedMaj int // kernel version from which initIno is fixed; 0: always
	fixedMin int
	shared   Severity // severity when the namespace is the host's
	why      string
}

var nsKinds = []nsKind{
	{name: "pid", title: "PID namespace", initIno: 0xEFFFFFFC, shared: Medium,
		why: "sharing the host's PID namespace lets the agent see and signal every host process, and with ptrace read their memory"},
	{name: "mnt", title: "mount namespace", initIno: 0xEFFFFFF8, fixedMaj: 6, fixedMin: 18, shared: Medium,
		why: "sharing the host's mount namespace means commands see and change the host's filesystem, not a container image"},
	{name: "net", title: "network namespace", initIno: 0xEFFFFFF9, fixedMaj: 6, fixedMin: 18, shared: Medium,
		why: "sharing the host's network namespace lets the agent reach services bound to the host's loopback and bind host ports"},
	{name: "uts", title: "UTS namespace", initIno: 0xEFFFFFFE, shared: Low,
		why: "sharing the host's UTS namespace gives the agent the host's hostname, which CAP_SYS_ADMIN could change"},
	{name: "ipc", title: "IPC namespace", initIno: 0xEFFFFFFF, shared: Low,
		why: "sharing the host's IPC namespace lets the agent attach to host System V and POSIX shared memory and queues"},
	{name: "user", title: "user namespace", initIno: 0xEFFFFFFD, shared: Low,
		why: "without a user namespace of its own, uid 0 and capabilities inside are the real thing on the host kernel"},
	{name: "cgroup", title: "cgroup namespace", initIno: 0xEFFFFFFB, shared: Low,
		why: "sharing the host's cgroup namespace shows the agent the host's cgroup tree, including other containers' IDs"},
}

const pidInitIno = 0xEFFFFFFC

// nsState is what could be established about one namespace of the target.
type nsState struct {
	verdict  string // isolatedV, sharedV or unknownV
	raw      string
	ino      uint64
	evidence string
}

const (
	isolatedV = "isolated"
	sharedV   = "shared with host"
	unknownV  = "unknown"
)

func (in *inspector) readKernel() {
	b, err := readFile(filepath.Join(in.proc, "sys", "kernel", "osrelease"))
	if err != nil {
		return
	}
	in.kernelMajor, in.kernelMinor = parseKernelRelease(string(b))
}

func parseKernelRelease(s string) (int, int) {
	s = strings.TrimSpace(s)
	majS, rest, _ := strings.Cut(s, ".")
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	maj, err1 := strconv.Atoi(majS)
	min, err2 := strconv.Atoi(rest[:end])
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return maj, min
}

// fixedKnown reports whether an inode comparison with k.initIno decides the
// question on this kernel.
func (in *inspector) fixedKnown(k nsKind, ino uint64) bool {
	if k.fixedMaj == 0 || ino == k.initIno {
		return true
	}
	if in.kernelMajor != k.fixedMaj {
		return in.kernelMajor > k.fixedMaj
	}
	return in.kernelMinor >= k.fixedMin
}

func (in *inspector) nsStateOf(k nsKind) nsState {
	link := in.procPath(filepath.Join("ns", k.name))
	raw, ino, err := readNSLink(link)
	if err != nil {
		return nsState{verdict: unknownV, evidence: describeErr(err)}
	}
	s := nsState{raw: raw, ino: ino}
	ev := fmt.Sprintf("%s -> %s", link, raw)
	if in.fixedKnown(k, ino) {
		ref := fmt.Sprintf("the host's initial %s namespace has the fixed inode %d (%#x)", k.name, k.initIno, k.initIno)
		if ino == k.initIno {
			s.verdict, s.evidence = sharedV, ev+"; "+ref
		} else {
			s.verdict, s.evidence = isolatedV, ev+"; "+ref
		}
		return s
	}
	// No fixed inode for this type on this kernel: the host's init process is
	// the only reference, and /proc/1 is the host's init only when the procfs
	// belongs to the initial PID namespace.
	why := fmt.Sprintf("Linux %d.%d gives the initial %s namespace no fixed inode (that came in 6.18)", in.kernelMajor, in.kernelMinor, k.name)
	p1pid := filepath.Join(in.proc, "1", "ns", "pid")
	_, p1ino, err := readNSLink(p1pid)
	if err != nil {
		s.verdict, s.evidence = unknownV, ev+"; "+why+", and PID 1 cannot be compared: "+describeErr(err)
		return s
	}
	p1link := filepath.Join(in.proc, "1", "ns", k.name)
	p1raw, p1ino2, err := readNSLink(p1link)
	if err != nil {
		s.verdict, s.evidence = unknownV, ev+"; "+why+", and PID 1 cannot be compared: "+describeErr(err)
		return s
	}
	if p1ino != pidInitIno {
		rel := "differs from"
		if p1ino2 == ino {
			rel = "is the same as"
		}
		s.verdict = unknownV
		s.evidence = fmt.Sprintf("%s; %s, and PID 1 here is not the host's init (%s is not the initial PID namespace), so it %s this view's PID 1 (%s) but the host's cannot be read",
			ev, why, p1pid, rel, p1raw)
		return s
	}
	if p1ino2 == ino {
		s.verdict = sharedV
	} else {
		s.verdict = isolatedV
	}
	s.evidence = fmt.Sprintf("%s; %s -> %s (PID 1 is the host's init: its PID namespace is the initial one)", ev, p1link, p1raw)
	return s
}

func (in *inspector) checkNS(k nsKind) Check {
	s := in.ns[k.name]
	c := Check{ID: "ns." + k.name, Title: k.title, Verdict: s.verdict, Why: k.why, Evidence: s.evidence}
	if s.verdict == sharedV {
		c.Severity = k.shared
	}
	return c
}

// gather reads the files several checks share, once. Each part is guarded
// like the checks are: a parser panic leaves that part unknown, with the
// reason where the checks that need it will report it.
func (in *inspector) gather() {
	in.ns = map[string]nsState{}
	for _, k := range nsKinds {
		in.ns[k.name] = nsState{verdict: unknownV, evidence: "not read"}
	}
	try := func(fail func(error), f func()) {
		defer func() {
			if v := recover(); v != nil {
				fail(fmt.Errorf("internal error: %v", v))
			}
		}()
		f()
	}
	try(func(error) {}, in.readKernel)
	try(func(err error) { in.st, in.stErr = nil, err }, func() {
		if b, err := in.readProc("status"); err != nil {
			in.stErr = err
		} else if in.st, err = parseStatus(string(b)); err != nil {
			in.stErr = fmt.Errorf("%s: %w", in.procPath("status"), err)
		}
	})
	try(func(err error) { in.mounts, in.mountsErr = nil, err }, func() {
		if b, err := in.readProc("mountinfo"); err != nil {
			in.mountsErr = err
		} else if in.mounts = parseMountinfo(string(b)); len(in.mounts) == 0 {
			in.mountsErr = fmt.Errorf("%s: no parsable lines", in.procPath("mountinfo"))
		}
	})
	if _, err := os.Stat(in.root); err != nil {
		in.rootErr = err
	}
	for _, k := range nsKinds {
		try(func(err error) { in.ns[k.name] = nsState{verdict: unknownV, evidence: err.Error()} }, func() {
			in.ns[k.name] = in.nsStateOf(k)
		})
	}
	try(func(err error) { in.ctr = containerInfo{unread: []string{err.Error()}} }, func() {
		in.ctr = in.detectContainer()
	})
}

// fsView says whether the target sees the host's own mount table: it decides
// whether a rw /sys is the host's ordinary state or a hole in a container.
type fsView int

const (
	viewUnknown fsView = iota
	viewHost
	viewIsolated
)

// view answers from the mount namespace when it is known. Otherwise container
// evidence decides, and a process with no container evidence at all (every
// source read) is taken to be on the host, which the evidence then says.
func (in *inspector) view() (fsView, string) {
	mnt := in.ns["mnt"]
	switch {
	case mnt.verdict == sharedV:
		return viewHost, "mount namespace: " + mnt.evidence
	case mnt.verdict == isolatedV:
		return viewIsolated, "mount namespace: " + mnt.evidence
	case in.ctr.contained:
		return viewIsolated, "mount namespace unknown, but container evidence: " + strings.Join(in.ctr.signals, "; ")
	case len(in.ctr.unread) == 0:
		return viewHost, "mount namespace unknown (" + mnt.evidence + ") and no container evidence: taken as the host's"
	}
	return viewUnknown, "mount namespace unknown (" + mnt.evidence + ") and container evidence unreadable: " + strings.Join(in.ctr.unread, "; ")
}
