//go:build unix

package agent

import (
	"net"
	"syscall"
)

// fdLimit returns the process's soft limit on open descriptors.
func fdLimit() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur >= 1<<62 { // unlimited
		return 0, false
	}
	return uint64(lim.Cur), true
}

// connFD returns c's descriptor.
func connFD(c net.Conn) (uint64, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var fd uintptr
	if err := rc.Control(func(f uintptr) { fd = f }); err != nil {
		return 0, false
	}
	return uint64(fd), true
}
