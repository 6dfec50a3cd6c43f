//go:build linux && !386

package witness

import "syscall"

const (
	sysGetsockopt = syscall.SYS_GETSOCKOPT
	sysSetsockopt = syscall.SYS_SETSOCKOPT
)
