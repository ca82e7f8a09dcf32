package agent

import (
	"bytes"
	"encoding/binary"
	"os"
	"syscall"
)

// countFDs counts the process's open file descriptors, not counting one it
// opens itself to count them.
//
// Linux 6.2 and later give the count as the size of /proc/self/fd (a
// count of the bits set in the process's table of descriptors, a few
// microseconds however many are open): a stat. Older kernels report size
// 0, and the directory is listed instead (listFDs), which costs the
// kernel about 15 ms for 10,000 descriptors.
func countFDs() (int, error) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/fd", &st); err != nil {
		return 0, err
	}
	if st.Size > 0 {
		return int(st.Size), nil
	}
	return listFDs()
}

// listFDs counts the entries of /proc/self/fd but the descriptor it
// opens to read it (eachFD).
func listFDs() (int, error) {
	n := 0
	if err := eachFD(func(int, []byte) { n++ }); err != nil {
		return 0, err
	}
	return n - 1, nil // less the directory's own descriptor
}

// eachFD lists /proc/self/fd and calls fn with the directory's descriptor
// and the name of each entry (a descriptor's number, NUL-terminated), the
// directory's own descriptor included. It reads with getdents into one
// buffer, without a string per entry (Readdirnames, and gopsutil's
// NumFDs, allocate one for each, which a program with 10,000 connections
// would pay every second a dashboard watches).
func eachFD(fn func(dirfd int, name []byte)) error {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			k, err := syscall.ReadDirent(int(fd), buf)
			if err != nil {
				rerr = err
				return true
			}
			if k <= 0 {
				return true
			}
			// struct linux_dirent64: ino (8), off (8), reclen (2),
			// type (1), then the name, NUL-terminated.
			for off := 0; off+19 < k; {
				reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
				if reclen == 0 {
					break
				}
				name := buf[off+19 : off+reclen]
				off += reclen
				if name[0] != '.' && bytes.IndexByte(name, 0) >= 0 {
					fn(int(fd), name)
				}
			}
		}
	})
	if err == nil {
		err = rerr
	}
	return err
}
