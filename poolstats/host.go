package poolstats

import (
	"slices"
	"sync"
	"sync/atomic"
)

// Host is one client's statistics for one origin (scheme://host:port).
//
// Its recording methods are safe for concurrent use and lock-free; they are
// called by the tracer on the hot path of every request.
type Host struct {
	// The fields every request reads or writes come first, on two cache
	// lines: a Host is allocated 64-byte aligned, with the allocator's
	// 8-byte header first (it holds pointers and is over 512 bytes), so
	// the first line holds the Host's first 56 bytes and the second its
	// next 64 (TestHostLayout). The first holds what begin reads: the
	// lookup keys and the flags it checks.
	client *Client
	// raw is the first URL host this Host was looked up by; Client uses it
	// to answer repeated lookups without touching its map.
	raw    string
	scheme string
	// addrNoted is set once the host's dial address is in the client's
	// address index.
	addrNoted atomic.Bool
	// transportScheme is set when scheme is one *http.Transport serves
	// itself (http, https).
	transportScheme bool
	// peakHint spares most requests a look at the latency window's peak
	// (see RequestStarted).
	peakHint atomic.Uint64

	// The second line: gauges (open, active and idle are not kept here:
	// a snapshot derives them from conns) and totals.
	inFlight atomic.Int64
	waiting  atomic.Int64
	// firstResponse is when the host's first response arrived
	// (monotonic ns), 0 before any (see hostTLS.handshake).
	firstResponse atomic.Int64
	requests      atomic.Int64
	reused        atomic.Int64
	newConns      atomic.Int64
	created       int64
	// id tells this Host from others of its Stats, including hosts of the
	// same name forgotten before or created after it.
	id uint64

	// name is host:port with the scheme's default port filled in.
	name string

	dialing   atomic.Int64
	errors    atomic.Int64
	closed    atomic.Int64
	status5xx atomic.Int64
	undrained atomic.Int64
	dialFails atomic.Int64
	started   atomic.Int64 // untraced requests seen starting
	errClass  [numErrorClasses]atomic.Int64

	latency dist // RoundTrip start to response headers; peak in flight; with totals
	wait    dist // GetConn to GotConn; with totals
	dial    dist // DNS + TCP connect
	// lifetimes holds how long closed connections were open (from the
	// end of their dial), for connections the tracer saw dialed.
	lifetimes totalDist
	secs      series
	tls       hostTLS // TLS handshakes, see tls.go

	// mu guards the list of open connections, kept in the order they
	// were added (which is id order, save for dials finishing at the same
	// time), so that a snapshot needs no sort.
	mu         sync.Mutex
	head, tail *Conn
	nconns     int
}

func newHost(c *Client, scheme, name, raw string, now int64) *Host {
	return &Host{
		client: c,
		id:     c.stats.hostIDs.Add(1),
		scheme: scheme,
		name:   name,
		// A fixed field beside addrNoted, which begin reads too.
		transportScheme: scheme == "http" || scheme == "https",
		raw:             raw,
		created:         now,
		latency:         newTotalDist(),
		wait:            newTotalDist(),
	}
}

// Name returns the host's host:port.
func (h *Host) Name() string { return h.name }

// TransportScheme reports whether the host's scheme is one
// *http.Transport serves itself (http, https).
func (h *Host) TransportScheme() bool { return h.transportScheme }

// Scheme returns the host's URL scheme, or "" for a host known only from
// the address its connections were dialed to.
func (h *Host) Scheme() string { return h.scheme }

// Client returns the client the host belongs to.
func (h *Host) Client() *Client { return h.client }

// RequestStarted records a request entering RoundTrip at now.
func (h *Host) RequestStarted(now int64) {
	n := h.inFlight.Add(1)
	// Most requests start with no more in flight than the peak already
	// noted in the current window: peakHint tells, without a look at
	// the window.
	if hint := h.peakHint.Load(); uint64(n) > hint&peakHintMask || int64(hint>>peakHintBits) != now/windowPeriod {
		h.notePeak(now, n)
	}
}

// peakHint packs a histogram period (the high bits) with an in-flight
// count (the low peakHintBits) that the period's window holds as its peak
// already, or more.
const (
	peakHintBits = 24
	peakHintMask = 1<<peakHintBits - 1
)

// notePeak notes n in flight at now in the latency window's peak, and
// raises peakHint to it.
func (h *Host) notePeak(now, n int64) {
	h.latency.notePeak(now, n)
	if n > peakHintMask {
		return
	}
	e := uint64(now / windowPeriod)
	want := e<<peakHintBits | uint64(n)
	for {
		old := h.peakHint.Load()
		if old>>peakHintBits > e || (old>>peakHintBits == e && old&peakHintMask >= uint64(n)) ||
			h.peakHint.CompareAndSwap(old, want) {
			return
		}
	}
}

// Started records an untraced request to this host (of the Unwrapped
// client) seen starting at now: a hook of its transport saw it, not its
// httptrace events, so it counts apart from Requests.
func (h *Host) Started(now int64) {
	h.started.Add(1)
	h.secs.at(now).add(cStarted, 1)
}

// RequestEnded records a request leaving flight: its RoundTrip failed, or
// its response body was read to EOF or closed.
func (h *Host) RequestEnded() { h.inFlight.Add(-1) }

// WaitStarted records a request starting to wait for a connection
// (httptrace GetConn).
func (h *Host) WaitStarted() { h.waiting.Add(1) }

// WaitEnded records the end of a wait for a connection that lasted d
// nanoseconds, whether the request got a connection or gave up.
func (h *Host) WaitEnded(now, d int64) {
	h.waiting.Add(-1)
	h.wait.observe(now, d)
	h.secs.at(now).add(cWaitUs, d/1e3)
}

// WaitDropped takes back a WaitStarted that turned out to belong to a
// request already finished, without recording a wait.
func (h *Host) WaitDropped() { h.waiting.Add(-1) }

// GotConn records a request receiving a connection at now, reused from
// the pool or new. wait is how long it waited for it (nanoseconds, see
// WaitEnded), or negative when GetConn was not seen.
func (h *Host) GotConn(now int64, reused bool, wait int64) {
	if wait >= 0 {
		h.waiting.Add(-1)
	}
	h.recordGot(Got{At: now, Wait: wait, Reused: reused}, h.secs.at(now))
}

// Got is a request receiving a connection: when (monotonic ns), after
// waiting how long (nanoseconds; negative when GetConn was not seen), and
// whether the connection was reused from the pool. The tracer may hand it
// to Responded or Failed, as the request's RoundTrip returns, rather than
// to GotConn: one call then records both, and the request's wait leaves
// the waiting gauge at once (WaitOver).
type Got struct {
	At, Wait int64
	Reused   bool
}

// RecordGot records g, a Got whose wait already left the waiting gauge
// (WaitOver), on its own: the request got another connection since.
func (h *Host) RecordGot(g Got) { h.recordGot(g, h.secs.at(g.At)) }

// WaitOver takes a request that got a connection out of the waiting
// gauge; its wait is recorded with its Got (see Responded).
func (h *Host) WaitOver() { h.waiting.Add(-1) }

// recordGot records g into the histograms, totals and s, the per-second
// slot of now; g's own second's slot when it is another.
func (h *Host) recordGot(g Got, s *second) {
	if s.epoch.Load() != g.At/1e9 {
		s = h.secs.at(g.At)
	}
	if g.Wait >= 0 {
		h.wait.observe(g.At, g.Wait)
		s.add(cWaitUs, g.Wait/1e3)
	}
	if g.Reused {
		h.reused.Add(1)
		s.add(cReused, 1)
	} else {
		h.newConns.Add(1)
		s.add(cNew, 1)
	}
}

// Responded records response headers arriving at now, d nanoseconds after
// the request started, of which it waited wait nanoseconds for a
// connection (summed over its attempts), and g, the connection the
// request got, when the tracer kept it for now (g.At != 0, see Got). The
// tracer queues the same record (Client.Submit).
func (h *Host) Responded(now, d, wait int64, status int, g Got) {
	h.sawResponse(now)
	h.record(&Response{Host: h, At: now, Latency: d, Wait: wait, Status: status, Got: g}, now)
}

// record records response r at now, when r.At or less. A response waits
// in its client's queue (see pending) for a batch, or for a reader, so it
// may be recorded seconds late: its histograms and per-second slots are
// those of the time it arrived, and it stays out of those that no longer
// hold that time (it would have left them by now anyway).
func (h *Host) record(r *Response, now int64) {
	h.requests.Add(1)
	if r.Status >= 500 {
		h.status5xx.Add(1)
	}
	if g := r.Got; g.At != 0 {
		if g.Reused {
			h.reused.Add(1)
		} else {
			h.newConns.Add(1)
		}
		s := h.secs.live(g.At, now)
		if g.Wait >= 0 {
			if liveWindow(g.At, now) {
				h.wait.observe(g.At, g.Wait)
			}
			if s != nil {
				s.add(cWaitUs, g.Wait/1e3)
			}
		}
		if s != nil {
			if g.Reused {
				s.add(cReused, 1)
			} else {
				s.add(cNew, 1)
			}
		}
	}
	if liveWindow(r.At, now) {
		h.latency.observe(r.At, r.Latency)
	}
	if s := h.secs.live(r.At, now); s != nil {
		s.add(cRequests, 1)
		us := r.Latency / 1e3
		s.add(cLatSumUs, us)
		s.add(cHoldUs, max(r.Latency-r.Wait, 0)/1e3)
		if us > s.c[cLatMaxUs].Load() {
			storeMax(&s.c[cLatMaxUs], us)
		}
	}
}

// sawResponse notes a response at now, when it is the host's first: a
// load for every other one, the rest out of line (noteFirstResponse).
func (h *Host) sawResponse(now int64) {
	if h.firstResponse.Load() == 0 {
		h.noteFirstResponse(now)
	}
}

// noteFirstResponse notes the host's first response, at now.
//
//go:noinline
func (h *Host) noteFirstResponse(now int64) { h.firstResponse.CompareAndSwap(0, now) }

// liveWindow reports whether a histogram still holds a value observed at
// t, as of now: the windows keep the current period and the one before.
func liveWindow(t, now int64) bool { return t/windowPeriod >= now/windowPeriod-1 }

// Failed records a request whose RoundTrip returned an error, and g as
// Responded does. Failed requests count in Requests and Errors but not in
// the latency histogram.
func (h *Host) Failed(now int64, class ErrorClass, g Got) {
	h.requests.Add(1)
	h.errors.Add(1)
	h.errClass[class].Add(1)
	s := h.secs.at(now)
	if g.At != 0 {
		h.recordGot(g, s)
	}
	s.add(cRequests, 1)
	s.add(cErrors, 1)
}

// BodyFailed records a response body whose Read returned an error other
// than io.EOF: the request counts as an error too.
func (h *Host) BodyFailed(now int64, class ErrorClass) {
	h.errors.Add(1)
	h.errClass[class].Add(1)
	h.secs.at(now).add(cErrors, 1)
}

// Undrained records an HTTP/1.x response body closed before EOF, which
// makes the transport close the connection rather than reuse it.
func (h *Host) Undrained(now int64) {
	h.undrained.Add(1)
	h.secs.at(now).add(cUndrained, 1)
}

// DialStarted records a dial starting.
func (h *Host) DialStarted() { h.dialing.Add(1) }

// DialEnded records a dial that took d nanoseconds and failed when failed
// is true.
func (h *Host) DialEnded(now, d int64, failed bool) {
	h.dialing.Add(-1)
	if failed {
		h.dialFails.Add(1)
		return
	}
	h.dial.observe(now, d)
}

// NoteAddr registers the address the transport dials for this host (the
// host:port httptrace GetConn reports), so that dials can be attributed to
// the host. It is cheap after the first call.
func (h *Host) NoteAddr(addr string) {
	if h.addrNoted.Load() {
		return
	}
	h.client.noteAddr(addr, h)
	h.addrNoted.Store(true)
}

// AddrNoted reports whether NoteAddr has nothing left to do.
func (h *Host) AddrNoted() bool { return h.addrNoted.Load() }

// addConn starts tracking an open connection of this host.
func (h *Host) addConn(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.listed {
		return
	}
	c.prev, c.next, c.listed = h.tail, nil, true
	if h.tail != nil {
		h.tail.next = c
	} else {
		h.head = c
	}
	h.tail = c
	h.nconns++
}

// removeConn stops tracking a connection that closed or moved.
func (h *Host) removeConn(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !c.listed {
		return
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		h.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		h.tail = c.prev
	}
	c.prev, c.next, c.listed = nil, nil, false
	h.nconns--
}

// openConns appends the host's open connections to dst, oldest first.
func (h *Host) openConns(dst []*Conn) []*Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	dst = slices.Grow(dst, h.nconns)
	for c := h.head; c != nil; c = c.next {
		dst = append(dst, c)
	}
	return dst
}
