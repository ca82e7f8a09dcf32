// Package bench measures what httptop and its peers add to a keep-alive
// loopback GET, in a module of its own so that the main module links none
// of the peers.
//
// Every variant sends the same request (a GET of a 12-byte body, read to
// EOF and closed) through its own *http.Transport, cloned from
// http.DefaultTransport:
//
//   - bare: the transport alone.
//   - lean: a minimal httptrace tool (lean.go): one state per request, five
//     hooks, a few atomics into shared counters. The floor of a tool that
//     times the phases of every request.
//   - httpstat: github.com/tcnksm/go-httpstat, a Result per request on the
//     request's context, ended after the body.
//   - httptop: probe.Wrap of the transport, recording into its own
//     Collector.
//   - promhttp: prometheus/client_golang's client middleware stacked as its
//     documentation shows: in-flight gauge, counter, duration histogram
//     and InstrumentRoundTripperTrace with every hook observing into a
//     histogram.
//   - otelhttp: go.opentelemetry.io/contrib's otelhttp.NewTransport with
//     the global no-op providers (otelhttp-noop), and with the SDK's
//     tracer provider (always sampled, batched to a discarding exporter)
//     and meter provider (a manual reader) (otelhttp-sdk).
//
// Two measurements come from it: separate benchmarks (bench_test.go; the
// allocations and bytes each variant adds, and ns/op sequentially and from
// 64 goroutines), and a round robin (RoundRobin; cmd/roundrobin), which
// sends one request through every variant in turn, in a rotated order,
// and times each request alone, so that the machine's drift hits all
// variants alike. run.sh runs both and prints the README's table.
package bench
