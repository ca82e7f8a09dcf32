package tracer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"

	"github.com/httptop/httptop/poolstats"
)

// This file holds the code every request through an *http.Transport runs,
// in the order it runs it: Transport.RoundTrip, begin, the GetConn and
// GotConn hooks, end, the body wrapper and the span's finish. The probe's
// code runs between the transport's, when little of it is in the caches,
// so each cache line of code a request runs costs a miss: the toolchain
// lays out a package's functions in source order, and keeping these
// together keeps what a request runs on few adjacent lines. What few
// requests do (a fresh span, a retry, an error, Options.Observe) is in
// functions of their own (marked noinline), in the other files.

// RoundTrip implements http.RoundTripper (see Tracer.RoundTrip). It is
// the whole of the round trip's own code, begin and end apart.
func (t *Transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	tr, next := t.Tracer, t.Next
	var s *Span
	stage := stageBegin
	// One deferred call guards begin and end, and sees next panic.
	defer func() {
		switch stage {
		case stageDone, stagePlain:
			return
		case stageNext:
			// next panicked: let the panic go on (this function does
			// not recover it), but leave the statistics as if the
			// request failed.
			tr.abandon(s)
			return
		}
		// The probe's own code panicked: that must not reach the
		// program. If begin did, send the request untraced.
		if r := recover(); r != nil {
			tr.panicked(r)
			if stage == stageBegin {
				resp, err = next.RoundTrip(req)
			}
		}
	}()
	s, sent := tr.begin(req)
	if s == nil {
		stage = stagePlain
		return next.RoundTrip(req)
	}
	stage = stageNext
	resp, err = next.RoundTrip(sent)
	stage = stageEnd
	tr.end(s, req, sent, resp, err)
	stage = stageDone
	return resp, err
}

// begin starts a span for req and returns the request to send: a copy of
// req carrying the span's hooks. It returns a nil span when req cannot be
// traced (it has no URL), in which case req should be sent as it is.
//
// It and end run under RoundTrip's guard against panics. A request to
// the client's most recent host, through *http.Transport, runs it alone;
// a lookup of another host and a fresh span are out of line.
func (t *Tracer) begin(req *http.Request) (*Span, *http.Request) {
	if req == nil || req.URL == nil {
		return nil, req
	}
	now := poolstats.Now()
	host := t.client.Last(req.URL.Scheme, req.URL.Host)
	if host == nil {
		host = t.lookupHost(req)
	}
	if !t.recycles(host) {
		return t.beginFresh(req, host, now)
	}
	var s *Span
	if t.spareTaken.CompareAndSwap(false, true) {
		s = t.spare.Load()
	} else {
		s = t.pooledSpan()
	}
	s.st.host, s.st.start = host, now
	host.RequestStarted(now)
	// The call site of the request, for its body's record (see end),
	// is taken now rather than when the response comes: the stack
	// above is the same then, but here its lines are still in the
	// cache, where by then the transport's work has pushed them out.
	// The record is closed (a pooled span's is between requests), so
	// no reader looks at it until end opens it.
	fillCallers(&s.rec)
	ctx := req.Context()
	if fastTraceContext && httptrace.ContextClientTrace(ctx) == nil {
		// The transport keeps the request's context past the request
		// (a dial it started keeps its values), so a pooled span
		// cannot hold it. This is the context WithClientTrace would
		// make, without looking up again the trace we know is not
		// there. (A context of the probe's own holding a copy of the
		// trace, written where the allocator had just been, cost
		// more: 96 bytes more to clear, and the transport's ctx.Done
		// and Err through its promoted methods.)
		ctx = context.WithValue(ctx, clientTraceKey, &s.trace)
	} else {
		ctx = s.composed(ctx)
	}
	return s, s.sendCopy(req, ctx)
}

// pooledSpan takes a span from the pool, when the spare is taken.
//
//go:noinline
func (t *Tracer) pooledSpan() *Span { return t.pool.Get().(*Span) }

// pooledGetConn returns a pooled span's GetConn hook: the request asks the
// pool for a connection. It fires on the goroutine calling RoundTrip; for
// HTTP/2 it can fire twice for one request, which counts as one wait.
//
// What it does for most requests, starting the wait, cannot panic (it
// follows pointers the tracer set before the transport could call it, and
// a stray hook, fired after its request finished, finds no host), so it
// goes without the deferred recover that costs every call a function of
// its own; the rest (a new host's dial address, a retry, a second GetConn)
// is getConnSlow's, which has it.
//
// It is not inlined, so that its closure has one body whatever the
// caller, whose code pointer tracedContext knows (spanHooks).
//
//go:noinline
func (s *Span) pooledGetConn() func(string) {
	return func(hostPort string) {
		h := s.st.host
		if h == nil || s.st.waitAt != 0 || s.st.conn != nil || !h.AddrNoted() {
			s.getConnSlow(hostPort)
			return
		}
		s.st.waitAt = max(poolstats.Now(), 1)
		h.WaitStarted()
	}
}

// pooledGotConn returns a pooled span's GotConn hook: the request has a
// connection. It fires on the goroutine calling RoundTrip. The wait leaves
// the waiting gauge at once; the rest is recorded by end (see Span).
//
// Most requests get a connection the dial hook wrapped and requests to
// the host used before, after one GetConn: what the hook does for them
// cannot panic (it follows pointers the tracer set before the transport
// could call it, and a connection's record, which recordOf found), so,
// like GetConn's, it goes without a deferred recover; the rest (a first
// use, another host's connection, a retry, a stray hook,
// Options.Observe) is gotConnSlow's, which has it.
//
// It is not inlined, so that its closure has one body whatever the
// caller, whose code pointer tracedContext knows (spanHooks).
//
//go:noinline
func (s *Span) pooledGotConn() func(httptrace.GotConnInfo) {
	return func(info httptrace.GotConnInfo) {
		h, ws := s.st.host, s.st.waitAt
		c := recordOf(info.Conn)
		if h == nil || ws == 0 || s.st.got.At != 0 || s.st.conn != nil || c == nil || c.Host() != h || !c.InUse() || s.t.phases {
			s.gotConnSlow(info)
			return
		}
		now := poolstats.Now()
		s.st.waitAt = 0
		h.WaitOver()
		s.st.got = poolstats.Got{At: now, Wait: max(now-ws, 0), Reused: info.Reused}
		c.BeginRequest()
		s.st.conn = c
	}
}

// end records the outcome of next.RoundTrip and, for a response with a
// body, wraps the body so that the span finishes when the body does.
func (t *Tracer) end(s *Span, orig, sent *http.Request, resp *http.Response, err error) {
	now := poolstats.Now()
	if err != nil || resp == nil || resp.Request != sent || t.phases {
		if !t.endOther(s, orig, sent, resp, err, now) {
			return
		}
	} else {
		resp.Request = orig
	}
	h := s.st.host
	t.client.Submit(h, now, now-s.st.start, s.waited(), resp.StatusCode, s.st.got)
	s.st.got = poolstats.Got{}
	if !s.pooled {
		t.endFresh(s, sent, resp, now)
		return
	}
	c := s.st.conn
	if c != nil {
		if closeAsked := resp.Close || sent.Close; c.RespondedNews(closeAsked) {
			c.Responded(resp.ProtoMajor, closeAsked)
		}
	}
	if c == nil || resp.ProtoMajor != 1 {
		s.dropCopy() // it will not be sent again (see sendCopy)
	}
	if !transportWrappable(resp) {
		s.finish(now, OutcomeNoBody)
		return
	}
	b := &Body{rc: resp.Body, span: s, http1: resp.ProtoMajor < 2}
	rec := &s.rec
	rec.Lock()
	rec.Host, rec.Opened, rec.Reads = h, now, &b.reads
	rec.SetOpen(true)
	rec.Unlock()
	resp.Body = b
}

// fillCallers records in rec the stack of the goroutine that sends its
// request (see callers), from fillCallers' caller on.
func fillCallers(rec *poolstats.Body) {
	n, complete := callers(rec.Callers[:])
	if !complete {
		n = slowCallers(rec.Callers[:])
	}
	rec.NumPCs = n
}

// Read reads from the response body.
func (b *Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.reads.Add(1)
	if err != nil {
		b.finish(err)
	}
	return n, err
}

// Close closes the response body.
func (b *Body) Close() error {
	err := b.rc.Close()
	b.finish(errClosed)
	return err
}

// finish ends the body's request the first time the body ends. The span
// may be recycled by it, so nothing touches b.span afterwards.
//
// For most requests (a pooled span, the body read to EOF) it is the whole
// of the request's end, in one function: the body record closed, the
// connection and the host told, the span recycled.
func (b *Body) finish(cause error) {
	if b.done.Load() || !b.done.CompareAndSwap(false, true) {
		return
	}
	s := b.span
	h := s.st.host
	if !s.pooled || cause != io.EOF || s.t.phases || s.st.waitAt != 0 || h == nil {
		s.finishBodyOther(b, cause)
		return
	}
	// What follows cannot panic (it follows pointers the tracer set and
	// checked), so, like the hooks' common cases, it goes without a
	// deferred recover.
	now := poolstats.Now()
	// Closed, the record lets go of the host and of this wrapper (which
	// refers to the transport's body, and through it to the
	// connection) while the span waits in the pool.
	s.rec.CloseKept()
	if c := s.st.conn; c != nil {
		c.EndRequest(now, true)
		if b.http1 {
			s.sentOnce(c)
		}
	}
	h.RequestEnded()
	s.recycle()
}

// finish ends the span once: it settles the wait and the connection,
// takes the request out of flight and recycles the span when that is safe.
func (s *Span) finish(now int64, outcome Outcome) {
	if !s.pooled {
		s.finishFresh(now, outcome)
		return
	}
	// A pooled span finishes once: from end (no body, or an error),
	// from abandon, or from its body's end, which the body reports once.
	if s.st.waitAt != 0 {
		s.gaveUp(now)
	}
	c := s.st.conn
	if c != nil {
		c.EndRequest(now, outcome == OutcomeEOF || outcome == OutcomeNoBody)
	}
	s.st.host.RequestEnded()
	t := s.t
	if t.phases && !s.observed(now, outcome, c) {
		t.lost(s)
		return
	}
	s.recycle()
}

// recycle puts a pooled span back for the next request, once its request
// finished and no hook can fire any more (see quiescent): nothing else
// touches the span, and plain writes are safe. (Its body record was
// closed, see Body.finish.) A pooled span's other fields of spanCore are
// zero by now.
func (s *Span) recycle() {
	s.st.host, s.st.conn, s.st.got, s.st.waited, s.st.start = nil, nil, poolstats.Got{}, 0, 0
	s.retried = false
	if t := s.t; s == t.spare.Load() && testHookRecycled == nil {
		t.spareTaken.Store(false)
		return
	}
	s.recycled()
}

// recycled is recycle for a span other than the spare, or with
// testHookRecycled set.
//
//go:noinline
func (s *Span) recycled() {
	if testHookRecycled != nil {
		testHookRecycled(s)
	}
	if t := s.t; s == t.spare.Load() {
		t.spareTaken.Store(false)
	} else {
		t.pool.Put(s)
	}
}
