package tracer

import (
	"crypto/tls"
	"net"
	"net/http/httptrace"

	"github.com/httptop/httptop/poolstats"
)

// The hooks are closures bound to their span, each the whole of its
// hook's work: a method value would add a wrapper function to every call,
// and the hooks run between the transport's own work, when little of the
// probe's code is in the instruction cache.
//
// Every hook guards against panics in the probe's own code with a
// deferred recover, except a pooled span's GetConn and GotConn for what
// they do on most requests, which cannot panic (see pooledGetConn and
// pooledGotConn): a deferred call costs each call a function of its own.
// What hooks do rarely is in functions of their own (getConnSlow,
// gotConnSlow), which defer the recover.

// gotConn is the rest of a pooled span's GotConn hook for what few
// requests see: a connection the dial hook did not wrap (HTTPS, whose
// *tls.Conn wraps ours, or one dialed elsewhere), used for the first time
// or by another host, a retry, or Options.Observe.
//
//go:noinline
func (s *Span) gotConn(now, wait int64, info httptrace.GotConnInfo, c *poolstats.Conn) {
	defer s.t.recoverPanic()
	h := s.st.host
	if c != nil {
		// A connection the dial hook wrapped, over plain HTTP.
		c.Used(now, int64(info.IdleTime), nil)
	} else {
		c = s.t.connOf(info.Conn, h, now, int64(info.IdleTime))
	}
	if c != nil {
		if c.Host() != h {
			c.MoveTo(h)
		}
		c.BeginRequest()
		if old := s.st.conn; old != nil {
			old.EndRequest(now, false)
		}
		s.st.conn = c
	}
	if s.t.phases {
		s.notePhasesGot(now, wait, info, c)
	}
}

// gotConnSlow is a pooled span's GotConn hook for what few requests see
// (see pooledGotConn).
//
//go:noinline
func (s *Span) gotConnSlow(info httptrace.GotConnInfo) {
	defer s.t.recoverPanic()
	h := s.st.host
	if h == nil {
		return // a stray hook, after the request finished
	}
	now := poolstats.Now()
	wait := int64(-1)
	if ws := s.st.waitAt; ws != 0 {
		s.st.waitAt = 0
		wait = max(now-ws, 0)
		h.WaitOver()
	}
	if s.st.got.At != 0 {
		// A second connection for one request: a retry (every GotConn
		// after the first comes here, see pooledGotConn).
		s.retried = true
		s.flushGot()
	}
	s.st.got = poolstats.Got{At: now, Wait: wait, Reused: info.Reused}
	// Usually a connection the dial hook wrapped, over plain HTTP,
	// that requests to this host used before.
	if c := recordOf(info.Conn); c != nil && c.Host() == h && c.InUse() && s.st.conn == nil && !s.t.phases {
		c.BeginRequest()
		s.st.conn = c
	} else {
		s.gotConn(now, wait, info, c)
	}
}

// getConnSlow is a pooled span's GetConn hook for what few requests see:
// it notes a new host's dial address (poolstats.Host.NoteAddr), on a
// retry (a GetConn after a GotConn) ends the attempt on the request's
// connection, and starts the wait unless it started already.
//
//go:noinline
func (s *Span) getConnSlow(hostPort string) {
	defer s.t.recoverPanic()
	h := s.st.host
	if h == nil {
		return // a stray hook, after the request finished
	}
	now := max(poolstats.Now(), 1)
	if c := s.st.conn; c != nil {
		s.st.conn = nil
		c.EndRequest(now, false)
	}
	if s.st.waitAt == 0 {
		s.st.waitAt = now
		h.WaitStarted()
	}
	h.NoteAddr(hostPort)
}

// flushGot records the connection a request got before a retry got it
// another.
//
//go:noinline
func (s *Span) flushGot() {
	defer s.t.recoverPanic()
	if s.st.got.Wait > 0 {
		s.st.waited += s.st.got.Wait
	}
	s.st.host.RecordGot(s.st.got)
	s.st.got = poolstats.Got{}
}

// freshGetConn returns a fresh span's GetConn hook (see pooledGetConn).
// It may fire on any goroutine, at any time.
//
// It is not inlined, so that its closure has one body whatever the
// caller, whose code pointer tracedContext knows (spanHooks).
//
//go:noinline
func (s *Span) freshGetConn() func(string) {
	return func(hostPort string) {
		defer s.t.recoverPanic()
		if s.fresh.finished.Load() {
			// A stray hook after the request ended: ignore it.
			return
		}
		now := max(poolstats.Now(), 1)
		// A second GetConn after a GotConn is a retry: the attempt on
		// the previous connection is over.
		if c := s.fresh.conn.Swap(nil); c != nil {
			c.EndRequest(now, false)
		}
		h := s.st.host
		if s.fresh.waitStart.CompareAndSwap(0, now) {
			h.WaitStarted()
			// The request may have finished meanwhile; then finish did
			// not see this wait, and nobody else will end it.
			if s.fresh.finished.Load() && s.fresh.waitStart.CompareAndSwap(now, 0) {
				h.WaitDropped()
			}
		}
		h.NoteAddr(hostPort)
	}
}

// freshGotConn returns a fresh span's GotConn hook (see pooledGotConn),
// which records the GotConn at once. It may fire on any goroutine, at any
// time.
//
// It is not inlined, so that its closure has one body whatever the
// caller, whose code pointer tracedContext knows (spanHooks).
//
//go:noinline
func (s *Span) freshGotConn() func(httptrace.GotConnInfo) {
	return func(info httptrace.GotConnInfo) {
		defer s.t.recoverPanic()
		if s.fresh.finished.Load() {
			return // a stray hook, as in freshGetConn
		}
		now := poolstats.Now()
		h := s.st.host
		wait := int64(-1)
		if ws := s.fresh.waitStart.Load(); ws != 0 && s.fresh.waitStart.CompareAndSwap(ws, 0) {
			wait = max(now-ws, 0)
			s.fresh.awaited.Add(wait)
		}
		h.GotConn(now, info.Reused, wait)
		c := s.t.connOf(info.Conn, h, now, int64(info.IdleTime))
		if c != nil {
			if c.Host() != h {
				c.MoveTo(h)
			}
			c.BeginRequest()
			if old := s.fresh.conn.Swap(c); old != nil {
				old.EndRequest(now, false)
			}
			// The request may have finished while this hook ran: then
			// nobody else will end the request on c.
			if s.fresh.finished.Load() && s.fresh.conn.CompareAndSwap(c, nil) {
				c.EndRequest(now, false)
			}
		}
		if s.t.phases {
			s.notePhasesGot(now, wait, info, c)
		}
	}
}

// notePhasesGot keeps what a Record shows of a GotConn.
//
//go:noinline
func (s *Span) notePhasesGot(now, wait int64, info httptrace.GotConnInfo, c *poolstats.Conn) {
	if wait >= 0 {
		s.ph.waitNs.Add(wait)
	}
	s.ph.reused.Store(info.Reused)
	s.ph.idleNs.Store(int64(info.IdleTime))
	if c != nil {
		s.ph.connID.Store(c.ID())
	}
	s.ph.gotConnAt.Store(now)
	s.ph.nGot.Add(1)
}

// wroteRequestHook returns the WroteRequest hook (Options.Observe only):
// the request (headers and body) has been written, or writing it failed.
// It fires on the connection's write goroutine, possibly after the
// response arrived.
func (s *Span) wroteRequestHook() func(httptrace.WroteRequestInfo) {
	return func(httptrace.WroteRequestInfo) {
		defer s.t.recoverPanic()
		s.ph.wroteAt.Store(poolstats.Now())
		s.ph.nWrote.Add(1)
	}
}

// gotFirstByteHook returns the GotFirstResponseByte hook (Options.Observe
// only). It fires on the connection's read goroutine before the response
// is handed to RoundTrip.
func (s *Span) gotFirstByteHook() func() {
	return func() {
		defer s.t.recoverPanic()
		s.ph.firstByteAt.Store(poolstats.Now())
		s.ph.nFirst.Add(1)
	}
}

// connOf returns the record of the connection a GotConn hook reports and
// notes its use (see poolstats.Conn.Used), with its TLS session if it has
// one.
//
//go:noinline
func (t *Tracer) connOf(nc net.Conn, h *poolstats.Host, now, idle int64) *poolstats.Conn {
	var c *poolstats.Conn
	var session *tls.Conn
	if nc == nil {
		return nil
	}
	if c = recordOf(nc); c == nil {
		if tc, ok := nc.(*tls.Conn); ok {
			session = tc
			c = recordOf(tc.NetConn())
		}
		if c == nil {
			c = t.stats.InferredConn(h, nc, now)
		}
	}
	c.Used(now, idle, session)
	return c
}
