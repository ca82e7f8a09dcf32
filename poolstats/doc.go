// Package poolstats aggregates what the tracer observes into per-host and
// per-connection statistics: pool occupancy (open, active, idle, waiting,
// dialing, in flight), totals, rates over a sliding window, latency and
// connection-wait histograms in fixed memory, a short per-second time series,
// open response bodies (for leak detection) and diagnoses.
//
// The recording methods are called on the hot path of every request, from
// many goroutines at once: they use atomic operations only, never a lock
// shared by all requests, and never allocate. Everything costly (percentiles,
// rates, diagnoses, symbolising call sites) happens in Snapshot, when
// somebody asks.
//
// Memory is bounded: a host holds a fixed number of histogram buckets and
// time-series slots whatever the request count, the number of hosts is
// capped (Options.MaxHosts; the rest are folded into one overflow host), and
// only a bounded number of closed connections are remembered.
//
// poolstats never touches the network; the tracer feeds it.
package poolstats
