package isolation

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	id1 = "3f2a9c0e5b7d4e1f8a6b2c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"
	id2 = "9b8a7c6d5e4f30211203f4e5d6c7b8a90a1b2c3d4e5f60718293a4b5c6d7e8f9"
)

func TestRuntimeFromCgroup(t *testing.T) {
	tests := []struct {
		name, in, runtime, id string
	}{
		{"docker v1 cgroupfs", "12:memory:/docker/" + id1 + "\n11:pids:/docker/" + id1 + "\n0::/system.slice/containerd.service\n", "docker", id1},
		{"docker v2 systemd", "0::/system.slice/docker-" + id1 + ".scope\n", "docker", id1},
		{"docker v2 private cgroupns", "0::/\n", "", ""},
		{"podman v2 rootless", "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id1 + ".scope/container\n", "podman", id1},
		{"podman v1 cgroupfs", "4:memory:/libpod_parent/libpod-" + id1 + "\n", "podman", id1},
		{"kubernetes v1 docker", "11:cpuset:/kubepods/burstable/pod0a1b2c3d-1111-2222-3333-444455556666/" + id1 + "\n", "kubernetes", id1},
		{"kubernetes v2 containerd", "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_1111_2222_3333_444455556666.slice/cri-containerd-" + id1 + ".scope\n", "kubernetes", id1},
		{"kubernetes v2 cri-o", "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podx.slice/crio-" + id1 + ".scope\n", "kubernetes", id1},
		{"kubernetes beats docker on another line", "5:devices:/docker/" + id2 + "\n4:memory:/kubepods/pod1/" + id1 + "\n", "kubernetes", id1},
		{"containerd nerdctl", "0::/system.slice/nerdctl-" + id1 + ".scope\n", "containerd", id1},
		{"lxc v2", "0::/lxc.payload.web1/init.scope\n", "lxc", "web1"},
		{"lxc v1", "3:cpu:/lxc/web1\n", "lxc", "web1"},
		{"systemd-nspawn", "0::/machine.slice/systemd-nspawn@box.service/payload\n", "systemd-nspawn", "box"},
		{"host systemd session", "0::/user.slice/user-1000.slice/session-2.scope\n", "", ""},
		{"host docker daemon itself", "0::/system.slice/docker.service\n", "", ""},
		{"host init v1", "9:name=systemd:/\n4:memory:/process_api/1efc24c3\n0::/\n", "", ""},
		{"garbage", "no colons here\n::\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, id, _ := runtimeFromCgroup(tt.in)
			if rt != tt.runtime || id != tt.id {
				t.Errorf("runtimeFromCgroup = %q %q, want %q %q", rt, id, tt.runtime, tt.id)
			}
		})
	}
}

// Mount tables as the runtimes write them (shortened to the lines that matter).
var (
	dockerDefault = `1180 1046 0:71 / / rw,relatime master:9 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/ABC:/var/lib/docker/overlay2/l/DEF,upperdir=/var/lib/docker/overlay2/0c1d/diff,workdir=/var/lib/docker/overlay2/0c1d/work
1181 1180 0:74 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1182 1180 0:75 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
1183 1182 0:76 / /dev/pts rw,nosuid,noexec,relatime - devpts devpts rw,gid=5,mode=620,ptmxmode=666
1184 1180 0:77 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
1185 1184 0:30 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw,nsdelegate
1186 1182 0:73 / /dev/mqueue rw,nosuid,nodev,noexec,relatime - mqueue mqueue rw
1187 1182 0:78 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k
1188 1180 8:1 /var/lib/docker/containers/` + id1 + `/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/sda1 rw
1189 1180 8:1 /var/lib/docker/containers/` + id1 + `/hostname /etc/hostname rw,relatime - ext4 /dev/sda1 rw
1190 1180 8:1 /var/lib/docker/containers/` + id1 + `/hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
1047 1181 0:74 /bus /proc/bus ro,nosuid,nodev,noexec,relatime - proc proc rw
1048 1181 0:74 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
1049 1181 0:74 /sysrq-trigger /proc/sysrq-trigger ro,nosuid,nodev,noexec,relatime - proc proc rw
1050 1181 0:79 / /proc/acpi ro,relatime - tmpfs tmpfs ro
1051 1181 0:75 /null /proc/kcore rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
1052 1184 0:80 / /sys/firmware ro,relatime - tmpfs tmpfs ro
`
	// --privileged -v /:/host -v /etc:/hostetc -v /var/run/docker.sock:/var/run/docker.sock -v data:/data -v /home/ana/agent/work:/work
	dockerPrivileged = `2180 2046 0:91 / / rw,relatime - overlay overlay rw,upperdir=/var/lib/docker/overlay2/9e/diff,workdir=/var/lib/docker/overlay2/9e/work
2181 2180 0:94 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
2182 2180 0:95 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
2184 2180 0:97 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
2185 2184 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw
2186 2180 8:1 / /host rw,relatime - ext4 /dev/sda1 rw
2187 2180 8:1 /etc /hostetc rw,relatime - ext4 /dev/sda1 rw
2188 2180 0:25 /docker.sock /run/docker.sock rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=1604k,mode=755
2189 2180 8:1 /var/lib/docker/volumes/data/_data /data rw,relatime - ext4 /dev/sda1 rw
2190 2180 8:1 /home/ana/agent/work /work rw,relatime - ext4 /dev/sda1 rw
2191 2180 8:1 /home/ana/agent/state /state ro,relatime - ext4 /dev/sda1 rw
2192 2180 8:1 /var/lib/docker/containers/` + id2 + `/hosts /etc/hosts rw,relatime - ext4 /dev/sda1 rw
`
	kubernetesPod = `3001 2900 0:300 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/41/fs,upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/52/fs,workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/52/work
3002 3001 0:301 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
3003 3001 0:302 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
3004 3001 259:1 /var/lib/kubelet/pods/0a1b2c3d-1111-2222-3333-444455556666/etc-hosts /etc/hosts rw,relatime - ext4 /dev/nvme0n1p1 rw
3005 3001 259:1 /var/lib/kubelet/pods/0a1b2c3d-1111-2222-3333-444455556666/containers/agent/5c1e2f3a /dev/termination-log rw,relatime - ext4 /dev/nvme0n1p1 rw
3006 3001 259:1 /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/` + id2 + `/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p1 rw
3007 3001 0:310 / /var/run/secrets/kubernetes.io/serviceaccount ro,relatime - tmpfs tmpfs rw,size=4k
3008 3001 259:1 /var/lib/kubelet/pods/0a1b2c3d-1111-2222-3333-444455556666/volumes/kubernetes.io~empty-dir/work /work rw,relatime - ext4 /dev/nvme0n1p1 rw
3009 3002 0:301 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
`
	podmanRootless = `400 380 0:40 / / rw,relatime - fuse.fuse-overlayfs fuse-overlayfs rw,user_id=0,group_id=0,default_permissions,allow_other
401 400 0:41 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
402 400 0:42 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
403 400 0:43 /containers/overlay-containers/` + id1 + `/userdata/hostname /etc/hostname rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=814284k,mode=700,uid=1000,gid=1000
404 400 0:43 /containers/overlay-containers/` + id1 + `/userdata/.containerenv /run/.containerenv rw,nosuid,nodev,relatime - tmpfs tmpfs rw,size=814284k,mode=700
405 401 0:41 /sys /proc/sys ro,nosuid,nodev,noexec,relatime - proc proc rw
`
)

func TestParseMountinfo(t *testing.T) {
	in := "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue\n" +
		"37 35 0:40 /with\\040space /a\\011tab\\134back rw - tmpfs none rw\n" +
		"38 35 0:41 / /nooptional ro - proc proc\n" +
		"short line\n" +
		"x 35 0:41 / /badid rw - proc proc rw\n"
	got := parseMountinfo(in)
	want := []mountEntry{
		{id: 36, parent: 35, dev: "98:0", root: "/mnt1", point: "/mnt2", opts: []string{"rw", "noatime"}, fstype: "ext3", source: "/dev/root", super: []string{"rw", "errors=continue"}},
		{id: 37, parent: 35, dev: "0:40", root: "/with space", point: "/a\ttab\\back", opts: []string{"rw"}, fstype: "tmpfs", source: "none", super: []string{"rw"}},
		{id: 38, parent: 35, dev: "0:41", root: "/", point: "/nooptional", opts: []string{"ro"}, fstype: "proc", source: "proc"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseMountinfo:\n got %+v\nwant %+v", got, want)
	}
	if !got[2].readOnly() || got[0].readOnly() {
		t.Errorf("readOnly wrong: %v %v", got[2].readOnly(), got[0].readOnly())
	}
	if m, ok := mountFor(got, "/mnt2/x/y"); !ok || m.id != 36 {
		t.Errorf("mountFor(/mnt2/x/y) = %v %v", m.id, ok)
	}
	if _, ok := mountFor(got, "/mnt22"); ok {
		t.Errorf("mountFor matched a sibling with a common prefix")
	}
}

func TestRuntimeFromMounts(t *testing.T) {
	best := func(sigs []signal) (string, string) {
		rt, id := "", ""
		for _, s := range sigs {
			if s.strong && runtimeRank[s.runtime] > runtimeRank[rt] {
				rt = s.runtime
			}
			if s.id != "" && id == "" {
				id = s.id
			}
		}
		return rt, id
	}
	tests := []struct{ name, table, runtime, id string }{
		{"docker", dockerDefault, "docker", id1},
		{"kubernetes", kubernetesPod, "kubernetes", ""},
		{"podman", podmanRootless, "podman", id1},
		{"host", "26 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, id := best(runtimeFromMounts(parseMountinfo(tt.table)))
			if rt != tt.runtime || id != tt.id {
				t.Errorf("got %q %q, want %q %q", rt, id, tt.runtime, tt.id)
			}
		})
	}
}

func TestClassifyMounts(t *testing.T) {
	rootFS := func(p string) bool { return p == "/host" }
	type f struct {
		sev  Severity
		text string
	}
	tests := []struct {
		name  string
		table string
		want  []f
	}{
		{"docker default", dockerDefault, nil},
		{"kubernetes pod", kubernetesPod, []f{{Low, "volume /var/lib/kubelet/pods/0a1b2c3d-1111-2222-3333-444455556666/volumes/kubernetes.io~empty-dir/work rw at /work"}}},
		{"podman rootless", podmanRootless, nil},
		{"docker privileged with host mounts", dockerPrivileged, []f{
			{High, "/proc/sys writable (kernel settings of the host)"},
			{High, "sysfs rw at /sys"},
			{High, "a whole root filesystem (/dev/sda1) rw at /host"},
			{High, "host /etc rw at /hostetc"},
			{Low, "volume /var/lib/docker/volumes/data/_data rw at /data"},
			{Low, "host path /home/ana/agent/work rw at /work"},
			{Medium, "cgroup filesystem rw at /sys/fs/cgroup"},
		}},
		{"whole data disk is not a root fs", "1 0 8:17 / /data rw - xfs /dev/sdb1 rw\n", []f{{Low, "whole filesystem /dev/sdb1 rw at /data"}}},
		{"host home and run", "1 0 8:1 /home/ana /h rw - ext4 /dev/sda1 rw\n2 0 8:1 /run /r rw - ext4 /dev/sda1 rw\n3 0 8:1 /etc/hosts /etc/hosts rw - ext4 /dev/sda1 rw\n",
			[]f{{High, "host /home/ana rw at /h"}, {High, "host /run rw at /r"}, {High, "host /etc/hosts rw at /etc/hosts"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []f
			for _, x := range classifyMounts(parseMountinfo(tt.table), rootFS) {
				got = append(got, f{x.sev, x.text})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("classifyMounts:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	in := "Name:\tnode\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n" +
		"Groups:\t1000 999 \nNSpid:\t4242\t7\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n" +
		"CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n"
	st, err := parseStatus(in)
	if err != nil {
		t.Fatal(err)
	}
	if st.uid != [4]int64{1000, 1000, 1000, 1000} || !reflect.DeepEqual(st.groups, []int64{1000, 999}) ||
		st.capEff != 0xa80425fb || st.seccomp != 2 || st.seccompFilters != 1 || st.nnp != 1 || st.name != "node" {
		t.Errorf("parseStatus = %+v", st)
	}
	if got := decodeCaps(st.capEff); len(got) != 14 || got[0] != "CAP_CHOWN" || got[13] != "CAP_SETFCAP" {
		t.Errorf("decodeCaps(docker default) = %v", got)
	}
	if st.capEff&^dockerDefaultCaps != 0 {
		t.Errorf("Docker's default set is not within dockerDefaultCaps")
	}

	old, err := parseStatus("Name:\tx\nUid:\t0\t0\t0\t0\n")
	if err != nil || old.seccomp != -1 || old.nnp != -1 || old.haveCapEff {
		t.Errorf("absent fields must read as absent: %+v, %v", old, err)
	}
	for _, bad := range []string{"", "Uid:\t0 0\n", "Uid:\ta b c d\n"} {
		if _, err := parseStatus(bad); err == nil {
			t.Errorf("parseStatus(%q) accepted", bad)
		}
	}
}

func TestIDMap(t *testing.T) {
	m := parseIDMap("         0     100000      65536\n     65536  200000 10\nbad line\n")
	for in, want := range map[uint64]uint64{0: 100000, 1000: 101000, 65536: 200000} {
		if got, ok := mapID(m, in); !ok || got != want {
			t.Errorf("mapID(%d) = %d %v, want %d", in, got, ok, want)
		}
	}
	if _, ok := mapID(m, 70000); ok {
		t.Error("unmapped id reported as mapped")
	}
	host := parseIDMap("         0          0 4294967295\n")
	if got, ok := mapID(host, 0); !ok || got != 0 {
		t.Errorf("identity map: %d %v", got, ok)
	}
}

func TestParseTCPListeners(t *testing.T) {
	tcp := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1116 1 000000002192385c 100 0 0 10 0
   1: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0
   2: 020200C0:BC28 507100CB:01BB 01 00000000:00000000 03:00000378 00000000     0        0 0 3 00000000b0eaaa27
`
	tcp6 := `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 3333 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF000000000000:0051 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 5555 1 0000000000000000 100 0 0 10 0
`
	got := append(parseTCPListeners(tcp), parseTCPListeners(tcp6)...)
	want := []listener{{"0.0.0.0", 2024, 1116}, {"::", 8080, 3333}, {"::ffff:0.0.0.0", 81, 5555}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestResolveIn(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"run", "var", "data/real"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "run", "docker.sock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"var/run":   "/run", // absolute: must stay inside root
		"data/link": "../data/real",
		"loop":      "/loop",
	}
	for from, to := range links {
		if err := os.Symlink(to, filepath.Join(root, from)); err != nil {
			t.Fatal(err)
		}
	}
	inside, outside, err := resolveIn(root, "/var/run/docker.sock")
	if err != nil || inside != "/run/docker.sock" || outside != filepath.Join(root, "run", "docker.sock") {
		t.Errorf("resolveIn(/var/run/docker.sock) = %q %q %v", inside, outside, err)
	}
	if inside, _, err := resolveIn(root, "/data/link/../link/./"); err != nil || inside != "/data/real" {
		t.Errorf("resolveIn(relative link) = %q %v", inside, err)
	}
	if inside, _, err := resolveIn(root, "/../../run"); err != nil || inside != "/run" {
		t.Errorf("resolveIn must not climb out of root: %q %v", inside, err)
	}
	if _, _, err := resolveIn(root, "/loop/x"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("symlink loop: %v", err)
	}
	if _, _, err := resolveIn(root, "/missing/x"); !os.IsNotExist(err) {
		t.Errorf("missing path: %v", err)
	}
	if _, _, err := resolveIn(root, "relative"); err == nil {
		t.Error("relative path accepted")
	}
}

func TestKernelRelease(t *testing.T) {
	for in, want := range map[string][2]int{"6.18.44-fc-v782\n": {6, 18}, "5.15.0-105-generic": {5, 15}, "4.9": {4, 9}, "garbage": {0, 0}, "": {0, 0}} {
		if maj, min := parseKernelRelease(in); maj != want[0] || min != want[1] {
			t.Errorf("parseKernelRelease(%q) = %d.%d, want %d.%d", in, maj, min, want[0], want[1])
		}
	}
	in := &inspector{kernelMajor: 6, kernelMinor: 17}
	net := nsKinds[2]
	if net.name != "net" || in.fixedKnown(net, 4026532000) || !in.fixedKnown(net, net.initIno) {
		t.Errorf("6.17: the initial net inode is not fixed, but seeing it proves the kernel fixes it")
	}
	in.kernelMinor = 18
	if !in.fixedKnown(net, 4026532000) {
		t.Errorf("6.18 fixes the initial net inode")
	}
}

func TestLabels(t *testing.T) {
	if got := runtimeFromEnv(map[string]string{"container": "podman", "KUBERNETES_SERVICE_HOST": "10.0.0.1"}, "env"); len(got) != 2 || got[0].runtime != "podman" || got[1].runtime != "kubernetes" {
		t.Errorf("runtimeFromEnv = %+v", got)
	}
	if got := containerenvID("engine=\"podman-4.9.3\"\nname=\"web\"\nid=\"" + id1 + "\"\n"); got != id1 {
		t.Errorf("containerenvID = %q", got)
	}
	if env := parseEnviron([]byte("A=1\x00B=x=y\x00\x00=bad\x00")); env["A"] != "1" || env["B"] != "x=y" || len(env) != 2 {
		t.Errorf("parseEnviron = %v", env)
	}
}

// FuzzParsers holds the parsers to the package's promise: odd /proc content
// costs a verdict, never a panic.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{dockerDefault, kubernetesPod, "0::/docker/" + id1, "Uid:\t0\t0\t0\t0\nCapEff:\tffffffffffffffff\n", "\\", "\\0", "1 2 3 4 5 6 - a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms := parseMountinfo(s)
		classifyMounts(ms, func(string) bool { return true })
		runtimeFromMounts(ms)
		runtimeFromCgroup(s)
		parseStatus(s)
		parseIDMap(s)
		parseTCPListeners(s)
		parseEnviron([]byte(s))
		parseKernelRelease(s)
		containerenvID(s)
		unescapeMount(s)
	})
}

// fakeInspector builds an inspector over a scratch directory holding only the
// files a verdict reads, to pin down the severity rules without a container.
func fakeInspector(t *testing.T, files map[string]string) *inspector {
	t.Helper()
	proc := t.TempDir()
	for name, body := range files {
		p := filepath.Join(proc, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return &inspector{proc: proc, dir: filepath.Join(proc, "42"), ns: map[string]nsState{}}
}

func TestCapsVerdicts(t *testing.T) {
	full := uint64(1)<<41 - 1
	tests := []struct {
		name      string
		eff       uint64
		contained bool
		userns    string
		verdict   string
		sev       Severity
	}{
		{"privileged container", full, true, sharedV, "full capability set (privileged)", Critical},
		{"root on the host", full, false, sharedV, "full capability set (privileged)", High},
		{"rootless full set", full, true, isolatedV, "full capability set (privileged)", Medium},
		{"docker default", dockerDefaultCaps, true, sharedV, "14 capabilities, within Docker's default set", Low},
		{"cap-add SYS_ADMIN", dockerDefaultCaps | 1<<21, true, sharedV, "15 capabilities, including CAP_SYS_ADMIN", High},
		{"cap-add SYS_TIME", dockerDefaultCaps | 1<<25, true, sharedV, "15 capabilities, beyond Docker's default: CAP_SYS_TIME", Medium},
		{"none", 0, true, sharedV, "none", Info},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fakeInspector(t, map[string]string{"sys/kernel/cap_last_cap": "40\n"})
			in.st = &procStatus{capEff: tt.eff, haveCapEff: true}
			in.ctr.contained = tt.contained
			in.ns["user"] = nsState{verdict: tt.userns}
			c := in.checkCaps()[0]
			if c.Verdict != tt.verdict || c.Severity != tt.sev {
				t.Errorf("got %q/%v, want %q/%v (%s)", c.Verdict, c.Severity, tt.verdict, tt.sev, c.Evidence)
			}
		})
	}
}

func TestRootVerdicts(t *testing.T) {
	tests := []struct {
		name    string
		uid     [4]int64
		userns  string
		uidMap  string
		verdict string
		sev     Severity
	}{
		{"host root", [4]int64{0, 0, 0, 0}, sharedV, "", "root", High},
		{"remapped root", [4]int64{0, 0, 0, 0}, isolatedV, "0 100000 65536\n", "root in a user namespace (uid 100000 outside)", Low},
		{"root mapped to root", [4]int64{0, 0, 0, 0}, isolatedV, "0 0 1\n", "root (its user namespace maps uid 0 to root)", High},
		{"saved root", [4]int64{1000, 1000, 0, 1000}, sharedV, "", "uid 1000 (real or saved uid 0: can switch back to root)", Medium},
		{"plain user", [4]int64{1000, 1000, 1000, 1000}, sharedV, "", "uid 1000 (not root)", Info},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fakeInspector(t, map[string]string{"42/uid_map": tt.uidMap})
			in.st = &procStatus{uid: tt.uid}
			in.ns["user"] = nsState{verdict: tt.userns}
			c := in.checkRoot()[0]
			if c.Verdict != tt.verdict || c.Severity != tt.sev {
				t.Errorf("got %q/%v, want %q/%v (%s)", c.Verdict, c.Severity, tt.verdict, tt.sev, c.Evidence)
			}
		})
	}
}

func TestLSMVerdicts(t *testing.T) {
	tests := []struct {
		name, file, label string
		contained         bool
		verdict           string
		sev               Severity
	}{
		{"apparmor enforce", "42/attr/current", "docker-default (enforce)\n", true, "apparmor docker-default (enforce)", Info},
		{"apparmor stacked path", "42/attr/apparmor/current", "cri-containerd.apparmor.d (enforce)\n", true, "apparmor cri-containerd.apparmor.d (enforce)", Info},
		{"apparmor complain", "42/attr/current", "agent (complain)\n", true, "apparmor agent (complain)", Low},
		{"apparmor unconfined in a container", "42/attr/current", "unconfined\n", true, "apparmor unconfined", Medium},
		{"apparmor unconfined on the host", "42/attr/current", "unconfined\n", false, "apparmor unconfined", Low},
		{"selinux container_t", "42/attr/current", "system_u:system_r:container_t:s0:c12,c34\x00", true, "selinux container_t", Info},
		{"selinux spc_t", "42/attr/current", "system_u:system_r:spc_t:s0\x00", true, "selinux spc_t (unconfined)", Medium},
		{"no LSM", "42/other", "", true, "none", Low},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fakeInspector(t, map[string]string{tt.file: tt.label})
			in.ctr.contained = tt.contained
			c := in.checkLSM()[0]
			if c.Verdict != tt.verdict || c.Severity != tt.sev {
				t.Errorf("got %q/%v, want %q/%v (%s)", c.Verdict, c.Severity, tt.verdict, tt.sev, c.Evidence)
			}
		})
	}
}
