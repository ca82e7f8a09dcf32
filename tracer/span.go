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
	// spare is a pooled span in front of pool, taken by whoever sets
	// spareTaken: a client sending one request at a time takes and
	// gives back the same span, which runs far less code than
	// sync.Pool and no atomic swap of a pointer (whose write barrier is
	// a call). It changes only when a span could not be recycled (see
	// lost).
	spare      atomic.Pointer[Span]
	spareTaken atomic.Bool
	opts       Options
	// phases is opts.Observe != nil: spans install the WroteRequest and
	// GotFirstResponseByte hooks and keep what a Record shows.
	phases bool
	pool   sync.Pool
}

// New returns a Tracer that records the requests of client into stats.
func New(stats *poolstats.Stats, client *poolstats.Client, opts Options) *Tracer {
	t := &Tracer{stats: stats, client: client, opts: opts, phases: opts.Observe != nil}
	t.pool.New = func() any { return t.newSpan(true) }
	if opts.Recycle {
		t.spare.Store(t.newSpan(true))
	}
	return t
}

// lost notes that a pooled span finished without being recycled (a hook
// of Options.Observe may still fire): if it was the spare, a new one
// takes its place.
func (t *Tracer) lost(s *Span) {
	if s == t.spare.Load() {
		t.spare.Store(t.newSpan(true))
		t.spareTaken.Store(false)
	}
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
// What a pooled span's request touches before its response, up to the
// trace's GetConn and GotConn hooks, which the transport loads, is the
// span's first two cache lines: the allocator aligns a span on 64 bytes
// (its size class is a multiple of 64), and the body record, which end
// and the body's end touch, comes last (TestSpanLayout).
type Span struct {
	t *Tracer
	// pooled is fixed when the span is made: see Span.
	pooled bool
	// retried is set when a pooled span's request is sent a second
	// time (a retry on another connection), and nextCopy is the copy
	// the span sends next (see sendCopy).
	retried  bool
	nextCopy uint8
	st       spanCore
	trace    httptrace.ClientTrace
	// fresh is the rest of a fresh span's allocation, nil for a pooled
	// span.
	fresh *freshSpan
	// ph is what a Record shows, kept only with Options.Observe (nil
	// without).
	ph *phaseState
	// copies are a pooled span's copies of the requests it sent, for it
	// to send again (see sendCopy): on the trace's last line, whose
	// WroteRequest the transport reads for every request, and the body
	// record's first, so on no line of their own.
	copies [2]sentCopy
	// rec is the open-body record of the response: a fresh span's is
	// registered with poolstats from end until the body ends
	// (OpenBody, CloseBody); a pooled span's stays registered for the
	// span's life (KeepBody) and is opened by end and closed when the
	// body ends, under its own lock. (Kept in the body wrapper instead,
	// a record per request, a request cost 0.27 µs and 190 bytes more
	// in the round robin: docs/performance.md.)
	rec poolstats.Body
}

// freshSpan is a fresh span with what it holds for its one request: its
// state shared with hooks that may fire at any time, the context that
// carries its trace on the request sent (a pooled span's is allocated per
// request, as a request's context may outlive it, see begin), and the
// wrapper of the response body (the span lives as long as the body, so
// they share one allocation).
type freshSpan struct {
	Span
	// The fresh span's counterparts of spanCore's waitAt, conn and
	// waited, atomic; awaited is every wait so far. finished is set when
	// the request finished, for stray hooks.
	waitStart atomic.Int64
	conn      atomic.Pointer[poolstats.Conn]
	awaited   atomic.Int64
	finished  atomic.Bool

	ctx  traceContext
	body Body
}

// spanCore is what every request writes; a pooled span's is zero between
// requests.
type spanCore struct {
	// Set by begin, on the goroutine calling RoundTrip.
	host  *poolstats.Host
	start int64

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
}

// waited returns how long the request waited for connections, summed over
// its attempts: what it did not hold one (Point.HoldAvgMs).
func (s *Span) waited() int64 {
	if !s.pooled {
		return s.fresh.awaited.Load()
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

// recycles reports whether requests to host get pooled spans. Besides
// Options.Recycle, the host's scheme must be one *http.Transport serves
// itself: a RoundTripper registered with Transport.RegisterProtocol for
// another scheme may fire hooks at any time.
func (t *Tracer) recycles(host *poolstats.Host) bool {
	return t.opts.Recycle && host.TransportScheme()
}

// lookupHost is begin's lookup of a request's host other than the
// client's most recent.
//
//go:noinline
func (t *Tracer) lookupHost(req *http.Request) *poolstats.Host {
	return t.client.Host(req.URL.Scheme, req.URL.Host)
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

// slowCallers is callers for a stack callers would not walk to its end
// (a cgo callback's): runtime.Callers, from fillCallers' caller on.
//
//go:noinline
func slowCallers(pcs []uintptr) int {
	// Skip runtime.Callers, slowCallers and fillCallers.
	n := runtime.Callers(3, pcs)
	clear(pcs[n:])
	return n
}

// endOther is the start of end for what few requests see: an error, a
// response whose Request the transport set to another request than the
// one it was given, or Options.Observe. It reports whether end goes on
// with the response.
//
//go:noinline
func (t *Tracer) endOther(s *Span, orig, sent *http.Request, resp *http.Response, err error, now int64) bool {
	if err != nil || resp == nil {
		t.failed(s, now, err)
		return false
	}
	if resp.Request == sent {
		resp.Request = orig
	} else {
		restoreCopy(resp, orig, sent)
	}
	if t.phases {
		s.notePhases(now, resp)
	}
	return true
}

// endFresh is the rest of end for a fresh span, whose connection and body
// wrapper its hooks and its allocation hold, and whose body record is
// registered while the body is open.
//
//go:noinline
func (t *Tracer) endFresh(s *Span, sent *http.Request, resp *http.Response, now int64) {
	if c := s.fresh.conn.Load(); c != nil {
		c.Responded(resp.ProtoMajor, resp.Close || sent.Close)
	}
	if !wrappable(resp) {
		s.finish(now, OutcomeNoBody)
		return
	}
	b := &s.fresh.body
	b.rc, b.span, b.http1 = resp.Body, s, resp.ProtoMajor < 2
	rec := &s.rec
	rec.Host, rec.Opened, rec.Reads = s.st.host, now, &b.reads
	fillCallers(rec)
	t.stats.OpenBody(rec)
	resp.Body = b
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

// finishFresh is finish for a fresh span, whose hooks may run at the same
// time, or later: it takes the wait and the connection from them with
// atomic swaps, and marks the span finished for the stray ones.
//
//go:noinline
func (s *Span) finishFresh(now int64, outcome Outcome) {
	if !s.fresh.finished.CompareAndSwap(false, true) {
		return
	}
	if s.fresh.waitStart.Load() != 0 {
		s.gaveUp(now)
	}
	c := s.fresh.conn.Swap(nil)
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
	defer s.t.recoverPanic()
	var ws int64
	if s.pooled {
		ws, s.st.waitAt = s.st.waitAt, 0
	} else if ws = s.fresh.waitStart.Load(); ws == 0 || !s.fresh.waitStart.CompareAndSwap(ws, 0) {
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

// observed hands a pooled span's Record to Options.Observe and reports
// whether the span may be recycled (see quiescent), its phases cleared.
//
//go:noinline
func (s *Span) observed(now int64, outcome Outcome, c *poolstats.Conn) bool {
	defer s.t.recoverPanic()
	s.observe(now, outcome, c)
	if !s.quiescent() {
		return false
	}
	*s.ph = phaseState{}
	return true
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

// testHookRecycled, when set by a test, is called for every span recycled.
var testHookRecycled func(*Span)

// recoverPanic is deferred by every entry point of the tracer's own code
// that the transport or the program calls (hooks, a body's end; RoundTrip
// has its own guard): a bug in httptop must never take the program down.
// An open-coded defer costs a few nanoseconds when nothing panics.
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
