//go:build linux && 386

package witness

// The direct socket syscalls of i386 (Linux 4.3+); Go's table has only
// socketcall.
const (
	sysGetsockopt = 365
	sysSetsockopt = 366
)
