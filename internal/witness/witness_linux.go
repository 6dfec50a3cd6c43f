//go:build linux

package witness

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Netlink process connector ABI (linux/connector.h, linux/cn_proc.h).
const (
	cnIdxProc = 1 // CN_IDX_PROC
	cnValProc = 1 // CN_VAL_PROC

	mcastListen = 1 // PROC_CN_MCAST_LISTEN
	mcastIgnore = 2 // PROC_CN_MCAST_IGNORE

	evNone = 0x00000000 // PROC_EVENT_NONE: the connector's ack
	evFork = 0x00000001
	evExec = 0x00000002
	evExit = 0x80000000

	// markerType is the netlink message type of our own flush markers (any
	// value above the reserved control types; only we send to our port).
	markerType = 0x7a11

	nlHdrLen = 16 // struct nlmsghdr
	cnHdrLen = 20 // struct cn_msg without data
	evHdrLen = 16 // what, cpu, timestamp_ns of struct proc_event
)

const (
	// rcvBuf is asked for with SO_RCVBUFFORCE (the kernel doubles it): at
	// ~1 KiB of accounting per queued event it absorbs a stall of several
	// thousand events, e.g. a GC pause during an exec storm.
	rcvBuf = 8 << 20
	// maxCmdline caps the command line kept per exec; longer ones keep a
	// prefix and are compared as a prefix.
	maxCmdline = 128 << 10
	// pollTimeout is how long a blocking recv waits before the reader looks at
	// ctx again: it bounds how long a cancelled ctx takes to stop the reader.
	// Close does not wait for it: it wakes the reader with a message.
	pollTimeout = 100 * time.Millisecond
	// readerNice is the reader thread's nice value (needs CAP_SYS_NICE; without
	// it the thread keeps the default).
	readerNice = -10
	// ackTimeout bounds the wait for the connector to confirm the subscription.
	// The kernel ignores subscriptions from outside the initial user and pid
	// namespaces without answering, so silence means "cannot watch".
	ackTimeout = 2 * time.Second
	// lossQuiet is how long without a loss before the loss state is reported over.
	lossQuiet = 5 * time.Second
	// maxCPUs bounds the per-CPU sequence table.
	maxCPUs = 8192
	// forkGen is the size of one generation of the fork table.
	forkGen = 32768
)

// testOptions let tests make the kernel drop events on purpose (a tiny
// receive buffer, a slow reader), so that loss accounting is tested with
// real drops.
type testOptions struct {
	rcvBuf int
}

// NUL-terminated names under /proc/<pid>, prepared once: the reader opens
// them relative to a directory fd for every exec.
var (
	pCmdline = cstr("cmdline")
	pCwd     = cstr("cwd")
	pCgroup  = cstr("cgroup")
	pStat    = cstr("stat")
	pNS      = func() (p [numNS]*byte) {
		for i, n := range nsNames {
			p[i] = cstr("ns/" + n)
		}
		return p
	}()
)

func cstr(s string) *byte {
	p, err := syscall.BytePtrFromString(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Start subscribes to the kernel's process events and keeps a window of execs
// and exits until ctx ends. On error (wrapping ErrUnavailable) it still
// returns a Witness, whose Match reports unavailable.
func Start(ctx context.Context, cfg Config) (*Witness, error) {
	return start(ctx, cfg, testOptions{})
}

func start(ctx context.Context, cfg Config, opt testOptions) (*Witness, error) {
	w := newWitness(cfg)
	ready := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	w.cancel, w.done = cancel, make(chan struct{})
	// The reader subscribes on its own thread, so that the socket, the
	// thread's priority and the subscription all belong to it.
	go run(ctx, w, opt, ready)
	if err := <-ready; err != nil {
		cancel()
		<-w.done
		w.log.Warn("kernel witness unavailable", "err", err)
		return unavailableWitness(cfg, err), err
	}
	return w, nil
}

// reader owns the socket and everything only its goroutine touches.
type reader struct {
	w      *Witness
	fd     int
	portID uint32
	rcvbuf int
	fl     *flusher

	buf    []byte // one netlink datagram
	cmdBuf []byte
	cgBuf  []byte
	lnkBuf []byte

	cpus  []cpuSeq
	forks forkTable
	// comms caches the names of the parents asked about (Config.Runtime only),
	// forgotten when such a process execs or exits.
	comms map[int32]string

	monoOff int64 // wall - monotonic, Unix ns
	calAt   int64 // monotonic time of the last calibration

	ackNonce uint32
	acked    bool
	ackErr   syscall.Errno

	// filtered: the socket filter is attached (filter_linux.go): thread forks
	// and exits and unused kinds never arrive, and the connector's sequence
	// numbers have gaps for them, so losses are counted from the socket's drop counter
	// (drops, its last value) rather than from sequence gaps.
	filtered bool
	drops    uint32
	// congested: the kernel reported an overrun (ENOBUFS) and has been
	// dropping events since about congFrom; it stops once the reader has
	// emptied the queue, which a non-blocking read then shows.
	congested bool
	congFrom  int64
	// lossGen counts loss episodes. A record made before the latest one may
	// have lost its exit event, so its pid may since have been reused.
	lossGen uint32

	// The reader's thread: its id, its nice value before the reader raised
	// its priority, whether that worked, and when the reader last went
	// through the Go scheduler (see maybeYield).
	tid       int
	nice0     int
	prioOK    bool
	lastYield int64

	lossy    bool
	lossAt   int64
	lastWall int64 // wall time of the last event processed

	containers map[string]string // interned container ids
}

type cpuSeq struct {
	next     uint32
	lastWall int64
	seen     bool
}

// run is the reader goroutine. It owns an OS thread for its whole life: the
// race it runs is against the processes it watches — a `sh -c 'exit 3'` is
// gone about a millisecond after its exec — so it blocks in recv on that
// thread (the kernel wakes it directly, not via the runtime's poller) and
// asks for a higher scheduling priority for it. It is locked to its thread
// except for an instant every few ms (maybeYield); it is locked when the
// goroutine ends, so the thread exits with it and the priority dies with it.
func run(ctx context.Context, w *Witness, opt testOptions, ready chan<- error) {
	defer close(w.done)
	runtime.LockOSThread()
	r, err := subscribe(w, opt)
	if err != nil {
		ready <- err
		return
	}
	r.tid = syscall.Gettid()
	// The raw getpriority syscall answers 20-nice.
	if v, err := syscall.Getpriority(syscall.PRIO_PROCESS, r.tid); err == nil {
		r.nice0 = 20 - v
	}
	prio := syscall.Setpriority(syscall.PRIO_PROCESS, r.tid, readerNice)
	r.prioOK = prio == nil
	w.hostNS, w.hostNSOK = readNS("/proc/1")
	if !w.hostNSOK {
		// Some sandboxes hide pid 1 even from root. The subscription only
		// succeeds from the initial pid and user namespaces, so ours are the
		// host's for those two and, almost always, for the rest.
		w.hostNS, w.hostNSOK = readNS("/proc/self")
		w.log.Info("kernel witness: pid 1's namespaces are unreadable; comparing with the witness's own")
	}
	w.log.Info("kernel witness listening", "rcvbuf", r.rcvbuf, "window", w.window, "max_procs", w.maxProcs, "nice", readerNice, "nice_err", prio)
	ready <- nil

	for ctx.Err() == nil {
		flags := 0
		if r.congested {
			flags = syscall.MSG_DONTWAIT // to see when the queue is empty
		}
		n, from, err := r.recv(flags) // blocks for at most pollTimeout
		switch {
		case err == nil && from == 0:
			r.handle(r.buf[:n])
			r.maybeYield()
		case err == nil && from == r.portID:
			r.marker(r.buf[:n])
		case err == nil:
			// Neither the kernel nor us: a forged event from another
			// privileged process. Ignored.
		case err == syscall.ENOBUFS:
			r.overrun()
		case err == syscall.EAGAIN && r.congested:
			// Queue empty: the kernel stopped dropping when the reader took
			// the last message, before now.
			r.congested = false
			r.lossGen++ // records made while congested may have lost their exits too
			r.countDrops()
			now := time.Now().UnixNano()
			r.lossAt = max(r.lossAt, now)
			w.mu.Lock()
			w.lossLocked(r.congFrom, now)
			w.mu.Unlock()
		case err == syscall.EAGAIN || err == syscall.EINTR:
			// Timeout: look at ctx again.
		default:
			w.log.Error("kernel witness stopped: reading the process connector failed", "err", err)
			r.shutdown()
			return
		}
	}
	r.shutdown()
	w.log.Info("kernel witness stopped", "received", w.received.Load(), "lost", w.lost.Load(), "overruns", w.overruns.Load(), "unread", w.unread.Load())
}

// overrun handles the socket's ENOBUFS: the kernel found our receive buffer
// full and dropped events. Unfiltered, the sequence gaps say how many and
// when; until the next event arrives, mark everything since the last one as
// uncertain. Filtered, the socket's drop counter says how many; the kernel
// drops everything from the first overrun until the queue is empty (it is
// marked congested), so the uncertain span runs from the last event read
// before this error until the reader finds the queue empty.
func (r *reader) overrun() {
	w := r.w
	w.overruns.Add(1)
	r.lossGen++
	now := time.Now().UnixNano()
	from := r.lastWall
	if r.filtered {
		if !r.congested {
			r.congested, r.congFrom = true, r.lastWall
		}
		from = r.congFrom
		r.countDrops()
	}
	w.mu.Lock()
	w.lossLocked(from, now)
	w.mu.Unlock()
	r.noteLoss(now, "receive buffer overrun (ENOBUFS)")
}

// yieldEvery is how often a busy reader passes through the Go scheduler:
// under sysmon's 10 ms "running too long" limit (see maybeYield).
const yieldEvery = 4 * time.Millisecond

// maybeYield keeps the Go runtime's sysmon thread from churning. A goroutine
// that never passes through the scheduler looks to sysmon like one running
// too long: after 10 ms it takes the reader's P each time it finds it in
// recvfrom, then polls every 20 µs, and the reader's next return from the
// syscall wakes it from deep sleep — tens of µs of CPU per exec. Passing
// through the scheduler every few ms resets that clock.
//
// A plain runtime.Gosched of a locked goroutine hands the P to another
// (normal-priority) thread which must run to hand it back; on a loaded host
// that round trip delays the reader and more short commands vanish unread.
// Unlocked for the Gosched, the reader is normally picked up again at once by
// the same thread (it is first in the global run queue). It only yields when
// its queue is empty, so no queued exec waits for it. If another thread did
// pick it up, the priority moves with it.
func (r *reader) maybeYield() {
	now := time.Now().UnixNano()
	if now-r.lastYield < int64(yieldEvery) {
		return
	}
	var peek [1]byte
	switch _, _, err := syscall.Recvfrom(r.fd, peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT); err {
	case syscall.EAGAIN: // nothing queued: yield
	case syscall.ENOBUFS:
		// The socket's pending error, and reading it clears it even with
		// MSG_PEEK: handled here, or the loss would go uncounted.
		r.overrun()
		return
	default:
		return // something is queued
	}
	r.lastYield = now
	runtime.UnlockOSThread()
	runtime.Gosched()
	runtime.LockOSThread()
	tid := syscall.Gettid()
	if tid == r.tid {
		return
	}
	if r.prioOK {
		// Hand the priority to the reader's new thread and give the old
		// one, now the runtime's to use for anything, its nice value back.
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, readerNice)
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, r.tid, r.nice0)
	}
	r.tid = tid
}

// flusher lets Match wait until the reader has caught up with the kernel.
// Match sends a marker datagram to our own socket: it is queued behind every
// event already queued, so when the reader reaches it, everything queued
// before it was sent has been processed. It costs nothing per event, only per
// Match, and nothing at all for a window older than the last marker processed.
type flusher struct {
	mu     sync.Mutex // orders markers as they enter the queue; guards fd against close
	fd     int
	portID uint32
	closed bool
	next   uint64

	seen     atomic.Uint64 // highest marker processed
	seenSent atomic.Int64  // when that marker was sent (Unix ns)

	wmu  sync.Mutex
	wake chan struct{} // closed and replaced whenever a marker is processed
}

// flush waits until every event queued before `need` (Unix ns) has been
// processed, or deadline passes.
func (f *flusher) flush(need int64, deadline time.Time) bool {
	if f.seenSent.Load() >= need {
		return true
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return false
	}
	f.next++
	n := f.next
	var b [nlHdrLen + 16]byte
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], markerType)
	ne.PutUint32(b[12:], f.portID)
	ne.PutUint64(b[nlHdrLen:], n)
	ne.PutUint64(b[nlHdrLen+8:], uint64(time.Now().UnixNano()))
	// Non-blocking: with the buffer full (events being dropped) the answer
	// is "cannot tell" anyway.
	err := syscall.Sendto(f.fd, b[:], syscall.MSG_DONTWAIT, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Pid: f.portID})
	f.mu.Unlock()
	if err != nil {
		return false
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		f.wmu.Lock()
		ch := f.wake
		f.wmu.Unlock()
		if f.seen.Load() >= n {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		}
	}
}

// poke wakes the reader (for Close) with a message it ignores.
func (f *flusher) poke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	var b [nlHdrLen]byte
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], markerType)
	_ = syscall.Sendto(f.fd, b[:], syscall.MSG_DONTWAIT, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Pid: f.portID})
}

// marker handles a flush marker sent by flusher.flush.
func (r *reader) marker(b []byte) {
	ne := binary.NativeEndian
	if len(b) < nlHdrLen+16 || ne.Uint16(b[4:]) != markerType {
		return
	}
	f := r.fl
	// Markers reach the queue in nonce order (flush sends under f.mu), so
	// both only grow.
	f.seenSent.Store(int64(ne.Uint64(b[nlHdrLen+8:])))
	f.seen.Store(ne.Uint64(b[nlHdrLen:]))
	f.wmu.Lock()
	close(f.wake)
	f.wake = make(chan struct{})
	f.wmu.Unlock()
}

func subscribe(w *Witness, opt testOptions) (*reader, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_CONNECTOR)
	if err != nil {
		if errors.Is(err, syscall.EPROTONOSUPPORT) || errors.Is(err, syscall.EAFNOSUPPORT) {
			return nil, fmt.Errorf("%w: kernel has no netlink connector (CONFIG_CONNECTOR): %v", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: netlink connector socket: %v", ErrUnavailable, err)
	}
	r := &reader{w: w, fd: fd, buf: make([]byte, 16<<10), cmdBuf: make([]byte, maxCmdline+1), cgBuf: make([]byte, 8<<10),
		lnkBuf: make([]byte, 4096), containers: map[string]string{}}
	r.forks.init()
	r.comms = map[int32]string{}
	size := rcvBuf
	if opt.rcvBuf > 0 {
		size = opt.rcvBuf
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
	} else if syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, size) != nil {
		// Without CAP_NET_ADMIN the force variant fails; the plain one is
		// capped by net.core.rmem_max. (Without it the bind below fails anyway.)
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, size)
	}
	r.rcvbuf, _ = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	// Before bind: no unfiltered event is ever queued.
	if err := attachFilter(fd); err != nil {
		w.log.Warn("kernel witness: cannot attach the socket filter; reading every process event", "err", err)
	} else {
		r.filtered = true
		r.drops, _ = socketDrops(fd)
	}
	tv := syscall.NsecToTimeval(int64(pollTimeout))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("%w: SO_RCVTIMEO: %v", ErrUnavailable, err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, fmt.Errorf("%w: joining the process connector group needs CAP_NET_ADMIN: %v", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: bind process connector: %v", ErrUnavailable, err)
	}
	sa, err := syscall.Getsockname(fd)
	if nl, ok := sa.(*syscall.SockaddrNetlink); err == nil && ok {
		r.portID = nl.Pid
	}
	r.fl = &flusher{fd: fd, portID: r.portID, wake: make(chan struct{})}
	r.calibrate()
	r.ackNonce = uint32(time.Now().UnixNano()) &^ 1
	if err := r.send(mcastListen, r.ackNonce); err != nil {
		syscall.Close(fd)
		if errors.Is(err, syscall.EPERM) {
			return nil, fmt.Errorf("%w: subscribing to process events needs CAP_NET_ADMIN: %v", ErrUnavailable, err)
		}
		return nil, fmt.Errorf("%w: subscribe to process events: %v", ErrUnavailable, err)
	}
	if err := r.waitAck(); err != nil {
		_ = r.send(mcastIgnore, r.ackNonce+2)
		syscall.Close(fd)
		return nil, err
	}
	now := time.Now().UnixNano()
	w.mu.Lock()
	w.started, w.horizon = now, now
	w.mu.Unlock()
	w.flush = r.fl.flush
	w.poke = r.fl.poke
	return r, nil
}

// waitAck reads until the connector acknowledges our subscription. Events
// that arrive first (other listeners may already be subscribed) are kept.
func (r *reader) waitAck() error {
	deadline := time.Now().Add(ackTimeout)
	for !r.acked {
		n, from, err := r.recv(0)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR || err == syscall.ENOBUFS:
			if time.Now().After(deadline) {
				return fmt.Errorf("%w: no answer from the process connector (CONFIG_PROC_EVENTS off, or not in the initial user and pid namespaces)", ErrUnavailable)
			}
			continue
		case err != nil:
			return fmt.Errorf("%w: reading the process connector: %v", ErrUnavailable, err)
		}
		if from == 0 {
			r.handle(r.buf[:n])
		}
	}
	switch r.ackErr {
	case 0:
		return nil
	case syscall.EPERM, syscall.EACCES:
		return fmt.Errorf("%w: subscribing to process events needs CAP_NET_ADMIN: %v", ErrUnavailable, r.ackErr)
	default:
		return fmt.Errorf("%w: process connector refused the subscription: %v", ErrUnavailable, r.ackErr)
	}
}

// send writes one connector control message (LISTEN or IGNORE) to the
// kernel. The connector answers with ack = nonce+1.
func (r *reader) send(op uint32, nonce uint32) error {
	var b [nlHdrLen + cnHdrLen + 4]byte
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], syscall.NLMSG_DONE)
	ne.PutUint32(b[8:], nonce)
	ne.PutUint32(b[nlHdrLen+0:], cnIdxProc)
	ne.PutUint32(b[nlHdrLen+4:], cnValProc)
	ne.PutUint32(b[nlHdrLen+8:], nonce)
	ne.PutUint32(b[nlHdrLen+12:], nonce)
	ne.PutUint16(b[nlHdrLen+16:], 4)
	ne.PutUint32(b[nlHdrLen+cnHdrLen:], op)
	return syscall.Sendto(r.fd, b[:], 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK})
}

// recv reads one datagram into r.buf and says who sent it: the kernel is
// port 0.
func (r *reader) recv(flags int) (n int, from uint32, err error) {
	n, sa, err := syscall.Recvfrom(r.fd, r.buf, flags)
	if err != nil {
		return 0, 0, err
	}
	nl, ok := sa.(*syscall.SockaddrNetlink)
	if !ok {
		return 0, ^uint32(0), nil
	}
	return n, nl.Pid, nil
}

// shutdown unsubscribes and closes. IGNORE matters: on kernels that count
// listeners per subscription rather than per socket, a socket closed while
// still subscribed leaves the kernel generating events for nobody.
func (r *reader) shutdown() {
	_ = r.send(mcastIgnore, r.ackNonce+2)
	r.fl.mu.Lock()
	r.fl.closed = true
	syscall.Close(r.fd)
	r.fl.mu.Unlock()
	now := time.Now().UnixNano()
	r.w.mu.Lock()
	r.w.stopped = now
	r.w.mu.Unlock()
}

// handle parses one datagram: one or more netlink messages, each a connector
// message carrying one proc_event.
func (r *reader) handle(b []byte) {
	ne := binary.NativeEndian
	for len(b) >= nlHdrLen {
		l := int(ne.Uint32(b[0:]))
		if l < nlHdrLen || l > len(b) {
			return
		}
		m := b[:l]
		b = b[min((l+3)&^3, len(b)):]
		if ne.Uint16(m[4:]) != syscall.NLMSG_DONE || len(m) < nlHdrLen+cnHdrLen {
			continue
		}
		cn := m[nlHdrLen:]
		if ne.Uint32(cn[0:]) != cnIdxProc || ne.Uint32(cn[4:]) != cnValProc {
			continue
		}
		seq, ack, dlen := ne.Uint32(cn[8:]), ne.Uint32(cn[12:]), int(ne.Uint16(cn[16:]))
		data := cn[cnHdrLen:]
		if dlen > len(data) || dlen < evHdrLen {
			continue
		}
		r.event(seq, ack, data[:dlen])
	}
}

func (r *reader) event(seq, ack uint32, ev []byte) {
	ne := binary.NativeEndian
	w := r.w
	what, cpu, ts := ne.Uint32(ev[0:]), ne.Uint32(ev[4:]), ne.Uint64(ev[8:])
	body := ev[evHdrLen:]
	if what == evNone {
		// An ack. Acks are broadcast to every listener; ours echoes our nonce
		// plus one. Recent kernels number acks like events (on a real CPU);
		// older ones send cpu -1, which checkSeq skips.
		if !r.acked && ack == r.ackNonce+1 && len(body) >= 4 {
			r.acked, r.ackErr = true, syscall.Errno(ne.Uint32(body))
		}
		if !r.filtered {
			r.checkSeq(cpu, seq, r.wall(ts))
		}
		return
	}
	if d := w.testDelay.Load(); d > 0 {
		time.Sleep(time.Duration(d))
	}
	w.received.Add(1)
	wall := r.wall(ts)
	r.lastWall = wall
	if !r.filtered {
		r.checkSeq(cpu, seq, wall)
	}
	switch what {
	case evFork:
		if len(body) < 16 {
			return
		}
		ptgid, cpid, ctgid := int32(ne.Uint32(body[4:])), int32(ne.Uint32(body[8:])), int32(ne.Uint32(body[12:]))
		if cpid != ctgid {
			w.unused.Add(1)
			return // a new thread, not a process
		}
		r.forks.put(ctgid, ptgid)
		// A fork starts a new life for this pid: if its previous exit was lost,
		// the old record must not be extended by the new process's exec.
		w.mu.Lock()
		delete(w.live, ctgid)
		w.mu.Unlock()
	case evExec:
		if len(body) < 8 {
			return
		}
		r.exec(int32(ne.Uint32(body[4:])), wall)
	case evExit:
		if len(body) < 12 {
			return
		}
		pid, tgid, status := int32(ne.Uint32(body[0:])), int32(ne.Uint32(body[4:])), ne.Uint32(body[8:])
		if pid != tgid {
			w.unused.Add(1)
			return // a thread
		}
		w.exits.Add(1)
		r.forks.del(tgid)
		delete(r.comms, tgid)
		w.mu.Lock()
		if p := w.live[tgid]; p != nil {
			p.life.exited, p.life.status = true, status
			delete(w.live, tgid)
		}
		w.mu.Unlock()
	default:
		w.unused.Add(1)
	}
	if r.lossy && wall-r.lossAt > int64(lossQuiet) {
		r.lossy = false
		w.log.Info("kernel witness: no events lost for a while", "lost_total", w.lost.Load(), "overruns_total", w.overruns.Load(), "unread_total", w.unread.Load())
	}
}

// checkSeq counts events lost before this one: the connector numbers events
// per CPU, consecutively, whether or not they reach us.
func (r *reader) checkSeq(cpu, seq uint32, wall int64) {
	if cpu >= maxCPUs {
		return
	}
	if int(cpu) >= len(r.cpus) {
		r.cpus = append(r.cpus, make([]cpuSeq, int(cpu)+1-len(r.cpus))...)
	}
	c := &r.cpus[cpu]
	if c.seen {
		gap := seq - c.next
		if gap >= 1<<31 {
			return // older than one already seen: not a loss
		}
		if gap > 0 {
			r.lossGen++
			r.w.lost.Add(uint64(gap))
			r.w.mu.Lock()
			r.w.lossLocked(c.lastWall, wall)
			r.w.mu.Unlock()
			r.noteLoss(wall, "kernel dropped process events")
		}
	}
	c.seen, c.next, c.lastWall = true, seq+1, wall
}

// countDrops adds the events the kernel dropped at our socket since the last
// call to the lost count.
func (r *reader) countDrops() {
	if d, ok := socketDrops(r.fd); ok {
		r.w.lost.Add(uint64(d - r.drops))
		r.drops = d
	}
}

// noteLoss logs the first loss of an episode; the end of the episode is
// logged once no loss was seen for lossQuiet.
func (r *reader) noteLoss(at int64, what string) {
	r.lossAt = max(r.lossAt, at)
	if !r.lossy {
		r.lossy = true
		r.w.log.Warn("kernel witness: "+what+"; matches in this period may be unavailable",
			"lost_total", r.w.lost.Load(), "overruns_total", r.w.overruns.Load(), "rcvbuf", r.rcvbuf)
	}
}

func (r *reader) exec(tgid int32, wall int64) {
	w := r.w
	w.execs.Add(1)
	p := &proc{at: wall, pid: tgid}
	ppid, havePPID := r.forks.get(tgid)
	p.ppid = ppid
	// The same process exec'ing again (the shell exec'ing its last command)
	// is one life with one exit status. Only the reader writes records, and
	// a record's fields do not change once added, so prev can be read
	// outside the lock.
	w.mu.Lock()
	prev := w.live[tgid]
	if prev != nil && prev.life.exited {
		prev = nil
	}
	w.mu.Unlock()
	prev = r.readProc(p, !havePPID, prev)
	delete(r.comms, tgid) // its name is its new program's now
	if w.runtime != "" && p.ppid != 0 {
		p.parentComm = r.parentComm(p.ppid)
	}
	p.lossGen = r.lossGen
	now := time.Now().UnixNano()
	w.mu.Lock()
	defer w.mu.Unlock()
	if prev != nil && w.live[tgid] == prev {
		p.life = prev.life
		if p.ppid == 0 {
			p.ppid = prev.ppid
		}
		if p.start == 0 {
			p.start = prev.start
		}
	} else {
		p.life = &life{}
	}
	w.addLocked(p, now)
	if !p.argvOK {
		// Not a loss span: Match decides from the record (its comm, cwd) whether
		// this unreadable exec could have been the command it looks for.
		w.unread.Add(1)
		w.lastLoss.Store(now)
	}
}

// readProc reads what identifies the process, right away: a short command is
// gone within a millisecond. All reads go through one directory fd, so they
// all describe the same process even if the pid is reused meanwhile. It
// returns prev if this exec continues prev's life, else nil.
//
// prev is the latest exec of this pid whose exit was not seen. Exits are
// never filtered, and an exit is queued before its pid can be reused, so
// without a loss since prev was recorded prev is this process. After a loss
// prev's exit may have been the one dropped: the start time in stat tells.
//
// Each read is a syscall, and syscalls are most of the witness's cost, so
// reads that cannot tell anything new are skipped: a re-exec (prev, the same
// process's earlier exec) keeps its namespaces and cgroup — execve changes
// neither (a process that unshares between two execs, like the unshare tool,
// is reported with its namespaces at the first); the cgroup file is read only
// for a process outside the host's namespaces — container runtimes always
// give a container its own mount namespace; and a process whose command line
// is already gone has no namespaces left to read either.
func (r *reader) readProc(p *proc, needPPID bool, prev *proc) *proc {
	var pathBuf [32]byte
	dir := strconv.AppendInt(append(pathBuf[:0], "/proc/"...), int64(p.pid), 10)
	dir = append(dir, 0)
	dfd, err := openat(-100 /* AT_FDCWD */, &dir[0], syscall.O_RDONLY|syscall.O_DIRECTORY)
	if err != nil {
		if prev != nil && prev.lossGen != r.lossGen {
			return nil
		}
		return prev
	}
	defer syscall.Close(dfd)
	if n, ok := readAt(dfd, pCmdline, r.cmdBuf); ok && n > 0 {
		b := r.cmdBuf[:n]
		if n > maxCmdline {
			b, p.truncated = b[:maxCmdline], true
		} else if b[n-1] == 0 {
			b = b[:n-1]
		}
		p.cmdline, p.argvOK = string(b), len(b) > 0
	}
	statRead := false
	readStat := func() {
		statRead = true
		if n, ok := readAt(dfd, pStat, r.cgBuf); ok {
			var comm string
			p.ppid, comm, p.start = parseStat(r.cgBuf[:n])
			if !p.argvOK {
				p.comm = comm
			}
		}
	}
	if prev != nil && prev.lossGen != r.lossGen && prev.start != 0 {
		if readStat(); p.start != prev.start {
			prev = nil // a new process with a reused pid
		}
	}
	if n, err := readlinkat(dfd, pCwd, r.lnkBuf); err == nil {
		p.cwd, p.cwdOK = string(r.lnkBuf[:n]), true
	}
	switch {
	case prev != nil && prev.ns != [numNS]uint64{}:
		p.ns, p.container = prev.ns, prev.container
	case p.argvOK:
		for i := range p.ns {
			if n, err := readlinkat(dfd, pNS[i], r.lnkBuf); err == nil {
				p.ns[i] = nsInode(r.lnkBuf[:n])
			}
		}
		if !r.w.hostNSOK || p.ns != r.w.hostNS {
			if n, ok := readAt(dfd, pCgroup, r.cgBuf); ok {
				p.container = r.intern(containerID(r.cgBuf[:n]))
			}
		}
	}
	// Last: stat outlives the command line, cwd and namespaces (a zombie
	// still has its comm, which tells Match whether this unreadable exec
	// could be the one it seeks).
	if (prev == nil && needPPID || !p.argvOK) && !statRead {
		readStat()
	}
	return prev
}

func (r *reader) intern(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := r.containers[s]; ok {
		return v
	}
	if len(r.containers) > 4096 {
		clear(r.containers)
	}
	r.containers[s] = s
	return s
}

// wall maps a connector timestamp (CLOCK_MONOTONIC) to wall time,
// recalibrating the offset every second so wall clock steps are followed.
func (r *reader) wall(ts uint64) int64 {
	if ts == 0 {
		return time.Now().UnixNano()
	}
	if int64(ts)-r.calAt > int64(time.Second) {
		r.calibrate()
	}
	return int64(ts) + r.monoOff
}

func (r *reader) calibrate() {
	var t syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&t)), 0); e != 0 {
		return
	}
	mono := t.Nano()
	r.monoOff, r.calAt = time.Now().UnixNano()-mono, mono
}

// parentComm is the name of process ppid (/proc/<ppid>/comm), "" if it is gone.
func (r *reader) parentComm(ppid int32) string {
	if c, ok := r.comms[ppid]; ok {
		return c
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(ppid)) + "/comm")
	if err != nil {
		return ""
	}
	c := strings.TrimSuffix(string(b), "\n")
	if len(r.comms) >= 4096 {
		clear(r.comms) // bounded; the runtime's entry comes back on the next exec
	}
	r.comms[ppid] = c
	return c
}

// forkTable remembers each new process's parent until it execs or exits. Two
// generations bound it when exits are lost: the older one is dropped whole.
type forkTable struct{ cur, prev map[int32]int32 }

func (f *forkTable) init() { f.cur, f.prev = make(map[int32]int32), map[int32]int32{} }

func (f *forkTable) put(pid, ppid int32) {
	if len(f.cur) >= forkGen {
		f.prev, f.cur = f.cur, make(map[int32]int32)
	}
	f.cur[pid] = ppid
}

func (f *forkTable) get(pid int32) (int32, bool) {
	if p, ok := f.cur[pid]; ok {
		return p, true
	}
	p, ok := f.prev[pid]
	return p, ok
}

func (f *forkTable) del(pid int32) { delete(f.cur, pid); delete(f.prev, pid) }

func openat(dfd int, name *byte, flags int) (int, error) {
	fd, _, e := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dfd), uintptr(unsafe.Pointer(name)), uintptr(flags|syscall.O_CLOEXEC), 0, 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

func readlinkat(dfd int, name *byte, buf []byte) (int, error) {
	n, _, e := syscall.Syscall6(syscall.SYS_READLINKAT, uintptr(dfd), uintptr(unsafe.Pointer(name)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// readAt reads a small /proc file in one go. The files it reads (cmdline,
// stat, cgroup) are generated whole on the first read, so a read that does
// not fill the buffer has everything: no second read to see the end.
func readAt(dfd int, name *byte, buf []byte) (int, bool) {
	fd, err := openat(dfd, name, syscall.O_RDONLY)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, false
		}
		n += m
		if m == 0 || n < len(buf) {
			break
		}
	}
	return n, true
}

// nsInode parses "net:[4026531840]".
func nsInode(b []byte) uint64 {
	var v uint64
	in := false
	for _, c := range b {
		switch {
		case c == '[':
			in = true
		case c == ']':
			return v
		case in && c >= '0' && c <= '9':
			v = v*10 + uint64(c-'0')
		}
	}
	return 0
}

// parseStat reads the comm (field 2, in parentheses, may itself contain ")
// "), the ppid (field 4) and the start time (field 22, clock ticks since
// boot) of /proc/<pid>/stat.
func parseStat(b []byte) (ppid int32, comm string, start uint64) {
	i := len(b) - 1
	for i >= 0 && b[i] != ')' {
		i--
	}
	open := indexByte(b, '(')
	if i < 0 || open < 0 || open > i {
		return 0, "", 0
	}
	comm = string(b[open+1 : i])
	f := 0 // field k >= 3 follows the k-2'th space after the comm
	for _, c := range b[i+1:] {
		if c == ' ' {
			f++
			if f > 20 {
				break
			}
			continue
		}
		if c < '0' || c > '9' {
			continue
		}
		switch f {
		case 2:
			ppid = ppid*10 + int32(c-'0')
		case 20:
			start = start*10 + uint64(c-'0')
		}
	}
	return ppid, comm, start
}

// readNS reads the namespace inodes of a /proc/<pid> directory.
func readNS(dir string) (ns [numNS]uint64, ok bool) {
	ok = true
	for i, n := range nsNames {
		l, err := os.Readlink(dir + "/ns/" + n)
		if err != nil {
			ok = false
			continue
		}
		ns[i] = nsInode([]byte(l))
	}
	return ns, ok
}
