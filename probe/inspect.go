package probe

import (
	"time"

	"github.com/httptop/httptop/poolstats"
	"github.com/httptop/httptop/snapshot"
	"github.com/httptop/httptop/tlsstats"
)

// connInspector fills in each open connection's memory and TLS details
// when a snapshot is taken; nil leaves them empty.
var connInspector poolstats.Inspector = inspectConn

// inspectConn fills out's memory (everything connection c holds, see
// tlsstats.Memory) and, for a TLS connection a request has used, its TLS
// session, with the TLS part of the memory and the handshake time (from
// the end of the TCP connect to the connection being ready for its first
// request, see poolstats.Conn.HandshakeNs). The session was read once, at
// the connection's first use; the buffers are read again when bytes have
// flowed since the last reading. It runs once per open connection per
// snapshot.
func inspectConn(c *poolstats.Conn, out *snapshot.Conn) {
	in := tlsstats.Conn{
		TLS:     c.TLS(),
		Session: c.TLSSession(),
		BytesIn: out.BytesIn,
	}
	switch out.Proto {
	case "h2":
		in.Proto = tlsstats.HTTP2
	case "http/1.1":
		in.Proto = tlsstats.HTTP1
	}
	if cl := c.Host().Client(); cl != nil {
		lim := cl.Limits()
		in.ReadBufferSize, in.WriteBufferSize, in.SettingsUnknown = lim.ReadBufferSize, lim.WriteBufferSize, !lim.Known
	}
	if in.Session == nil && in.TLS != nil {
		if s, ok := tlsstats.ReadSession(in.TLS); ok {
			in.Session = &s
		}
	}
	m, tls := measure(c, in, out)
	out.MemBytes = m.Total()
	out.MemEstimated = m.Estimated
	out.TLS = tls
}

// measure returns the memory of connection c, reusing the last reading
// while nothing it depends on changed: the buffers of an idle connection
// do not grow, and reading them costs a few hundred nanoseconds of cache
// misses per connection, which 10,000 connections make milliseconds.
func measure(c *poolstats.Conn, in tlsstats.Conn, out *snapshot.Conn) (tlsstats.Memory, *snapshot.TLS) {
	if in.TLS == nil {
		// The model: nothing to read.
		m := tlsstats.Measure(in)
		return m, tlsRow(c, in.Session, m)
	}
	if r := c.MemReading(); r != nil && r.BytesIn == out.BytesIn && r.BytesOut == out.BytesOut && r.Session == in.Session {
		return r.Mem, r.TLS
	}
	m := tlsstats.Measure(in)
	tls := tlsRow(c, in.Session, m)
	c.SetMemReading(&poolstats.MemReading{BytesIn: out.BytesIn, BytesOut: out.BytesOut, Session: in.Session, Mem: m, TLS: tls})
	return m, tls
}

// tlsRow is connection c's conns[].tls for session s (nil without one)
// and memory m.
func tlsRow(c *poolstats.Conn, s *tlsstats.Session, m tlsstats.Memory) *snapshot.TLS {
	if s == nil {
		return nil
	}
	return s.Snapshot(time.Duration(c.HandshakeNs()), m.TLS())
}
