package poolstats

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Stats. The zero value is ready to use.
type Options struct {
	// LeakAfter is how long a response body may stay open with no reads
	// before it counts as leaked. Default 30s.
	LeakAfter time.Duration
	// MaxHosts caps the number of hosts tracked across all clients; the
	// traffic of further hosts is folded into one host per client named
	// OverflowHost. Default 4096.
	MaxHosts int
	// ForgetAfter is how long a host with no connections and no traffic is
	// kept before a snapshot drops it. Default 10 minutes.
	ForgetAfter time.Duration
	// Inspect, when set, fills in a connection's memory and TLS details
	// when a snapshot is taken (package tlsstats provides one).
	Inspect Inspector
}

// DefaultLeakAfter is the default of Options.LeakAfter.
const DefaultLeakAfter = 30 * time.Second

// closedKept is how many closed connections a Stats remembers, so that a
// snapshot can show connections that just went away.
const closedKept = 64

// inferredIdleDefault is how long an inferred connection (one not dialed
// through a tracked transport, whose close cannot be seen) may go unused
// before it is presumed closed, when the transport's IdleConnTimeout is
// unknown. It is http.DefaultTransport's IdleConnTimeout.
const inferredIdleDefault = 90 * time.Second

// Stats is the root of all statistics one collector keeps: its clients,
// their hosts and connections, and the open response bodies.
type Stats struct {
	opts Options

	mu      sync.Mutex // guards clients, closed
	clients []*Client
	closed  []*Conn // ring of recently closed connections

	unwrapped atomic.Pointer[Client] // see Unwrapped

	hostCount atomic.Int64
	hostIDs   atomic.Uint64
	connIDs   atomic.Uint64
	// inferred indexes connections not dialed through a tracked transport
	// by their net.Conn.
	inferred sync.Map

	bodies bodyRegistry
	sites  siteCache
}

// New returns an empty Stats.
func New(opts Options) *Stats {
	if opts.LeakAfter <= 0 {
		opts.LeakAfter = DefaultLeakAfter
	}
	if opts.MaxHosts <= 0 {
		opts.MaxHosts = 4096
	}
	if opts.ForgetAfter <= 0 {
		opts.ForgetAfter = 10 * time.Minute
	}
	return &Stats{opts: opts}
}

// LeakAfter returns the age after which an unread open body is a leak.
func (s *Stats) LeakAfter() time.Duration { return s.opts.LeakAfter }

// Client returns the client with the given name, creating it on first use.
func (s *Stats) Client(name string) *Client {
	return s.client(name, false)
}

// UnwrappedClient names the client that holds the connections dialed
// through a tracked transport's dial hook with no traced request behind
// them (see Stats.Unwrapped).
const UnwrappedClient = "(unwrapped)"

// Unwrapped returns the client that collects what tracked transports'
// hooks see of requests no probe traces: the connections a transport
// cloned from an instrumented one dials (the clone inherits the dial
// hook), or that a client sharing an instrumented transport without the
// probe makes them dial. Their requests are not seen, so the client's
// hosts are dial only (snapshot.Host.DialOnly) and its limits unknown: it
// may be any clone, with limits of its own.
func (s *Stats) Unwrapped() *Client {
	if c := s.unwrapped.Load(); c != nil {
		return c
	}
	c := s.client(UnwrappedClient, true)
	s.unwrapped.Store(c)
	return c
}

func (s *Stats) client(name string, untraced bool) *Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		if c.name == name && c.untraced == untraced {
			return c
		}
	}
	c := &Client{stats: s, name: name, untraced: untraced}
	c.pending.init()
	s.clients = append(s.clients, c)
	return c
}

func (s *Stats) allClients() []*Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Client(nil), s.clients...)
}

// reserveHost counts a new host against MaxHosts, reporting false when the
// cap is reached.
func (s *Stats) reserveHost() bool {
	if s.hostCount.Add(1) > int64(s.opts.MaxHosts) {
		s.hostCount.Add(-1)
		return false
	}
	return true
}

// DialTiming is when a dial started and ended (monotonic ns, see Now) and
// how long its DNS lookup took (0 without one).
type DialTiming struct {
	Start, End, DNS int64
}

// NewConn starts tracking a connection that a tracked transport dialed for
// host h, for a traced request.
func (s *Stats) NewConn(h *Host, dial DialTiming, local, remote net.Addr) *Conn {
	return s.newConn(h, dial, local, remote, false)
}

// NewUntracedConn starts tracking a connection that a tracked transport
// dialed with no traced request behind it, for host h of the Unwrapped
// client. Until a traced request uses it, its requests are invisible:
// whether it is busy is inferred from its traffic, which the dialer
// reports with NoteRead and NoteWrite.
func (s *Stats) NewUntracedConn(h *Host, dial DialTiming, local, remote net.Addr) *Conn {
	return s.newConn(h, dial, local, remote, true)
}

func (s *Stats) newConn(h *Host, dial DialTiming, local, remote net.Addr, untraced bool) *Conn {
	c := &Conn{
		id:       s.connIDs.Add(1),
		stats:    s,
		created:  dial.End,
		dialNs:   dial.End - dial.Start,
		dnsNs:    dial.DNS,
		local:    addrString(local),
		remote:   addrString(remote),
		untraced: untraced,
	}
	c.host.Store(h)
	h.addConn(c)
	return c
}

// InferredConn returns the record of a connection the tracer did not see
// dialed (the transport is not a tracked *http.Transport, or the
// connection predates instrumentation), creating it for host h on first
// sight. nc identifies the connection.
func (s *Stats) InferredConn(h *Host, nc net.Conn, now int64) *Conn {
	if c, ok := s.inferred.Load(nc); ok {
		return c.(*Conn)
	}
	c := &Conn{
		id:       s.connIDs.Add(1),
		stats:    s,
		created:  now,
		inferred: true,
		key:      nc,
		local:    addrString(nc.LocalAddr()),
		remote:   addrString(nc.RemoteAddr()),
	}
	if tc, ok := nc.(*tls.Conn); ok {
		c.tlsConn.Store(tc)
	}
	c.host.Store(h)
	if prev, loaded := s.inferred.LoadOrStore(nc, c); loaded {
		return prev.(*Conn)
	}
	h.addConn(c)
	return c
}

// closedConn remembers a closed connection and forgets an inferred one.
// Of what the record refers to, it keeps only what a closed connection's
// snapshot row shows (its TLS session, as handshaken): the connection
// itself (a *tls.Conn holds its record buffers, up to tens of kilobytes)
// and its last memory reading go, so that the closedKept connections it
// remembers hold a few hundred bytes each.
func (s *Stats) closedConn(c *Conn) {
	if c.inferred {
		s.inferred.Delete(c.key)
		c.key = nil
	}
	c.tlsConn.Store(nil)
	c.tls.mem.Store(nil)
	s.mu.Lock()
	if len(s.closed) >= closedKept {
		copy(s.closed, s.closed[1:])
		s.closed = s.closed[:closedKept-1]
	}
	s.closed = append(s.closed, c)
	s.mu.Unlock()
}

func (s *Stats) recentlyClosed() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conn(nil), s.closed...)
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
