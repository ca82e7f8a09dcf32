// Package probe is what a program links to have its HTTP clients
// observed by httptop: Wrap puts a probe in front of any
// http.RoundTripper, and a Collector gathers what the probes see into
// snapshots (package snapshot): per host, the pool's open, active, idle
// and waiting counts, latency and connection-wait percentiles, rates,
// churn, TLS state and memory per connection, leaked bodies, and
// diagnoses with advice.
//
//	client := &http.Client{
//		Transport: probe.Wrap(&http.Transport{MaxConnsPerHost: 4}, probe.WithName("payments")),
//	}
//	s := probe.Default().Snapshot()
//
// The probe's cost is a few atomic operations and allocations per request
// (see the README's Performance section); everything else happens when a
// snapshot is taken. It never changes what the wrapped client does.
//
// To look at a running program with the httptop command, start the agent
// (package probe/agent) beside the probes, or import probe/attach in a
// debug build. Exporters to Prometheus and OpenTelemetry read a Collector
// at scrape time, from packages of their own.
package probe
