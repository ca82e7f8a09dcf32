//go:build unix

package discovery

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// Alive reports whether a process with the given pid runs: kill(pid, 0)
// succeeds, or fails only because the process belongs to another user,
// and (on Linux) it is not a zombie, which has exited and waits for its
// parent to reap it.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	return !zombie(pid)
}

// zombie reports whether /proc says the process has exited (state Z or X);
// false where there is no /proc.
func zombie(pid int) bool {
	if runtime.GOOS != "linux" {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	return data[i+2] == 'Z' || data[i+2] == 'X'
}

// checkDir refuses a directory that is not the user's own or that other
// users may write to: they could replace a discovery file and send the
// command somewhere else.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("discovery: %s is not a directory", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	// Root too: with no home directory, root's directory is httptop-0
	// under the temporary directory, which anyone may create first.
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("discovery: directory %s belongs to uid %d, not to you (uid %d): set %s to a directory of your own", dir, st.Uid, uid, EnvDir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("discovery: directory %s is writable by other users (mode %v): run chmod 700 on it or set %s to a private directory", dir, fi.Mode().Perm(), EnvDir)
	}
	return nil
}

// ownedByMe reports whether the file fi describes belongs to this
// process's effective user.
func ownedByMe(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Geteuid()
}
