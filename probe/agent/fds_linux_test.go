package agent

import (
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v4/process"
)

// TestCountFDs compares countFDs and listFDs with gopsutil's count, with a
// thousand more descriptors open than usual. gopsutil counts the
// descriptor it opens to list them; countFDs does not.
func TestCountFDs(t *testing.T) {
	openPipes(t, 500)
	p, err := process.NewProcess(int32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := p.NumFDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		count func() (int, error)
	}{{"countFDs", countFDs}, {"listFDs", listFDs}} {
		got, err := c.count()
		if err != nil {
			t.Fatal(err)
		}
		if got != int(want)-1 || got < 1000 {
			t.Errorf("%s = %d, gopsutil counts %d (want one less, over 1000)", c.name, got, want)
		}
	}
}

func BenchmarkCountFDs(b *testing.B) {
	openPipes(b, 5000)
	p, _ := process.NewProcess(int32(os.Getpid()))
	b.Run("countFDs/fds=10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			countFDs()
		}
	})
	b.Run("listFDs/fds=10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			listFDs()
		}
	})
	b.Run("gopsutil/fds=10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.NumFDs()
		}
	})
}

// TestDiagSocketsMatchesProc reads the TCP table through sock_diag and
// through gopsutil and /proc/self/net/tcp, with a listener, connections
// in both directions and one closed into TIME_WAIT: both see the same
// sockets.
func TestDiagSocketsMatchesProc(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	for range 3 {
		dialPair(t, ln)
	}
	// The client side of one closes first: TIME_WAIT here.
	c, s := dialPair(t, ln)
	c.Close()
	io.Copy(io.Discard, s)
	s.Close()

	owned, orphans, err := diagSockets()
	if err != nil {
		t.Skipf("sock_diag unavailable here: %v", err)
	}
	wantOwned, wantOrphans, err := procSockets(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Other tests (other processes) open and close sockets in the same
	// network namespace meanwhile: compare this test's.
	port := ln.Addr().(*net.TCPAddr).Port
	key := func(ss []socket) []string { return socketsOfPort(ss, port) }
	if got, want := key(owned), key(wantOwned); !slices.Equal(got, want) {
		t.Errorf("owned sockets:\n got %v\nwant %v", got, want)
	}
	if got, want := key(orphans), key(wantOrphans); !slices.Equal(got, want) {
		t.Errorf("orphaned sockets:\n got %v\nwant %v", got, want)
	}
	if !slices.ContainsFunc(orphans, func(s socket) bool { return s.state == "TIME_WAIT" && s.remote.String() == ln.Addr().String() }) {
		t.Errorf("no TIME_WAIT socket towards the listener among %v", key(orphans))
	}
}

// openPipes opens n pipes (2n descriptors) until tb's test ends.
func openPipes(tb testing.TB, n int) {
	tb.Helper()
	for range n {
		r, w, err := os.Pipe()
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { r.Close(); w.Close() })
	}
}

// TestSocketInodes checks that socketInodes finds the inode of each of
// the process's sockets, among other descriptors, and of nothing else.
func TestSocketInodes(t *testing.T) {
	openPipes(t, 100)
	fds := openSocketPairs(t, 300)
	got, err := socketInodes()
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			t.Fatal(err)
		}
		if !got[st.Ino] {
			t.Fatalf("socket descriptor %d (inode %d) missing from socketInodes' %d", fd, st.Ino, len(got))
		}
	}
	// Sockets only: the pipes' inodes are not in it.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(r.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	if got, err = socketInodes(); err != nil || got[st.Ino] {
		t.Errorf("socketInodes holds a pipe's inode (%v)", err)
	}
}

func BenchmarkSocketInodes(b *testing.B) {
	openSocketPairs(b, 5000)
	b.Run("fds=10000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if m, err := socketInodes(); err != nil || len(m) < 10000 {
				b.Fatalf("%d inodes, %v", len(m), err)
			}
		}
	})
}

// openSocketPairs opens n pairs of connected Unix sockets (2n
// descriptors) until tb's test ends, and returns their descriptors.
func openSocketPairs(tb testing.TB, n int) []int {
	tb.Helper()
	var fds []int
	for range n {
		p, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { syscall.Close(p[0]); syscall.Close(p[1]) })
		fds = append(fds, p[:]...)
	}
	return fds
}

// TestSocketOwners reads the TCP table with a memory of which sockets are
// the process's: the descriptors are read again only when a socket the
// last reading did not see appears, and every reading counts the same
// sockets as one without that memory.
func TestSocketOwners(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	dial := func() net.Conn {
		t.Helper()
		c, _ := dialPair(t, ln)
		return c
	}
	// The sockets of this test's listener the process holds.
	mine := func(ss []socket) []string { return socketsOfPort(ss, port) }
	o := new(socketOwners)
	check := func(stage string, walks int) {
		t.Helper()
		got, _, err := diagSocketsWith(o)
		if err != nil {
			t.Skipf("sock_diag unavailable here: %v", err)
		}
		want, _, err := diagSockets()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(mine(got), mine(want)) {
			t.Errorf("%s: owned sockets\n got %v\nwant %v", stage, mine(got), mine(want))
		}
		// Other processes may open sockets meanwhile, which makes a
		// reading read the descriptors again: at least walks.
		if o.walks < walks {
			t.Errorf("%s: descriptors read %d times, want %d", stage, o.walks, walks)
		}
	}
	dial()
	check("first reading", 1)
	// A reading that sees no socket the last one did not see reads no
	// descriptors; one that does (other processes open sockets all the
	// time, and under CI's parallel tests nearly every reading sees one)
	// reads them. After a reading, o.mine holds the sockets it saw.
	quiet := 0
	for deadline := time.Now().Add(20 * time.Second); quiet == 0 && time.Now().Before(deadline); {
		before, walks := maps.Clone(o.mine), o.walks
		check("nothing new", walks)
		news := 0
		for ino := range o.mine {
			if _, ok := before[ino]; !ok {
				news++
			}
		}
		switch walked := o.walks > walks; {
		case news == 0 && walked:
			t.Fatalf("a reading that saw no new socket read the descriptors again")
		case news > 0 && !walked:
			t.Fatalf("a reading that saw %d new sockets did not read the descriptors", news)
		case news == 0:
			quiet++
		}
	}
	if quiet == 0 {
		t.Log("every reading for 20 s saw a socket the last one had not: the sparing of a quiet reading is not checked")
	}
	walks := o.walks
	c := dial()
	check("a new connection", walks+1)
	walks = o.walks
	c.Close() // this side closes first: TIME_WAIT, not the process's
	check("a connection closed", walks)
	o.walked = o.walked.Add(-socketWalkMaxAge)
	walks = o.walks
	check("after socketWalkMaxAge", walks+1)
}

// socketsOfPort returns the sockets of ss from or to port, each as its
// state and addresses, sorted.
func socketsOfPort(ss []socket, port int) []string {
	var out []string
	for _, s := range ss {
		if int(s.local.Port()) == port || int(s.remote.Port()) == port {
			out = append(out, s.state+" "+s.local.String()+" "+s.remote.String())
		}
	}
	slices.Sort(out)
	return out
}

// dialPair connects to ln and accepts the connection, both ends closed
// when t's test ends.
func dialPair(t *testing.T, ln net.Listener) (client, server net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}
