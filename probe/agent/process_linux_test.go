package agent

import (
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
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
	before := p.sample(t.Context(), nil).TCP
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
		after := p.sample(t.Context(), nil).TCP
		if after.TimeWait >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tcp after closing = %+v, want at least %d time_wait", after, n)
		}
		runtime.Gosched()
	}
}
