package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/probe/agent"
	"github.com/httptop/httptop/snapshot"
)

// e2eRun runs the httptop command line in process and returns what it
// wrote and its exit status.
func e2eRun(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &errb)
	code = m.ExitCode(m.Run(t.Context(), args))
	return out.String(), errb.String(), code
}

// e2eDir points the discovery directory (and so the command and the
// agents the test starts) at a new temporary directory.
func e2eDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(discovery.EnvDir, dir)
	t.Setenv(agentclient.EnvToken, "")
	return dir
}

// e2eAgent starts an agent of the test process, writing its discovery
// file to dir ("" for none), serving a collector of its own.
func e2eAgent(t *testing.T, dir string) (*agent.Agent, *probe.Collector) {
	t.Helper()
	col := probe.NewCollector(probe.CollectorOptions{})
	a, err := agent.Start(agent.Options{Collector: col, DiscoveryDir: dir, NoDiscovery: dir == ""})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, col
}

// e2eServer starts a fixture server.
func e2eServer(t *testing.T) *fixtures.Server {
	t.Helper()
	srv, err := fixtures.NewServer(fixtures.Options{Defaults: fixtures.Behavior{Size: 100}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// e2eTraffic sends n requests to srv through a client wrapped into col.
func e2eTraffic(t *testing.T, col *probe.Collector, srv *fixtures.Server, n int) {
	t.Helper()
	tr := srv.Transport()
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName("api"))}
	for range n {
		resp, err := c.Get(srv.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// e2eBuild builds testdata/attachprog, a program importing probe/attach.
func e2eBuild(t *testing.T) string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the test program:", err)
	}
	bin := filepath.Join(t.TempDir(), "attachprog")
	cmd := exec.Command(gotool, "build", "-o", bin, "./testdata/attachprog")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// attachProg is a running testdata/attachprog.
type attachProg struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *bufio.Reader
	pid    int
	exited bool
}

// startAttachProg runs bin with args and the extra environment, and
// waits until it has made its requests.
func startAttachProg(t *testing.T, bin string, env []string, args ...string) *attachProg {
	t.Helper()
	// Not CommandContext(t.Context()): that context ends before the
	// cleanup that stops the program runs.
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &attachProg{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: bufio.NewReader(stderr), pid: cmd.Process.Pid}
	t.Cleanup(func() { p.stop(t) })
	line, err := p.stdout.ReadString('\n')
	if err != nil || line != "ready\n" {
		rest, _ := io.ReadAll(p.stderr)
		t.Fatalf("attachprog: %q, %v; stderr:\n%s", line, err, rest)
	}
	return p
}

// stop closes the program's input, which makes it exit, and waits for it
// (reaps it), so that its pid is gone.
func (p *attachProg) stop(t *testing.T) {
	if p.exited {
		return
	}
	p.exited = true
	p.stdin.Close()
	io.Copy(io.Discard, p.stdout)
	io.Copy(io.Discard, p.stderr)
	if err := p.cmd.Wait(); err != nil {
		t.Errorf("attachprog: %v", err)
	}
}

// hostOf returns the snapshot's row for a host, or fails.
func hostOf(t *testing.T, s *snapshot.Snapshot, host string) snapshot.Host {
	t.Helper()
	for _, h := range s.Hosts {
		if h.Host == host {
			return h
		}
	}
	t.Fatalf("no host %s in the snapshot: %+v", host, s.Hosts)
	return snapshot.Host{}
}

// TestE2E builds a program importing probe/attach, runs it against local
// fixture servers and attaches to it from the command line, by pid.
func TestE2E(t *testing.T) {
	dir := e2eDir(t)
	bin := e2eBuild(t)
	const n = 5
	viaDefault, viaNil, viaClone := e2eServer(t), e2eServer(t), e2eServer(t)
	prog := startAttachProg(t, bin, []string{"HTTPTOP=on"},
		"-n", strconv.Itoa(n), "-default", viaDefault.URL+"/", "-niltransport", viaNil.URL+"/", "-clone", viaClone.URL+"/")
	pid := strconv.Itoa(prog.pid)

	// The import announces the agent on stderr, in one line.
	line, err := prog.stderr.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "httptop: agent of pid "+pid+" listening on 127.0.0.1:") {
		t.Errorf("stderr line %q, %v: want the agent's pid and address", line, err)
	}

	t.Run("ps", func(t *testing.T) {
		out, errOut, code := e2eRun(t, "ps")
		if code != 0 || errOut != "" {
			t.Fatalf("ps: exit %d, stderr %q", code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "PID") {
			t.Fatalf("ps output:\n%s\nwant a header and one agent", out)
		}
		f := strings.Fields(lines[1])
		if len(f) != 6 || f[0] != pid || f[1] != "attachprog" || f[4] != "3" {
			t.Errorf("ps row %q: want pid %s, attachprog, its address, uptime, 3 hosts, req/s", lines[1], pid)
		}
	})

	t.Run("snapshot json", func(t *testing.T) {
		out, errOut, code := e2eRun(t, "snapshot", pid, "--json")
		if code != 0 {
			t.Fatalf("snapshot --json: exit %d: %s", code, errOut)
		}
		var s snapshot.Snapshot
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		if s.Version != 1 || s.PID != prog.pid || s.Program != "attachprog" || s.Process == nil {
			t.Fatalf("snapshot: version %d, pid %d, program %q, process %v", s.Version, s.PID, s.Program, s.Process)
		}
		if s.Process.Goroutines == 0 || s.Process.RSSBytes == 0 || s.Process.TCP.Listen == 0 {
			t.Errorf("process figures %+v: want goroutines, rss and the agent's listener", *s.Process)
		}

		// http.Get goes through the wrapped DefaultClient: every request
		// is seen.
		h := hostOf(t, &s, viaDefault.Addr())
		if h.Client != probe.DefaultClientName || h.Requests != n || h.Errors != 0 || h.Latency.Count != n || h.NewConns != 1 || h.ReusedConns != n-1 {
			t.Errorf("http.DefaultClient's host: %+v\nwant client %q, %d requests, %d latencies, 1 new and %d reused conns",
				h, probe.DefaultClientName, n, n, n-1)
		}
		if got := viaDefault.Stats().Requests; got != n {
			t.Errorf("the server saw %d requests, want %d", got, n)
		}
		// A client with a nil Transport and one with a clone of
		// http.DefaultTransport: their connections are seen (the dial
		// hook), their requests are not.
		for name, srv := range map[string]*fixtures.Server{"nil Transport": viaNil, "clone": viaClone} {
			h := hostOf(t, &s, srv.Addr())
			if h.Requests != 0 || h.Latency.Count != 0 || h.Dial.Count != 1 || h.Open != 1 ||
				!h.DialOnly || h.RequestsStarted != n || h.LimitsKnown {
				t.Errorf("%s client's host: %+v\nwant its one connection (dialed once, open), dial only: %d requests seen starting, none complete, limits unknown", name, h, n)
			}
		}
	})

	t.Run("snapshot summary", func(t *testing.T) {
		out, errOut, code := e2eRun(t, "snapshot", pid)
		if code != 0 {
			t.Fatalf("snapshot: exit %d: %s", code, errOut)
		}
		for _, want := range []string{"attachprog (pid " + pid + ")", "CLIENT", viaDefault.Addr(), "tcp: "} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("bare httptop", func(t *testing.T) {
		out, _, code := e2eRun(t)
		if code != 0 || !strings.Contains(out, pid) {
			t.Errorf("httptop: exit %d, output:\n%s", code, out)
		}
	})

	t.Run("agent stops mid-stream", func(t *testing.T) {
		c, err := agentclient.Dial(t.Context(), pid)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var got int
		err = c.Stream(t.Context(), 100*time.Millisecond, func(*snapshot.Snapshot) error {
			if got++; got == 1 {
				prog.stop(t) // the program exits; the stream breaks
			}
			return nil
		})
		if !errors.Is(err, agentclient.ErrDisconnected) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Stream = %v, want one line wrapping ErrDisconnected", err)
		}
	})

	t.Run("dead pid", func(t *testing.T) {
		prog.stop(t)
		_, errOut, code := e2eRun(t, "snapshot", pid)
		if code != 1 || errOut != "httptop: no process "+pid+" is running: run 'httptop ps' to list the agents\n" {
			t.Errorf("snapshot of the exited program: exit %d, stderr %q", code, errOut)
		}
		out, _, code := e2eRun(t, "ps")
		if code != 0 || !strings.Contains(out, "no httptop agents are running") {
			t.Errorf("ps after the program exited: exit %d\n%s", code, out)
		}
		if _, err := os.Stat(discovery.Path(dir, prog.pid)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale discovery file: %v, want it removed", err)
		}
	})
}

// TestE2EDisabled checks that HTTPTOP=off leaves the program alone.
func TestE2EDisabled(t *testing.T) {
	dir := e2eDir(t)
	bin := e2eBuild(t)
	srv := e2eServer(t)
	prog := startAttachProg(t, bin, []string{"HTTPTOP=off"}, "-default", srv.URL+"/")
	prog.stdin.Close()
	errOut, _ := io.ReadAll(prog.stderr)
	if len(errOut) != 0 {
		t.Errorf("stderr %q, want nothing", errOut)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files in the discovery directory, want none", len(entries))
	}
}

// TestE2EUnixSocket runs the program's agent on a unix socket
// (HTTPTOP_ADDR) and reaches it by the socket's path.
func TestE2EUnixSocket(t *testing.T) {
	e2eDir(t)
	bin := e2eBuild(t)
	srv := e2eServer(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	prog := startAttachProg(t, bin, []string{"HTTPTOP=on", "HTTPTOP_ADDR=unix:" + sock}, "-n", "3", "-default", srv.URL+"/")
	out, errOut, code := e2eRun(t, "snapshot", sock, "--json")
	if code != 0 {
		t.Fatalf("snapshot %s: exit %d: %s", sock, code, errOut)
	}
	var s snapshot.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.PID != prog.pid || hostOf(t, &s, srv.Addr()).Requests != 3 {
		t.Errorf("snapshot over the socket: pid %d, hosts %+v", s.PID, s.Hosts)
	}
}

// TestAttachFollowsRestart attaches to a program by pid, then restarts it
// (it exits, and runs again under a new pid, with a new port and token):
// the dashboard's source finds it again.
func TestAttachFollowsRestart(t *testing.T) {
	e2eDir(t)
	bin := e2eBuild(t)
	srv := e2eServer(t)
	first := startAttachProg(t, bin, []string{"HTTPTOP=on"}, "-default", srv.URL+"/")
	t.Cleanup(func() { first.stop(t) })
	c, err := agentclient.Dial(t.Context(), strconv.Itoa(first.pid))
	if err != nil {
		t.Fatal(err)
	}
	f := newFollower(strconv.Itoa(first.pid), c)
	defer f.Close()
	seen := func() (int, error) {
		pid := 0
		errSeen := errors.New("seen")
		err := f.Stream(t.Context(), 100*time.Millisecond, func(s *snapshot.Snapshot) error {
			pid = s.PID
			return errSeen
		})
		if errors.Is(err, errSeen) {
			err = nil
		}
		return pid, err
	}
	if pid, err := seen(); err != nil || pid != first.pid {
		t.Fatalf("first stream: pid %d, %v; want %d", pid, err, first.pid)
	}

	first.stop(t)
	second := startAttachProg(t, bin, []string{"HTTPTOP=on"}, "-default", srv.URL+"/")
	t.Cleanup(func() { second.stop(t) })
	// The stream to the first program fails; the next one finds the
	// second, as the dashboard's reconnection does.
	var pid int
	for range 3 {
		if pid, err = seen(); err == nil {
			break
		}
		t.Logf("stream: %v", err)
	}
	if pid != second.pid {
		t.Fatalf("after the restart: pid %d, %v; want the new pid %d", pid, err, second.pid)
	}
	if got := f.Title(); got != f.client().Info().Addr || f.client().Info().PID != second.pid {
		t.Errorf("title %q, client of pid %d: want the new agent's", got, f.client().Info().PID)
	}
}
