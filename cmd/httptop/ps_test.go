package main

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/snapshot"
)

// deadPID is a pid no process has: above Linux's largest pid_max.
const deadPID = 1 << 30

func TestPs(t *testing.T) {
	dir := e2eDir(t)
	a, col := e2eAgent(t, dir)
	e2eTraffic(t, col, e2eServer(t), 4)
	// A program that exited without closing its agent, and one whose
	// agent does not answer.
	stale := e2eRecord(t, dir, deadPID, "127.0.0.1:1")
	e2eRecord(t, dir, 1, "127.0.0.1:1")

	out, errOut, code := e2eRun(t, "ps")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("ps output:\n%s\nwant a header and two agents", out)
	}
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "PID PROGRAM ADDRESS UPTIME HOSTS REQ/S" {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[1]); len(f) != 6 || f[0] != "1" || f[4] != "-" || f[5] != "-" {
		t.Errorf("row of the agent that does not answer: %q", lines[1])
	}
	f := strings.Fields(lines[2])
	if len(f) != 6 || f[0] != strconv.Itoa(os.Getpid()) || f[2] != a.Addr() || f[4] != "1" {
		t.Errorf("row of the test's agent: %q, want its pid, address and 1 host", lines[2])
	}
	if !strings.HasPrefix(errOut, "httptop: pid 1: ") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("stderr %q: want one line about pid 1", errOut)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("discovery file of a dead pid: %v, want it removed", err)
	}
}

// e2eRecord writes a discovery file for pid pointing at addr.
func e2eRecord(t *testing.T, dir string, pid int, addr string) string {
	t.Helper()
	path, err := discovery.Write(dir, discovery.Record{
		PID: pid, Program: "other", Network: "tcp", Addr: addr, Token: strings.Repeat("0", 64),
		Protocol: snapshot.ProtocolVersion, Started: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPsNoAgents(t *testing.T) {
	dir := e2eDir(t)
	out, errOut, code := e2eRun(t, "ps")
	if code != 0 || errOut != "" || !strings.Contains(out, "no httptop agents are running (none in "+dir+")") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if _, _, code := e2eRun(t, "ps", "extra"); code != 2 {
		t.Errorf("ps with an argument: exit %d, want 2", code)
	}
}

func TestDefaultCommand(t *testing.T) {
	dir := e2eDir(t)
	out, errOut, code := e2eRun(t)
	if code != 1 || out != "" || !strings.Contains(errOut, "no httptop agent is running on this machine") ||
		!strings.Contains(errOut, "-tags debug") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("no agent: exit %d, stdout %q, stderr %q; want 1 and one line on stderr naming -tags debug", code, out, errOut)
	}
	e2eAgent(t, dir)
	out, _, code = e2eRun(t)
	if code != 0 || !strings.Contains(out, strconv.Itoa(os.Getpid())) {
		t.Errorf("one agent: exit %d\n%s", code, out)
	}
	e2eRecord(t, dir, 1, "127.0.0.1:1")
	out, _, code = e2eRun(t)
	if code != 0 || !strings.Contains(out, "httptop snapshot 1") {
		t.Errorf("two agents: exit %d\n%s", code, out)
	}
}

func TestWriteAgentTable(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	rows := []agentRow{
		{info: agentclient.Info{PID: 42, Program: "checkout", Addr: "127.0.0.1:40001", Started: now.Add(-3*time.Minute - 12*time.Second)}, hosts: 3, rps: 120.46},
		{info: agentclient.Info{PID: 1234567, Program: "worker", Addr: "/run/httptop/w.sock", Started: now.Add(-50 * time.Hour)}, err: errors.New("gone")},
	}
	var buf bytes.Buffer
	writeAgentTable(&buf, rows, now)
	want := `PID      PROGRAM   ADDRESS              UPTIME  HOSTS  REQ/S
42       checkout  127.0.0.1:40001      3m12s   3      120.5
1234567  worker    /run/httptop/w.sock  2d02h   -      -
`
	if got := buf.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestFormatUptime(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "-"},
		{0, "0s"},
		{59 * time.Second, "59s"},
		{time.Minute + 5*time.Second, "1m05s"},
		{2*time.Hour + 5*time.Minute, "2h05m"},
		{73 * time.Hour, "3d01h"},
	}
	for _, tt := range tests {
		if got := formatUptime(tt.d); got != tt.want {
			t.Errorf("formatUptime(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
