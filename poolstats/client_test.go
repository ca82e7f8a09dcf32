package poolstats

import "testing"

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
