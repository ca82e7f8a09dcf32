package probe

import "github.com/httptop/httptop/poolstats"

// The figures metrics exporters read (packages promexport and otelexport
// of this module, or one of your own). They are plain data: package probe
// links no metrics library.
type (
	// HostMetrics is one host's pool gauges, counters and cumulative
	// histograms since the host was first seen, and the diagnoses active
	// now.
	HostMetrics = poolstats.HostMetrics
	// Histogram is a cumulative histogram of durations in seconds in the
	// bucket layout of a Prometheus native histogram of schema
	// HistogramSchema (an OpenTelemetry exponential histogram of that
	// scale).
	Histogram = poolstats.Histogram
	// ActiveDiagnosis is the kind and severity of a diagnosis in force.
	ActiveDiagnosis = poolstats.ActiveDiagnosis
)

// Bucket layout of every Histogram: bucket i holds the durations in
// (2^((i-1)/8), 2^(i/8)] seconds; durations up to HistogramZeroThreshold
// seconds are counted in the zero bucket.
const (
	HistogramSchema        = poolstats.HistogramSchema
	HistogramZeroThreshold = poolstats.HistogramZeroThreshold
	// HistogramMinIndex and HistogramMaxIndex bound the bucket indexes
	// (2^16 s: longer durations are counted in the last bucket).
	HistogramMinIndex = poolstats.HistogramMinIndex
	HistogramMaxIndex = poolstats.HistogramMaxIndex
)

// OverflowHost is the Host of the row that collects the traffic of the
// hosts past CollectorOptions.MaxHosts.
const OverflowHost = poolstats.OverflowHost

// UnwrappedClient is the Client of the rows of connections an instrumented
// transport's dial hook saw dialed for requests no probe traces (a clone
// of the transport, or a client sharing it without Wrap): dial only, see
// snapshot.Host.DialOnly.
const UnwrappedClient = poolstats.UnwrappedClient

// NumErrorClasses is the length of HostMetrics.ErrorClasses.
const NumErrorClasses = poolstats.NumErrorClasses

// ErrorClassNames returns the names of the error classes (timeout, dns,
// …), indexed like HostMetrics.ErrorClasses; they are the keys of a
// snapshot host's error_classes.
func ErrorClassNames() [NumErrorClasses]string { return poolstats.ErrorClassNames() }

// BucketUpperBound returns the upper bound, in seconds, of the bucket of
// index i of a Histogram: 2^(i/8).
func BucketUpperBound(i int) float64 { return poolstats.BucketUpperBound(i) }

// ReadMetrics appends the figures of every host of every client of the
// collector to dst and returns it, sorted by client, host and scheme. It is
// meant for metrics exporters, which call it when scraped: it costs the
// clients nothing between calls, and reusing dst (pass dst[:0]) reuses the
// storage of its histograms.
//
// Counters and histograms only grow while a host is kept; a host idle for
// 10 minutes is dropped by the next Snapshot and, if it is seen again,
// comes back with a new ID and counts from zero.
func (c *Collector) ReadMetrics(dst []HostMetrics) []HostMetrics {
	return c.stats.ReadMetrics(dst, poolstats.Now())
}

// ProbeErrors returns how many panics the probe recovered from in its own
// code (never passed on to the program): 0 unless httptop has a bug.
func (c *Collector) ProbeErrors() int64 { return c.panics.Load() }
