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

// filterProgram returns the filter. A message is accepted whole or dropped.
func filterProgram() []syscall.SockFilter {
	const (
		ld   = syscall.BPF_LD | syscall.BPF_ABS
		jeq  = syscall.BPF_JMP | syscall.BPF_JEQ | syscall.BPF_K
		jeqX = syscall.BPF_JMP | syscall.BPF_JEQ | syscall.BPF_X
		ret  = syscall.BPF_RET | syscall.BPF_K
	)
	// Jump offsets are relative to the next instruction; the labels are the
	// last instructions: 18 = drop, 19 = accept.
	prog := []syscall.SockFilter{
		/* 0 */ {Code: ld | syscall.BPF_H, K: offNlType},
		/* 1 */ {Code: jeq, K: be16(markerType), Jt: 17, Jf: 0}, // our marker -> accept
		/* 2 */ {Code: jeq, K: be16(syscall.NLMSG_DONE), Jt: 0, Jf: 15}, // not a connector message -> drop
		/* 3 */ {Code: syscall.BPF_LD | syscall.BPF_W | syscall.BPF_LEN},
		/* 4 */ {Code: syscall.BPF_JMP | syscall.BPF_JGE | syscall.BPF_K, K: minEvLen, Jt: 0, Jf: 13}, // too short -> drop
		/* 5 */ {Code: ld | syscall.BPF_W, K: offWhat},
		/* 6 */ {Code: jeq, K: be32(evExec), Jt: 12, Jf: 0}, // exec -> accept
		/* 7 */ {Code: jeq, K: be32(evNone), Jt: 11, Jf: 0}, // ack -> accept
		/* 8 */ {Code: jeq, K: be32(evExit), Jt: 0, Jf: 4}, // not an exit -> 13
		/* 9 */ {Code: ld | syscall.BPF_W, K: offExitPID},
		/* 10 */ {Code: syscall.BPF_MISC | syscall.BPF_TAX},
		/* 11 */ {Code: ld | syscall.BPF_W, K: offExitTID},
		/* 12 */ {Code: jeqX, Jt: 6, Jf: 5}, // pid == tgid: a process -> accept
		/* 13 */ {Code: jeq, K: be32(evFork), Jt: 0, Jf: 4}, // anything else -> drop
		/* 14 */ {Code: ld | syscall.BPF_W, K: offForkPID},
		/* 15 */ {Code: syscall.BPF_MISC | syscall.BPF_TAX},
		/* 16 */ {Code: ld | syscall.BPF_W, K: offForkTID},
		/* 17 */ {Code: jeqX, Jt: 1, Jf: 0}, // child pid == tgid: a new process -> accept
		/* 18 */ {Code: ret, K: 0},
		/* 19 */ {Code: ret, K: bpfAccept},
	}
	return prog
}

// attachFilter attaches the filter to the socket.
func attachFilter(fd int) error {
	prog := filterProgram()
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
