package poolstats

import (
	"crypto/tls"
	"sync/atomic"
	"time"
)

// A connection's state word holds the number of requests in flight on it in
// its low 32 bits and a closed flag in its top bit, so that every transition
// (a request beginning or ending, the connection closing) is one atomic
// operation whatever goroutine makes it.
const (
	closedBit = uint64(1) << 63
	countMask = uint64(1)<<32 - 1
)

// Protocols a connection can carry.
const (
	protoUnknown uint32 = iota
	protoHTTP1
	protoHTTP2
)

// Conn is the record of one connection of a client's pool. The tracer
// creates it when a tracked transport dials (or, for connections it did not
// see dialed, when a request first uses it) and updates it as requests use
// it, bytes flow and it closes.
type Conn struct {
	// What a request through the connection touches, on the first cache
	// line (a Conn's size class keeps it 64-byte aligned,
	// TestConnLayout): its host, state and counts, when its last
	// request ended, its first use and protocol.
	host       atomic.Pointer[Host]
	state      atomic.Uint64
	requests   atomic.Int64
	maxStreams atomic.Int64
	lastDone   atomic.Int64
	// firstUse is when a request first got the connection (see Used).
	firstUse atomic.Int64
	proto    atomic.Uint32
	inferred bool
	// untraced is set for a connection dialed with no traced request
	// behind it (see Stats.NewUntracedConn).
	untraced bool
	id       uint64

	// What the connection's reads and writes touch, on a line apart from
	// what requests write: the bytes, and the TLS handshake's progress,
	// which follows what the client writes (see NoteHandshake).
	in, out  atomic.Int64
	tlsPhase atomic.Uint32
	// peerClosed is set when a read from the connection failed (the
	// server closed it or reset it); closeAsked when a request or
	// response on it asked for the connection to close. A connection
	// closed with neither, right after its last request, was closed by
	// the client's pool: that is churn.
	peerClosed atomic.Bool
	closeAsked atomic.Bool
	closedAt   atomic.Int64
	// handshakeEnd is when the connection became ready for requests
	// (see Used).
	handshakeEnd atomic.Int64
	// lastRead and lastWrite are when bytes last came in and went out
	// (monotonic ns), kept for untraced connections only: their traffic
	// is all that tells whether they are busy.
	lastRead, lastWrite atomic.Int64

	stats   *Stats
	created int64 // monotonic ns
	dialNs  int64 // DNS + TCP connect, 0 when not dialed by us
	dnsNs   int64 // the DNS part of dialNs
	local   string
	remote  string
	// key is the net.Conn an inferred connection is indexed by.
	key any

	tlsConn atomic.Pointer[tls.Conn]
	tls     connTLS // the TLS session, see tls.go

	// Links in the open-connection list of host, guarded by the
	// host's mu; listed tells whether the connection is in it.
	prev, next *Conn
	listed     bool
	// 256 bytes in all: a size class that is a multiple of 64 keeps the
	// allocator's Conns 64-byte aligned (TestConnLayout).
}

// churnWindow is how soon after its last request a healthy connection
// must close to count as churn: the transport closes a connection it
// cannot keep in the idle pool as soon as the request finishes, while idle
// timeouts take far longer.
const churnWindow = int64(1e9)

// ID returns the connection's id, unique within its Stats.
func (c *Conn) ID() uint64 { return c.id }

// Host returns the host the connection belongs to.
func (c *Conn) Host() *Host { return c.host.Load() }

// Created returns when the connection was established (monotonic ns).
func (c *Conn) Created() int64 { return c.created }

// TLS returns the connection's TLS session, once a request has used the
// connection and until it closes, or nil.
func (c *Conn) TLS() *tls.Conn { return c.tlsConn.Load() }

// HandshakeNs returns the time from the end of the TCP connect to the
// connection being ready for its first request, which for a TLS connection
// is the TLS handshake (see Used), or 0 when unknown.
func (c *Conn) HandshakeNs() int64 {
	end := c.handshakeEnd.Load()
	if end == 0 || c.inferred {
		return 0
	}
	return max(end-c.created, 0)
}

// Timing returns the connection's DNS lookup, TCP connect and handshake
// (see HandshakeNs) times, 0 where unknown.
func (c *Conn) Timing() (dns, connect, handshake time.Duration) {
	return time.Duration(c.dnsNs), time.Duration(c.dialNs - c.dnsNs), time.Duration(c.HandshakeNs())
}

// HTTP2 reports whether the connection carries HTTP/2.
func (c *Conn) HTTP2() bool { return c.proto.Load() == protoHTTP2 }

// Closed reports whether the connection has closed.
func (c *Conn) Closed() bool { return c.state.Load()&closedBit != 0 }

// InFlight returns the number of requests using the connection now.
func (c *Conn) InFlight() int { return int(c.state.Load() & countMask) }

// Requests returns the number of requests that began on the connection
// (BeginRequest) so far.
func (c *Conn) Requests() int64 { return c.requests.Load() }

// Used records that a request got the connection at now. idleNs is how
// long the connection sat in the idle pool before (httptrace's
// GotConnInfo.IdleTime); tlsConn is its TLS session, or nil.
//
// The first use fixes when the connection became ready: a fresh connection
// is handed to the request waiting for it as soon as its handshake ends, or
// parked in the idle pool, in which case IdleTime says how long ago.
func (c *Conn) Used(now, idleNs int64, tlsConn *tls.Conn) {
	if c.firstUse.Load() == 0 {
		c.firstUsed(now, idleNs, tlsConn)
	}
}

// InUse reports whether a request has used the connection (see Used):
// then Used has nothing left to do.
func (c *Conn) InUse() bool { return c.firstUse.Load() != 0 }

// firstUsed is Used for a connection no request had used yet.
func (c *Conn) firstUsed(now, idleNs int64, tlsConn *tls.Conn) {
	if !c.firstUse.CompareAndSwap(0, now) {
		return
	}
	c.handshakeEnd.Store(now - idleNs)
	if tlsConn != nil {
		c.tlsConn.Store(tlsConn)
		c.noteTLS(now, tlsConn)
	}
}

// BeginRequest records a request starting to use the connection.
func (c *Conn) BeginRequest() {
	n := int64((c.state.Add(1)) & countMask)
	c.requests.Add(1)
	if n > c.maxStreams.Load() {
		storeMax(&c.maxStreams, n)
	}
}

// EndRequest records a request that used the connection ending at now:
// its response body reached EOF or was closed, or it failed. clean is true
// when it ended normally (body read to EOF, or no body). Every
// BeginRequest is matched by exactly one EndRequest.
func (c *Conn) EndRequest(now int64, clean bool) {
	c.lastDone.Store(now)
	if st := c.state.Add(^uint64(0)); st&closedBit != 0 {
		c.endedClosed(now, st, clean)
	}
}

// endedClosed is EndRequest on a connection that closed (state st, after
// the request left it).
func (c *Conn) endedClosed(now int64, st uint64, clean bool) {
	if st&countMask == 0 && clean {
		// The transport closed the connection as this request was
		// ending: an HTTP/1 connection the idle pool refuses is closed
		// by the read loop right after it signals the body's EOF,
		// racing with the program's Read returning.
		c.noteChurn(now, c.closedAt.Load())
	}
}

// SetProto records the protocol of a response the connection carried.
func (c *Conn) SetProto(major int) {
	if c.proto.Load() != protoUnknown {
		return
	}
	p := protoHTTP1
	if major == 2 {
		p = protoHTTP2
	}
	c.proto.CompareAndSwap(protoUnknown, p)
}

// AddIn and AddOut count bytes read from and written to the connection.
func (c *Conn) AddIn(n int)  { c.in.Add(int64(n)) }
func (c *Conn) AddOut(n int) { c.out.Add(int64(n)) }

// Untraced reports whether the connection was dialed with no traced
// request behind it; the dialer then reports its traffic's timing with
// NoteRead and NoteWrite.
func (c *Conn) Untraced() bool { return c.untraced }

// NoteRead records that bytes came in at now, on an untraced connection.
func (c *Conn) NoteRead(now int64) { c.lastRead.Store(now) }

// NoteWrite records that n bytes went out at now, on an untraced
// connection. A write shorter than controlWrite is not taken for a
// request: it is what an HTTP/2 client sends in answer to what it read
// (a SETTINGS or PING acknowledgement, a WINDOW_UPDATE), which no answer
// follows.
func (c *Conn) NoteWrite(now int64, n int) {
	if n >= controlWrite {
		c.lastWrite.Store(now)
	}
}

// controlWrite is the size from which a write on a dial-only connection
// may be a request: an HTTP/2 PING acknowledgement, the longest of the
// frames a client sends unasked, is 17 bytes, 39 in a TLS 1.3 record (5
// bytes of header, 17 of content type and tag); the shortest HTTP/1.1
// request Go's client sends is over 60.
const controlWrite = 40

// unansweredBusy bounds how long a write with no answer keeps a dial-only
// connection busy: past it, the bytes were more likely something no
// answer follows (several HTTP/2 frames in one write) than a request the
// server still works on.
const unansweredBusy = int64(30e9)

// DialOnly reports whether the connection's requests are invisible: it
// was dialed with no traced request behind it and none has used it since.
func (c *Conn) DialOnly() bool { return c.untraced && c.firstUse.Load() == 0 }

// trafficBusy is how long after its last response bytes a dial-only
// connection still counts as busy: the rest of a body may be on its way.
const trafficBusy = int64(100e6)

// busyByTraffic infers whether a dial-only connection carries a request
// at now: it sent a request's worth of bytes it has had no answer to yet,
// within unansweredBusy (a request awaiting its response), or bytes came
// in within trafficBusy (a response being read).
func (c *Conn) busyByTraffic(now int64) bool {
	r, w := c.lastRead.Load(), c.lastWrite.Load()
	return w > r && now-w < unansweredBusy || r != 0 && now-r < trafficBusy
}

// Phases of a connection's TLS handshake, as its client's writes show it.
const (
	tlsUnknown     uint32 = iota // nothing written yet
	tlsHandshaking               // a ClientHello went out; the handshake goes on
	tlsDone                      // the handshake ended, or the connection is not TLS
)

// TLS record content types (RFC 8446, 5.1).
const (
	recordChangeCipherSpec = 20
	recordHandshake        = 22
	recordApplicationData  = 23
)

// HandshakeOpen reports whether the connection's writes still need to be
// shown to NoteHandshake: until its TLS handshake ends (or its first write
// shows it is not TLS). It is one atomic load.
func (c *Conn) HandshakeOpen() bool { return c.tlsPhase.Load() != tlsDone }

// NoteHandshake reads the TLS record headers of p, bytes the client wrote
// to the connection, to follow its handshake: a first record of another
// type than handshake means the connection is not TLS; a ChangeCipherSpec
// or application-data record from the client means its side of the
// handshake is over (TLS 1.3 encrypts the client's Finished as
// application data; TLS 1.2 sends ChangeCipherSpec before its Finished).
// crypto/tls writes whole records, so a write starts with a record
// header.
func (c *Conn) NoteHandshake(p []byte) {
	if len(p) == 0 {
		return
	}
	phase := c.tlsPhase.Load()
	if phase == tlsUnknown {
		if p[0] != recordHandshake {
			c.tlsPhase.Store(tlsDone)
			return
		}
		phase = tlsHandshaking
	}
	for i := 0; i+5 <= len(p); i += 5 + (int(p[i+3])<<8 | int(p[i+4])) {
		if t := p[i]; t == recordChangeCipherSpec || t == recordApplicationData {
			phase = tlsDone
			break
		}
	}
	c.tlsPhase.Store(phase)
}

// defaultHandshakeTimeout bounds how long a connection counts as
// handshaking when the transport sets no TLSHandshakeTimeout
// (http.DefaultTransport's is 10 s): a handshake that failed leaves the
// connection to be closed.
const defaultHandshakeTimeout = int64(10e9)

// handshaking reports whether the connection is still in its TLS
// handshake at now: its client has sent a ClientHello and not yet the
// records that end its side of the handshake (see NoteHandshake), no
// request has had it, and it is younger than the transport's
// TLSHandshakeTimeout.
func (c *Conn) handshaking(now int64, limits Limits) bool {
	if c.tlsPhase.Load() != tlsHandshaking || c.firstUse.Load() != 0 {
		return false
	}
	timeout := int64(limits.TLSHandshakeTimeout)
	if timeout <= 0 {
		timeout = defaultHandshakeTimeout
	}
	return now-c.created < timeout
}

// PeerClosed records that a read from the connection failed: the server
// closed or reset it.
func (c *Conn) PeerClosed() {
	if !c.peerClosed.Load() {
		c.peerClosed.Store(true)
	}
}

// CloseAsked records that a request or response on the connection asked
// for it to be closed (Connection: close).
func (c *Conn) CloseAsked() {
	if !c.closeAsked.Load() {
		c.closeAsked.Store(true)
	}
}

// Close records the connection closing at now. Only the first call counts.
func (c *Conn) Close(now int64) {
	// Stored before the closed bit, for EndRequest to find.
	c.closedAt.CompareAndSwap(0, now)
	old := c.state.Or(closedBit)
	if old&closedBit != 0 {
		return
	}
	h := c.host.Load()
	h.removeConn(c)
	h.closed.Add(1)
	if !c.inferred {
		// An inferred connection's close is only presumed, late.
		h.lifetimes.observe(now - c.created)
	}
	if old&countMask == 0 {
		// Otherwise the request still on it decides, as it ends.
		c.noteChurn(c.lastDone.Load(), now)
	}
	c.stats.closedConn(c)
}

// noteChurn counts the close as churn when the client closed a healthy
// connection right after its last request ended normally: the pool had
// no room to keep it. last and closed are monotonic timestamps of that
// request's end and of the close.
func (c *Conn) noteChurn(last, closed int64) {
	if last == 0 || closed-last >= churnWindow || c.inferred || c.peerClosed.Load() || c.closeAsked.Load() {
		return
	}
	c.host.Load().secs.at(closed).add(cChurned, 1)
}

// MoveTo attributes an idle connection to host h, when a request for h got
// a connection that was dialed for another host (through a proxy, for
// example, the dial address is the proxy's). Busy connections stay put.
func (c *Conn) MoveTo(h *Host) {
	old := c.host.Load()
	if old == h || c.state.Load() != 0 || !c.host.CompareAndSwap(old, h) {
		return
	}
	old.removeConn(c)
	h.addConn(c)
	if c.Closed() {
		h.removeConn(c)
	}
}

// Responded records a response the connection carried: its protocol
// (1 or 2) and whether it or its request asked for the connection to be
// closed (Connection: close).
// It does nothing unless RespondedNews: the tracer asks that first, an
// inlined load, and calls it only then.
func (c *Conn) Responded(major int, closeAsked bool) {
	if c.RespondedNews(closeAsked) {
		c.responded(major, closeAsked)
	}
}

// RespondedNews reports whether a response tells the connection something
// new (see Responded): it, or its request, asked for the connection to be
// closed, or the connection's protocol is not known yet. Most responses
// do not.
func (c *Conn) RespondedNews(closeAsked bool) bool {
	return closeAsked || c.proto.Load() == protoUnknown
}

func (c *Conn) responded(major int, closeAsked bool) {
	c.SetProto(major)
	if closeAsked {
		c.CloseAsked()
	}
}
