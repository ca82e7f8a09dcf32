package tlsstats

import (
	"crypto/tls"
	"fmt"
	"reflect"
)

// Proto is the HTTP protocol a connection carries, which decides what the
// transport keeps for it.
type Proto uint8

// Protocols.
const (
	// ProtoUnknown: not known yet (no response so far). Measure takes
	// HTTP2 when the TLS session negotiated "h2", HTTP1 otherwise.
	ProtoUnknown Proto = iota
	// HTTP1 is HTTP/1.x, plain or over TLS.
	HTTP1
	// HTTP2 is HTTP/2 over TLS.
	HTTP2
)

// String returns "http/1.1", "h2" or "unknown".
func (p Proto) String() string {
	switch p {
	case HTTP1:
		return "http/1.1"
	case HTTP2:
		return "h2"
	}
	return "unknown"
}

// Conn is what Measure needs to know about one connection of an
// *http.Transport.
type Conn struct {
	// TLS is the connection's TLS session; nil for plain text.
	TLS *tls.Conn
	// Session is what TLS's handshake settled (see ReadSession); when nil,
	// Measure reads it.
	Session *Session
	// Proto is the protocol the connection carries.
	Proto Proto
	// BytesIn counts the bytes read from the connection so far. The model
	// uses it to tell whether the buffers that grow with large reads
	// have grown.
	BytesIn int64
	// ReadBufferSize and WriteBufferSize are the transport's settings of
	// the same names; 0 means net/http's default, 4 KiB.
	ReadBufferSize  int
	WriteBufferSize int
	// SettingsUnknown is true when the transport's settings could not be
	// read (the RoundTripper is not an *http.Transport): the defaults are
	// assumed and the Memory is Estimated.
	SettingsUnknown bool
}

// Memory is what one client connection holds, by component, in bytes. Heap
// figures are rounded up to the Go allocator's size classes, the memory
// they really occupy.
//
// Components whose live size cannot be read from the connection come from
// a model, calibrated on Go 1.26 (linux/amd64) against the live heap of
// 200 idle connections (see README-figures.md); Estimated says when a
// component that grows with traffic was modelled rather than read.
type Memory struct {
	// RawInput, Hand and SendBuf are the capacities of tls.Conn's record
	// buffers: raw input (records as read from the network; grows to hold
	// the largest read, up to 40–48 KiB after bulk downloads, and never
	// shrinks), handshake messages, and records waiting to be sent (empty
	// after the handshake). Decrypted application data is read in place
	// from RawInput.
	RawInput, Hand, SendBuf int64
	// TLSState is the rest of the TLS session: the tls.Conn itself, the
	// cipher state and traffic secrets of both directions, and the
	// transport's per-connection copies of tls.Config and
	// tls.ConnectionState (model).
	TLSState int64
	// Certs is what the connection holds of the peer's certificate chain:
	// the slices of the presented and verified chains.
	Certs int64
	// SharedCerts estimates the parsed certificates themselves, which
	// crypto/tls shares between all connections presented the same
	// certificate (a process-wide cache), so they are part of no
	// connection's total.
	SharedCerts int64
	// Bufio is the transport's bufio.Reader and bufio.Writer buffers:
	// Transport.ReadBufferSize and WriteBufferSize for HTTP/1, 4 KiB each
	// for HTTP/2. They never grow.
	Bufio int64
	// FrameBuf is the HTTP/2 framer's read buffer, which grows to the
	// largest frame received (16 KiB from most servers, up to the
	// transport's MaxReadFrameSize, 1 MiB by default) and never shrinks.
	// It is not reachable from the connection, so it is always modelled:
	// 16 KiB once the connection has received bulk data.
	FrameBuf int64
	// Transport is the rest of what the transport keeps for the
	// connection (model): its connection state (persistConn, or the
	// HTTP/2 client conn with its HPACK tables and flow control), the
	// socket, timers, the goroutines' descriptors, and httptop's own
	// per-connection record.
	Transport int64
	// Goroutines is the number of goroutines the transport runs for the
	// connection (HTTP/1: readLoop and writeLoop; HTTP/2: readLoop) and
	// Stacks their stacks (model: 4 KiB each for HTTP/1, 8 KiB for
	// HTTP/2's readLoop, the sizes an idle connection's goroutines settle
	// at).
	Goroutines int
	Stacks     int64
	// Estimated is true when a buffer that grows with traffic (a TLS
	// record buffer, the HTTP/2 frame buffer) or a transport setting
	// could not be read and was modelled.
	Estimated bool
}

// TLS returns the TLS part of the connection's memory: record buffers,
// session state and certificate references.
func (m *Memory) TLS() int64 {
	return m.RawInput + m.Hand + m.SendBuf + m.TLSState + m.Certs
}

// Total returns everything the connection holds (SharedCerts excepted).
func (m *Memory) Total() int64 {
	return m.TLS() + m.Bufio + m.FrameBuf + m.Transport + m.Stacks
}

// String summarises m on one line.
func (m *Memory) String() string {
	est := ""
	if m.Estimated {
		est = " (estimated)"
	}
	return fmt.Sprintf("%d B%s: tls %d (raw input %d, handshake %d, send %d, state %d, certs %d), bufio %d, frame %d, transport %d, %d goroutines %d",
		m.Total(), est, m.TLS(), m.RawInput, m.Hand, m.SendBuf, m.TLSState, m.Certs,
		m.Bufio, m.FrameBuf, m.Transport, m.Goroutines, m.Stacks)
}

// The model. The fixed parts were measured on Go 1.26.8, linux/amd64,
// TLS 1.3 with AES-128-GCM and X25519MLKEM768, 200 idle connections of one
// client (live heap after GC, server in another process); they move with
// Go versions and cipher suites by a few hundred bytes.
const (
	// http1Stack is the stack each of an HTTP/1 connection's two
	// goroutines keeps when idle: it grows past the 2 KiB minimum while
	// handling a response, and the garbage collector shrinks a stack
	// only while less than a quarter of it is in use, which the
	// readLoop waiting in a read (1.4 KB in use over TLS) is not at
	// 2 KiB. http2Stack is the HTTP/2 readLoop's: it decodes frames
	// deeper than 4 KiB allows and waits with 2.2 KB in use, too much
	// to be shrunk back from 8 KiB.
	http1Stack = 4096
	http2Stack = 8192
	// tlsOther is the TLS session state beyond the structures sized by
	// reflection: cipher state and traffic secrets of both directions
	// (about 1.9 KB with AES-GCM), resumption secret, key-exporter
	// closure.
	tlsOther = 2300
	// http1Fixed is what net/http keeps per HTTP/1 connection besides
	// its bufio buffers: persistConn, its channels and timer, the
	// net.TCPConn and its poll descriptor, the two goroutines'
	// descriptors, bufio structs, and httptop's record and counting
	// wrapper.
	http1Fixed = 3800
	// http2Fixed is the same for HTTP/2: the http2ClientConn with its
	// framer, HPACK encoder and decoder (dynamic tables as after a few
	// small responses), stream and ping maps, flow-control state and idle
	// timer, the persistConn the pool keeps for it, the pool's entries
	// for it, the socket, one goroutine descriptor and httptop's record.
	http2Fixed = 6850
	// defaultBufferSize is net/http's bufio size when the transport sets
	// none, and HTTP/2's always.
	defaultBufferSize = 4096
	// bulkBytes is how much a connection must have received for the
	// model to take its growing buffers as grown.
	bulkBytes = 64 << 10
	// rawInputFresh and rawInputGrown are the raw input buffer's capacity
	// after the handshake and small responses, and after bulk downloads
	// (40 KiB measured; 48 KiB is also common).
	rawInputFresh = 1792
	rawInputGrown = 40960
	// handFresh is the handshake buffer after a TLS 1.3 handshake with a
	// one-certificate chain; a longer chain needs room for its DER.
	handFresh = 1280
	// frameBufGrown is the HTTP/2 frame buffer after bulk downloads: the
	// 16 KiB maximum frame size servers use by default.
	frameBufGrown = 16 << 10
	// sharedCertOverhead is a parsed x509.Certificate beyond its DER.
	sharedCertOverhead = 1500
)

// tlsStructs is the heap the TLS session's structures sized by reflection
// occupy: the tls.Conn, the transport's clone of tls.Config and its copy
// of tls.ConnectionState.
var tlsStructs = sizeClass(int64(reflect.TypeFor[tls.Conn]().Size())) +
	sizeClass(int64(reflect.TypeFor[tls.Config]().Size())) +
	sizeClass(int64(reflect.TypeFor[tls.ConnectionState]().Size()))

// Measure returns what connection c holds, reading the live capacities of
// its TLS record buffers where this build can (see LiveBuffers) and
// modelling the rest. It never panics and never blocks; it allocates
// nothing but, when c.Session is nil, the Session it reads. Its cost is
// about 100 ns: call it when a snapshot is taken, not per request.
func Measure(c Conn) Memory { return measure(c, true) }

// Estimate is Measure with every growing buffer modelled from c.BytesIn,
// as in race-enabled builds; the result is always Estimated.
func Estimate(c Conn) Memory { return measure(c, false) }

func measure(c Conn, live bool) Memory {
	var m Memory
	var s *Session
	if c.TLS != nil {
		s = c.Session
		if s == nil {
			if rs, ok := ReadSession(c.TLS); ok {
				s = &rs
			}
		}
	}
	proto := c.Proto
	if proto == ProtoUnknown {
		proto = HTTP1
		if s != nil && s.ALPN == "h2" {
			proto = HTTP2
		}
	}
	if c.TLS != nil {
		m.measureTLS(c, s, live)
	}
	switch proto {
	case HTTP2:
		m.Bufio = 2 * defaultBufferSize
		m.FrameBuf = modelFrameBuf(c.BytesIn, m.RawInput)
		m.Transport = http2Fixed
		m.Goroutines = 1
		m.Stacks = http2Stack
		m.Estimated = true
	default:
		m.Bufio = bufioSize(c.ReadBufferSize) + bufioSize(c.WriteBufferSize)
		m.Transport = http1Fixed
		m.Goroutines = 2
		m.Stacks = 2 * http1Stack
	}
	if c.SettingsUnknown {
		m.Estimated = true
	}
	return m
}

// bufioSize returns the heap a bufio buffer of a transport's size setting
// occupies.
func bufioSize(n int) int64 {
	if n <= 0 {
		return defaultBufferSize // a size class
	}
	return sizeClass(int64(n))
}

// measureTLS fills in the TLS part of m. s may be nil when the handshake
// has not completed.
func (m *Memory) measureTLS(c Conn, s *Session, live bool) {
	raw, hand, send, ok := int64(0), int64(0), int64(0), false
	if live {
		raw, hand, send, ok = readBuffers(c.TLS)
	}
	if !ok {
		raw, hand, send = modelBuffers(s, c.BytesIn)
		m.Estimated = true
	}
	m.RawInput, m.Hand, m.SendBuf = sizeClass(raw), sizeClass(hand), sizeClass(send)
	m.TLSState = tlsStructs + tlsOther
	if s != nil {
		// The presented chain ([]*x509.Certificate) and the verified
		// chains ([][]*x509.Certificate and one slice per chain).
		m.Certs = sizeClass(8*int64(s.PeerCerts)) + sizeClass(24*int64(s.VerifiedChains))
		if s.VerifiedChains > 0 {
			m.Certs += int64(s.VerifiedChains) * sizeClass(8*int64(max(s.VerifiedCerts/s.VerifiedChains, 1)))
		}
		m.SharedCerts = int64(s.PeerCertBytes) + int64(s.PeerCerts)*sharedCertOverhead
	}
}

// modelBuffers returns the TLS record buffer capacities the model expects
// of a connection that has received bytesIn bytes: the raw input buffer
// as after the handshake, or as grown by bulk reads; the handshake buffer
// large enough for the certificate chain; no send buffer.
func modelBuffers(s *Session, bytesIn int64) (raw, hand, send int64) {
	raw = rawInputFresh
	if bytesIn >= bulkBytes {
		raw = rawInputGrown
	}
	hand = handFresh
	if s != nil && !s.Resumed {
		hand = max(hand, int64(s.PeerCertBytes)+256)
	}
	return raw, hand, 0
}

// modelFrameBuf returns the HTTP/2 frame buffer the model expects: grown
// to a full 16 KiB frame once the connection has received bulk data (or
// its raw input buffer shows it read full-size TLS records), otherwise
// small enough to be part of http2Fixed.
func modelFrameBuf(bytesIn, rawInput int64) int64 {
	if bytesIn >= bulkBytes || rawInput > frameBufGrown {
		return frameBufGrown
	}
	return 0
}
