// Package promexport exports what a probe.Collector measures as Prometheus
// metrics: per client and host, the pool's occupancy and limits, request,
// error and connection counters, TLS handshakes, memory, leaked bodies,
// the diagnoses in force, and request-latency, connection-wait and
// connection-lifetime histograms (native histograms of schema 3, with
// classic buckets as well).
//
// The collector is read when Prometheus scrapes, never on a request's path:
// registering one costs the instrumented clients nothing.
//
//	reg.MustRegister(promexport.New(probe.Default(), promexport.Options{}))
//
// Programs attached with probe/attach serve the same metrics from their
// agent (see NewHandler).
//
// # Cardinality
//
// Every series has the labels client, scheme and host (host:port). At most
// Options.MaxHosts hosts (DefaultMaxHosts, 100, unless set) get series of
// their own: the first seen, in the order of the first scrape (sorted by
// client and host) and then as they appear. Later hosts are reported
// together, per client, under host="other" (and scheme=""), whose counters
// never go down, whichever hosts come and go; a host once folded stays in
// other. The collector's own overflow row (hosts past
// probe.CollectorOptions.MaxHosts) is always in other. A host has about
// 30 series, plus 3 histograms of 15 to 18 classic buckets each: 100 hosts
// make about 7,000 series.
//
// A host that has been idle (no connections, no traffic) for 10 minutes is
// dropped by the next probe snapshot; if it comes back its counters start
// again from zero, which Prometheus's rate and increase treat as a reset.
//
// # Dial-only hosts
//
// The hosts of the client "(unwrapped)" (probe.UnwrappedClient) are dial
// only: their connections were dialed through the hook a transport
// inherits from an instrumented one (a clone of http.DefaultTransport made
// after probe/attach, or a client with a nil Transport), and their
// requests are invisible (see probe.HostMetrics.DialOnly). Such a host
// has the series of what is known of it: open connections by state
// (inferred from their traffic), dialing, closed connections, TLS
// handshakes, connection and TLS memory, the connection-lifetime
// histogram, and httptop_client_requests_started_total, the requests seen
// starting through its transport's Proxy function, which only dial-only
// hosts have. It has no series of the figures about requests: requests,
// errors, new and reused connections, waiting and in-flight requests,
// limits, leaked and undrained bodies, request-duration and
// connection-wait histograms are absent, not zero, and no diagnosis is
// drawn for it. Its folded host="other" row is dial only too.
package promexport

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/httptop/httptop/internal/hostfold"
	"github.com/httptop/httptop/probe"
)

// DefaultMaxHosts is how many hosts get series of their own when
// Options.MaxHosts is 0.
const DefaultMaxHosts = hostfold.DefaultMaxHosts

// OtherHost is the host label of the series that fold the hosts past
// Options.MaxHosts.
const OtherHost = hostfold.Other

// Options configure a Collector. The zero value is ready to use.
type Options struct {
	// MaxHosts is how many hosts get series of their own; the others are
	// folded into host="other" (see the package documentation).
	// DefaultMaxHosts when 0 or less.
	MaxHosts int
}

// Collector is a prometheus.Collector that reads a probe.Collector when
// scraped. Its methods are safe for concurrent use.
type Collector struct {
	col  *probe.Collector
	fold *hostfold.Folder

	mu  sync.Mutex // one scrape at a time reads into buf
	buf []probe.HostMetrics
}

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector of the metrics of col. Register it once: it
// remembers which hosts have series of their own.
func New(col *probe.Collector, opts Options) *Collector {
	return &Collector{col: col, fold: hostfold.New(opts.MaxHosts)}
}

// Labels of every per-host series.
var hostLabels = []string{"client", "scheme", "host"}

// family is one exported metric: its name, help and type, the labels its
// series add to the host's, and how to read its series from a host's
// figures. The Collector and the text writer both work from families.
type family struct {
	name, help string
	typ        dto.MetricType
	extra      []string // label names after client, scheme, host
	desc       *prometheus.Desc
	// each calls emit for every series of h (gauges and counters), with
	// the values of the extra labels.
	each func(h *probe.HostMetrics, emit func(v int64, extra ...string))
	// hist returns h's histogram and its classic bounds (histograms).
	hist func(h *probe.HostMetrics) (*probe.Histogram, classicBounds)
	// ofRequests marks a figure about requests, which a dial-only host
	// does not have (see probe.HostMetrics.DialOnly): its series are left
	// out for such a host, absent rather than zero.
	ofRequests bool
}

// ofRequests marks f as a figure about requests.
func ofRequests(f *family) *family {
	f.ofRequests = true
	return f
}

// has reports whether host h has series of family f: all hosts do, but a
// dial-only host has none of a figure about requests.
func (f *family) has(h *probe.HostMetrics) bool { return !f.ofRequests || !h.DialOnly }

func perHost(name, help string, typ dto.MetricType, extra []string, each func(*probe.HostMetrics, func(int64, ...string))) *family {
	labels := append(append([]string(nil), hostLabels...), extra...)
	return &family{name: name, help: help, typ: typ, extra: extra, each: each,
		desc: prometheus.NewDesc(name, help, labels, nil)}
}

func gaugeOf(name, help string, get func(*probe.HostMetrics) int64) *family {
	return perHost(name, help, dto.MetricType_GAUGE, nil, func(h *probe.HostMetrics, emit func(int64, ...string)) { emit(get(h)) })
}

func counterOf(name, help string, get func(*probe.HostMetrics) int64) *family {
	return perHost(name, help, dto.MetricType_COUNTER, nil, func(h *probe.HostMetrics, emit func(int64, ...string)) { emit(get(h)) })
}

func histogramOf(name, help string, get func(*probe.HostMetrics) *probe.Histogram, bounds classicBounds) *family {
	f := perHost(name, help, dto.MetricType_HISTOGRAM, nil, nil)
	f.hist = func(h *probe.HostMetrics) (*probe.Histogram, classicBounds) { return get(h), bounds }
	return f
}

// families are the metrics, in the order they are written. Help texts
// say what is counted and from where. The figures about requests are
// marked ofRequests: a dial-only host has series of the others only, and
// of httptop_client_requests_started_total, which only it has.
var families = []*family{
	perHost("httptop_client_open_connections",
		"Connections of the client's pool to the host open now, by state: active (carrying a request), idle (in the pool) or handshaking (dialed, TLS handshake in progress); inferred from the connections' traffic for a dial-only host (client=\"(unwrapped)\").",
		dto.MetricType_GAUGE, []string{"state"}, func(h *probe.HostMetrics, emit func(int64, ...string)) {
			emit(h.Active, "active")
			emit(h.Idle, "idle")
			emit(h.Handshaking, "handshaking")
		}),
	ofRequests(gaugeOf("httptop_client_waiting_requests",
		"Requests waiting now for a connection from the pool (between httptrace GetConn and GotConn).",
		func(h *probe.HostMetrics) int64 { return h.Waiting })),
	gaugeOf("httptop_client_dialing_connections",
		"Connections being dialed now (DNS and TCP connect).",
		func(h *probe.HostMetrics) int64 { return h.Dialing }),
	ofRequests(gaugeOf("httptop_client_in_flight_requests",
		"Requests in flight now, from RoundTrip until their response body is read to EOF or closed.",
		func(h *probe.HostMetrics) int64 { return h.InFlight })),
	// The limits are read from the *http.Transport Wrap was given: a
	// dial-only host's are unknown (LimitsKnown is false).
	perHost("httptop_client_max_connections",
		"The transport's limit on connections per host (http.Transport.MaxConnsPerHost); 0 means unlimited. Absent when the RoundTripper is not an *http.Transport.",
		dto.MetricType_GAUGE, nil, func(h *probe.HostMetrics, emit func(int64, ...string)) {
			if h.LimitsKnown {
				emit(h.MaxConnsPerHost)
			}
		}),
	perHost("httptop_client_max_idle_connections",
		"The transport's effective limit on idle connections kept per host (http.Transport.MaxIdleConnsPerHost, 2 when unset); 0 means unlimited. Absent when the RoundTripper is not an *http.Transport.",
		dto.MetricType_GAUGE, nil, func(h *probe.HostMetrics, emit func(int64, ...string)) {
			if h.LimitsKnown {
				emit(h.MaxIdleConnsPerHost)
			}
		}),
	ofRequests(counterOf("httptop_client_requests_total",
		"Requests completed: responded (any status) or failed.",
		func(h *probe.HostMetrics) int64 { return h.Requests })),
	perHost("httptop_client_requests_started_total",
		"Requests seen starting, for hosts whose requests httptop does not trace (dial only, client=\"(unwrapped)\"): those of a clone of http.DefaultTransport made after probe/attach, or of a client with a nil Transport, counted by the transport's Proxy function (HTTP/1.x requests, and the first of each HTTP/2 connection). Such a host has no request, error, wait or latency series. Absent for traced hosts.",
		dto.MetricType_COUNTER, nil, func(h *probe.HostMetrics, emit func(int64, ...string)) {
			if h.DialOnly {
				emit(h.RequestsStarted)
			}
		}),
	ofRequests(perHost("httptop_client_errors_total",
		"Failed requests and failed response-body reads, by class: timeout, canceled, dns, refused, reset, tls, other.",
		dto.MetricType_COUNTER, []string{"class"}, func(h *probe.HostMetrics, emit func(int64, ...string)) {
			for k, n := range h.ErrorClasses {
				emit(n, errorClasses[k])
			}
		})),
	ofRequests(counterOf("httptop_client_new_connections_total",
		"Requests that got a newly dialed connection.",
		func(h *probe.HostMetrics) int64 { return h.NewConns })),
	ofRequests(counterOf("httptop_client_reused_connections_total",
		"Requests that got a connection from the pool.",
		func(h *probe.HostMetrics) int64 { return h.ReusedConns })),
	counterOf("httptop_client_closed_connections_total",
		"Connections to the host that closed.",
		func(h *probe.HostMetrics) int64 { return h.ClosedConns }),
	perHost("httptop_client_tls_handshakes_total",
		"TLS handshakes of new connections, full (resumed=\"false\") or resumed from a session (resumed=\"true\").",
		dto.MetricType_COUNTER, []string{"resumed"}, func(h *probe.HostMetrics, emit func(int64, ...string)) {
			emit(h.TLSFullHandshakes, "false")
			emit(h.TLSResumedHandshakes, "true")
		}),
	ofRequests(counterOf("httptop_client_undrained_bodies_total",
		"HTTP/1.x response bodies closed before EOF: each costs its connection, which is closed instead of reused.",
		func(h *probe.HostMetrics) int64 { return h.UndrainedBodies })),
	ofRequests(gaugeOf("httptop_client_leaked_bodies",
		"Response bodies open now and not read for longer than the leak threshold (30 s by default): each holds its connection.",
		func(h *probe.HostMetrics) int64 { return h.LeakedBodies })),
	gaugeOf("httptop_client_connection_memory_bytes",
		"Memory held by the open connections now: TLS state and buffers, transport buffers, goroutine stacks.",
		func(h *probe.HostMetrics) int64 { return h.MemBytes }),
	gaugeOf("httptop_client_tls_memory_bytes",
		"The TLS part of httptop_client_connection_memory_bytes: TLS state and record buffers of the open connections.",
		func(h *probe.HostMetrics) int64 { return h.TLSMemBytes }),
	ofRequests(histogramOf("httptop_client_request_duration_seconds",
		"Time from RoundTrip until the response headers arrived, including the wait for a connection, of requests that got a response.",
		func(h *probe.HostMetrics) *probe.Histogram { return &h.Latency }, latencyBounds)),
	ofRequests(histogramOf("httptop_client_connection_wait_seconds",
		"Time requests waited for a connection from the pool (httptrace GetConn to GotConn), whether new or reused.",
		func(h *probe.HostMetrics) *probe.Histogram { return &h.ConnWait }, latencyBounds)),
	histogramOf("httptop_client_connection_duration_seconds",
		"How long closed connections were open, from the end of their dial to their close (connections dialed through an *http.Transport the probe wraps).",
		func(h *probe.HostMetrics) *probe.Histogram { return &h.ConnDuration }, lifetimeBounds),
	perHost("httptop_client_diagnosis",
		"1 while httptop diagnoses a problem of this kind (pool_saturated, idle_churn, body_leak, body_not_drained, no_tls_resumption, …) for the host, with its severity; absent otherwise.",
		dto.MetricType_GAUGE, []string{"kind", "severity"}, func(h *probe.HostMetrics, emit func(int64, ...string)) {
			for _, d := range h.Diagnoses {
				emit(1, string(d.Kind), string(d.Severity))
			}
		}),
}

// probeErrors is the one metric without host labels.
var probeErrors = &family{
	name: "httptop_probe_errors_total",
	help: "Panics httptop recovered from in its own code, never passed on to the program: 0 unless httptop has a bug.",
	typ:  dto.MetricType_COUNTER,
}

func init() {
	probeErrors.desc = prometheus.NewDesc(probeErrors.name, probeErrors.help, nil, nil)
}

// errorClasses names the error classes, indexed like
// HostMetrics.ErrorClasses.
var errorClasses = probe.ErrorClassNames()

// Classic bucket bounds (le) of the histograms, as powers of two in
// seconds: each is a bound of the native buckets, so the classic counts
// are exact. Request latency and connection wait span 2^-10 s (~1 ms) to
// 2^3 s (8 s); connection lifetimes 2^-4 s (62.5 ms) to 2^12 s (68 min).
var (
	latencyBounds  = powersOfTwo(-10, 3)
	lifetimeBounds = powersOfTwo(-4, 12)
)

// classicBounds holds classic bucket bounds as powers of two: exp[j] is
// the exponent, le[j] the bound.
type classicBounds struct {
	exp []int
	le  []float64
}

func powersOfTwo(from, to int) classicBounds {
	var b classicBounds
	for e := from; e <= to; e++ {
		b.exp = append(b.exp, e)
		b.le = append(b.le, probe.BucketUpperBound(e<<probe.HistogramSchema))
	}
	return b
}

// Describe sends the descriptions of every metric the collector exports.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
	ch <- probeErrors.desc
}

// read reads the probe collector, folds the hosts past the limit and
// calls f with the rows, one reading at a time.
func (c *Collector) read(f func(rows []probe.HostMetrics)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = c.col.ReadMetrics(c.buf[:0])
	f(c.fold.Fold(c.buf))
}

// Collect reads the probe collector and sends one metric per series.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.read(func(rows []probe.HostMetrics) {
		// One emit for every series: a closure made per family and host
		// would be an allocation each.
		var (
			f    *family
			base []*dto.LabelPair
		)
		emit := func(v int64, extra ...string) {
			ch <- &value{desc: f.desc, labels: withLabels(base, f.extra, extra), typ: f.typ, v: float64(v)}
		}
		for i := range rows {
			h := &rows[i]
			base = prometheus.MakeLabelPairs(probeHostDesc, []string{h.Client, h.Scheme, h.Host})
			for _, f = range families {
				if !f.has(h) {
					continue
				}
				if f.hist != nil {
					hist, bounds := f.hist(h)
					ch <- newHistogram(f.desc, base, hist, bounds)
					continue
				}
				f.each(h, emit)
			}
		}
	})
	ch <- &value{desc: probeErrors.desc, typ: probeErrors.typ, v: float64(c.col.ProbeErrors())}
}

// probeHostDesc has the host labels only, for MakeLabelPairs.
var probeHostDesc = prometheus.NewDesc("httptop_host", "Host labels.", hostLabels, nil)

// withLabels returns the label pairs base (client, host, scheme, sorted by
// name) with the extra labels inserted in name order, as a Metric must
// write them.
func withLabels(base []*dto.LabelPair, names, values []string) []*dto.LabelPair {
	if len(names) == 0 {
		return base
	}
	out := make([]*dto.LabelPair, 0, len(base)+len(names))
	out = append(out, base...)
	for k, name := range names {
		i := len(out)
		for i > 0 && out[i-1].GetName() > name {
			i--
		}
		out = append(out, nil)
		copy(out[i+1:], out[i:])
		out[i] = &dto.LabelPair{Name: &names[k], Value: &values[k]}
	}
	return out
}

// value is a gauge or counter sample. It shares its host's label pairs
// with the host's other samples, which is why it is not a
// prometheus.NewConstMetric.
type value struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	typ    dto.MetricType
	v      float64
}

var _ prometheus.Metric = (*value)(nil)

func (m *value) Desc() *prometheus.Desc { return m.desc }

func (m *value) Write(out *dto.Metric) error {
	out.Label = m.labels
	if m.typ == dto.MetricType_GAUGE {
		out.Gauge = &dto.Gauge{Value: &m.v}
	} else {
		out.Counter = &dto.Counter{Value: &m.v}
	}
	return nil
}

// histogram is a histogram sample with both classic buckets and native
// ones. It holds its own copy of every figure: the reading it comes from
// is reused by the next scrape while this one is still being encoded.
type histogram struct {
	desc   *prometheus.Desc
	labels []*dto.LabelPair
	h      dto.Histogram

	count, zero uint64
	sum         float64
	offset      int32
	length      uint32
}

var _ prometheus.Metric = (*histogram)(nil)

func (m *histogram) Desc() *prometheus.Desc { return m.desc }

func (m *histogram) Write(out *dto.Metric) error {
	out.Label = m.labels
	out.Histogram = &m.h
	return nil
}

// Values of the native-histogram fields every histogram shares.
var (
	schema        = int32(probe.HistogramSchema)
	zeroThreshold = probe.HistogramZeroThreshold
)

// newHistogram converts h into a histogram sample with classic buckets at
// bounds.
func newHistogram(d *prometheus.Desc, labels []*dto.LabelPair, h *probe.Histogram, bounds classicBounds) *histogram {
	m := &histogram{desc: d, labels: labels, count: h.Count, zero: h.ZeroCount, sum: h.Sum,
		offset: h.Offset, length: uint32(len(h.Counts))}
	m.h.SampleCount = &m.count
	m.h.SampleSum = &m.sum
	m.h.Schema = &schema
	m.h.ZeroThreshold = &zeroThreshold
	m.h.ZeroCount = &m.zero
	buckets := make([]dto.Bucket, len(bounds.le))
	j := 0
	forClassicBuckets(h, bounds, func(_ float64, cum uint64) {
		buckets[j].UpperBound = &bounds.le[j]
		buckets[j].CumulativeCount = new(cum)
		j++
	})
	m.h.Bucket = make([]*dto.Bucket, len(buckets))
	for j := range buckets {
		m.h.Bucket[j] = &buckets[j]
	}
	// Native buckets: one span over Counts (trimmed to the lowest and
	// highest non-empty bucket), counts as deltas from the previous one.
	if len(h.Counts) > 0 {
		m.h.PositiveSpan = []*dto.BucketSpan{{Offset: &m.offset, Length: &m.length}}
		deltas := make([]int64, len(h.Counts))
		prev := int64(0)
		for k, n := range h.Counts {
			deltas[k] = int64(n) - prev
			prev = int64(n)
		}
		m.h.PositiveDelta = deltas
	}
	return m
}

// forClassicBuckets calls f with each classic bound of h and the number of
// values at most that bound. A bucket of index i is at most the bound 2^e
// when i <= e*8, since its upper bound is 2^(i/8): the counts are exact.
func forClassicBuckets(h *probe.Histogram, bounds classicBounds, f func(le float64, cum uint64)) {
	cum := h.ZeroCount
	k := 0
	for j, le := range bounds.le {
		limit := int32(bounds.exp[j] << probe.HistogramSchema)
		for ; k < len(h.Counts) && h.Offset+int32(k) <= limit; k++ {
			cum += h.Counts[k]
		}
		f(le, cum)
	}
}
