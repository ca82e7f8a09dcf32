package agent

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/probe"
)

// fdChildEnv runs TestAgentFDChild as the child of TestAgentFDHeadroom.
const fdChildEnv = "HTTPTOP_TEST_FD_CHILD"

// TestAgentFDHeadroom runs a program (this test binary) whose descriptor
// limit is 40 above what it has open, with an agent, and opens 200
// connections to the agent that send nothing. While the agent accepts
// them, the program must still be able to open files of its own: the
// agent leaves it the last descriptors.
func TestAgentFDHeadroom(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestAgentFDChild$")
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatal("the child did not start its agent")
	}
	addr, ok := strings.CutPrefix(lines.Text(), "addr ")
	if !ok {
		t.Fatalf("child: %s", lines.Text())
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range 200 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			break // the backlog is full: the agent is not accepting
		}
		conns = append(conns, c)
	}
	fmt.Fprintln(stdin, "check")
	if !lines.Scan() {
		t.Fatal("the child did not answer")
	}
	if got := lines.Text(); got != "ok" {
		t.Errorf("with %d connections to its agent, the program could not open files: %s", len(conns), got)
	}
}

// TestAgentFDChild is the program of TestAgentFDHeadroom.
func TestAgentFDChild(t *testing.T) {
	if os.Getenv(fdChildEnv) != "1" {
		t.Skip("run by TestAgentFDHeadroom")
	}
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fmt.Println("no /proc/self/fd:", err)
		return
	}
	lim := syscall.Rlimit{Cur: uint64(len(entries) + 40), Max: uint64(len(entries) + 40)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		return
	}
	a, err := Start(Options{NoDiscovery: true, Collector: probe.NewCollector(probe.CollectorOptions{})})
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	defer a.Close()
	fmt.Println("addr " + a.Addr())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		// The agent accepts the connections while this runs: the
		// program must be able to open files all along (a sampled
		// property, not a wait for something to happen).
		var ferr error
		for end := time.Now().Add(2 * time.Second); ferr == nil && time.Now().Before(end); {
			var files []*os.File
			for range 8 {
				f, err := os.Open(os.DevNull)
				if err != nil {
					ferr = err
					break
				}
				files = append(files, f)
			}
			for _, f := range files {
				f.Close()
			}
		}
		if ferr != nil {
			fmt.Println("open: " + strconv.Quote(ferr.Error()))
		} else {
			fmt.Println("ok")
		}
	}
}
