package isolation

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// containerInfo is the runtime verdict and the signals behind it.
type containerInfo struct {
	runtime   string // docker, containerd, podman, kubernetes, lxc, systemd-nspawn or ""
	id        string
	contained bool // inside a container, even when the runtime has no name
	weak      bool // only signals that can outlive a container (a copied /.dockerenv)
	stale     bool // signals present, but the mount namespace is the host's
	signals   []string
	unread    []string
}

// signal is one piece of runtime evidence. Strong signals name the runtime in
// state the runtime manages for this very process (its cgroup, its mounts, its
// environment); weak ones are files that survive being copied into an image or
// a VM root filesystem.
type signal struct {
	runtime, id, what string
	strong            bool
}

// runtimeRank orders runtimes from the outermost orchestrator down: a
// Kubernetes pod runs on containerd or Docker, and should be named as the pod.
var runtimeRank = map[string]int{"kubernetes": 6, "podman": 5, "lxc": 4, "systemd-nspawn": 3, "docker": 2, "containerd": 1, "": 0}

var hex64 = regexp.MustCompile(`[0-9a-f]{64}`)

// runtimeFromCgroupPath names the runtime from one /proc/PID/cgroup path, for
// cgroup v1 and v2 and for both the cgroupfs and systemd drivers.
func runtimeFromCgroupPath(p string) (runtime, id string) {
	ids := hex64.FindAllString(p, -1)
	last := ""
	if len(ids) > 0 {
		last = ids[len(ids)-1]
	}
	switch {
	case strings.Contains(p, "kubepods"):
		return "kubernetes", last
	case strings.Contains(p, "libpod"):
		return "podman", last
	case strings.Contains(p, "/docker/") || (strings.Contains(p, "docker-") && strings.HasSuffix(p, ".scope")):
		return "docker", last
	case strings.Contains(p, "cri-containerd-") || strings.Contains(p, "nerdctl-"):
		return "containerd", last
	case strings.Contains(p, "crio-"):
		// CRI-O outside kubepods is unusual; it still means an OCI container.
		return "containerd", last
	case strings.Contains(p, "/lxc.payload"):
		return "lxc", lxcName(p, "/lxc.payload")
	case strings.HasPrefix(p, "/lxc/"):
		return "lxc", lxcName(p, "/lxc")
	case strings.Contains(p, "systemd-nspawn@"):
		name := p[strings.Index(p, "systemd-nspawn@")+len("systemd-nspawn@"):]
		name, _, _ = strings.Cut(name, ".service")
		return "systemd-nspawn", name
	}
	return "", ""
}

func lxcName(p, prefix string) string {
	rest := p[strings.Index(p, prefix)+len(prefix):]
	rest = strings.TrimLeft(rest, "./")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// runtimeFromCgroup scans every line of /proc/PID/cgroup and keeps the
// highest-ranked runtime.
func runtimeFromCgroup(s string) (runtime, id, line string) {
	for _, l := range strings.Split(s, "\n") {
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 {
			continue
		}
		rt, rid := runtimeFromCgroupPath(parts[2])
		if rt != "" && (runtime == "" || runtimeRank[rt] > runtimeRank[runtime] || runtime == rt && id == "" && rid != "") {
			runtime, id, line = rt, rid, l
		}
	}
	return runtime, id, line
}

// runtimeFromMounts reads the runtime from what it bind-mounts into every
// container (/etc/hostname, /etc/hosts, /etc/resolv.conf from its state
// directory) and from the overlay root's upper directory. This still works
// with a private cgroup namespace, where /proc/self/cgroup says only "0::/".
func runtimeFromMounts(mounts []mountEntry) []signal {
	var out []signal
	for _, m := range mounts {
		r := m.root
		switch {
		case strings.Contains(r, "/kubelet/pods/"):
			out = append(out, signal{"kubernetes", "", "mount " + r + " at " + m.point, true})
		case strings.Contains(r, "/docker/containers/"):
			out = append(out, signal{"docker", hex64.FindString(r), "mount " + r + " at " + m.point, true})
		case strings.Contains(r, "/overlay-containers/"):
			// containers/storage: Podman, or CRI-O, which kubelet mounts also reveal.
			out = append(out, signal{"podman", hex64.FindString(r), "mount " + r + " at " + m.point, true})
		case strings.Contains(r, "/io.containerd.grpc.v1.cri/"):
			out = append(out, signal{"kubernetes", "", "mount " + r + " at " + m.point, true})
		case strings.Contains(r, "/lxc/") && strings.HasSuffix(r, "/rootfs"):
			out = append(out, signal{"lxc", "", "mount " + r + " at " + m.point, true})
		}
		if m.point != "/" {
			continue
		}
		upper := superOpt(m, "upperdir")
		switch {
		case strings.Contains(upper, "/docker/"):
			out = append(out, signal{"docker", "", "root overlay upperdir=" + upper, true})
		case strings.Contains(upper, "/containers/storage/"):
			out = append(out, signal{"podman", "", "root overlay upperdir=" + upper, true})
		case strings.Contains(upper, "/containerd/"):
			out = append(out, signal{"containerd", "", "root overlay upperdir=" + upper, true})
		case m.fstype == "overlay" || m.fstype == "aufs" || strings.HasPrefix(m.fstype, "fuse.fuse-overlayfs"):
			out = append(out, signal{"", "", "root filesystem is " + m.fstype, false})
		}
	}
	return out
}

// runtimeFromEnv reads the variables runtimes set: container= (Podman, LXC,
// systemd-nspawn, and images that follow the systemd convention) and the
// service variables Kubernetes injects into every pod.
func runtimeFromEnv(env map[string]string, from string) []signal {
	var out []signal
	if v, ok := env["container"]; ok {
		rt := normalizeRuntime(v)
		out = append(out, signal{rt, "", from + " container=" + v, true})
	}
	if v, ok := env["KUBERNETES_SERVICE_HOST"]; ok {
		out = append(out, signal{"kubernetes", "", from + " KUBERNETES_SERVICE_HOST=" + v, true})
	}
	return out
}

func normalizeRuntime(v string) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "docker" || v == "podman" || v == "systemd-nspawn" || v == "containerd":
		return v
	case strings.HasPrefix(v, "lxc"):
		return "lxc"
	}
	return "" // "oci" and others: a container, runtime unnamed
}

func (in *inspector) detectContainer() containerInfo {
	var ci containerInfo
	var sigs []signal
	if b, err := in.readProc("cgroup"); err != nil {
		ci.unread = append(ci.unread, describeErr(err))
	} else if rt, id, line := runtimeFromCgroup(string(b)); rt != "" {
		sigs = append(sigs, signal{rt, id, in.procPath("cgroup") + " " + line, true})
	}
	if in.mountsErr != nil {
		ci.unread = append(ci.unread, describeErr(in.mountsErr))
	}
	sigs = append(sigs, runtimeFromMounts(in.mounts)...)
	if b, err := in.readProc("environ"); err != nil {
		ci.unread = append(ci.unread, describeErr(err))
	} else {
		sigs = append(sigs, runtimeFromEnv(parseEnviron(b), in.procPath("environ"))...)
	}
	// PID 1 of this procfs is the container's init only when the target shares
	// its PID namespace; otherwise its environment says nothing about the target.
	if in.samePIDNSAsInit() {
		p := filepath.Join(in.proc, "1", "environ")
		if b, err := readFile(p); err == nil {
			sigs = append(sigs, runtimeFromEnv(parseEnviron(b), p)...)
		}
	}
	if in.rootErr != nil {
		ci.unread = append(ci.unread, describeErr(in.rootErr))
	} else {
		if _, err := os.Stat(filepath.Join(in.root, ".dockerenv")); err == nil {
			sigs = append(sigs, signal{"docker", "", "/.dockerenv exists", false})
		}
		if b, err := readFile(filepath.Join(in.root, "run", ".containerenv")); err == nil {
			sigs = append(sigs, signal{"podman", containerenvID(string(b)), "/run/.containerenv exists", true})
		}
		if b, err := readFile(filepath.Join(in.root, "run", "systemd", "container")); err == nil {
			v := strings.TrimSpace(string(b))
			sigs = append(sigs, signal{normalizeRuntime(v), "", "/run/systemd/container says " + v, true})
		}
	}

	best, strong := signal{}, false
	for _, s := range sigs {
		ci.signals = append(ci.signals, s.what)
		better := !strong && s.strong ||
			strong == s.strong && runtimeRank[s.runtime] > runtimeRank[best.runtime]
		if better {
			best, strong = s, s.strong
		}
	}
	if len(sigs) == 0 {
		return ci
	}
	ci.contained, ci.weak = true, !strong
	ci.runtime = best.runtime
	for _, s := range sigs {
		if s.runtime == ci.runtime && s.id != "" {
			ci.id = s.id
			break
		}
	}
	// A container always gets its own mount namespace; markers seen from the
	// host's are leftovers (an image turned into a VM root filesystem keeps
	// its /.dockerenv) or belong to something else.
	if in.ns["mnt"].verdict == sharedV {
		ci.stale, ci.contained, ci.runtime, ci.id = true, false, "", ""
	}
	return ci
}

func containerenvID(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "id="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func (in *inspector) samePIDNSAsInit() bool {
	if in.ns["pid"].ino == 0 {
		return false
	}
	_, p1, err := readNSLink(filepath.Join(in.proc, "1", "ns", "pid"))
	return err == nil && p1 == in.ns["pid"].ino
}

func (in *inspector) checkContainer() []Check {
	c := Check{ID: "container.runtime", Title: "container runtime",
		Why: "a container is the boundary that keeps the agent's commands off the host; without one only the user account and the other checks below separate them"}
	ci := in.ctr
	ev := strings.Join(ci.signals, "; ")
	switch {
	case ci.stale:
		c.Verdict, c.Severity = "not a container", Low
		c.Evidence = "container markers found (" + ev + ") but the mount namespace is the host's, so they are leftovers: " + in.ns["mnt"].evidence
	case ci.contained && ci.runtime == "":
		c.Verdict, c.Severity = "container (runtime not identified)", Info
		c.Evidence = ev
	case ci.contained && ci.weak:
		c.Verdict, c.Severity = "probably "+ci.runtime+" (marker file only)", Info
		c.Evidence = ev + "; no cgroup, mount or environment evidence confirms it"
	case ci.contained:
		c.Verdict, c.Severity = ci.runtime, Info
		if ci.id != "" {
			c.Verdict += " " + shortID(ci.id)
		}
		c.Evidence = ev
	case len(ci.unread) > 0 && len(ci.signals) == 0:
		c.Verdict, c.Severity = unknownV, Info
		c.Evidence = "no container evidence in what could be read, but: " + strings.Join(ci.unread, "; ")
	default:
		c.Verdict, c.Severity = "not a container", Low
		c.Evidence = fmt.Sprintf("no runtime in %s, no runtime bind mounts or overlay root in %s, no container= or KUBERNETES_SERVICE_HOST in %s, no /.dockerenv, /run/.containerenv or /run/systemd/container",
			in.procPath("cgroup"), in.procPath("mountinfo"), in.procPath("environ"))
	}
	if len(ci.unread) > 0 && c.Verdict != unknownV {
		c.Evidence += "; could not read: " + strings.Join(ci.unread, "; ")
	}
	return []Check{c}
}
