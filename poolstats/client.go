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

	// hosts maps the spellings of hosts seen in requests (hostKey →
	// *Host) and addrs the addresses dialed (string → *Host), for the
	// hot path: lookups take no lock, and adding an entry costs the same
	// however many there are. Each holds at most maxSpellings entries
	// (counted under mu); a spelling past that is found through byName,
	// under mu, every time.
	hosts, addrs   sync.Map
	nHosts, nAddrs int // entries in hosts and addrs; guarded by mu
	// byName holds each host (but the overflow one) by scheme and
	// canonical name; guarded by mu.
	byName map[hostKey]*Host
	// overflowSpellings is set when hosts holds spellings of the
	// overflow host; guarded by mu.
	overflowSpellings bool
	mu                sync.Mutex
	overflow          *Host // guarded by mu
	// sorted holds each host once, by name and scheme, rebuilt by
	// allHosts when stale; guarded by mu.
	sorted      []*Host
	sortedStale bool

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
	if v, ok := c.hosts.Load(hostKey{scheme, host}); ok {
		h := v.(*Host)
		c.last.Store(h)
		return h
	}
	h := c.addHost(scheme, host)
	c.last.Store(h)
	return h
}

// maxSpellings bounds the spellings of hosts (and the dial addresses) a
// client keeps for lock-free lookups: twice the hosts it may track, so
// that a few spellings of each fit, but not every spelling a program (or
// an attacker steering its requests) can make up.
func maxSpellings(s *Stats) int { return 2*s.opts.MaxHosts + 64 }

// addHost is Host's slow path: it finds or creates the Host for a URL host
// not seen before in this spelling, in time that does not grow with the
// number of hosts.
func (c *Client) addHost(scheme, raw string) *Host {
	name := canonicalHost(scheme, raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.hosts.Load(hostKey{scheme, raw}); ok {
		return v.(*Host)
	}
	if c.byName == nil {
		c.byName = make(map[hostKey]*Host)
	}
	h := c.byName[hostKey{scheme, name}]
	if h == nil {
		if c.stats.reserveHost() {
			h = newHost(c, scheme, name, raw, Now())
			c.byName[hostKey{scheme, name}] = h
			c.sortedStale = true
		} else {
			if c.overflow == nil {
				c.overflow = newHost(c, "", OverflowHost, OverflowHost, Now())
			}
			h = c.overflow
			c.overflowSpellings = true
		}
	}
	if c.nHosts < maxSpellings(c.stats) {
		c.hosts.Store(hostKey{scheme, raw}, h)
		c.nHosts++
	}
	return h
}

// OverflowHost names the Host that collects the traffic of hosts beyond
// Options.MaxHosts.
const OverflowHost = "(other hosts)"

// noteAddr indexes h by the address its connections are dialed to.
func (c *Client) noteAddr(addr string, h *Host) {
	if v, ok := c.addrs.Load(addr); ok && v.(*Host) == h {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.addrs.Load(addr); !ok {
		if c.nAddrs >= maxSpellings(c.stats) {
			return
		}
		c.nAddrs++
	}
	c.addrs.Store(addr, h)
}

// HostForDial returns the host a dial to addr (host:port) is for: the host
// whose requests asked the pool for that address, or, for a dial no
// tracked request asked for, a host named after the address.
func (c *Client) HostForDial(addr string) *Host {
	if v, ok := c.addrs.Load(addr); ok {
		return v.(*Host)
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
	if c.sortedStale {
		c.sorted = c.sorted[:0]
		for _, h := range c.byName {
			c.sorted = append(c.sorted, h)
		}
		slices.SortFunc(c.sorted, func(a, b *Host) int {
			return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.scheme, b.scheme))
		})
		c.sortedStale = false
	}
	out := slices.Clone(c.sorted)
	if c.overflow != nil {
		out = append(out, c.overflow)
	}
	return out
}

// forget removes idle hosts from the client's maps (see Stats.evict) and
// returns how many distinct hosts it removed. Spellings that led to the
// overflow host go too when a host is removed, so that the next request
// to such a host may get the room freed.
func (c *Client) forget(drop map[*Host]bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, h := range c.byName {
		if drop[h] {
			delete(c.byName, k)
			n++
		}
	}
	freed := n > 0 && c.overflowSpellings
	c.hosts.Range(func(k, v any) bool {
		if h := v.(*Host); drop[h] || (freed && h == c.overflow) {
			c.hosts.Delete(k)
			c.nHosts--
		}
		return true
	})
	if freed {
		c.overflowSpellings = false
	}
	c.addrs.Range(func(k, v any) bool {
		if h := v.(*Host); drop[h] || (freed && h == c.overflow) {
			c.addrs.Delete(k)
			c.nAddrs--
		}
		return true
	})
	c.sortedStale = true
	if h := c.last.Load(); h != nil && (drop[h] || freed && h == c.overflow) {
		c.last.CompareAndSwap(h, nil)
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
