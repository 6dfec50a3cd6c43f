package isolation

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// maxProcFile bounds one read: mountinfo and net/tcp grow with the host, and a
// diagnostic must not be the thing that exhausts memory on a crowded node.
const maxProcFile = 16 << 20

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxProcFile))
}

func (in *inspector) procPath(name string) string { return filepath.Join(in.dir, name) }

func (in *inspector) readProc(name string) ([]byte, error) { return readFile(in.procPath(name)) }

// describeErr says why a file could not be read in terms an operator can act on:
// "permission denied" on /proc/PID is almost always ptrace access rules, not
// file modes.
func describeErr(err error) string {
	switch {
	case errors.Is(err, os.ErrPermission):
		return err.Error() + " (another user's process, or ptrace access refused: run as that user or as root)"
	case errors.Is(err, os.ErrNotExist):
		return err.Error() + " (not provided by this kernel, or the process has exited)"
	case errors.Is(err, syscall.EINVAL):
		return err.Error() + " (the kernel has no handler for it)"
	}
	return err.Error()
}

// procStatus is the part of /proc/PID/status the checks use. Numeric fields a
// kernel may lack are -1 so that "absent" is never read as "disabled".
type procStatus struct {
	name           string
	uid, gid       [4]int64 // real, effective, saved, filesystem
	groups         []int64
	capEff         uint64
	haveCapEff     bool
	seccomp        int
	seccompFilters int
	nnp            int
	raw            map[string]string
}

func parseStatus(s string) (*procStatus, error) {
	st := &procStatus{seccomp: -1, seccompFilters: -1, nnp: -1, raw: map[string]string{}}
	haveUID := false
	for _, line := range strings.Split(s, "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		st.raw[key] = val
		switch key {
		case "Name":
			st.name = val
		case "Uid":
			st.uid, haveUID = parseIDs4(val)
		case "Gid":
			st.gid, _ = parseIDs4(val)
		case "Groups":
			for _, f := range strings.Fields(val) {
				if n, err := strconv.ParseInt(f, 10, 64); err == nil {
					st.groups = append(st.groups, n)
				}
			}
		case "CapEff":
			if v, err := strconv.ParseUint(val, 16, 64); err == nil {
				st.capEff, st.haveCapEff = v, true
			}
		case "Seccomp":
			st.seccomp = atoiOr(val, -1)
		case "Seccomp_filters":
			st.seccompFilters = atoiOr(val, -1)
		case "NoNewPrivs":
			st.nnp = atoiOr(val, -1)
		}
	}
	if !haveUID {
		return nil, errors.New("no parsable Uid line")
	}
	return st, nil
}

func parseIDs4(val string) ([4]int64, bool) {
	var ids [4]int64
	f := strings.Fields(val)
	if len(f) != 4 {
		return ids, false
	}
	for i := range f {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return ids, false
		}
		ids[i] = n
	}
	return ids, true
}

func atoiOr(s string, def int) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return def
	}
	return n
}

// idRange is one line of uid_map: inside the namespace, outside it (as seen
// from the reader's user namespace), and the length of the range.
type idRange struct{ inside, outside, count uint64 }

func parseIDMap(s string) []idRange {
	var out []idRange
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var v [3]uint64
		ok := true
		for i := range f {
			n, err := strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				ok = false
				break
			}
			v[i] = n
		}
		if ok {
			out = append(out, idRange{v[0], v[1], v[2]})
		}
	}
	return out
}

// mapID translates an id inside the namespace to the reader's view.
func mapID(m []idRange, id uint64) (uint64, bool) {
	for _, r := range m {
		if id >= r.inside && id-r.inside < r.count {
			return r.outside + (id - r.inside), true
		}
	}
	return 0, false
}

// mountEntry is one line of /proc/PID/mountinfo (see proc(5)).
type mountEntry struct {
	id, parent int
	dev        string
	root       string // path inside the mounted filesystem that is visible here
	point      string // mount point as the process sees it
	opts       []string
	fstype     string
	source     string
	super      []string
}

func (m mountEntry) readOnly() bool { return hasOpt(m.opts, "ro") || hasOpt(m.super, "ro") }

func hasOpt(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

func superOpt(m mountEntry, key string) string {
	for _, o := range m.super {
		if k, v, ok := strings.Cut(o, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// parseMountinfo skips lines it cannot parse rather than failing: one odd
// line (a new optional field, a mount point with unusual escapes) must not hide
// every other mount.
func parseMountinfo(s string) []mountEntry {
	var out []mountEntry
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+3 {
			continue
		}
		id, err1 := strconv.Atoi(f[0])
		parent, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			continue
		}
		m := mountEntry{
			id: id, parent: parent, dev: f[2],
			root:   unescapeMount(f[3]),
			point:  unescapeMount(f[4]),
			opts:   strings.Split(f[5], ","),
			fstype: f[sep+1],
			source: unescapeMount(f[sep+2]),
		}
		if len(f) > sep+3 {
			m.super = strings.Split(f[sep+3], ",")
		}
		out = append(out, m)
	}
	return out
}

// unescapeMount undoes the kernel's octal escapes (\040 for space, \011, \012,
// \134) in mountinfo paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountFor returns the mount a path (as the process sees it) lives on: the
// longest mount point that is a prefix, and the later of two equal ones,
// because mountinfo lists a mount stacked on top after the one it hides.
func mountFor(mounts []mountEntry, p string) (mountEntry, bool) {
	best, found := mountEntry{}, false
	for _, m := range mounts {
		if !pathUnder(p, m.point) {
			continue
		}
		if !found || len(m.point) >= len(best.point) {
			best, found = m, true
		}
	}
	return best, found
}

// pathUnder reports whether p is dir or inside it.
func pathUnder(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

func parseEnviron(b []byte) map[string]string {
	env := map[string]string{}
	for _, kv := range strings.Split(string(b), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			env[k] = v
		}
	}
	return env
}

// listener is a TCP socket in LISTEN state.
type listener struct {
	addr  string // as printed: 0.0.0.0 or ::
	port  int
	inode uint64
}

// parseTCPListeners returns the sockets of /proc/PID/net/tcp or tcp6 that
// listen on the unspecified address (every interface).
func parseTCPListeners(s string) []listener {
	var out []listener
	for i, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 10 || f[3] != "0A" {
			continue
		}
		hexAddr, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if err != nil {
			continue
		}
		var addr string
		switch strings.ToUpper(hexAddr) {
		case "00000000":
			addr = "0.0.0.0"
		case "00000000000000000000000000000000":
			addr = "::"
		case "0000000000000000FFFF000000000000":
			// ::ffff:0.0.0.0, what an IPv4-mapped wildcard bind looks like in tcp6.
			addr = "::ffff:0.0.0.0"
		default:
			continue
		}
		inode, _ := strconv.ParseUint(f[9], 10, 64)
		out = append(out, listener{addr: addr, port: int(port), inode: inode})
	}
	return out
}

// readNSLink returns the link text ("net:[4026531833]") and the inode.
func readNSLink(p string) (string, uint64, error) {
	raw, err := os.Readlink(p)
	if err != nil {
		return "", 0, err
	}
	_, rest, ok := strings.Cut(raw, ":[")
	if !ok || !strings.HasSuffix(rest, "]") {
		return raw, 0, fmt.Errorf("%s: unexpected namespace link %q", p, raw)
	}
	ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64)
	if err != nil {
		return raw, 0, fmt.Errorf("%s: unexpected namespace link %q", p, raw)
	}
	return raw, ino, nil
}

// resolveIn resolves p as the process whose filesystem root is reachable at
// root would: symlinks are followed component by component and absolute link
// targets restart at root. Letting the kernel follow them through
// /proc/PID/root would resolve an absolute link such as /var/run -> /run in the
// inspector's own filesystem and check the wrong file. It returns the path as
// the process sees it and the path the inspector can open.
func resolveIn(root, p string) (inside, outside string, err error) {
	if !path.IsAbs(p) {
		return "", "", fmt.Errorf("%q is not an absolute path", p)
	}
	pending := splitPath(p)
	cur := "/"
	for hops := 0; len(pending) > 0; {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			rest := path.Join(append([]string{next}, pending...)...)
			return rest, filepath.Join(root, rest), err
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return next, filepath.Join(root, next), &os.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return next, filepath.Join(root, next), err
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		pending = append(splitPath(target), pending...)
	}
	return cur, filepath.Join(root, cur), nil
}

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// summarize lists up to n items and counts the rest, so a verdict stays one
// line on a host with hundreds of devices or listeners.
func summarize(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return strings.Join(items[:n], ", ") + fmt.Sprintf(" (+%d more)", len(items)-n)
}
