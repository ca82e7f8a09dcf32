package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/dashboard"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/probe/agent"
	"github.com/httptop/httptop/snapshot"
)

var errGotOne = errors.New("got a snapshot")

// streamOnce runs src.Stream until it delivers one snapshot, and returns
// its error (errGotOne when a snapshot came).
func streamOnce(t *testing.T, src dashboard.Source) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	err := src.Stream(ctx, snapshot.MinStreamInterval, func(*snapshot.Snapshot) error { return errGotOne })
	if ctx.Err() != nil {
		t.Fatal("Stream did not return")
	}
	return err
}

// TestDashboardFollowsRestart: the dashboard's program restarts its agent
// at the same address (a new token in its discovery file): the source
// reads the discovery directory again and streams from the new agent,
// instead of being refused the old token forever.
func TestDashboardFollowsRestart(t *testing.T) {
	dir := e2eDir(t)
	col := probe.NewCollector(probe.CollectorOptions{})
	a, err := agent.Start(agent.Options{Collector: col, DiscoveryDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := agentclient.Dial(t.Context(), strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src := newFollower(strconv.Itoa(os.Getpid()), c)
	if err := streamOnce(t, src); !errors.Is(err, errGotOne) {
		t.Fatalf("first stream: %v", err)
	}
	addr := a.Addr()
	a.Close()
	b, err := agent.Start(agent.Options{Collector: col, DiscoveryDir: dir, Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	// The stream on the old token fails once; the next one reaches the
	// new agent.
	var errs []string
	for range 3 {
		err := streamOnce(t, src)
		if errors.Is(err, errGotOne) {
			return
		}
		errs = append(errs, err.Error())
	}
	t.Errorf("the source never reached the restarted agent: %q", errs)
}

// childEnv runs TestAgentChild as the child of TestDashboardProcessExited.
const childEnv = "HTTPTOP_TEST_AGENT_CHILD"

// TestDashboardProcessExited: the dashboard's program exits: the source
// says so with dashboard.ErrExited, so that the dashboard stops retrying.
func TestDashboardProcessExited(t *testing.T) {
	e2eDir(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestAgentChild$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "ready\n" {
		t.Fatalf("child: %q", line)
	}
	c, err := agentclient.Dial(t.Context(), strconv.Itoa(cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	src := newFollower(strconv.Itoa(cmd.Process.Pid), c)
	if err := streamOnce(t, src); !errors.Is(err, errGotOne) {
		t.Fatalf("first stream: %v", err)
	}
	stdin.Close() // the child exits
	cmd.Wait()
	err = streamOnce(t, src)
	if !errors.Is(err, dashboard.ErrExited) || !strings.Contains(err.Error(), strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("stream after the program exited = %v, want dashboard.ErrExited naming pid %d", err, cmd.Process.Pid)
	}
}

// TestAgentChild is the program of TestDashboardProcessExited: an agent
// whose discovery file goes into $HTTPTOP_DIR, until stdin closes; it
// exits without closing the agent, as a crashing program would.
func TestAgentChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("run by TestDashboardProcessExited")
	}
	if _, err := agent.Start(agent.Options{Collector: probe.NewCollector(probe.CollectorOptions{})}); err != nil {
		fmt.Println("start:", err)
		return
	}
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(0)
}
