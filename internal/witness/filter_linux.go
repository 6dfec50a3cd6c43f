//go:build linux

package witness

import (
	"encoding/binary"
	"syscall"
	"unsafe"
)

// The socket filter: a classic BPF program the kernel runs on every message
// before queueing it, so that events the witness does not use never wake the
// reader. Each wake-up of the blocked reader thread costs far more than the
// filter (80-200 µs of CPU on a busy VM against well under a microsecond).
//
// Passed: exec events, forks and exits of processes (child pid == tgid,
// pid == tgid), the connector's acks (PROC_EVENT_NONE), and our own flush
// markers. Dropped: forks and exits of threads — a threaded runtime (node,
// a JVM, Go) makes two events per thread it starts and ends — and
// uid/gid/sid/ptrace/comm/coredump events.
//
// Forks of processes could be dropped too (the parent is in /proc/<pid>/stat
// at exec; readProc reads it when no fork was seen). Measured, that saved no
// CPU (a process's fork and exec are usually read in one wake-up) and costs a
// stat read per exec: see docs/benchmarks.md.
//
// Dropping events in the kernel makes gaps in the connector's per-CPU
// sequence numbers, which can then no longer count lost events; the socket's
// own drop counter (SO_MEMINFO) does instead: the kernel filters before it
// queues, so it counts only events that passed the filter and found the
// receive buffer full.

// Offsets into a connector message: nlmsghdr, cn_msg, struct proc_event.
const (
	offNlType  = 4                   // nlmsghdr.nlmsg_type (u16)
	offWhat    = nlHdrLen + cnHdrLen // proc_event.what
	offEvData  = offWhat + evHdrLen  // proc_event.event_data
	offExitPID = offEvData + 0       // exit.process_pid
	offExitTID = offEvData + 4       // exit.process_tgid
	offForkPID = offEvData + 8       // fork.child_pid
	offForkTID = offEvData + 12      // fork.child_tgid
	minEvLen   = offEvData + 16      // shortest message the program reads
	bpfAccept  = 0xffffffff          // keep the whole message
	soMeminfo  = 55                  // SO_MEMINFO
	skMemDrops = 8                   // SK_MEMINFO_DROPS
	skMemVars  = 9                   // SK_MEMINFO_VARS
)

// be32 and be16 convert a host-order value to what BPF loads see: classic BPF loads
// words and half-words in network (big-endian) order, netlink is host order.
func be32(v uint32) uint32 {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], v)
	return binary.BigEndian.Uint32(b[:])
}

func be16(v uint16) uint32 {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], v)
	return uint32(binary.BigEndian.Uint16(b[:]))
}

// evSet says which messages a socket's filter lets through.
type evSet uint8

const (
	passExec evSet = 1 << iota // exec events
	passFork                   // forks of processes (not threads)
	passExit                   // exits of processes (thread-group leaders)
	passCtl                    // the connector's acks and our flush markers

	// The reader's socket when it has only one: everything the witness uses.
	passAll = passExec | passFork | passExit | passCtl
	// The reader's socket when exits have their own (see subscribe): what
	// must be read at once (execs, and forks, which tell the parent and start
	// a new life for the pid) and what Match and the subscription wait for.
	passHot = passExec | passFork | passCtl
)

// filterProgram returns the filter that lets through set. A message is
// accepted whole or dropped.
func filterProgram(set evSet) []syscall.SockFilter {
	const (
		ld   = syscall.BPF_LD | syscall.BPF_ABS
		jeq  = syscall.BPF_JMP | syscall.BPF_JEQ | syscall.BPF_K
		jeqX = syscall.BPF_JMP | syscall.BPF_JEQ | syscall.BPF_X
		ret  = syscall.BPF_RET | syscall.BPF_K
	)
	// Jumps are written with symbolic targets and resolved at the end (BPF
	// jump offsets are relative to the next instruction, forward only).
	const (
		next = -1 - iota
		drop
		accept
		orFork // the fork check, or drop without one
	)
	type insn struct {
		f      syscall.SockFilter
		jt, jf int
	}
	var p []insn
	op := func(code uint16, k uint32) { p = append(p, insn{syscall.SockFilter{Code: code, K: k}, next, next}) }
	jmp := func(code uint16, k uint32, jt, jf int) {
		p = append(p, insn{syscall.SockFilter{Code: code, K: k}, jt, jf})
	}
	op(ld|syscall.BPF_H, offNlType)
	if set&passCtl != 0 {
		jmp(jeq, be16(markerType), accept, next) // our marker
	}
	jmp(jeq, be16(syscall.NLMSG_DONE), next, drop) // not a connector message
	op(syscall.BPF_LD|syscall.BPF_W|syscall.BPF_LEN, 0)
	jmp(syscall.BPF_JMP|syscall.BPF_JGE|syscall.BPF_K, minEvLen, next, drop) // too short
	op(ld|syscall.BPF_W, offWhat)
	if set&passExec != 0 {
		jmp(jeq, be32(evExec), accept, next)
	}
	if set&passCtl != 0 {
		jmp(jeq, be32(evNone), accept, next) // an ack
	}
	if set&passExit != 0 {
		jmp(jeq, be32(evExit), next, orFork)
		op(ld|syscall.BPF_W, offExitPID)
		op(syscall.BPF_MISC|syscall.BPF_TAX, 0)
		op(ld|syscall.BPF_W, offExitTID)
		jmp(jeqX, 0, accept, drop) // pid == tgid: a process, not a thread
	}
	forkAt := len(p)
	if set&passFork != 0 {
		jmp(jeq, be32(evFork), next, drop) // anything else
		op(ld|syscall.BPF_W, offForkPID)
		op(syscall.BPF_MISC|syscall.BPF_TAX, 0)
		op(ld|syscall.BPF_W, offForkTID)
		jmp(jeqX, 0, accept, drop) // child pid == tgid: a new process
	}
	dropAt := len(p)
	op(ret, 0)
	op(ret, bpfAccept)
	target := func(at, t int) uint8 {
		abs := at + 1
		switch t {
		case drop:
			abs = dropAt
		case accept:
			abs = dropAt + 1
		case orFork:
			abs = forkAt
		}
		return uint8(abs - at - 1)
	}
	prog := make([]syscall.SockFilter, len(p))
	for i, in := range p {
		prog[i] = in.f
		if in.f.Code&0x07 == syscall.BPF_JMP {
			prog[i].Jt, prog[i].Jf = target(i, in.jt), target(i, in.jf)
		}
	}
	return prog
}

// attachFilter attaches the filter for set to the socket.
func attachFilter(fd int, set evSet) error {
	prog := filterProgram(set)
	p := syscall.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, e := syscall.Syscall6(sysSetsockopt, uintptr(fd), syscall.SOL_SOCKET, syscall.SO_ATTACH_FILTER,
		uintptr(unsafe.Pointer(&p)), unsafe.Sizeof(p), 0)
	if e != 0 {
		return e
	}
	return nil
}

// socketDrops reads the socket's count of messages dropped because its
// receive buffer was full (SK_MEMINFO_DROPS).
func socketDrops(fd int) (uint32, bool) {
	var m [skMemVars]uint32
	l := uint32(unsafe.Sizeof(m))
	_, _, e := syscall.Syscall6(sysGetsockopt, uintptr(fd), syscall.SOL_SOCKET, soMeminfo,
		uintptr(unsafe.Pointer(&m)), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 || l <= skMemDrops*4 {
		return 0, false
	}
	return m[skMemDrops], true
}
