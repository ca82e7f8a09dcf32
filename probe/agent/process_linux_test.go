package agent

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

func TestParseProcAddr(t *testing.T) {
	// The kernel prints each 32-bit word of the address as a number in
	// the host's byte order; these are what a little-endian host prints.
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the table is for little-endian hosts")
	}
	tests := []struct {
		in, want string
	}{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"00000000:0050", "0.0.0.0:80"},
		{"0A01A8C0:01BB", "192.168.1.10:443"},
		{"00000000000000000000000001000000:0035", "[::1]:53"},
		{"0000000000000000FFFF00000100007F:1F90", "127.0.0.1:8080"}, // IPv4-mapped, unmapped
		{"B80D0120000000000000000001000000:0016", "[2001:db8::1]:22"},
	}
	for _, tt := range tests {
		got, err := parseProcAddr(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("parseProcAddr(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "0100007F", "0100007F:", "0100007F:1F9", "0100007G:1F90", "01007F:1F90", "0100007F:1F90:00", "0100007F:XXXX"} {
		if got, err := parseProcAddr(bad); err == nil {
			t.Errorf("parseProcAddr(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseOrphans(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the table is for little-endian hosts")
	}
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A000 0100007F:1F90 06 00000000:00000000 03:00000F9F 00000000     0        0 0 3 0000000000000000
   2: 0100007F:A001 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 23456 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:A002 0100007F:1F90 04 00000000:00000000 00:00000000 00000000  1000        0 0 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 0 1
   5: garbage
   6: 0100007F:A003 0100007F:1F90 FF 00000000:00000000 00:00000000 00000000  1000        0 0 1
`
	got := parseOrphans([]byte(table))
	want := []socket{
		{state: "TIME_WAIT", local: ap("127.0.0.1:40960"), remote: ap("127.0.0.1:8080")},
		{state: "FIN_WAIT1", local: ap("127.0.0.1:40962"), remote: ap("127.0.0.1:8080")},
	}
	if len(got) != len(want) {
		t.Fatalf("parseOrphans = %+v\nwant %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("socket %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestProcessTCPLoopback opens real connections to a listener of this
// process, closes them from the client side, and checks that the sockets
// show as established, then in TIME_WAIT (the client closed first), which
// no process owns.
func TestProcessTCPLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 3
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var clients, servers []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		servers = append(servers, <-accepted)
	}
	p := newProcessSampler()
	before := p.sample(t.Context(), nil, nil).TCP
	if before.Established < 2*n || before.Listen < 1 {
		t.Fatalf("tcp with %d connections open = %+v, want at least %d established and a listener", n, before, 2*n)
	}

	// The client closes first; the server sees EOF, then closes: the
	// client's sockets go to TIME_WAIT.
	for i := range n {
		clients[i].Close()
		if _, err := io.ReadAll(servers[i]); err != nil {
			t.Fatal(err)
		}
		servers[i].Close()
	}
	// The last ACK is processed by the kernel on its own time; read
	// until it has (on loopback, at once in practice).
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.at, p.tcpAt = time.Time{}, time.Time{} // no cached reading
		after := p.sample(t.Context(), nil, nil).TCP
		if after.TimeWait >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tcp after closing = %+v, want at least %d time_wait", after, n)
		}
		runtime.Gosched()
	}
}

// churn opens n connections to addr, each closed by the client first after
// the server answered (so the client's socket goes to TIME_WAIT), one after
// the other.
func churn(t *testing.T, addr string, n int) {
	t.Helper()
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

// ssCount runs ss -tanp and counts the sockets in state (ss's name) that
// match: peer is their peer address, or pid their owner.
func ssCount(t *testing.T, state string, match func(local, peer, process string) bool) int {
	t.Helper()
	out, err := exec.Command("ss", "-tanpH").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || f[0] != state {
			continue
		}
		process := ""
		if len(f) > 5 {
			process = f[5]
		}
		if match(f[3], f[4], process) {
			n++
		}
	}
	return n
}

// TestTCPAgainstSS: under connection churn (bursts of 300 connections
// closed by the client, plus 20 held open), the socket table the agent
// reads agrees with what ss -tan says of the same sockets — the TIME_WAIT
// sockets towards the server and the established sockets this process
// holds — and the process's counts, read again, include them.
// (The process's TIME_WAIT count also holds those of earlier tests, which
// ss cannot attribute: it is checked to include the server's, not to equal
// them.)
func TestTCPAgainstSS(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("no ss (iproute2):", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.Write([]byte{1})
				io.Copy(io.Discard, c) // until the client closes
				c.Close()
			}()
		}
	}()
	addr := ln.Addr().String()
	srv := netip.MustParseAddrPort(addr)
	pid := "pid=" + strconv.Itoa(os.Getpid()) + ","
	conns := []snapshot.Conn{{RemoteAddr: addr}} // as the collector reports them
	p := newProcessSampler()
	check := func(stage string) {
		t.Helper()
		// TIME_WAIT sockets appear once the kernel has processed the
		// last ACK (on loopback, at once in practice): read until ss
		// and the agent see the same settled table.
		deadline := time.Now().Add(10 * time.Second)
		for {
			wantTW := ssCount(t, "TIME-WAIT", func(_, peer, _ string) bool { return peer == addr })
			wantEst := ssCount(t, "ESTAB", func(_, _, process string) bool { return strings.Contains(process, pid) })
			owned, orphans, err := diagSockets()
			if err != nil {
				t.Fatal(err)
			}
			tw, est := 0, 0
			for _, s := range orphans {
				if s.state == "TIME_WAIT" && s.remote == srv {
					tw++
				}
			}
			for _, s := range owned {
				if s.state == "ESTABLISHED" {
					est++
				}
			}
			// A new reading, whatever the last one cost (TestTCPAge
			// checks how readings are spaced and marked).
			p.at, p.tcpAt = time.Time{}, time.Time{}
			got := p.sample(t.Context(), nil, conns).TCP
			if tw == wantTW && est == wantEst && got.TimeWait >= wantTW && got.Established == wantEst && got.AgeSeconds == 0 {
				t.Logf("%s: %d TIME_WAIT to the server and %d ESTABLISHED, as ss says; the process counts %d TIME_WAIT in all",
					stage, tw, est, got.TimeWait)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the table has %d TIME_WAIT to %s and %d ESTABLISHED, the process counts %+v; ss says %d and %d",
					stage, tw, addr, est, got, wantTW, wantEst)
			}
			runtime.Gosched()
		}
	}
	for range 20 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	churn(t, addr, 300)
	check("after 300")
	churn(t, addr, 300)
	check("after 600")
}

// TestTCPAge: when the table was not read again for a sample (reading it
// costs too much to do every time), the figure says how old it is.
func TestTCPAge(t *testing.T) {
	p := newProcessSampler()
	reads := 0
	p.sockets = func(context.Context) ([]socket, []socket, error) {
		reads++
		return []socket{{state: "ESTABLISHED"}}, nil, nil
	}
	first := p.sample(t.Context(), nil, nil).TCP
	if reads != 1 || first.Established != 1 || first.AgeSeconds != 0 {
		t.Fatalf("first sample: %d reads, tcp %+v; want 1 read, 1 established, age 0", reads, first)
	}
	// The last read cost as much as the next 10 s of samples may spend.
	p.tcpEvery = 10 * time.Second
	p.at = time.Time{}
	second := p.sample(t.Context(), nil, nil).TCP
	if reads != 1 || second.Established != 1 || second.AgeSeconds <= 0 {
		t.Errorf("second sample: %d reads, tcp %+v; want the first reading, with its age", reads, second)
	}
}

// BenchmarkReadSockets reads the TCP table with 5,000 TIME_WAIT sockets of
// this process in it, through netlink (what readSockets does) and through
// gopsutil and /proc/self/net/tcp (its fallback, and what it did before).
func BenchmarkReadSockets(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				c.Write([]byte{1})
				io.Copy(io.Discard, c)
				c.Close()
			}()
		}
	}()
	for range 5000 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		io.ReadFull(c, make([]byte, 1))
		c.Close()
	}
	fallback := func() ([]socket, []socket, error) {
		owned, err := ownedSockets(context.Background())
		var orphans []socket
		for _, name := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
			if data, err := os.ReadFile(name); err == nil {
				orphans = append(orphans, parseOrphans(data)...)
			}
		}
		return owned, orphans, err
	}
	for _, tc := range []struct {
		name string
		read func() ([]socket, []socket, error)
	}{{"netlink", diagSockets}, {"proc", fallback}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, orphans, err := tc.read()
				if err != nil || len(orphans) < 5000 {
					b.Fatalf("%d orphans, %v", len(orphans), err)
				}
			}
		})
	}
}
