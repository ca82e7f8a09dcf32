//go:build !unix

package discovery

import (
	"fmt"
	"os"
)

// Alive reports whether a process with the given pid exists: on systems
// other than unix, os.FindProcess opens it and fails when it is gone.
func Alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

// checkDir checks that dir is a directory; ownership and permission bits
// are a unix notion.
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("discovery: %s is not a directory", dir)
	}
	return nil
}

// ownedByMe reports whether the file fi describes belongs to this user:
// always, where files have no unix owner.
func ownedByMe(os.FileInfo) bool { return true }
