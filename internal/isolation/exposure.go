package isolation

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Runtime API sockets at their packaged locations. /var/run is usually a
// symlink to /run; both are listed because images and hosts differ, and
// duplicates are folded by inode.
var runtimeSocketPaths = []string{
	"/var/run/docker.sock", "/run/docker.sock",
	"/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock",
	"/run/podman/podman.sock", "/var/run/podman/podman.sock",
	"/run/crio/crio.sock", "/run/k3s/containerd/containerd.sock",
}

var runtimeSocketNames = map[string]bool{"docker.sock": true, "containerd.sock": true, "podman.sock": true, "crio.sock": true}

// socketSuffixes are looked for below every mount point, so that a host
// directory mounted elsewhere (-v /run:/host/run, -v /:/host) is caught too,
// not only a socket at its usual path.
var socketSuffixes = []string{"docker.sock", "run/docker.sock", "var/run/docker.sock",
	"containerd/containerd.sock", "run/containerd/containerd.sock", "podman/podman.sock", "run/podman/podman.sock"}

var networkFS = map[string]bool{"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "ceph": true,
	"glusterfs": true, "fuse.sshfs": true, "fuse.glusterfs": true, "fuse.s3fs": true}

// maxMountProbes bounds the per-mount socket probes on hosts with thousands of mounts.
const maxMountProbes = 256

const stRDOnly = 0x1 // ST_RDONLY in statfs(2) f_flags

func (in *inspector) socketCandidates() []string {
	c := append([]string(nil), runtimeSocketPaths...)
	if in.st != nil {
		uid := strconv.FormatInt(in.st.uid[1], 10)
		c = append(c, "/run/user/"+uid+"/docker.sock", "/run/user/"+uid+"/podman/podman.sock")
	}
	probes := 0
	for _, m := range in.mounts {
		if runtimeSocketNames[path.Base(m.point)] {
			c = append(c, m.point)
			continue
		}
		switch {
		case m.point == "/", pathUnder(m.point, "/proc"), pathUnder(m.point, "/sys"), pathUnder(m.point, "/dev"):
			continue
		case networkFS[m.fstype]:
			continue // a stat on a dead server would hang the whole check
		}
		if probes++; probes > maxMountProbes {
			continue
		}
		for _, s := range socketSuffixes {
			c = append(c, path.Join(m.point, s))
		}
	}
	return c
}

func runtimeSocketMount(mounts []mountEntry, inside string) (mountEntry, bool) {
	m, ok := mountFor(mounts, inside)
	return m, ok && m.point == inside
}

// mayWrite applies the kernel's DAC rule for connect(2) on a unix socket
// (write permission) to the target's credentials as read from its status.
// Unknown credentials count as writable: the finding is the socket, and
// guessing "safe" would hide it.
func (in *inspector) mayWrite(st *syscall.Stat_t) bool {
	if in.st == nil {
		return true
	}
	if in.st.haveCapEff && in.st.capEff&(1<<capDACOverride) != 0 {
		return true
	}
	mode := st.Mode
	fsuid, fsgid := in.st.uid[3], in.st.gid[3]
	if int64(st.Uid) == fsuid {
		return mode&0o200 != 0
	}
	inGroup := int64(st.Gid) == fsgid
	for _, g := range in.st.groups {
		inGroup = inGroup || g == int64(st.Gid)
	}
	if inGroup {
		return mode&0o020 != 0
	}
	return mode&0o002 != 0
}

func (in *inspector) checkSockets() []Check {
	c := Check{ID: "socket.docker", Title: "container runtime socket",
		Why: "whoever can write to a container runtime's API socket can start a privileged container with the host's / mounted: it is root on the host"}
	if in.rootErr != nil {
		c.Verdict, c.Evidence = unknownV, "cannot reach the process's filesystem: "+describeErr(in.rootErr)
		return []Check{c}
	}
	type hit struct {
		path, inside       string
		sock, write, mount bool
		ev                 string
		aliases            []string
	}
	var hits []hit
	var problems []string
	seen := map[[2]uint64]int{}
	fixed := map[string]bool{}
	for _, p := range runtimeSocketPaths {
		fixed[p] = true
	}
	for _, p := range in.socketCandidates() {
		inside, outside, err := resolveIn(in.root, p)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				problems = append(problems, describeErr(err))
			}
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(outside, &st); err != nil {
			problems = append(problems, describeErr(&os.PathError{Op: "stat", Path: outside, Err: err}))
			continue
		}
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if i, dup := seen[key]; dup {
			// The same socket reached another way (-v /:/host): worth naming,
			// since removing one mount would not close the other.
			if hits[i].inside != inside {
				hits[i].aliases = append(hits[i].aliases, p)
			}
			continue
		}
		h := hit{path: p, inside: inside, sock: st.Mode&syscall.S_IFMT == syscall.S_IFSOCK}
		_, mounted := runtimeSocketMount(in.mounts, inside)
		if !h.sock && !fixed[p] && !mounted {
			continue // an ordinary file below some mount that happens to share the name
		}
		seen[key] = len(hits)
		h.mount = mounted
		h.write = h.sock && in.mayWrite(&st)
		kind := "socket"
		if !h.sock {
			kind = "not a socket"
		}
		h.ev = fmt.Sprintf("%s -> %s: %s, uid %d gid %d mode %o, writable by the process: %v, bind-mounted: %v",
			p, inside, kind, st.Uid, st.Gid, st.Mode&0o7777, h.write, h.mount)
		hits = append(hits, h)
	}
	var evs, open, closed []string
	mounted := false
	for _, h := range hits {
		mounted = mounted || h.mount && h.sock
		if len(h.aliases) > 0 {
			h.ev += "; the same socket is also at " + strings.Join(h.aliases, ", ")
		}
		evs = append(evs, h.ev)
		name := h.path
		if len(h.aliases) > 0 {
			name += " (also " + summarize(h.aliases, 2) + ")"
		}
		switch {
		case h.write:
			open = append(open, name)
		case h.sock:
			closed = append(closed, name)
		}
	}
	evs = append(evs, problems...)
	switch {
	case len(open) > 0 && in.ctr.contained && mounted:
		c.Verdict, c.Severity = "mounted: "+strings.Join(open, ", "), Critical
	case len(open) > 0 && in.ctr.contained:
		c.Verdict, c.Severity = "reachable: "+strings.Join(open, ", "), Critical
	case len(open) > 0:
		c.Verdict, c.Severity = "reachable: "+strings.Join(open, ", "), High
	case len(closed) > 0 && in.ctr.contained && mounted:
		c.Verdict, c.Severity = "mounted, not writable by this uid: "+strings.Join(closed, ", "), High
	case len(closed) > 0 && in.ctr.contained:
		c.Verdict, c.Severity = "present, not writable by this uid: "+strings.Join(closed, ", "), High
	case len(closed) > 0:
		c.Verdict, c.Severity = "present, not writable by this uid: "+strings.Join(closed, ", "), Info
	case len(problems) > 0:
		c.Verdict = unknownV
	case len(hits) > 0:
		c.Verdict = "no socket (only non-socket files at socket paths)"
	default:
		c.Verdict = "none found"
		evs = append(evs, "none of "+strings.Join(runtimeSocketPaths, ", ")+" exists, nor a runtime socket below any mount point")
	}
	c.Evidence = strings.Join(evs, "; ")
	return []Check{c}
}

// mountFinding is one writable mount worth reporting.
type mountFinding struct {
	sev       Severity
	text      string
	rootOwned bool // writable only by root-equivalent processes (kernel interfaces, system dirs)
}

var blockFS = map[string]bool{"ext2": true, "ext3": true, "ext4": true, "xfs": true, "btrfs": true, "zfs": true,
	"f2fs": true, "vfat": true, "exfat": true, "ntfs": true, "ntfs3": true, "fuseblk": true, "jfs": true,
	"reiserfs": true, "nfs": true, "nfs4": true, "cifs": true, "smb3": true, "9p": true, "virtiofs": true}

// kernelFS are pseudo filesystems whose write side reconfigures the host kernel.
var kernelFS = map[string]bool{"debugfs": true, "tracefs": true, "securityfs": true, "bpf": true,
	"configfs": true, "efivarfs": true, "pstore": true}

var runtimeManagedFiles = map[string]bool{"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true,
	"/dev/termination-log": true, "/run/.containerenv": true}

// sensitiveUnder are host directories whose contents are the host's identity,
// code or control plane; a writable bind of them, or of anything below, is an
// escape or a persistence point.
var sensitiveUnder = []string{"/etc", "/boot", "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/run", "/var/run",
	"/var/lib/docker", "/var/lib/containerd", "/var/lib/containers", "/var/lib/kubelet", "/proc", "/sys", "/dev", "/root/.ssh"}

// sensitiveExact are directories that are sensitive as a whole but whose
// subdirectories are ordinary data (a project under /home/alice).
var sensitiveExact = []string{"/var", "/var/lib", "/var/log", "/home", "/root"}

func sensitiveHostPath(p string) bool {
	for _, d := range sensitiveUnder {
		if pathUnder(p, d) {
			return true
		}
	}
	for _, d := range sensitiveExact {
		if p == d {
			return true
		}
	}
	parts := splitPath(p)
	return len(parts) == 2 && parts[0] == "home" || len(parts) >= 3 && parts[0] == "home" && parts[2] == ".ssh"
}

func hostBacked(m mountEntry) bool { return strings.HasPrefix(m.source, "/dev/") || blockFS[m.fstype] }

func runtimeVolume(root string) bool {
	return strings.Contains(root, "/docker/volumes/") || strings.Contains(root, "/containers/storage/volumes/") ||
		strings.Contains(root, "/kubelet/pods/") && strings.Contains(root, "/volumes/") ||
		strings.Contains(root, "/nerdctl/") && strings.Contains(root, "/volumes/")
}

func runtimeManaged(m mountEntry) bool {
	if !runtimeManagedFiles[m.point] || runtimeManagedFiles[m.root] {
		return false
	}
	for _, s := range []string{"/containers/", "/pods/", "/sandboxes/", "/userdata/", "/libpod/"} {
		if strings.Contains(m.root, s) {
			return true
		}
	}
	return false
}

// classifyMounts judges a mount table seen from inside an isolated mount
// namespace. isRootFS tells whether a directory looks like an operating
// system root (it is asked only for whole filesystems mounted off "/").
func classifyMounts(mounts []mountEntry, isRootFS func(point string) bool) []mountFinding {
	var out []mountFinding
	var cgroups []string
	for _, m := range mounts {
		if m.readOnly() {
			continue
		}
		switch {
		case m.fstype == "proc":
			if m.point != "/proc" {
				out = append(out, mountFinding{Medium, "an extra procfs rw at " + m.point, true})
				continue
			}
			// Runtimes keep /proc itself writable but remount /proc/sys read-only;
			// --privileged does not.
			if ps, ok := mountFor(mounts, "/proc/sys"); !ok || ps.point != "/proc/sys" || !ps.readOnly() {
				out = append(out, mountFinding{High, "/proc/sys writable (kernel settings of the host)", true})
			}
		case m.fstype == "sysfs":
			out = append(out, mountFinding{High, "sysfs rw at " + m.point, true})
		case m.fstype == "cgroup" || m.fstype == "cgroup2":
			cgroups = append(cgroups, m.point)
		case kernelFS[m.fstype]:
			out = append(out, mountFinding{High, m.fstype + " rw at " + m.point, true})
		case m.point == "/":
			// The container's own root filesystem, whatever backs it.
		case !hostBacked(m), runtimeSocketNames[path.Base(m.point)], runtimeManaged(m):
			// Not a host path, a socket (socket.docker reports it), or a file the
			// runtime writes into every container.
		case runtimeVolume(m.root):
			out = append(out, mountFinding{Low, "volume " + m.root + " rw at " + m.point, false})
		case m.root == "/" && isRootFS(m.point):
			out = append(out, mountFinding{High, "a whole root filesystem (" + m.source + ") rw at " + m.point, true})
		case sensitiveHostPath(m.root):
			out = append(out, mountFinding{High, "host " + m.root + " rw at " + m.point, true})
		case m.root == "/":
			out = append(out, mountFinding{Low, "whole filesystem " + m.source + " rw at " + m.point, false})
		default:
			out = append(out, mountFinding{Low, "host path " + m.root + " rw at " + m.point, false})
		}
	}
	if len(cgroups) > 0 {
		out = append(out, mountFinding{Medium, "cgroup filesystem rw at " + summarize(cgroups, 3), true})
	}
	return out
}

// looksLikeRootFS answers the question a mount table cannot: is this whole
// filesystem an operating system root (the host's /, mounted as -v /:/host)?
func (in *inspector) looksLikeRootFS(point string) bool {
	for _, d := range []string{"etc", "usr", "var"} {
		_, outside, err := resolveIn(in.root, path.Join(point, d))
		if err != nil {
			return false
		}
		if fi, err := os.Stat(outside); err != nil || !fi.IsDir() {
			return false
		}
	}
	return true
}

func (in *inspector) privilegedWriter() bool {
	if in.st == nil {
		return true
	}
	return in.st.uid[1] == 0 || in.st.uid[3] == 0 || in.st.haveCapEff && in.st.capEff&(1<<capDACOverride) != 0
}

func (in *inspector) checkMounts() []Check {
	c := Check{ID: "mount.host_writable", Title: "writable host mounts",
		Why: "a writable mount of a host path or kernel interface lets the agent change the host directly: /etc, the runtime's state, /proc/sys, /sys"}
	if in.mountsErr != nil {
		c.Verdict, c.Evidence = unknownV, describeErr(in.mountsErr)
		return []Check{c}
	}
	switch view, why := in.view(); view {
	case viewHost:
		rootFS, _ := mountFor(in.mounts, "/")
		c.Verdict, c.Severity = "host filesystem (no mount isolation)", Low
		c.Evidence = fmt.Sprintf("%s; / is %s %s (%s): whatever this uid may write on the host, it may write",
			why, rootFS.fstype, rootFS.source, strings.Join(rootFS.opts, ","))
		return []Check{c}
	case viewUnknown:
		c.Verdict, c.Evidence = unknownV, why
		return []Check{c}
	}
	findings := classifyMounts(in.mounts, in.looksLikeRootFS)
	privileged := in.privilegedWriter()
	var texts []string
	for i := range findings {
		f := &findings[i]
		if f.rootOwned && !privileged && f.sev > Low {
			f.sev--
			f.text += " (root-owned; this uid lacks root and CAP_DAC_OVERRIDE)"
		}
		if f.sev > c.Severity {
			c.Severity = f.sev
		}
	}
	// Most severe first, so the verdict leads with what matters.
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].sev > findings[j].sev })
	for _, f := range findings {
		texts = append(texts, fmt.Sprintf("[%s] %s", f.sev, f.text))
	}
	if len(findings) == 0 {
		c.Verdict = "none"
		c.Evidence = fmt.Sprintf("%s: %d mounts; every kernel interface and host-backed bind mount is read-only, or belongs to the runtime", in.procPath("mountinfo"), len(in.mounts))
		return []Check{c}
	}
	var top []string
	for _, f := range findings {
		if f.sev == c.Severity {
			top = append(top, f.text)
		}
	}
	c.Verdict = summarize(top, 2)
	c.Evidence = in.procPath("mountinfo") + ": " + strings.Join(texts, "; ")
	return []Check{c}
}

// standardDevices are the nodes an OCI runtime creates in every container.
var standardDevices = map[string]bool{"null": true, "zero": true, "full": true, "random": true,
	"urandom": true, "tty": true, "console": true, "ptmx": true}

// skipDevDirs hold per-container or harmless nodes (pseudo-terminals, shared
// memory, message queues, fd links).
var skipDevDirs = map[string]bool{"pts": true, "shm": true, "mqueue": true, "hugepages": true, "fd": true}

func dangerousDevice(rel string, block bool) bool {
	if block {
		return true
	}
	switch rel {
	case "mem", "kmem", "port", "kmsg":
		return true
	}
	return strings.HasPrefix(rel, "cpu/") && strings.HasSuffix(rel, "/msr") // model-specific registers
}

func (in *inspector) listDevices(dir, rel string, depth int, out *[]string, danger *[]string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := path.Join(rel, e.Name())
		t := e.Type()
		switch {
		case t&os.ModeDir != 0:
			if depth < 3 && !(rel == "" && skipDevDirs[e.Name()]) {
				_ = in.listDevices(filepath.Join(dir, e.Name()), name, depth+1, out, danger)
			}
		case t&os.ModeDevice != 0:
			if rel == "" && standardDevices[e.Name()] {
				continue
			}
			*out = append(*out, name)
			if dangerousDevice(name, t&os.ModeCharDevice == 0) {
				*danger = append(*danger, name)
			}
		}
	}
	return nil
}

func (in *inspector) checkDevices() []Check {
	c := Check{ID: "device.host", Title: "host devices",
		Why: "a host disk, /dev/mem or /dev/kmsg inside the sandbox gives raw access to the host's data, memory or kernel log, around every file permission"}
	if in.rootErr != nil {
		c.Verdict, c.Evidence = unknownV, "cannot reach the process's filesystem: "+describeErr(in.rootErr)
		return []Check{c}
	}
	inside, outside, err := resolveIn(in.root, "/dev")
	if err == nil {
		var all, danger []string
		err = in.listDevices(outside, "", 0, &all, &danger)
		if err == nil {
			return []Check{in.deviceVerdict(c, inside, all, danger)}
		}
	}
	c.Verdict, c.Evidence = unknownV, describeErr(err)
	return []Check{c}
}

func (in *inspector) deviceVerdict(c Check, dir string, all, danger []string) Check {
	devMount, _ := mountFor(in.mounts, dir)
	c.Evidence = fmt.Sprintf("%s is %s (%s); %d nodes beyond null, zero, full, random, urandom, tty, console, ptmx", dir, devMount.fstype, devMount.source, len(all))
	if len(danger) > 0 {
		c.Evidence += "; raw host access: " + summarize(danger, 20)
	}
	if len(all) > 0 {
		c.Evidence += "; all: " + summarize(all, 40)
	}
	switch view, why := in.view(); view {
	case viewHost:
		c.Verdict, c.Severity = fmt.Sprintf("host /dev (%d device nodes)", len(all)), Low
		c.Evidence += "; " + why + ": these are the host's devices, limited only by their file modes"
		return c
	case viewUnknown:
		c.Verdict = unknownV
		c.Evidence += "; whether these are the host's devices is unknown: " + why
		return c
	}
	switch {
	case len(danger) > 0:
		c.Verdict, c.Severity = "host devices: "+summarize(danger, 5), High
	case len(all) > 0:
		c.Verdict, c.Severity = "extra devices: "+summarize(all, 5), Low
	default:
		c.Verdict = "standard set only"
	}
	if devMount.fstype == "devtmpfs" {
		c.Severity = High
		c.Verdict = "host devtmpfs mounted: " + c.Verdict
		c.Evidence += "; devtmpfs is the kernel's own device filesystem: every host device appears in it"
	}
	return c
}

func (in *inspector) checkListen() []Check {
	c := Check{ID: "net.listen_all", Title: "listeners on all interfaces",
		Why: "a socket bound to 0.0.0.0 or :: answers on every interface of its network namespace, including ones the operator meant to keep private"}
	var ls []listener
	var read, failed []string
	for _, f := range []string{"tcp", "tcp6"} {
		b, err := in.readProc(filepath.Join("net", f))
		if err != nil {
			if !(f == "tcp6" && errors.Is(err, os.ErrNotExist)) { // no IPv6 in this kernel
				failed = append(failed, describeErr(err))
			}
			continue
		}
		read = append(read, in.procPath(filepath.Join("net", f)))
		ls = append(ls, parseTCPListeners(string(b))...)
	}
	if len(read) == 0 {
		c.Verdict, c.Evidence = unknownV, strings.Join(failed, "; ")
		return []Check{c}
	}
	own, ownErr := in.socketInodes()
	portSet := map[int]bool{}
	var evs []string
	for _, l := range ls {
		portSet[l.port] = true
		who := ""
		switch {
		case own[l.inode]:
			who = ", this process"
		case ownErr != nil:
			who = ", owner unknown"
		}
		addr := l.addr + ":" + strconv.Itoa(l.port)
		if strings.Contains(l.addr, ":") {
			addr = "[" + l.addr + "]:" + strconv.Itoa(l.port)
		}
		evs = append(evs, fmt.Sprintf("%s (socket inode %d%s)", addr, l.inode, who))
	}
	ports := make([]int, 0, len(portSet))
	for p := range portSet {
		ports = append(ports, p)
	}
	sort.Ints(ports)
	scope := "listeners of the whole network namespace, read from " + strings.Join(read, " and ")
	if ownErr != nil {
		scope += "; which are this process's is unknown: " + describeErr(ownErr)
	}
	if len(failed) > 0 {
		scope += "; unread: " + strings.Join(failed, "; ")
	}
	if len(ports) == 0 {
		c.Verdict, c.Evidence = "none", scope+": no TCP socket listens on 0.0.0.0 or ::"
		return []Check{c}
	}
	ps := make([]string, len(ports))
	for i, p := range ports {
		ps[i] = strconv.Itoa(p)
	}
	c.Verdict, c.Severity = "ports "+summarize(ps, 20), Medium
	c.Evidence = scope + ": " + summarize(evs, 60)
	return []Check{c}
}

// socketInodes returns the socket inodes the target holds open.
func (in *inspector) socketInodes() (map[uint64]bool, error) {
	dir := in.procPath("fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	own := map[uint64]bool{}
	for _, e := range entries {
		l, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		if v, ok := strings.CutPrefix(l, "socket:["); ok {
			if n, err := strconv.ParseUint(strings.TrimSuffix(v, "]"), 10, 64); err == nil {
				own[n] = true
			}
		}
	}
	return own, nil
}

func (in *inspector) checkSources() []Check {
	c := Check{ID: "source.readonly", Title: "audit sources read-only",
		Why: "a sidecar that can write the transcripts it audits could alter the evidence it audits"}
	if len(in.sources) == 0 {
		c.Verdict = "no sources given"
		c.Evidence = "Options.Sources is empty: pass the transcript directories to have them checked"
		return []Check{c}
	}
	if in.rootErr != nil {
		c.Verdict, c.Evidence = unknownV, "cannot reach the process's filesystem: "+describeErr(in.rootErr)
		return []Check{c}
	}
	var writable, missing, unknown, evs []string
	for _, src := range in.sources {
		p := src
		if !filepath.IsAbs(p) {
			if !in.self {
				unknown = append(unknown, src)
				evs = append(evs, src+": relative path; give it as the inspected process sees it")
				continue
			}
			if abs, err := filepath.Abs(p); err == nil {
				p = abs
			}
		}
		inside, outside, err := resolveIn(in.root, filepath.Clean(p))
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, src)
			evs = append(evs, src+": does not exist")
			continue
		}
		if err != nil {
			unknown = append(unknown, src)
			evs = append(evs, src+": "+describeErr(err))
			continue
		}
		var sfs syscall.Statfs_t
		if err := syscall.Statfs(outside, &sfs); err != nil {
			unknown = append(unknown, src)
			evs = append(evs, src+": "+describeErr(&os.PathError{Op: "statfs", Path: outside, Err: err}))
			continue
		}
		ro := sfs.Flags&stRDOnly != 0
		ev := fmt.Sprintf("%s: statfs f_flags %#x (ST_RDONLY %v)", src, sfs.Flags, ro)
		if m, ok := mountFor(in.mounts, inside); ok {
			ro = ro || m.readOnly()
			ev += fmt.Sprintf(", on mount %s %s (%s, %s)", m.point, m.fstype, strings.Join(m.opts, ","), strings.Join(m.super, ","))
		}
		if !ro {
			writable = append(writable, src)
		}
		evs = append(evs, ev)
	}
	var parts []string
	if len(writable) > 0 {
		parts = append(parts, "writable: "+strings.Join(writable, ", "))
		c.Severity = Medium
	}
	if len(missing) > 0 {
		parts = append(parts, "missing: "+strings.Join(missing, ", "))
		if c.Severity < Low {
			c.Severity = Low
		}
	}
	if len(unknown) > 0 {
		parts = append(parts, "unknown: "+strings.Join(unknown, ", "))
	}
	if len(parts) == 0 {
		c.Verdict = "read-only"
	} else {
		c.Verdict = strings.Join(parts, "; ")
	}
	c.Evidence = strings.Join(evs, "; ")
	return []Check{c}
}
