package tracer

import (
	"context"
	"net/http"
	"net/http/httptrace"
	"runtime"
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
	// Setting it makes every request install two more hooks
	// (WroteRequest, GotFirstResponseByte) for the phases of its Record.
	Observe func(Record)
	// OnPanic, when set, is told about a panic the tracer recovered from
	// in its own code, which it never lets reach the program.
	OnPanic func(recovered any)
}

// Tracer instruments the requests of one client: it gives each request a
// Span whose httptrace hooks feed poolstats, wraps response bodies to see
// them end, and records connections through Dialer.
type Tracer struct {
	// What every request reads, and spare, which it takes and gives
	// back, together: one cache line for a request to touch.
	stats  *poolstats.Stats
	client *poolstats.Client
	// spare holds one pooled span in front of pool: a client sending
	// one request at a time takes and returns the same span there,
	// which runs far less code than sync.Pool.
	spare atomic.Pointer[Span]
	opts  Options
	// phases is opts.Observe != nil: spans install the WroteRequest and
	// GotFirstResponseByte hooks and keep what a Record shows.
	phases bool
	pool   sync.Pool
}

// getSpan takes a pooled span.
func (t *Tracer) getSpan() *Span {
	if s := t.spare.Load(); s != nil && t.spare.CompareAndSwap(s, nil) {
		return s
	}
	return t.pool.Get().(*Span)
}

// New returns a Tracer that records the requests of client into stats.
func New(stats *poolstats.Stats, client *poolstats.Client, opts Options) *Tracer {
	t := &Tracer{stats: stats, client: client, opts: opts, phases: opts.Observe != nil}
	t.pool.New = func() any { return t.newSpan(true) }
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
	tr := Transport{Next: next, Tracer: t}
	return tr.RoundTrip(req)
}

// The stages of Transport.RoundTrip, for its deferred call.
const (
	stageBegin = iota
	stagePlain // sending a request that is not traced
	stageNext
	stageEnd
	stageDone
)

// Span is the state of one request while it is in flight: the httptrace
// hooks bound to it, the timestamps they record, the connection the
// request uses and the record of its open response body.
//
// A span is either pooled or fresh, for life. Pooled spans serve the
// requests of a *http.Transport (Options.Recycle) and return to the pool
// when their request finishes: *http.Transport fires the span's GetConn
// and GotConn hooks on the goroutine calling RoundTrip, before it returns
// (with Options.Observe also WroteRequest and GotFirstResponseByte, on
// the connection's goroutines, see quiescent), so what the hooks write is
// read by end on the same goroutine and by finish after RoundTrip
// returned: plain fields do, and the GotConn is recorded by end, together
// with the response, in one call into poolstats (only the waiting gauge
// changes at once). A fresh span serves one request of any other
// RoundTripper, which may fire any hook at any time, also after the
// request ended: its hooks record at once, every field they share is
// atomic, and the request's connection changes hands only through atomic
// swaps, so that each BeginRequest on a connection is matched by exactly
// one EndRequest.
//
// The fields a request touches come first (the state, then the two hooks
// the transport loads), so that few cache lines hold them.
type Span struct {
	t *Tracer
	// pooled is fixed when the span is made: see Span.
	pooled bool
	// fresh is the rest of a fresh span's allocation, nil for a pooled
	// span.
	fresh *freshSpan
	// ph is what a Record shows, kept only with Options.Observe (nil
	// without).
	ph    *phaseState
	st    spanCore
	trace httptrace.ClientTrace
	// rec is the open-body record of the response: a fresh span's is
	// registered with poolstats from end until the body ends
	// (OpenBody, CloseBody); a pooled span's stays registered for the
	// span's life (KeepBody) and is opened by end and closed when the
	// body ends, under its own lock.
	rec poolstats.Body
}

// freshSpan is a fresh span with what it holds for its one request: the
// context that carries its trace on the request sent (a pooled span's is
// allocated per request, as a request's context may outlive it, see
// begin), and the wrapper of the response body (the span lives as long as
// the body, so they share one allocation).
type freshSpan struct {
	Span
	ctx  traceContext
	body Body
}

// spanCore is what every request writes; recycling zeroes it.
type spanCore struct {
	// Set by begin, on the goroutine calling RoundTrip.
	host     *poolstats.Host
	start    int64
	finished atomic.Bool

	// A pooled span's, plain (see Span): when the request started
	// waiting for a connection (0 while it is not waiting), the
	// connection it uses, and the connection it got, not recorded yet
	// (got.At == 0: none).
	waitAt int64
	conn   *poolstats.Conn
	got    poolstats.Got
	// waited is the time earlier attempts waited for a connection
	// (before a retry), in nanoseconds.
	waited int64

	// A fresh span's, atomic: the same; awaited is every wait so far.
	waitStart atomic.Int64
	aconn     atomic.Pointer[poolstats.Conn]
	awaited   atomic.Int64
}

// waited returns how long the request waited for connections, summed over
// its attempts: what it did not hold one (Point.HoldAvgMs).
func (s *Span) waited() int64 {
	if !s.pooled {
		return s.st.awaited.Load()
	}
	w := s.st.waited
	if s.st.got.At != 0 && s.st.got.Wait > 0 {
		w += s.st.got.Wait
	}
	return w
}

// phaseState is what a span keeps for its Record (Options.Observe), and
// the counts of the hooks that may fire late, each incremented as the
// hook's last action, which tell whether a hook could still fire (see
// quiescent). Recycling zeroes it.
type phaseState struct {
	respondAt  int64
	status     int
	protoMajor int
	err        error
	class      poolstats.ErrorClass

	waitNs      atomic.Int64
	gotConnAt   atomic.Int64
	wroteAt     atomic.Int64
	firstByteAt atomic.Int64
	reused      atomic.Bool
	idleNs      atomic.Int64
	connID      atomic.Uint64

	nGot, nWrote, nFirst atomic.Int32
}

func (t *Tracer) newSpan(pooled bool) *Span {
	var s *Span
	if pooled {
		s = &Span{t: t, pooled: true}
		// Its body record stays registered for the span's life, and is
		// opened and closed under its own lock (poolstats.KeepBody).
		t.stats.KeepBody(&s.rec)
	} else {
		f := &freshSpan{}
		s = &f.Span
		s.t, s.fresh = t, f
	}
	if t.phases {
		s.ph = new(phaseState)
	}
	if pooled {
		s.trace.GetConn = s.pooledGetConn()
		s.trace.GotConn = s.pooledGotConn()
	} else {
		s.trace.GetConn = s.freshGetConn()
		s.trace.GotConn = s.freshGotConn()
	}
	if t.phases {
		s.trace.WroteRequest = s.wroteRequestHook()
		s.trace.GotFirstResponseByte = s.gotFirstByteHook()
	}
	return s
}

// recycles reports whether a request gets a pooled span. Besides
// Options.Recycle, the request's scheme must be one *http.Transport serves
// itself: a RoundTripper registered with Transport.RegisterProtocol for
// another scheme may fire hooks at any time.
func (t *Tracer) recycles(req *http.Request) bool {
	if !t.opts.Recycle {
		return false
	}
	switch req.URL.Scheme {
	case "http", "https":
		return true
	}
	return false
}

// begin starts a span for req and returns the request to send: a copy of
// req carrying the span's hooks. It returns a nil span when req cannot be
// traced (it has no URL), in which case req should be sent as it is.
//
// Here, in end and in the hooks, what every request does is kept apart
// from what few do (helpers marked noinline): the probe's code runs
// between the transport's, when little of it is in the instruction cache,
// and each cache line of it a request runs costs a miss.
//
// It and end run under RoundTrip's guard against panics.
func (t *Tracer) begin(req *http.Request) (s *Span, sent *http.Request) {
	if req == nil || req.URL == nil {
		return nil, req
	}
	now := poolstats.Now()
	host := t.client.Last(req.URL.Scheme, req.URL.Host)
	if host == nil {
		host = t.client.Host(req.URL.Scheme, req.URL.Host)
	}
	if !t.recycles(req) {
		return t.beginFresh(req, host, now)
	}
	s = t.getSpan()
	s.st.host, s.st.start = host, now
	host.RequestStarted(now)
	ctx := req.Context()
	if !fastTraceContext || httptrace.ContextClientTrace(ctx) != nil {
		return s, req.WithContext(s.composed(ctx))
	}
	// The transport keeps the request's context past the request (a
	// dial it started keeps its values), so a pooled span cannot hold
	// it. This is the context WithClientTrace would make, without
	// looking up again the trace we know is not there.
	return s, req.WithContext(context.WithValue(ctx, clientTraceKey, &s.trace))
}

// beginFresh is begin for a fresh span, which holds the request's context
// and body wrapper.
//
//go:noinline
func (t *Tracer) beginFresh(req *http.Request, host *poolstats.Host, now int64) (*Span, *http.Request) {
	s := t.newSpan(false)
	s.st.host, s.st.start = host, now
	host.RequestStarted(now)
	ctx := req.Context()
	if !fastTraceContext || httptrace.ContextClientTrace(ctx) != nil {
		return s, req.WithContext(s.composed(ctx))
	}
	s.fresh.ctx = traceContext{Context: ctx, trace: &s.trace}
	return s, req.WithContext(&s.fresh.ctx)
}

// composed returns ctx with the span's trace composed with the one ctx
// already carries. WithClientTrace composes by rewriting the new trace's
// hooks to call the old ones too: it gets a copy, so that the span's own
// trace stays as built.
//
//go:noinline
func (s *Span) composed(ctx context.Context) context.Context {
	cp := s.trace
	return httptrace.WithClientTrace(ctx, &cp)
}

// end records the outcome of next.RoundTrip and, for a response with a
// body, wraps the body so that the span finishes when the body does.
func (t *Tracer) end(s *Span, orig, sent *http.Request, resp *http.Response, err error) {
	now := poolstats.Now()
	if err != nil || resp == nil {
		t.failed(s, now, err)
		return
	}
	if resp.Request == sent {
		resp.Request = orig
	} else {
		restoreCopy(resp, orig, sent)
	}
	if t.phases {
		s.notePhases(now, resp)
	}
	h := s.st.host
	t.client.Submit(h, now, now-s.st.start, s.waited(), resp.StatusCode, s.st.got)
	s.st.got = poolstats.Got{}
	c := s.st.conn
	if !s.pooled {
		c = s.st.aconn.Load()
	}
	if c != nil {
		c.Responded(resp.ProtoMajor, resp.Close || sent.Close)
	}
	if !wrappable(resp) {
		s.finish(now, OutcomeNoBody)
		return
	}
	var b *Body
	if s.pooled {
		b = new(Body)
	} else {
		b = &s.fresh.body
	}
	b.rc, b.span, b.http1 = resp.Body, s, resp.ProtoMajor < 2
	rec := &s.rec
	if s.pooled {
		rec.Lock()
	}
	rec.Host = h
	rec.Opened = now
	rec.Reads = &b.reads
	n, complete := callers(rec.Callers[:])
	if !complete {
		n = slowCallers(rec.Callers[:])
	}
	rec.NumPCs = n
	if s.pooled {
		rec.SetOpen(true)
		rec.Unlock()
	} else {
		t.stats.OpenBody(rec)
	}
	resp.Body = b
}

// slowCallers is callers for a stack callers would not walk to its end
// (a cgo callback's): runtime.Callers, from end's caller on.
//
//go:noinline
func slowCallers(pcs []uintptr) int {
	// Skip runtime.Callers, slowCallers and end.
	n := runtime.Callers(3, pcs)
	clear(pcs[n:])
	return n
}

// failed ends a span whose RoundTrip returned an error.
//
//go:noinline
func (t *Tracer) failed(s *Span, now int64, err error) {
	class := poolstats.Classify(err)
	if t.phases {
		s.ph.err, s.ph.class = err, class
	}
	s.st.host.Failed(now, class, s.st.got)
	s.st.got = poolstats.Got{}
	s.finish(now, OutcomeFailed)
}

// notePhases keeps what a Record shows of the response.
//
//go:noinline
func (s *Span) notePhases(now int64, resp *http.Response) {
	s.ph.respondAt, s.ph.status, s.ph.protoMajor = now, resp.StatusCode, resp.ProtoMajor
}

// restoreCopy gives the program back its own request in resp.Request when
// the transport set it to something else than the request it was given
// (sent): on some paths (HTTP/2 with a body to rewind) a copy of sent. A
// request carrying the span's trace must not reach the program, which
// could send it again and fire a finished span's hooks.
//
//go:noinline
func restoreCopy(resp *http.Response, orig, sent *http.Request) {
	if resp.Request != nil && resp.Request.Context() == sent.Context() {
		resp.Request = resp.Request.WithContext(orig.Context())
	}
}

// abandon finishes a span whose RoundTrip panicked.
func (t *Tracer) abandon(s *Span) {
	defer t.recoverPanic()
	now := poolstats.Now()
	if t.phases {
		s.ph.class = poolstats.ErrOther
	}
	s.st.host.Failed(now, poolstats.ErrOther, s.st.got)
	s.st.got = poolstats.Got{}
	s.finish(now, OutcomeFailed)
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
	if s.t.phases {
		s.observe(now, outcome, c)
		if !s.quiescent() {
			return
		}
	}
	s.t.recycle(s)
}

// finishFresh is finish for a fresh span, whose hooks may run at the same
// time, or later: it takes the wait and the connection from them with
// atomic swaps, and marks the span finished for the stray ones.
//
//go:noinline
func (s *Span) finishFresh(now int64, outcome Outcome) {
	if !s.st.finished.CompareAndSwap(false, true) {
		return
	}
	if s.st.waitStart.Load() != 0 {
		s.gaveUp(now)
	}
	c := s.st.aconn.Swap(nil)
	if c != nil {
		c.EndRequest(now, outcome == OutcomeEOF || outcome == OutcomeNoBody)
	}
	s.st.host.RequestEnded()
	if s.t.phases {
		s.observe(now, outcome, c)
	}
}

// gaveUp ends the wait of a request that finished while waiting for a
// connection.
//
//go:noinline
func (s *Span) gaveUp(now int64) {
	var ws int64
	if s.pooled {
		ws, s.st.waitAt = s.st.waitAt, 0
	} else if ws = s.st.waitStart.Load(); ws == 0 || !s.st.waitStart.CompareAndSwap(ws, 0) {
		return
	}
	d := max(now-ws, 0)
	if s.t.phases {
		s.ph.waitNs.Add(d)
	}
	s.st.host.WaitEnded(now, d)
}

// observe hands the request's Record to Options.Observe.
//
//go:noinline
func (s *Span) observe(now int64, outcome Outcome, c *poolstats.Conn) {
	s.t.opts.Observe(s.record(now, outcome, c))
}

// quiescent reports whether no hook of a pooled span can fire any more.
// *http.Transport fires GetConn and GotConn only inside RoundTrip, which
// has returned by the time a request finishes. With Options.Observe the
// span also has WroteRequest and GotFirstResponseByte, which fire on the
// connection's goroutines, once per attempt, and may come late: a request
// that got one connection, whose write and first response byte were both
// seen, has nothing left to fire. Anything else (a retry, a failure, a
// write still in progress) is left to the garbage collector rather than
// recycled.
func (s *Span) quiescent() bool {
	if !s.t.phases {
		return true
	}
	return s.ph.nGot.Load() == 1 && s.ph.nWrote.Load() == 1 && s.ph.nFirst.Load() == 1
}

func (t *Tracer) recycle(s *Span) {
	// No hook can fire any more (see quiescent), so nothing else
	// touches the span: plain writes are safe. (Its body record was
	// closed, see Body.finish.)
	s.st = spanCore{}
	if t.phases {
		s.clearPhases()
	}
	if testHookRecycled != nil {
		testHookRecycled()
	}
	if t.spare.Load() == nil && t.spare.CompareAndSwap(nil, s) {
		return
	}
	t.pool.Put(s)
}

//go:noinline
func (s *Span) clearPhases() { *s.ph = phaseState{} }

// testHookRecycled, when set by a test, is called for every span recycled.
var testHookRecycled func()

// recoverPanic is deferred by the entry points of the tracer's own code
// that run rarely: a bug in httptop must never take the program down. The
// hot ones defer a closure that calls recover only when they did not
// finish (see recovered), which spares the call to the runtime.
func (t *Tracer) recoverPanic() {
	if r := recover(); r != nil {
		t.panicked(r)
	}
}

// recovered reports r, what recover returned, if it is a panic.
func (t *Tracer) recovered(r any) {
	if r != nil {
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
