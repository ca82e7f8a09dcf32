package poolstats

import (
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestCanonicalHost(t *testing.T) {
	cases := []struct{ scheme, in, want string }{
		{"http", "example.com", "example.com:80"},
		{"https", "Example.COM", "example.com:443"},
		{"https", "example.com:8443", "example.com:8443"},
		{"http", "[::1]", "[::1]:80"},
		{"http", "[::1]:9000", "[::1]:9000"},
		{"https", "127.0.0.1:443", "127.0.0.1:443"},
		{"", "10.0.0.1:5000", "10.0.0.1:5000"},
		{"ftp", "example.com", "example.com"},
	}
	for _, c := range cases {
		if got := canonicalHost(c.scheme, c.in); got != c.want {
			t.Errorf("canonicalHost(%q, %q) = %q, want %q", c.scheme, c.in, got, c.want)
		}
	}
}

func TestClientHostLookup(t *testing.T) {
	s := New(Options{})
	c := s.Client("api")
	a := c.Host("https", "example.com")
	if b := c.Host("https", "example.com:443"); b != a {
		t.Errorf("example.com and example.com:443 are two hosts")
	}
	if b := c.Host("https", "EXAMPLE.com"); b != a {
		t.Errorf("host names differing in case are two hosts")
	}
	if b := c.Host("http", "example.com"); b == a {
		t.Errorf("http and https share a host")
	}
	if s.Client("api") != c || s.Client("other") == c {
		t.Errorf("clients are not found by name")
	}
	a.NoteAddr("example.com:443")
	if got := c.HostForDial("example.com:443"); got != a {
		t.Errorf("dial to a noted address went to %v", got.Name())
	}
	if got := c.HostForDial("10.1.1.1:9000"); got.Name() != "10.1.1.1:9000" || got.Scheme() != "" {
		t.Errorf("dial to an unknown address: host %q scheme %q", got.Name(), got.Scheme())
	}
}

func TestMaxHosts(t *testing.T) {
	s := New(Options{MaxHosts: 3})
	c := s.Client("c")
	for _, h := range []string{"a", "b", "c"} {
		if got := c.Host("http", h); got.Name() != h+":80" {
			t.Errorf("host %s tracked as %q", h, got.Name())
		}
	}
	d, e := c.Host("http", "d"), c.Host("http", "e")
	if d != e || d.Name() != OverflowHost {
		t.Errorf("hosts past MaxHosts: %q and %q, want both %q", d.Name(), e.Name(), OverflowHost)
	}
	if got := len(c.allHosts()); got != 4 {
		t.Errorf("hosts = %d, want 3 + overflow", got)
	}
}

// Idle hosts are dropped after ForgetAfter, freeing room under MaxHosts.
func TestForgetIdleHosts(t *testing.T) {
	s := New(Options{MaxHosts: 2})
	c := s.Client("c")
	old := c.Host("http", "old")
	old.Responded(Now(), 1e6, 0, 200, Got{})
	var snap = fillAt(s, Now()+int64(s.opts.ForgetAfter)+2e9)
	if len(snap.Hosts) != 1 {
		t.Fatalf("hosts in snapshot = %d, want 1", len(snap.Hosts))
	}
	snap = fillAt(s, Now()+int64(s.opts.ForgetAfter)+2e9)
	if len(snap.Hosts) != 0 || s.hostCount.Load() != 0 {
		t.Errorf("idle host kept: %d hosts, count %d", len(snap.Hosts), s.hostCount.Load())
	}
	if h := c.Host("http", "old"); h == old {
		t.Errorf("forgotten host still returned")
	}
}

// spellings returns how many spellings of hosts c keeps for its lookups.
func spellings(c *Client) int {
	n := 0
	c.hosts.Range(func(any, any) bool { n++; return true })
	return n
}

// TestHostSpellingsBounded asks for one host in 16,384 spellings (letter
// case, with and without the default port): one Host, and no more
// spellings kept than the bound, however many there are.
func TestHostSpellingsBounded(t *testing.T) {
	s := New(Options{MaxHosts: 64})
	c := s.Client("c")
	first := c.Host("https", "api.example.com")
	const name = "api.example.com"
	for i := range 1 << 14 {
		b := []byte(name)
		for j := range b {
			if i>>(j%14)&1 == 1 && b[j] >= 'a' && b[j] <= 'z' {
				b[j] -= 'a' - 'A'
			}
		}
		spelling := string(b)
		if i%2 == 1 {
			spelling += ":443"
		}
		if h := c.Host("https", spelling); h != first {
			t.Fatalf("%q is host %q, want %q", spelling, h.Name(), first.Name())
		}
	}
	if n := len(c.allHosts()); n != 1 {
		t.Errorf("%d hosts, want 1", n)
	}
	if n := spellings(c); n > maxSpellings(s) {
		t.Errorf("%d spellings kept, want at most %d", n, maxSpellings(s))
	}
}

// TestNewHostCostFlat adds hosts to a client that has 100, then to one
// that has 8,000: a new host must cost about the same memory either way
// (copying every host per new one made it grow with the count).
func TestNewHostCostFlat(t *testing.T) {
	s := New(Options{MaxHosts: 1 << 20})
	c := s.Client("c")
	names := make([]string, 8200)
	for i := range names {
		names[i] = "host-" + strconv.Itoa(i) + ".example.com"
	}
	perHost := func(from, to int) uint64 {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		for _, n := range names[from:to] {
			c.Host("https", n)
		}
		runtime.ReadMemStats(&b)
		return (b.TotalAlloc - a.TotalAlloc) / uint64(to-from)
	}
	perHost(0, 100)
	small := perHost(100, 200)
	perHost(200, 8000)
	large := perHost(8000, 8100)
	if large > 2*small {
		t.Errorf("a new host costs %d bytes among 8,000 hosts, %d among 100: want about the same", large, small)
	}
	// Snapshots see them all, in order.
	hs := c.allHosts()
	if len(hs) != 8100 || !slices.IsSortedFunc(hs, func(a, b *Host) int { return strings.Compare(a.name, b.name) }) {
		t.Errorf("allHosts: %d hosts, sorted %v", len(hs), slices.IsSortedFunc(hs, func(a, b *Host) int { return strings.Compare(a.name, b.name) }))
	}
}

// TestOverflowHostsFolded: past MaxHosts, new hosts share the overflow
// row, each spelling found again without the slow path; once hosts are
// forgotten, a host that overflowed gets a row of its own again.
func TestOverflowHostsFolded(t *testing.T) {
	s := New(Options{MaxHosts: 2})
	c := s.Client("c")
	a := c.Host("http", "a")
	c.Host("http", "b")
	for i := range 1000 {
		if h := c.Host("http", "x"+strconv.Itoa(i)); h.Name() != OverflowHost {
			t.Fatalf("host %d past MaxHosts is %q", i, h.Name())
		}
	}
	if n := spellings(c); n > maxSpellings(s) {
		t.Errorf("%d spellings kept, want at most %d", n, maxSpellings(s))
	}
	c.forget(map[*Host]bool{a: true})
	s.hostCount.Add(-1)
	if h := c.Host("http", "x0"); h.Name() != "x0:80" {
		t.Errorf("after a host was forgotten, x0 is %q, want a row of its own", h.Name())
	}
}

// BenchmarkHost looks hosts up among n: a known host (two in turn, so
// that the last-host shortcut misses) and, with the client full (n =
// MaxHosts), a host never seen before, which goes to the overflow row.
func BenchmarkHost(b *testing.B) {
	for _, n := range []int{100, 4000} {
		s := New(Options{MaxHosts: n})
		c := s.Client("c")
		for i := range n {
			c.Host("https", "host-"+strconv.Itoa(i)+".example.com")
		}
		b.Run("known/hosts="+strconv.Itoa(n), func(b *testing.B) {
			x, y := "host-1.example.com", "host-2.example.com"
			b.ReportAllocs()
			for b.Loop() {
				c.Host("https", x)
				x, y = y, x
			}
		})
		b.Run("new/hosts="+strconv.Itoa(n), func(b *testing.B) {
			names := make([]string, 1<<16)
			for i := range names {
				names[i] = "other-" + strconv.Itoa(i) + ".example.com"
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Host("https", names[i%len(names)])
				i++
			}
		})
	}
}
