package discovery

import (
	"os"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAliveZombie checks that a process that has exited but is not yet
// reaped by its parent (a zombie, which kill(pid, 0) still finds) is not
// alive.
func TestAliveZombie(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	// Wait for the exit without reaping (WNOWAIT): the child stays a
	// zombie until cmd.Wait.
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	if Alive(pid) {
		t.Errorf("Alive(zombie %d) = true", pid)
	}
}
