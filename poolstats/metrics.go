package poolstats

import (
	"cmp"
	"slices"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// HostMetrics is one host's figures as a metrics exporter reads them: the
// gauges of its pool now, its counters and cumulative histograms since the
// host was first seen, and the diagnoses active now. Unlike a snapshot it
// has no windowed percentiles, rates, time series or connection rows, and
// reading it forgets nothing.
//
// Counters never go down while the host is kept. A host with no
// connections and no traffic for a while (Options.ForgetAfter) is dropped
// by the next snapshot; if it is seen again it comes back as a new host,
// with a new ID and counters from zero.
type HostMetrics struct {
	// ID identifies the host record within its Stats: a host forgotten
	// and seen again gets a new ID.
	ID uint64
	// Client is the client's label, Scheme the URL scheme ("" for a host
	// known only from the address its connections were dialed to), and
	// Host its host:port, or OverflowHost.
	Client, Scheme, Host string
	// Created is when the host was first seen.
	Created time.Time

	// DialOnly is true for a host of the UnwrappedClient, whose requests
	// no probe traces (see snapshot.Host.DialOnly): what is known of it
	// is its connections (Open, Active, Idle and Handshaking, inferred
	// from their traffic; Dialing, ClosedConns, the TLS handshakes,
	// MemBytes, TLSMemBytes, ConnDuration) and RequestsStarted. Every
	// figure about its requests (Waiting, InFlight, Requests, Errors,
	// ErrorClasses, NewConns, ReusedConns, Status5xx, UndrainedBodies,
	// LeakedBodies, Latency, ConnWait) is unknown, not zero, and so are
	// its limits (LimitsKnown is false): an exporter leaves them out.
	DialOnly bool
	// RequestsStarted counts, for a DialOnly host, the requests seen
	// starting through its transport's Proxy function (see
	// snapshot.Host.RequestsStarted); they do not count in Requests. It
	// is 0 for a host whose requests are traced.
	RequestsStarted int64

	// Pool gauges, now (Open = Active + Idle + Handshaking).
	Open, Active, Idle, Handshaking, Waiting, Dialing, InFlight int64
	// The transport's limits, effective values (0 means unlimited), when
	// LimitsKnown.
	MaxConnsPerHost, MaxIdleConnsPerHost int64
	LimitsKnown                          bool

	// Counters since the host was first seen.
	Requests int64
	// Errors counts failed requests and failed body reads; ErrorClasses
	// splits them by class (see ErrorClassNames).
	Errors       int64
	ErrorClasses [NumErrorClasses]int64
	// NewConns and ReusedConns count requests that got a new or a pooled
	// connection; ClosedConns the host's connections that closed.
	NewConns, ReusedConns, ClosedConns int64
	Status5xx                          int64
	// TLS handshakes of new connections, full or resumed.
	TLSFullHandshakes, TLSResumedHandshakes int64
	// UndrainedBodies counts HTTP/1.x bodies closed before EOF.
	UndrainedBodies int64

	// LeakedBodies is the number of response bodies open and leaked now.
	LeakedBodies int64
	// Memory held by the open connections now: everything (TLS, transport
	// buffers, goroutine stacks) and the TLS part.
	MemBytes, TLSMemBytes int64

	// Latency is RoundTrip start to response headers of responded
	// requests; ConnWait the wait for a connection (httptrace GetConn to
	// GotConn); ConnDuration how long closed connections were open (only
	// connections the probe saw dialed).
	Latency, ConnWait, ConnDuration Histogram

	// Diagnoses are the kinds of problem recognised now, at most one of
	// each kind.
	Diagnoses []ActiveDiagnosis
}

// ActiveDiagnosis is a diagnosis in force for a host: its kind (one of
// snapshot's Kind constants) and severity.
type ActiveDiagnosis struct {
	Kind     snapshot.DiagnosisKind
	Severity snapshot.Severity
}

// Histogram is a cumulative histogram of durations in seconds with the
// bucket layout of a Prometheus native histogram of schema
// HistogramSchema (an OpenTelemetry exponential histogram of that scale):
// bucket i holds the values in (2^((i-1)/8), 2^(i/8)] s. Counts[k] is the
// number in bucket Offset+k; ZeroCount the number at most
// HistogramZeroThreshold. Values longer than 2^16 s are counted in the
// last bucket, that of index 128.
type Histogram struct {
	// Count is the number of values, ZeroCount plus all of Counts.
	Count uint64
	// Sum is the sum of the values in seconds, each taken to the
	// microsecond below.
	Sum       float64
	ZeroCount uint64
	// Offset is the index of the bucket Counts starts with; Counts runs
	// from the lowest bucket holding a value to the highest.
	Offset int32
	Counts []uint64
}

// BucketUpperBound returns the upper bound, in seconds, of the bucket of
// index i of a Histogram: 2^(i/8).
func BucketUpperBound(i int) float64 { return bucketBound(i) }

// CountAtMost returns how many values are at most le seconds, counting a
// bucket when its upper bound is at most le: exact when le is a bucket
// bound (2^(i/8), such as a power of two), an undercount otherwise.
func (h *Histogram) CountAtMost(le float64) uint64 {
	if le < HistogramZeroThreshold {
		return 0
	}
	n := h.ZeroCount
	for k, c := range h.Counts {
		if bucketBound(int(h.Offset)+k) > le {
			break
		}
		n += c
	}
	return n
}

// NumErrorClasses is the number of error classes; ErrorClassNames names
// them in index order.
const NumErrorClasses = int(numErrorClasses)

// ErrorClassNames returns the names of the error classes, indexed like
// HostMetrics.ErrorClasses.
func ErrorClassNames() [NumErrorClasses]string { return errorClassNames }

// ReadMetrics appends the figures of every host of every client, as of now
// (monotonic ns, see Now), to dst and returns it, sorted by client, host
// and scheme. It reuses the Diagnoses and histogram Counts storage of the
// elements of dst beyond its length, so that an exporter reading into the
// same slice every scrape allocates little.
func (s *Stats) ReadMetrics(dst []HostMetrics, now int64) []HostMetrics {
	// Responses queued for a batch count as recorded (see pending).
	s.Flush()
	leaks := s.leaks(now)
	clients := s.allClients()
	slices.SortFunc(clients, func(a, b *Client) int { return cmp.Compare(a.name, b.name) })
	var (
		conns   []*Conn
		scratch snapshot.Conn
		diags   []snapshot.Diagnosis
		counts  [numBuckets]uint64
	)
	next := func() *snapshot.Conn {
		scratch = snapshot.Conn{}
		return &scratch
	}
	for _, c := range clients {
		limits := c.currentLimits()
		for _, h := range c.allHosts() {
			conns = h.openConns(conns[:0])
			var hs snapshot.Host
			hs, diags = s.hostRow(h, conns, now, limits, leaks[h], true, next, diags[:0])
			dst = slices.Grow(dst, 1)[:len(dst)+1]
			m := &dst[len(dst)-1]
			*m = HostMetrics{
				ID:                   h.id,
				Client:               hs.Client,
				Scheme:               hs.Scheme,
				Host:                 hs.Host,
				Created:              wallTime(h.created),
				DialOnly:             hs.DialOnly,
				RequestsStarted:      hs.RequestsStarted,
				Open:                 int64(hs.Open),
				Active:               int64(hs.Active),
				Idle:                 int64(hs.Idle),
				Handshaking:          int64(hs.Handshaking),
				Waiting:              int64(hs.Waiting),
				Dialing:              int64(hs.Dialing),
				InFlight:             int64(hs.InFlight),
				MaxConnsPerHost:      int64(hs.MaxConnsPerHost),
				MaxIdleConnsPerHost:  int64(hs.MaxIdleConnsPerHost),
				LimitsKnown:          hs.LimitsKnown,
				Requests:             hs.Requests,
				Errors:               hs.Errors,
				NewConns:             hs.NewConns,
				ReusedConns:          hs.ReusedConns,
				ClosedConns:          hs.ClosedConns,
				Status5xx:            hs.Status5xx,
				TLSFullHandshakes:    hs.TLSFullHandshakes,
				TLSResumedHandshakes: hs.TLSResumedHandshakes,
				UndrainedBodies:      hs.UndrainedBodies,
				LeakedBodies:         int64(hs.LeakedBodies),
				MemBytes:             hs.MemBytes,
				TLSMemBytes:          hs.TLSMemBytes,
				Latency:              Histogram{Counts: m.Latency.Counts[:0]},
				ConnWait:             Histogram{Counts: m.ConnWait.Counts[:0]},
				ConnDuration:         Histogram{Counts: m.ConnDuration.Counts[:0]},
				Diagnoses:            m.Diagnoses[:0],
			}
			for i := range h.errClass {
				m.ErrorClasses[i] = h.errClass[i].Load()
			}
			latUs, waitUs := h.secs.totalSums()
			m.Latency.set(&counts, h.latency.cumulative(&counts), latUs)
			m.ConnWait.set(&counts, h.wait.cumulative(&counts), waitUs)
			top, sumUs := h.lifetimes.read(&counts)
			m.ConnDuration.set(&counts, top, sumUs)
			for _, d := range diags {
				m.Diagnoses = append(m.Diagnoses, ActiveDiagnosis{Kind: d.Kind, Severity: d.Severity})
			}
		}
	}
	return dst
}

// set fills h from per-slot counts, zero above slot top, and a sum in
// microseconds, keeping the storage of h.Counts.
func (h *Histogram) set(counts *[numBuckets]uint64, top int, sumUs int64) {
	h.ZeroCount = counts[0]
	h.Count = counts[0]
	h.Sum = float64(sumUs) / 1e6
	lo, hi := 1, top
	for lo <= hi && counts[lo] == 0 {
		lo++
	}
	for hi >= lo && counts[hi] == 0 {
		hi--
	}
	h.Offset = 0
	if lo > hi {
		h.Counts = h.Counts[:0]
		return
	}
	h.Offset = int32(slotIndex(lo))
	h.Counts = append(h.Counts[:0], counts[lo:hi+1]...)
	for _, n := range h.Counts {
		h.Count += n
	}
}

// HistogramMinIndex and HistogramMaxIndex are the indexes of the lowest
// and the highest bucket a Histogram can count in (besides the zero
// bucket).
const (
	HistogramMinIndex = minIndex
	HistogramMaxIndex = maxIndex
)
