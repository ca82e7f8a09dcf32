// Package tracer is httptop's instrumentation of one HTTP client: the
// httptrace hooks of each request, the wrapper that sees a response body
// end, and the dial hook that tracks connections. It records into package
// poolstats and aggregates nothing itself.
//
// # Events
//
// Each request gets a Span when Tracer.RoundTrip starts. These are the
// events the span sees, when they happen and on which goroutine:
//
//   - Start: RoundTrip is called, on the caller's goroutine. The request
//     enters flight (Host.RequestStarted).
//   - GetConn (httptrace): the transport asks its pool for a connection, on
//     the caller's goroutine, inside RoundTrip. The request starts waiting.
//     With HTTP/2 the transport can report it twice for one request; the
//     span counts one wait. Fired again after a GotConn, it is a retry: the
//     attempt on the previous connection is over.
//   - GotConn (httptrace): the request has a connection, on the caller's
//     goroutine, inside RoundTrip. The wait ends (the waiting gauge drops at
//     once); the connection counts one more request in flight (an HTTP/2
//     stream). The connection is the one the dial hook wrapped (for TLS,
//     the *tls.Conn around it) or, for a connection the tracer did not see
//     dialed, an inferred record keyed by the net.Conn.
//   - WroteRequest and GotFirstResponseByte (httptrace), only with
//     Options.Observe, for a Record's phases: on the connection's write
//     goroutine (WroteRequest may come after the response, or after
//     RoundTrip returned) and read goroutine (before the response reaches
//     RoundTrip).
//   - Response or error: RoundTrip returns, on the caller's goroutine. Latency
//     is measured to here (response headers). An error ends the request;
//     its class (timeout, canceled, dns, refused, reset, tls, other) is
//     counted. The response, with the wait and the connection GotConn
//     reported, goes to the client's queue (poolstats.Client.Submit),
//     recorded into the histograms and per-second series in batches and
//     before any snapshot: the figures are those of the events' times.
//   - Body end: the response body's Read returns io.EOF or an error, or Close
//     is called, on whatever goroutine the program reads or closes it. The
//     request leaves flight and its connection is released. An HTTP/1.x body
//     closed before EOF is counted as undrained: net/http closes such a
//     connection instead of reusing it. A body that never ends is reported
//     as leaked once it has stayed open and unread past LeakAfter, with the
//     call site that issued the request.
//
// The dial hook (Tracer.Dial, installed as http.Transport.DialContext by
// package probe) sees each connection dialed, on the goroutine the
// transport dials on, which since Go 1.22 outlives the request that caused
// the dial (the dial keeps the request's context values, not its
// cancellation). It times DNS (through its own httptrace DNS hooks on the
// dial's context) and the TCP connect, and wraps the connection to count
// bytes and see it close. The TLS handshake happens after the dial, inside
// the transport; its end is taken as the moment the connection is first
// handed to a request, less the time it then sat idle (GotConnInfo
// IdleTime), which is exact up to the hand-off between goroutines.
//
// # Not used, and why
//
// The span does not install DNSStart, ConnectStart, TLSHandshakeStart and
// their Done hooks: they fire on the dial goroutine, which can run long
// after its request finished (the transport hands a late connection to the
// pool or to another request), so on a recycled span they would land on
// the wrong request; the dial hook measures the same phases per
// connection. It does not install PutIdleConn (not fired for HTTP/2, and
// fired after the body's EOF, racing with the span's end) or the 1xx hooks.
// Those a program installs itself still fire: the span's trace is composed
// with any trace already on the request's context.
//
// # Recycling and cost
//
// A request through an *http.Transport gets a pooled span (Span): its
// ClientTrace, built once with hooks bound to the span, and its body
// record, registered with poolstats for the span's life, are reused
// request after request. *http.Transport fires the span's two hooks only
// inside RoundTrip, so a span returns to the pool when its request
// finishes (with Options.Observe, only once its late hooks have fired,
// see Span.quiescent). Such a request costs two allocations of its own:
// the context carrying the trace and the body wrapper (which the program
// may close twice, so it cannot be recycled). The shallow copy of the
// request that carries the trace (a RoundTripper must not modify the one
// it is given) is one the span sent before, once the transport is
// provably done with it (an HTTP/1 request read to EOF whose connection a
// later request got, see sendcopy.go); otherwise, as over HTTP/2, it is a
// third allocation.
//
// Any other RoundTripper may fire hooks at any time, so its requests get
// a fresh span each, which holds the context and the body wrapper itself:
// four allocations (the span, its two hooks, the request's copy).
//
// The hot path runs between the program's own work, when the probe's code
// and data are out of the caches: it keeps to few functions and few cache
// lines (see Transport.RoundTrip, Tracer.begin, the hooks), and leaves the
// histograms and series to the batches.
package tracer
