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
// Each guards against panics in the probe's own code with a deferred
// closure that calls recover only when the hook did not finish, which
// spares a call into the runtime on every request. A pooled span's hooks
// would panic (and be recovered) rather than corrupt another request if a
// transport ever fired one after its request finished.

// pooledGetConn returns a pooled span's GetConn hook: the request asks the
// pool for a connection. It fires on the goroutine calling RoundTrip; for
// HTTP/2 it can fire twice for one request, which counts as one wait.
//
// It is not inlined, so that its closure has one body whatever the
// caller, whose code pointer tracedContext knows (spanHooks).
//
//go:noinline
func (s *Span) pooledGetConn() func(string) {
	return func(hostPort string) {
		done := false
		defer func() {
			if !done {
				s.t.recovered(recover())
			}
		}()
		now := max(poolstats.Now(), 1)
		h := s.st.host
		if s.st.conn != nil {
			s.pooledRetry(now)
		}
		if s.st.waitAt == 0 {
			s.st.waitAt = now
			h.WaitStarted()
		}
		if !h.AddrNoted() {
			h.NoteAddr(hostPort)
		}
		done = true
	}
}

// pooledRetry ends the attempt on the request's connection: a second
// GetConn after a GotConn is a retry.
//
//go:noinline
func (s *Span) pooledRetry(now int64) {
	c := s.st.conn
	s.st.conn = nil
	c.EndRequest(now, false)
}

// pooledGotConn returns a pooled span's GotConn hook: the request has a
// connection. It fires on the goroutine calling RoundTrip. The wait leaves
// the waiting gauge at once; the rest is recorded by end (see Span).
//
// It is not inlined, so that its closure has one body whatever the
// caller, whose code pointer tracedContext knows (spanHooks).
//
//go:noinline
func (s *Span) pooledGotConn() func(httptrace.GotConnInfo) {
	return func(info httptrace.GotConnInfo) {
		done := false
		defer func() {
			if !done {
				s.t.recovered(recover())
			}
		}()
		now := poolstats.Now()
		h := s.st.host
		wait := int64(-1)
		if ws := s.st.waitAt; ws != 0 {
			s.st.waitAt = 0
			wait = max(now-ws, 0)
			h.WaitOver()
		}
		if s.st.got.At != 0 {
			s.flushGot()
		}
		s.st.got = poolstats.Got{At: now, Wait: wait, Reused: info.Reused}
		var c *poolstats.Conn
		if rec := recordOf(info.Conn); rec != nil {
			// A connection the dial hook wrapped, over plain HTTP.
			c = rec
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
		done = true
	}
}

// flushGot records the connection a request got before a retry got it
// another.
//
//go:noinline
func (s *Span) flushGot() {
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
		if s.st.finished.Load() {
			// A stray hook after the request ended: ignore it.
			return
		}
		now := max(poolstats.Now(), 1)
		// A second GetConn after a GotConn is a retry: the attempt on
		// the previous connection is over.
		if c := s.st.aconn.Swap(nil); c != nil {
			c.EndRequest(now, false)
		}
		h := s.st.host
		if s.st.waitStart.CompareAndSwap(0, now) {
			h.WaitStarted()
			// The request may have finished meanwhile; then finish did
			// not see this wait, and nobody else will end it.
			if s.st.finished.Load() && s.st.waitStart.CompareAndSwap(now, 0) {
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
		if s.st.finished.Load() {
			return // a stray hook, as in freshGetConn
		}
		now := poolstats.Now()
		h := s.st.host
		wait := int64(-1)
		if ws := s.st.waitStart.Load(); ws != 0 && s.st.waitStart.CompareAndSwap(ws, 0) {
			wait = max(now-ws, 0)
			s.st.awaited.Add(wait)
		}
		h.GotConn(now, info.Reused, wait)
		c := s.t.connOf(info.Conn, h, now, int64(info.IdleTime))
		if c != nil {
			if c.Host() != h {
				c.MoveTo(h)
			}
			c.BeginRequest()
			if old := s.st.aconn.Swap(c); old != nil {
				old.EndRequest(now, false)
			}
			// The request may have finished while this hook ran: then
			// nobody else will end the request on c.
			if s.st.finished.Load() && s.st.aconn.CompareAndSwap(c, nil) {
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
