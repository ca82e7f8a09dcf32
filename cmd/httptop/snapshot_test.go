package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/snapshot"
)

func TestSnapshotJSON(t *testing.T) {
	dir := e2eDir(t)
	_, col := e2eAgent(t, dir)
	srv := e2eServer(t)
	e2eTraffic(t, col, srv, 6)
	pid := strconv.Itoa(os.Getpid())
	// With the target, the flag before or after it, and without it (one
	// agent runs).
	for _, args := range [][]string{{"snapshot", pid, "--json"}, {"snapshot", "--json", pid}, {"snapshot", "-json"}} {
		out, errOut, code := e2eRun(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		var s snapshot.Snapshot
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if s.Version != snapshot.Version || s.Process == nil || len(s.Hosts) != 1 || s.Hosts[0].Requests != 6 || s.Hosts[0].Host != srv.Addr() {
			t.Errorf("%v: snapshot version %d, process %v, hosts %+v", args, s.Version, s.Process, s.Hosts)
		}
	}
}

func TestSnapshotSummaryLive(t *testing.T) {
	dir := e2eDir(t)
	_, col := e2eAgent(t, dir)
	srv := e2eServer(t)
	e2eTraffic(t, col, srv, 3)
	out, errOut, code := e2eRun(t, "snapshot")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"(pid " + strconv.Itoa(os.Getpid()) + ")", "CLIENT", "api", srv.Addr()} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestSnapshotErrors checks that each failure is reported on one line of
// stderr with a non-zero exit, and nothing on stdout.
func TestSnapshotErrors(t *testing.T) {
	notAgent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") }))
	t.Cleanup(notAgent.Close)
	newer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(snapshot.ProtocolHeader, "2")
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(newer.Close)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) []string
		code  int
		want  string
	}{
		{"no agent", func(t *testing.T, dir string) []string { return nil }, 1, "no httptop agent is running on this machine"},
		{"dead pid", func(t *testing.T, dir string) []string { return []string{strconv.Itoa(deadPID)} }, 1, "no process " + strconv.Itoa(deadPID) + " is running"},
		{"pid without agent", func(t *testing.T, dir string) []string { return []string{"1"} }, 1, "process 1 runs no httptop agent"},
		{"nothing listening", func(t *testing.T, dir string) []string { return []string{closedAddr} }, 1, "nothing listens at " + closedAddr},
		{"not an agent", func(t *testing.T, dir string) []string {
			return []string{notAgent.Listener.Addr().String()}
		}, 1, "is not an httptop agent"},
		{"missing token", func(t *testing.T, dir string) []string {
			a, _ := e2eAgent(t, "")
			return []string{a.Addr()}
		}, 1, "wants a token and none was found"},
		{"wrong token", func(t *testing.T, dir string) []string {
			a, _ := e2eAgent(t, "")
			t.Setenv(agentclient.EnvToken, "not-the-token")
			return []string{a.Addr()}
		}, 1, "refused the token"},
		{"protocol version mismatch", func(t *testing.T, dir string) []string {
			return []string{newer.Listener.Addr().String()}
		}, 1, "speaks httptop protocol version 2"},
		{"several agents", func(t *testing.T, dir string) []string {
			e2eAgent(t, dir)
			e2eRecord(t, dir, 1, closedAddr)
			return nil
		}, 1, "2 httptop agents are running"},
		{"bad target", func(t *testing.T, dir string) []string { return []string{"nowhere"} }, 1, "is not a pid, a host:port or a unix socket path"},
		{"two targets", func(t *testing.T, dir string) []string { return []string{"1", "2"} }, 2, "at most one TARGET"},
		{"unknown flag", func(t *testing.T, dir string) []string { return []string{"--yaml"} }, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := e2eDir(t)
			args := append([]string{"snapshot"}, tt.setup(t, dir)...)
			out, errOut, code := e2eRun(t, args...)
			if code != tt.code {
				t.Errorf("%v: exit %d, want %d", args, code, tt.code)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			// The flag package prints the usage after its error; our
			// own errors are one line.
			first, _, _ := strings.Cut(errOut, "\n")
			if tt.code == 1 && strings.Count(errOut, "\n") != 1 {
				t.Errorf("stderr %q: want exactly one line", errOut)
			}
			if !strings.Contains(errOut, tt.want) || (tt.code == 1 && !strings.HasPrefix(first, "httptop: ")) {
				t.Errorf("stderr %q: want a line 'httptop: ...' containing %q", errOut, tt.want)
			}
		})
	}
}

func TestWriteSummary(t *testing.T) {
	s := &snapshot.Snapshot{
		Version: 1, PID: 4242, Program: "checkout", Time: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
		Process: &snapshot.Process{
			CPUPercent: 12.54, RSSBytes: 48 << 20, Goroutines: 120, Threads: 14, FDs: 23, UptimeSeconds: 192,
			TCP:        snapshot.TCP{Established: 12, TimeWait: 340, Listen: 1},
			GOMAXPROCS: 2, Cores: 2, CPUWindowSeconds: 10, WindowCPUPercent: 196, RequestsPerSecond: 915.3,
			CPUPerRequestMs: 2.141, CeilingRPS: 934.1, WindowSchedLatencyP99Ms: 83.9, WindowGCCPUPercent: 0.4,
		},
		Hosts: []snapshot.Host{
			{Client: "payments", Scheme: "https", Host: "pay.example.com:443", Open: 10, Active: 10, Waiting: 7, RPS: 80.25,
				Requests: 9000, Errors: 3,
				Latency:  snapshot.Percentiles{Count: 9000, P50: 45.3, P95: 180, P99: 1250, Max: 2000},
				ConnWait: snapshot.Percentiles{Count: 9000, P95: 120.4}, NewConnsPerSecond: 0.2},
			{Client: "default", Scheme: "http", Host: "127.0.0.1:8080", Open: 3, Active: 0, Idle: 2, Handshaking: 1, RPS: 1.5,
				Latency: snapshot.Percentiles{Count: 10, P50: 0.42, P95: 3.1, P99: 9.87}, ConnWait: snapshot.Percentiles{}},
			{Client: "(unwrapped)", Scheme: "http", Host: "127.0.0.1:9090", Open: 2, Active: 2, DialOnly: true, DialOnlyConns: 2,
				RequestsStarted: 100, StartsPerSecond: 10.04},
		},
		Diagnoses: []snapshot.Diagnosis{{
			Kind: snapshot.KindPoolSaturated, Client: "payments", Host: "pay.example.com:443", Severity: snapshot.SeverityCritical,
			Summary: "7 requests wait for a connection; conn-wait p95 120ms", Advice: "raise Transport.MaxConnsPerHost from 10 to 20",
			Sites: []snapshot.Site{{Function: "main.charge", File: "charge.go", Line: 42, Count: 3}},
		}, {
			Kind: snapshot.KindCPUSaturated, Severity: snapshot.SeverityWarning,
			Summary: "The process uses 1.96 of the 2 cores it may use", Advice: "cut the CPU each request costs",
		}},
	}
	var buf bytes.Buffer
	writeSummary(&buf, s)
	want := `checkout (pid 4242) · up 3m12s · cpu 12.5% · rss 48.0 MiB · 120 goroutines · 14 threads · 23 fds
tcp: 12 established · 340 time_wait · 0 close_wait · 0 fin_wait · 0 syn_sent · 1 listen
cpu: 1.96 of 2 cores used (GOMAXPROCS 2) over 10 s · 2.14ms per request at 915.3 req/s · ceiling ~934 req/s · sched p99 83.9ms · gc 0.4%

CLIENT       HOST                               OPEN  ACTIVE  IDLE  HANDSHAKING  WAITING  REQ/S  P50     P95     P99     WAIT P95  NEW/S  ERRORS
(unwrapped)  http://127.0.0.1:9090 (dial only)  2     2       0     0            ?        ~10.0  ?       ?       ?       ?         ?      ?
default      http://127.0.0.1:8080              3     0       2     1            0        1.5    420µs   3.10ms  9.87ms  -         0.0    0
payments     https://pay.example.com            10    10      0     0            7        80.2   45.3ms  180ms   1.25s   120ms     0.2    3
dial only: httptop sees these connections (dialed through a hook the transport inherited by cloning, or shared), not their requests; ? is unknown, ~ counts requests starting, active and idle are read from the traffic. Wrap the transport with probe.Wrap to see the rest.

diagnoses:
  CRITICAL  pool_saturated  payments pay.example.com:443
    7 requests wait for a connection; conn-wait p95 120ms
    advice: raise Transport.MaxConnsPerHost from 10 to 20
    at charge.go:42 (main.charge) (3×)
  WARNING  cpu_saturated  (the process)
    The process uses 1.96 of the 2 cores it may use
    advice: cut the CPU each request costs
`
	if got := buf.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}

	// A snapshot without process figures or traffic.
	buf.Reset()
	writeSummary(&buf, &snapshot.Snapshot{Version: 1, PID: 7, Program: "idle"})
	for _, want := range []string{"idle (pid 7)\n", "no HTTP traffic seen yet", "no problems diagnosed"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("empty summary lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		b    uint64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {48 << 20, "48.0 MiB"}, {3 << 30, "3.0 GiB"}}
	for _, tt := range tests {
		if got := formatBytes(tt.b); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.b, got, tt.want)
		}
	}
}
