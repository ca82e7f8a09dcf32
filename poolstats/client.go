package poolstats

import (
	"cmp"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits are the pool limits of a client's transport, as effective values:
// 0 means unlimited.
type Limits struct {
	MaxConnsPerHost     int
	MaxIdleConnsPerHost int
	MaxIdleConns        int
	IdleConnTimeout     time.Duration
	// Known is false when the client's RoundTripper is not an
	// *http.Transport, so its limits cannot be read.
	Known bool
	// ReadBufferSize and WriteBufferSize are the transport's settings (0: 4 KiB).
	ReadBufferSize, WriteBufferSize int
	// TLSHandshakeTimeout is the transport's setting (0: none).
	TLSHandshakeTimeout time.Duration
}

// hostKey identifies a host by URL scheme and URL host as written in
// requests (with or without a port).
type hostKey struct{ scheme, host string }

// Client is the statistics of one labelled HTTP client.
type Client struct {
	stats *Stats
	name  string
	// untraced is set for the Unwrapped client, whose requests no probe
	// sees.
	untraced  bool
	limits    func() Limits
	leakAfter atomic.Int64 // ns; 0 means the Stats' default

	// hosts and addrs are copied on write: lookups on the hot path read
	// the current map without a lock; adding a host, which happens once
	// per host, copies it under mu.
	hosts    atomic.Pointer[map[hostKey]*Host]
	addrs    atomic.Pointer[map[string]*Host]
	mu       sync.Mutex
	overflow *Host // guarded by mu
	// sorted holds each host once, by name and scheme, rebuilt when
	// hosts are added or forgotten; guarded by mu.
	sorted []*Host

	// last is the host of the most recent lookup, which repeated requests
	// to one host find without hashing; next to pending's head, which
	// every request also touches.
	last atomic.Pointer[Host]
	// pending queues the responses of the client's requests (Submit).
	pending pending
}

// Name returns the client's label.
func (c *Client) Name() string { return c.name }

// SetLeakAfter sets how long the client's response bodies may stay open
// and unread before they count as leaked.
func (c *Client) SetLeakAfter(d time.Duration) { c.leakAfter.Store(int64(d)) }

func (c *Client) leakAfterNs() int64 {
	if d := c.leakAfter.Load(); d > 0 {
		return d
	}
	return int64(c.stats.opts.LeakAfter)
}

// SetLimits sets the function that reads the client's pool limits when a
// snapshot is taken.
func (c *Client) SetLimits(f func() Limits) {
	c.mu.Lock()
	c.limits = f
	c.mu.Unlock()
}

func (c *Client) currentLimits() Limits {
	c.mu.Lock()
	f := c.limits
	c.mu.Unlock()
	if f == nil {
		return Limits{}
	}
	return f()
}

// Host returns the statistics for requests to scheme://host, where host is
// a URL's Host field (host, host:port, or [v6]:port). Hosts that differ only
// by an explicit default port or letter case share one Host. Past
// Options.MaxHosts hosts, new hosts share one overflow Host.
func (c *Client) Host(scheme, host string) *Host {
	if h := c.Last(scheme, host); h != nil {
		return h
	}
	return c.lookupHost(scheme, host)
}

// Last returns the Host that Host would return when it is the one the
// client's most recent lookup found, nil otherwise: the cheap check
// callers on the hot path make first.
func (c *Client) Last(scheme, host string) *Host {
	if h := c.last.Load(); h != nil && h.raw == host && h.scheme == scheme {
		return h
	}
	return nil
}

// lookupHost is Host past the most recent host.
func (c *Client) lookupHost(scheme, host string) *Host {
	if m := c.hosts.Load(); m != nil {
		if h := (*m)[hostKey{scheme, host}]; h != nil {
			c.last.Store(h)
			return h
		}
	}
	h := c.addHost(scheme, host)
	c.last.Store(h)
	return h
}

// addHost is Host's slow path: it finds or creates the Host for a URL host
// not seen before in this spelling.
func (c *Client) addHost(scheme, raw string) *Host {
	name := canonicalHost(scheme, raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.hosts.Load()
	if old != nil {
		if h := (*old)[hostKey{scheme, raw}]; h != nil {
			return h
		}
	}
	var h *Host
	if old != nil {
		for k, v := range *old {
			if k.scheme == scheme && v.name == name {
				h = v
				break
			}
		}
	}
	if h == nil {
		if !c.stats.reserveHost() {
			if c.overflow == nil {
				c.overflow = newHost(c, "", OverflowHost, OverflowHost, Now())
			}
			return c.overflow
		}
		h = newHost(c, scheme, name, raw, Now())
	}
	m := make(map[hostKey]*Host, len(mapOrEmpty(old))+1)
	for k, v := range mapOrEmpty(old) {
		m[k] = v
	}
	m[hostKey{scheme, raw}] = h
	c.hosts.Store(&m)
	c.resort()
	return h
}

// OverflowHost names the Host that collects the traffic of hosts beyond
// Options.MaxHosts.
const OverflowHost = "(other hosts)"

func mapOrEmpty[K comparable, V any](m *map[K]V) map[K]V {
	if m == nil {
		return nil
	}
	return *m
}

// noteAddr indexes h by the address its connections are dialed to.
func (c *Client) noteAddr(addr string, h *Host) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := mapOrEmpty(c.addrs.Load())
	if old[addr] == h {
		return
	}
	m := make(map[string]*Host, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[addr] = h
	c.addrs.Store(&m)
}

// HostForDial returns the host a dial to addr (host:port) is for: the host
// whose requests asked the pool for that address, or, for a dial no
// tracked request asked for, a host named after the address.
func (c *Client) HostForDial(addr string) *Host {
	if h := mapOrEmpty(c.addrs.Load())[addr]; h != nil {
		return h
	}
	h := c.Host("", addr)
	c.noteAddr(addr, h)
	return h
}

// allHosts returns the client's hosts, each once, sorted by name and
// scheme, the overflow host last.
func (c *Client) allHosts() []*Host {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := slices.Clone(c.sorted)
	if c.overflow != nil {
		out = append(out, c.overflow)
	}
	return out
}

// resort rebuilds sorted from the hosts map; c.mu must be held.
func (c *Client) resort() {
	seen := make(map[*Host]bool)
	c.sorted = c.sorted[:0]
	for _, h := range mapOrEmpty(c.hosts.Load()) {
		if !seen[h] {
			seen[h] = true
			c.sorted = append(c.sorted, h)
		}
	}
	slices.SortFunc(c.sorted, func(a, b *Host) int {
		return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.scheme, b.scheme))
	})
}

// forget removes idle hosts from the client's maps (see Stats.evict) and
// returns how many distinct hosts it removed.
func (c *Client) forget(drop map[*Host]bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	hosts := make(map[hostKey]*Host)
	for k, h := range mapOrEmpty(c.hosts.Load()) {
		if !drop[h] {
			hosts[k] = h
		}
	}
	addrs := make(map[string]*Host)
	for a, h := range mapOrEmpty(c.addrs.Load()) {
		if !drop[h] {
			addrs[a] = h
		}
	}
	c.hosts.Store(&hosts)
	c.addrs.Store(&addrs)
	c.resort()
	if h := c.last.Load(); h != nil && drop[h] {
		c.last.CompareAndSwap(h, nil)
	}
	n := 0
	for h := range drop {
		if h != c.overflow {
			n++
		}
	}
	return n
}

// canonicalHost returns host:port for a URL host, lower-cased, with the
// scheme's default port when none is given.
func canonicalHost(scheme, host string) string {
	host = strings.ToLower(host)
	if h, p, err := net.SplitHostPort(host); err == nil {
		if p == "" {
			p = defaultPort(scheme)
		}
		return net.JoinHostPort(h, p)
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if p := defaultPort(scheme); p != "" {
		return net.JoinHostPort(h, p)
	}
	return host
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
