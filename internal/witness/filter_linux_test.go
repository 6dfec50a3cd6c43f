//go:build linux

package witness

import (
	"encoding/binary"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// connectorMsg builds one connector message as the kernel sends it: nlmsghdr,
// cn_msg, proc_event with what and the first words of event_data.
func connectorMsg(nlType uint16, what uint32, data ...uint32) []byte {
	const evLen = evHdrLen + 24 // the union is at least this long
	b := make([]byte, nlHdrLen+cnHdrLen+evLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], nlType)
	ne.PutUint32(b[nlHdrLen+0:], cnIdxProc)
	ne.PutUint32(b[nlHdrLen+4:], cnValProc)
	ne.PutUint16(b[nlHdrLen+16:], evLen)
	ne.PutUint32(b[offWhat:], what)
	for i, v := range data {
		ne.PutUint32(b[offEvData+4*i:], v)
	}
	return b
}

// TestFilterProgram runs the socket filter in the kernel: forged messages of
// every kind are sent to a filtered socket, and only those the witness uses
// come out.
func TestFilterProgram(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("sending to another netlink connector socket needs CAP_NET_ADMIN")
	}
	open := func(filter bool) (int, uint32) {
		fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_CONNECTOR)
		if err != nil {
			t.Skipf("no netlink connector: %v", err)
		}
		t.Cleanup(func() { syscall.Close(fd) })
		if filter {
			if err := attachFilter(fd); err != nil {
				t.Fatalf("attachFilter: %v", err)
			}
		}
		if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			t.Fatal(err)
		}
		sa, err := syscall.Getsockname(fd)
		if err != nil {
			t.Fatal(err)
		}
		return fd, sa.(*syscall.SockaddrNetlink).Pid
	}
	dst, port := open(true)
	src, _ := open(false)

	const done = syscall.NLMSG_DONE
	marker := make([]byte, nlHdrLen+16)
	binary.NativeEndian.PutUint32(marker[0:], uint32(len(marker)))
	binary.NativeEndian.PutUint16(marker[4:], markerType)
	short := connectorMsg(done, evExec, 42, 42)[:minEvLen-1]
	binary.NativeEndian.PutUint32(short[0:], uint32(len(short)))
	cases := []struct {
		name string
		msg  []byte
		pass bool
	}{
		{"exec", connectorMsg(done, evExec, 42, 42), true},
		{"exit of a process", connectorMsg(done, evExit, 42, 42, 3<<8), true},
		{"exit of a thread", connectorMsg(done, evExit, 43, 42, 0), false},
		{"ack", connectorMsg(done, evNone, 0), true},
		{"marker", marker, true},
		{"fork of a process", connectorMsg(done, evFork, 1, 1, 42, 42), true},
		{"fork of a thread", connectorMsg(done, evFork, 42, 42, 43, 42), false},
		{"uid", connectorMsg(done, 0x4, 42, 42), false},
		{"sid", connectorMsg(done, 0x80, 42, 42), false},
		{"ptrace", connectorMsg(done, 0x100, 42, 42), false},
		{"comm", connectorMsg(done, 0x200, 42, 42), false},
		{"coredump", connectorMsg(done, 0x40000000, 42, 42), false},
		{"other netlink type", connectorMsg(0x20, evExec, 42, 42), false},
		{"too short", short, false},
	}
	buf := make([]byte, 4096)
	for _, c := range cases {
		if err := syscall.Sendto(src, c.msg, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Pid: port}); err != nil {
			t.Fatalf("%s: send: %v", c.name, err)
		}
		n, _, err := syscall.Recvfrom(dst, buf, syscall.MSG_DONTWAIT)
		switch {
		case c.pass && err != nil:
			t.Errorf("%s: dropped by the filter (%v); want passed", c.name, err)
		case c.pass && n != len(c.msg):
			t.Errorf("%s: %d bytes passed; want all %d", c.name, n, len(c.msg))
		case !c.pass && err == nil:
			t.Errorf("%s: passed the filter; want dropped", c.name)
		case !c.pass && err != syscall.EAGAIN:
			t.Errorf("%s: %v; want EAGAIN", c.name, err)
		}
	}
	// The filter drops in the kernel before queueing: nothing counts as a
	// receive-buffer drop.
	if d, ok := socketDrops(dst); !ok || d != 0 {
		t.Errorf("socket drops = %d (ok %v); want 0", d, ok)
	}
}

// threadsMain is a child that starts and ends n threads, then exits 5.
func threadsMain(arg string) int {
	n, _ := strconv.Atoi(arg)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
			time.Sleep(time.Millisecond)
		})
	}
	wg.Wait()
	time.Sleep(20 * time.Millisecond)
	return 5
}

// TestFilterLive: with the filter attached, a process that starts and ends
// threads is matched with its exit code and parent, none of its thread forks
// or exits reaches the reader, and Match's flush marker still passes.
func TestFilterLive(t *testing.T) {
	t.Parallel()
	w := startWitness(t, Config{})
	dir := t.TempDir()
	const threads = 40
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), "CLAWTRAIL_WITNESS_THREADS="+strconv.Itoa(threads))
	c.Dir = dir
	from := time.Now()
	err := c.Run()
	to := time.Now()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 5 {
		t.Fatalf("thread child: %v; want exit 5", err)
	}
	ready := time.Now()
	if !w.flush(ready.UnixNano(), ready.Add(catchUpWait)) {
		t.Fatal("flush marker did not come back through the filter")
	}
	// The child's own argv: the test binary and -test.run=^$.
	got := w.Match(os.Args[0]+" -test.run=^$", dir, from, to)
	if got.Status != statusMatched || got.PID != c.Process.Pid || got.ExitCode == nil || *got.ExitCode != 5 {
		t.Errorf("Match(thread child) = %+v (exit %s); want pid %d exit 5", got, ptrStr(got.ExitCode), c.Process.Pid)
	}
	if got.PPID != os.Getpid() {
		t.Errorf("PPID = %d; want %d", got.PPID, os.Getpid())
	}
	st := w.Stats()
	if u := w.unused.Load(); u != 0 {
		t.Errorf("%d unused events (forks, thread exits) reached the reader; want 0 with the filter", u)
	}
	// Per process: a fork, one exec or more, an exit. The child alone started
	// and ended `threads` threads (and the Go runtime its own).
	if st.Received > 3*st.Exits+st.Execs+10 {
		t.Errorf("received %d events for %d execs and %d exits; want at most a fork, the execs and an exit per process", st.Received, st.Execs, st.Exits)
	}
	if st.Late != 0 {
		t.Errorf("Late = %d; want 0", st.Late)
	}
}
