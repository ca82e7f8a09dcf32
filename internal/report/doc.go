// Package report is httptop's pool-vs-latency report of a capture.
//
// A capture (capture.Capture, stored as capture.json by package capture)
// is what `httptop capture` recorded from one program: snapshots at a
// fixed interval, each host's per-second series merged over the window,
// every connection seen, and which profiles were taken. Build turns a
// capture and its CPU and wall-clock profiles into a Report, the computed
// figures per host:
//
//   - latency p50/p95/p99 over time, from the snapshots' percentiles over
//     a rolling window (Host.WindowSeconds), with the pool's open, active,
//     idle and waiting counts;
//   - latency against pool utilisation (requests in flight ÷
//     MaxConnsPerHost), one point per second;
//   - Little's law: the request rate λ times the time a request holds a
//     connection W, against the pool size N, and the pool size that keeps
//     the probability of waiting under TargetWaitProbability in an M/M/N
//     queue (see Pool sizing below);
//   - connection churn (new against reused connections per second) and
//     handshake cost (dial and TLS handshake times);
//   - every diagnosis with its evidence and advice;
//   - the top ten CPU and wall-clock functions, linked to the flame graphs.
//
// A Report renders three ways: WriteJSON (report.json, the Report struct
// itself), WriteMarkdown (report.md, tables to paste into an issue) and
// WriteHTML (report.html, one self-contained page with charts drawn by
// gonum.org/v1/plot as inline SVG and nothing fetched from the network).
// Regenerate does it all again from a capture directory, for `httptop
// report DIR`.
//
// # Pool sizing
//
// A host's connection pool is treated as an M/M/N queue: requests arrive
// at random (Poisson) at rate λ, each holds a connection for an
// exponentially distributed time with mean W, and there are N connections
// (Transport.MaxConnsPerHost). The offered load a = λ·W is the mean number
// of connections busy (Little's law, which holds whatever the
// distributions), and a ÷ N = λ ÷ N × W is the pool's utilisation. When
// a ≥ N the queue grows without bound; below that, Erlang's C formula
// (ErlangC) gives the probability that a request waits for a connection,
// and the mean wait of all requests is C·W ÷ (N − a) (MeanWait). PoolFor
// finds the smallest N with C under a target; the report uses
// TargetWaitProbability. Both are exact up to 10⁵ Erlangs and use a
// normal approximation within 0.023 ÷ a beyond, so that no pool size or
// demand, however large, makes them slow (see exactLoad in queue.go).
//
// λ is the request rate over the whole seconds of the capture's per-second
// series, and W the mean latency minus the mean connection wait (both from
// the series: latency and wait time accrued per second). The assumptions,
// and where they bend:
//
//   - When the pool is saturated (at its limit, fully busy or with requests
//     queueing), λ is capped at N ÷ W and understates the demand. Sizing
//     then uses the mean number of requests in flight, since each waiting
//     request would hold a connection if one were free.
//   - Requests issued by a fixed set of workers (a closed loop) are not
//     Poisson and never exceed the number of workers in flight; Erlang C
//     then overstates the pool needed, so the recommendation is capped at
//     the peak number of requests in flight.
//   - W ends when the response headers arrive. Reading the body also holds
//     the connection, so for large bodies the real load is higher.
//   - For HTTP/2 one connection carries many requests; the model applies to
//     HTTP/1.x pools.
//
// The package does no I/O beyond the capture directory and knows nothing
// about the agent; internal/capture records captures.
package report
