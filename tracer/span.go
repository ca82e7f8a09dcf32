package tracer

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httptop/httptop/poolstats"
)

// Options configure a Tracer.
type Options struct {
	// Recycle lets the tracer reuse spans from a pool once a request has
	// finished. It is only safe when no hook can fire after that, which
	// holds for *http.Transport (see the package documentation); for any
	// other RoundTripper leave it false and every request gets a fresh
	// span.
	Recycle bool
	// Observe, when set, receives the record of every finished request,
	// synchronously, on the goroutine that finished it. It must be quick.
	Observe func(Record)
	// OnPanic, when set, is told about a panic the tracer recovered from
	// in its own code, which it never lets reach the program.
	OnPanic func(recovered any)
}

// Tracer instruments the requests of one client: it gives each request a
// Span whose httptrace hooks feed poolstats, wraps response bodies to see
// them end, and records connections through Dialer.
type Tracer struct {
	stats  *poolstats.Stats
	client *poolstats.Client
	opts   Options
	pool   sync.Pool
}

// New returns a Tracer that records the requests of client into stats.
func New(stats *poolstats.Stats, client *poolstats.Client, opts Options) *Tracer {
	t := &Tracer{stats: stats, client: client, opts: opts}
	t.pool.New = func() any { return t.newSpan() }
	return t
}

// Client returns the statistics the tracer records into.
func (t *Tracer) Client() *poolstats.Client { return t.client }

// RoundTrip sends req through next with the tracer's hooks attached and
// returns exactly what next returns: the same response (with its body
// wrapped so that its end can be seen, and Response.Request set back to
// req) or the same error. It never modifies req: the hooks travel on a
// copy made with req.WithContext. A trace already on req's context still
// fires, composed with the tracer's (httptrace.WithClientTrace).
func (t *Tracer) RoundTrip(next http.RoundTripper, req *http.Request) (*http.Response, error) {
	s, sent := t.begin(req)
	if s == nil {
		return next.RoundTrip(req)
	}
	ok := false
	defer func() {
		if !ok {
			// next panicked: let the panic go on, but leave the
			// statistics as if the request failed.
			t.abandon(s)
		}
	}()
	resp, err := next.RoundTrip(sent)
	ok = true
	t.end(s, req, sent, resp, err)
	return resp, err
}

// Span is the state of one request while it is in flight: the httptrace
// hooks bound to it, the phase timestamps they record, the connection the
// request uses and the record of its open response body. Spans are
// recycled (see Options.Recycle), so nothing may keep a *Span after its
// request finished.
//
// Hooks run on the transport's goroutines (GotFirstResponseByte on the
// connection's read loop, WroteRequest on its write loop) and may race with
// the request finishing; every field they write is atomic, and the
// request's connection changes hands only through atomic swaps, so each
// BeginRequest on a connection is matched by exactly one EndRequest.
type Span struct {
	trace httptrace.ClientTrace
	t     *Tracer
	st    spanState
}

// spanState is the part of a Span that belongs to one request; recycling
// zeroes it.
type spanState struct {
	// Set by begin and end, on the goroutine calling RoundTrip, and read
	// when the request finishes.
	host       *poolstats.Host
	start      int64
	respondAt  int64
	status     int
	protoMajor int
	err        error
	class      poolstats.ErrorClass

	waiting     atomic.Bool
	waitStart   atomic.Int64
	waitNs      atomic.Int64
	gotConnAt   atomic.Int64
	wroteAt     atomic.Int64
	firstByteAt atomic.Int64
	reused      atomic.Bool
	idleNs      atomic.Int64
	writeFailed atomic.Bool
	conn        atomic.Pointer[poolstats.Conn]
	connID      atomic.Uint64
	finished    atomic.Bool

	// Hook counts, each incremented as the hook's last action: they tell
	// whether a hook could still fire (see quiescent).
	nGot, nWrote, nFirst atomic.Int32

	// body is the open-body record of the response, registered with
	// poolstats from end until the body ends.
	body poolstats.Body
}

func (t *Tracer) newSpan() *Span {
	s := &Span{t: t}
	s.trace = httptrace.ClientTrace{
		GetConn:              s.getConn,
		GotConn:              s.gotConn,
		WroteRequest:         s.wroteRequest,
		GotFirstResponseByte: s.gotFirstByte,
	}
	return s
}

// begin starts a span for req and returns the request to send: a copy of
// req carrying the span's hooks. It returns a nil span when req cannot be
// traced (it has no URL) or when begin failed, in which case req should be
// sent as it is.
func (t *Tracer) begin(req *http.Request) (s *Span, sent *http.Request) {
	defer func() {
		if r := recover(); r != nil {
			t.panicked(r)
			s, sent = nil, req
		}
	}()
	if req == nil || req.URL == nil {
		return nil, req
	}
	now := poolstats.Now()
	host := t.client.Host(req.URL.Scheme, req.URL.Host)
	s = t.pool.Get().(*Span)
	s.st.host, s.st.start = host, now
	host.RequestStarted(now)
	ctx := req.Context()
	trace := &s.trace
	if httptrace.ContextClientTrace(ctx) != nil {
		// WithClientTrace composes by rewriting the new trace's hooks
		// to call the old ones too: give it a copy, so that the span's
		// own trace stays as built.
		cp := s.trace
		trace = &cp
	}
	return s, req.WithContext(httptrace.WithClientTrace(ctx, trace))
}

// end records the outcome of next.RoundTrip and, for a response with a
// body, wraps the body so that the span finishes when the body does.
func (t *Tracer) end(s *Span, orig, sent *http.Request, resp *http.Response, err error) {
	defer t.recoverPanic()
	now := poolstats.Now()
	if err != nil || resp == nil {
		s.st.err = err
		s.st.class = poolstats.Classify(err)
		s.st.host.Failed(now, s.st.class)
		s.finish(now, OutcomeFailed)
		return
	}
	s.restoreRequest(resp, orig, sent)
	s.st.respondAt, s.st.status, s.st.protoMajor = now, resp.StatusCode, resp.ProtoMajor
	s.st.host.Responded(now, now-s.st.start, resp.StatusCode)
	if c := s.st.conn.Load(); c != nil {
		c.SetProto(resp.ProtoMajor)
		if resp.Close || sent.Close {
			c.CloseAsked()
		}
	}
	if !wrappable(resp) {
		s.finish(now, OutcomeNoBody)
		return
	}
	b := &Body{rc: resp.Body, span: s, http1: resp.ProtoMajor < 2}
	rec := &s.st.body
	rec.Host = s.st.host
	rec.Opened = now
	rec.Reads = &b.reads
	rec.NumPCs = callers(rec.Callers[:])
	t.stats.OpenBody(rec)
	resp.Body = b
}

// restoreRequest gives the program back its own request in
// resp.Request. The transport sets it to the request it was given (sent)
// or, on some paths (HTTP/2 with a body to rewind), to a copy of that; a
// request carrying the span's trace must not reach the program, which
// could send it again and fire a finished span's hooks.
func (s *Span) restoreRequest(resp *http.Response, orig, sent *http.Request) {
	switch {
	case resp.Request == sent:
		resp.Request = orig
	case resp.Request != nil && resp.Request.Context() == sent.Context():
		resp.Request = resp.Request.WithContext(orig.Context())
	}
}

// abandon finishes a span whose RoundTrip panicked.
func (t *Tracer) abandon(s *Span) {
	defer t.recoverPanic()
	now := poolstats.Now()
	s.st.class = poolstats.ErrOther
	s.st.host.Failed(now, s.st.class)
	s.finish(now, OutcomeFailed)
}

// getConn is the GetConn hook: the request asks the pool for a connection.
// It fires on the goroutine calling RoundTrip; for HTTP/2 it can fire twice
// for one request, which counts as one wait.
func (s *Span) getConn(hostPort string) {
	defer s.t.recoverPanic()
	if s.st.finished.Load() {
		// A stray hook after the request ended (only a RoundTripper
		// other than *http.Transport can fire one): ignore it.
		return
	}
	now := poolstats.Now()
	// A second GetConn after a GotConn is a retry: the attempt on the
	// previous connection is over.
	if c := s.st.conn.Swap(nil); c != nil {
		c.EndRequest(now, false)
	}
	if s.st.waiting.CompareAndSwap(false, true) {
		s.st.waitStart.Store(now)
		s.st.host.WaitStarted()
		// The request may have finished meanwhile; then finish did not
		// see this wait, and nobody else will end it.
		if s.st.finished.Load() && s.st.waiting.CompareAndSwap(true, false) {
			s.st.host.WaitDropped()
		}
	}
	s.st.host.NoteAddr(hostPort)
}

// gotConn is the GotConn hook: the request has a connection. It fires on
// the goroutine calling RoundTrip.
func (s *Span) gotConn(info httptrace.GotConnInfo) {
	defer s.t.recoverPanic()
	if s.st.finished.Load() {
		return // a stray hook, as in getConn
	}
	now := poolstats.Now()
	if s.st.waiting.CompareAndSwap(true, false) {
		d := now - s.st.waitStart.Load()
		s.st.waitNs.Add(d)
		s.st.host.WaitEnded(now, d)
	}
	s.st.host.GotConn(now, info.Reused)
	s.st.reused.Store(info.Reused)
	s.st.idleNs.Store(int64(info.IdleTime))
	if c, tc := s.t.connOf(info.Conn, s.st.host, now); c != nil {
		c.Used(now, int64(info.IdleTime), tc)
		if c.Host() != s.st.host {
			c.MoveTo(s.st.host)
		}
		c.BeginRequest()
		s.st.connID.Store(c.ID())
		if old := s.st.conn.Swap(c); old != nil {
			old.EndRequest(now, false)
		}
		// The request may have finished while this hook ran (only a
		// RoundTripper that fires hooks late can do that): then nobody
		// else will end the request on c.
		if s.st.finished.Load() && s.st.conn.CompareAndSwap(c, nil) {
			c.EndRequest(now, false)
		}
	}
	s.st.gotConnAt.Store(now)
	s.st.nGot.Add(1)
}

// wroteRequest is the WroteRequest hook: the request (headers and body)
// has been written, or writing it failed. It fires on the connection's
// write goroutine, possibly after the response arrived.
func (s *Span) wroteRequest(info httptrace.WroteRequestInfo) {
	defer s.t.recoverPanic()
	if s.t.opts.Observe != nil {
		// Only a Record shows phases: spare the clock otherwise.
		s.st.wroteAt.Store(poolstats.Now())
	}
	if info.Err != nil {
		s.st.writeFailed.Store(true)
	}
	s.st.nWrote.Add(1)
}

// gotFirstByte is the GotFirstResponseByte hook. It fires on the
// connection's read goroutine before the response is handed to RoundTrip.
func (s *Span) gotFirstByte() {
	defer s.t.recoverPanic()
	if s.t.opts.Observe != nil {
		s.st.firstByteAt.Store(poolstats.Now())
	}
	s.st.nFirst.Add(1)
}

// connOf returns the record of the connection a GotConn hook reports, and
// its TLS session if it has one.
func (t *Tracer) connOf(nc net.Conn, h *poolstats.Host, now int64) (*poolstats.Conn, *tls.Conn) {
	if nc == nil {
		return nil, nil
	}
	if rec := recordOf(nc); rec != nil {
		return rec, nil
	}
	if c, ok := nc.(*tls.Conn); ok {
		if rec := recordOf(c.NetConn()); rec != nil {
			return rec, c
		}
		return t.stats.InferredConn(h, nc, now), c
	}
	return t.stats.InferredConn(h, nc, now), nil
}

// finish ends the span once: it settles the wait and the connection,
// takes the request out of flight and recycles the span when that is safe.
func (s *Span) finish(now int64, outcome Outcome) {
	if !s.st.finished.CompareAndSwap(false, true) {
		return
	}
	if s.st.waiting.CompareAndSwap(true, false) {
		// The request gave up waiting for a connection.
		d := now - s.st.waitStart.Load()
		s.st.waitNs.Add(d)
		s.st.host.WaitEnded(now, d)
	}
	c := s.st.conn.Swap(nil)
	if c != nil {
		c.EndRequest(now, outcome == OutcomeEOF || outcome == OutcomeNoBody)
	}
	s.st.host.RequestEnded()
	if s.t.opts.Observe != nil {
		s.t.opts.Observe(s.record(now, outcome, c))
	}
	s.t.recycle(s)
}

// quiescent reports whether no hook of the span can fire any more. With
// *http.Transport, GetConn and GotConn fire only inside RoundTrip;
// WroteRequest and GotFirstResponseByte fire on the connection's
// goroutines, once per attempt, and may come late. A request that got one
// connection, whose write and first response byte were both seen, has
// nothing left to fire. Anything else (a retry, a failure, a write still
// in progress) is left to the garbage collector rather than recycled.
func (s *Span) quiescent() bool {
	return s.st.nGot.Load() == 1 && s.st.nWrote.Load() == 1 && s.st.nFirst.Load() == 1
}

func (t *Tracer) recycle(s *Span) {
	if !t.opts.Recycle || !s.quiescent() {
		return
	}
	// Every hook has returned (each counted itself last, atomically), so
	// nothing else touches the span: plain writes are safe.
	s.st = spanState{}
	if testHookRecycled != nil {
		testHookRecycled()
	}
	t.pool.Put(s)
}

// testHookRecycled, when set by a test, is called for every span recycled.
var testHookRecycled func()

// recoverPanic is deferred by every entry point of the tracer's own code:
// a bug in httptop must never take the program down.
func (t *Tracer) recoverPanic() {
	if r := recover(); r != nil {
		t.panicked(r)
	}
}

func (t *Tracer) panicked(r any) {
	if t.opts.OnPanic != nil {
		t.opts.OnPanic(r)
	}
}

// between returns the time from one monotonic timestamp to another, or 0
// when either was never recorded.
func between(from, to int64) time.Duration {
	if from == 0 || to < from {
		return 0
	}
	return time.Duration(to - from)
}
