package poolstats

import (
	"net"
	"testing"
	"unsafe"
)

func testHost(t *testing.T) (*Stats, *Host) {
	t.Helper()
	s := New(Options{})
	return s, s.Client("c").Host("http", "example.com")
}

func addr(s string) net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", s)
	return a
}

func TestConnLifecycle(t *testing.T) {
	s, h := testHost(t)
	c := s.NewConn(h, DialTiming{Start: 1e9, End: 1e9 + 3e6, DNS: 1e6}, addr("127.0.0.1:5000"), addr("127.0.0.1:80"))
	if got := h.openConns(nil); len(got) != 1 {
		t.Fatalf("open conns = %d, want 1", len(got))
	}
	dns, connect, _ := c.Timing()
	if dns != 1e6 || connect != 2e6 {
		t.Errorf("timing = %v, %v; want 1ms, 2ms", dns, connect)
	}
	c.BeginRequest()
	c.BeginRequest() // an HTTP/2 stream
	if c.InFlight() != 2 || c.maxStreams.Load() != 2 {
		t.Errorf("in flight %d, max streams %d; want 2, 2", c.InFlight(), c.maxStreams.Load())
	}
	c.EndRequest(2e9, true)
	c.EndRequest(2e9, true)
	if c.InFlight() != 0 || c.requests.Load() != 2 {
		t.Errorf("in flight %d, requests %d; want 0, 2", c.InFlight(), c.requests.Load())
	}
	c.Close(3e9)
	c.Close(4e9) // counted once
	if !c.Closed() || h.closed.Load() != 1 || len(h.openConns(nil)) != 0 {
		t.Errorf("closed %v, host closed %d, open %d; want true, 1, 0", c.Closed(), h.closed.Load(), len(h.openConns(nil)))
	}
	if got := s.recentlyClosed(); len(got) != 1 || got[0] != c {
		t.Errorf("recently closed = %v, want the connection", got)
	}
}

// A healthy connection the client closes right after its last request is
// churn, whichever of the close and the request's end comes first; a
// connection the server closed, one asked to close, or one idle for long
// is not.
func TestConnChurn(t *testing.T) {
	cases := []struct {
		name  string
		setup func(c *Conn)
		run   func(c *Conn)
		churn int64
	}{
		{"end then close", nil, func(c *Conn) { c.EndRequest(5e9, true); c.Close(5e9 + 1e6) }, 1},
		{"close then end", nil, func(c *Conn) { c.Close(5e9); c.EndRequest(5e9+1e6, true) }, 1},
		{"close then failed end", nil, func(c *Conn) { c.Close(5e9); c.EndRequest(5e9+1e6, false) }, 0},
		{"idle timeout", nil, func(c *Conn) { c.EndRequest(5e9, true); c.Close(5e9 + 90e9) }, 0},
		{"server closed", func(c *Conn) { c.PeerClosed() }, func(c *Conn) { c.EndRequest(5e9, true); c.Close(5e9 + 1e6) }, 0},
		{"connection: close", func(c *Conn) { c.CloseAsked() }, func(c *Conn) { c.EndRequest(5e9, true); c.Close(5e9 + 1e6) }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, h := testHost(t)
			c := s.NewConn(h, DialTiming{Start: 1e9, End: 2e9}, nil, nil)
			c.BeginRequest()
			if tc.setup != nil {
				tc.setup(c)
			}
			tc.run(c)
			var churn int64
			for i := range h.secs.s {
				churn += h.secs.s[i].c[cChurned].Load()
			}
			if churn != tc.churn {
				t.Errorf("churn = %d, want %d", churn, tc.churn)
			}
		})
	}
}

func TestConnUsedAndMove(t *testing.T) {
	s, h := testHost(t)
	c := s.NewConn(h, DialTiming{Start: 1e9, End: 2e9}, nil, nil)
	// First handed out after sitting idle 0.5 s: ready at 2.5 s.
	c.Used(3e9, 5e8, nil)
	c.Used(9e9, 0, nil) // later uses change nothing
	if got := c.HandshakeNs(); got != 5e8 {
		t.Errorf("handshake = %d ns, want 5e8", got)
	}
	other := s.Client("c").Host("http", "other.example")
	c.BeginRequest()
	c.MoveTo(other) // busy: stays
	if c.Host() != h {
		t.Errorf("a busy connection moved")
	}
	c.EndRequest(4e9, true)
	c.MoveTo(other)
	if c.Host() != other || len(h.openConns(nil)) != 0 || len(other.openConns(nil)) != 1 {
		t.Errorf("idle connection did not move: host %s", c.Host().Name())
	}
}

func TestInferredConn(t *testing.T) {
	s, h := testHost(t)
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	c1 := s.InferredConn(h, a, 1e9)
	c2 := s.InferredConn(h, a, 2e9)
	if c1 != c2 || !c1.inferred {
		t.Fatalf("same net.Conn gave two records")
	}
	if c1.HandshakeNs() != 0 {
		t.Errorf("an inferred connection claims a handshake time")
	}
	// Presumed closed after the idle timeout; the index forgets it.
	s.expireInferred([]*Conn{c1}, 1e9+int64(inferredIdleDefault)+1, Limits{})
	if !c1.Closed() {
		t.Errorf("inferred connection not expired")
	}
	if c3 := s.InferredConn(h, a, 5e9); c3 == c1 {
		t.Errorf("expired record reused")
	}
}

// NoteHandshake follows a TLS handshake through the records the client
// writes: a ClientHello opens it, a ChangeCipherSpec or an
// application-data record (TLS 1.3's encrypted Finished) ends it, and a
// first write that is no handshake record means the connection is not TLS.
func TestNoteHandshake(t *testing.T) {
	record := func(typ byte, n int) []byte {
		return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	s := New(Options{})
	h := s.Client("c").Host("https", "h:443")
	for _, tt := range []struct {
		name   string
		writes [][]byte
		open   bool // still handshaking after the writes
	}{
		{"plain HTTP", [][]byte{[]byte("GET / HTTP/1.1\r\n")}, false},
		{"ClientHello", [][]byte{record(22, 300)}, true},
		{"TLS 1.3: then CCS and Finished", [][]byte{record(22, 300), cat(record(20, 1), record(23, 53))}, false},
		{"TLS 1.3 without CCS", [][]byte{record(22, 300), record(23, 53)}, false},
		{"TLS 1.2: key exchange, CCS, Finished in one write", [][]byte{record(22, 300), cat(record(22, 70), record(20, 1), record(22, 40))}, false},
		{"two handshake writes", [][]byte{record(22, 300), record(22, 40)}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := Now()
			c := s.NewConn(h, DialTiming{Start: now - 1e6, End: now}, nil, nil)
			for _, w := range tt.writes {
				if c.HandshakeOpen() {
					c.NoteHandshake(w)
				}
			}
			if got := c.handshaking(now, Limits{}); got != tt.open {
				t.Errorf("handshaking = %v, want %v", got, tt.open)
			}
			if got := c.handshaking(now+int64(11e9), Limits{}); got {
				t.Error("handshaking past the handshake timeout")
			}
		})
	}
}

// TestBusyByTraffic: a dial-only connection is busy while a request's
// worth of bytes it wrote has no answer (for at most unansweredBusy) and
// for trafficBusy after bytes came in; an HTTP/2 acknowledgement written
// after the last read (a SETTINGS ack, 9 bytes, 31 in TLS 1.3) leaves an
// idle connection idle.
func TestBusyByTraffic(t *testing.T) {
	const ms = int64(1e6)
	for _, tc := range []struct {
		name  string
		notes func(c *Conn, t0 int64)
		at    int64 // ns after t0
		want  bool
	}{
		{"request awaiting its answer", func(c *Conn, t0 int64) { c.NoteWrite(t0, 120) }, 5000 * ms, true},
		{"answer being read", func(c *Conn, t0 int64) { c.NoteWrite(t0, 120); c.NoteRead(t0 + ms) }, 50 * ms, true},
		{"answered long ago", func(c *Conn, t0 int64) { c.NoteWrite(t0, 120); c.NoteRead(t0 + ms) }, 500 * ms, false},
		{"ack after the last read", func(c *Conn, t0 int64) { c.NoteRead(t0); c.NoteWrite(t0+ms, 31) }, 500 * ms, false},
		{"ack then a request", func(c *Conn, t0 int64) { c.NoteRead(t0); c.NoteWrite(t0+ms, 31); c.NoteWrite(t0+2*ms, 80) }, 500 * ms, true},
		{"unanswered for longer than the bound", func(c *Conn, t0 int64) { c.NoteRead(t0); c.NoteWrite(t0+ms, 60) }, unansweredBusy + 2*ms, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := Now()
			s := New(Options{})
			c := s.NewUntracedConn(s.Unwrapped().Host("http", "a:80"), DialTiming{Start: t0 - 2*ms, End: t0 - ms}, nil, nil)
			tc.notes(c, t0)
			if got := c.busyByTraffic(t0 + tc.at); got != tc.want {
				t.Errorf("busy = %v, want %v", got, tc.want)
			}
		})
	}
}

// What a request touches of its connection's record is on one cache line:
// the record's first, 64-byte aligned (see Conn).
func TestConnLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is for 64-bit platforms")
	}
	var c Conn
	for _, f := range []struct {
		name     string
		off, end uintptr
	}{
		{"host", unsafe.Offsetof(c.host), unsafe.Sizeof(c.host)},
		{"state", unsafe.Offsetof(c.state), unsafe.Sizeof(c.state)},
		{"requests", unsafe.Offsetof(c.requests), unsafe.Sizeof(c.requests)},
		{"maxStreams", unsafe.Offsetof(c.maxStreams), unsafe.Sizeof(c.maxStreams)},
		{"lastDone", unsafe.Offsetof(c.lastDone), unsafe.Sizeof(c.lastDone)},
		{"firstUse", unsafe.Offsetof(c.firstUse), unsafe.Sizeof(c.firstUse)},
		{"proto", unsafe.Offsetof(c.proto), unsafe.Sizeof(c.proto)},
	} {
		if f.off+f.end > 64 {
			t.Errorf("%s at bytes %d..%d of a Conn, past its first cache line", f.name, f.off, f.off+f.end)
		}
	}
	// What the connection's reads and writes touch is on the second.
	for _, off := range []uintptr{unsafe.Offsetof(c.in), unsafe.Offsetof(c.out), unsafe.Offsetof(c.tlsPhase)} {
		if off < 64 || off >= 128 {
			t.Errorf("a field of reads and writes at offset %d, not on the second line", off)
		}
	}
	s := New(Options{})
	h := s.Client("").Host("http", "example.com")
	for range 100 {
		c := s.NewConn(h, DialTiming{}, addr("127.0.0.1:1"), addr("127.0.0.1:2"))
		if p := uintptr(unsafe.Pointer(c)); p%64 != 0 {
			t.Fatalf("a Conn of %d bytes at %#x, not aligned on 64 bytes", unsafe.Sizeof(*c), p)
		}
	}
}
