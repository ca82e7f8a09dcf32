// Package snapshot defines httptop's wire format: the plain data a probe
// collector reports about a program's HTTP clients, encoded as JSON.
//
// The JSON field names are a contract between the agent inside a program and
// the httptop CLI (and anything else that reads snapshots). Adding a field is
// compatible; renaming or removing one bumps [Version]. Both sides encode and
// decode these same structs.
//
// All durations are milliseconds (float), sizes are bytes, rates are per
// second. Percentiles cover a rolling window of recent requests whose length
// is given by Host.WindowSeconds; counters such as Host.Requests are totals
// since the client was first seen.
package snapshot

import (
	"strconv"
	"time"
)

// Version is the snapshot format version this package encodes and decodes.
const Version = 1

// Snapshot is the state of one program's instrumented HTTP clients at one
// instant.
type Snapshot struct {
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
	PID     int       `json:"pid"`
	Program string    `json:"program"`
	// Process is filled in by the agent; it is nil in a snapshot taken
	// directly from a collector.
	Process   *Process    `json:"process,omitempty"`
	Hosts     []Host      `json:"hosts"`
	Conns     []Conn      `json:"conns"`
	Diagnoses []Diagnosis `json:"diagnoses"`
	// ProbeErrors counts panics httptop recovered from in its own code
	// (never passed on to the program), and LastProbeError describes the
	// latest. Both are empty unless httptop has a bug to report.
	ProbeErrors    int64  `json:"probe_errors,omitempty"`
	LastProbeError string `json:"last_probe_error,omitempty"`
}

// Process holds the load of the whole program, read from the operating
// system and the Go runtime.
type Process struct {
	CPUPercent float64 `json:"cpu_percent"`
	RSSBytes   uint64  `json:"rss_bytes"`
	Goroutines int     `json:"goroutines"`
	Threads    int     `json:"threads"`
	FDs        int     `json:"fds"`
	// UptimeSeconds is the time since the process started.
	UptimeSeconds float64 `json:"uptime_s"`
	TCP           TCP     `json:"tcp"`

	// Figures of the Go runtime (runtime/metrics), over the time since
	// the previous reading (since the process started, for the first),
	// except where said.
	//
	// GCCPUPercent is the share of the CPU time the Go runtime used
	// (user code, GC, scavenging: /cpu/classes/total less idle) that went
	// to garbage collection (/cpu/classes/gc/total), as a percentage. The
	// runtime updates these figures at the end of each GC cycle, so the
	// share is over the cycles that ended between the two latest
	// readings that saw them change; it drops to 0 once no cycle has
	// ended for twice that span (at least 5 s).
	GCCPUPercent float64 `json:"gc_cpu_percent"`
	// SchedLatencyP99Ms is the 99th percentile of the time goroutines
	// waited runnable before they ran (/sched/latencies:seconds), among
	// those scheduled since the previous reading; the bucket's upper
	// bound, so at most a bucket's width (up to ×2) too high.
	SchedLatencyP99Ms float64 `json:"sched_latency_p99_ms"`
	// MutexWaitPerSecond is the time goroutines spent blocked on
	// sync.Mutex, sync.RWMutex and the runtime's own locks
	// (/sync/mutex/wait/total:seconds) per second: the mean number of
	// goroutines waiting for a lock.
	MutexWaitPerSecond float64 `json:"mutex_wait_per_s"`
	// RunnableGoroutines is the number of goroutines ready to run and
	// waiting for a thread, at the reading
	// (/sched/goroutines/runnable:goroutines).
	RunnableGoroutines int `json:"runnable_goroutines"`
}

// TCP counts the process's TCP sockets by state. TIME_WAIT piling up is how
// connection churn shows from outside the program.
type TCP struct {
	Established int `json:"established"`
	SynSent     int `json:"syn_sent"`
	TimeWait    int `json:"time_wait"`
	CloseWait   int `json:"close_wait"`
	FinWait     int `json:"fin_wait"`
	Listen      int `json:"listen"`
	Other       int `json:"other"`
}

// Host is one client's view of one origin (scheme://host:port): its
// connection pool, its queue and its latency.
type Host struct {
	Client string `json:"client"`
	Scheme string `json:"scheme"`
	// Host is host:port, with the scheme's default port filled in.
	Host string `json:"host"`

	// Pool occupancy, now.
	Open     int `json:"open"`
	Active   int `json:"active"`
	Idle     int `json:"idle"`
	Waiting  int `json:"waiting"`
	Dialing  int `json:"dialing"`
	InFlight int `json:"in_flight"`

	// Totals since the host was first seen.
	Requests    int64 `json:"requests"`
	Errors      int64 `json:"errors"`
	NewConns    int64 `json:"new_conns"`
	ReusedConns int64 `json:"reused_conns"`
	// ClosedConns counts connections of this host that have closed.
	ClosedConns int64 `json:"closed_conns"`
	// Status5xx counts responses with a 5xx status; they are not Errors.
	Status5xx int64 `json:"status_5xx"`

	// Rates over the last RateWindowSeconds (up to 10 s, less for a new
	// host, at least 1 s).
	RPS               float64 `json:"rps"`
	ErrorsPerSecond   float64 `json:"errors_per_s"`
	NewConnsPerSecond float64 `json:"new_conns_per_s"`
	// ReusedFraction is reused ÷ (new + reused) connections handed to
	// requests over the rate window; 0 when no request got a connection.
	ReusedFraction    float64 `json:"reused_fraction"`
	RateWindowSeconds float64 `json:"rate_window_s"`

	// Latency is from RoundTrip start until response headers arrive
	// (RoundTrip returns), including the wait for a connection.
	Latency Percentiles `json:"latency_ms"`
	// ConnWait is the time between asking the pool for a connection and
	// getting one (httptrace GetConn to GotConn).
	ConnWait Percentiles `json:"conn_wait_ms"`
	// Dial is DNS + TCP connect of new connections (not TLS).
	Dial Percentiles `json:"dial_ms"`
	// WindowSeconds is the span of recent time the percentiles cover.
	WindowSeconds float64 `json:"window_s"`
	// PeakInFlight is the largest number of requests in flight at once over
	// the percentile window.
	PeakInFlight int `json:"peak_in_flight"`
	// AvgWaiting is the mean queue depth (requests waiting for a
	// connection) over the rate window, from Little's law: total wait time
	// accrued ÷ window length.
	AvgWaiting float64 `json:"avg_waiting"`

	// Body lifecycle.
	LeakedBodies int `json:"leaked_bodies"`
	// UndrainedBodies counts HTTP/1.x bodies closed before EOF, which
	// closes their connection instead of returning it to the pool.
	UndrainedBodies int64 `json:"undrained_bodies"`

	// Memory held by the host's open connections (see Conn.MemBytes).
	MemBytes    int64 `json:"mem_bytes"`
	TLSMemBytes int64 `json:"tls_mem_bytes"`
	// TLS handshakes of new connections since the host was first seen,
	// full or resumed, and their durations over the percentile window.
	TLSFullHandshakes    int64       `json:"tls_full_handshakes"`
	TLSResumedHandshakes int64       `json:"tls_resumed_handshakes"`
	TLSHandshake         Percentiles `json:"tls_handshake_ms"`

	// The transport's limits, effective values (0 means unlimited). Both
	// are 0 and LimitsKnown is false when the wrapped RoundTripper is not
	// an *http.Transport.
	MaxConnsPerHost     int  `json:"max_conns_per_host"`
	MaxIdleConnsPerHost int  `json:"max_idle_conns_per_host"`
	LimitsKnown         bool `json:"limits_known"`

	// ErrorClasses counts errors by class: timeout, canceled, dns,
	// refused, reset, tls, other.
	ErrorClasses map[string]int64 `json:"error_classes,omitempty"`
	// Series is one point per second, oldest first, bounded.
	Series []Point `json:"series,omitempty"`
}

// Percentiles summarises a distribution of durations in milliseconds.
// Quantiles come from a histogram with 8 exponential buckets per power of
// two (bounds 2^(1/8) apart, as in a Prometheus native histogram of schema
// 3), so each is within about 4.6% of the true value; Max is exact.
type Percentiles struct {
	Count int64   `json:"n"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Point is one second of one host's traffic.
type Point struct {
	// Time is the start of the second, in Unix seconds.
	Time         int64   `json:"t"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	NewConns     int64   `json:"new_conns"`
	ReusedConns  int64   `json:"reused_conns"`
	LatencyAvgMs float64 `json:"latency_avg_ms"`
	LatencyMaxMs float64 `json:"latency_max_ms"`
	// AvgWaiting and AvgInFlight are time averages over the second, from
	// Little's law (wait time and latency accrued by requests that
	// completed in the second ÷ 1 s).
	AvgWaiting  float64 `json:"avg_waiting"`
	AvgInFlight float64 `json:"avg_in_flight"`
}

// Conn is one connection of a client's pool.
type Conn struct {
	ID     uint64 `json:"id"`
	Client string `json:"client"`
	Host   string `json:"host"`
	// Proto is "http/1.1" or "h2"; empty until the first response.
	Proto string `json:"proto"`
	// State is what the connection is doing now (see ConnState).
	State      ConnState `json:"state"`
	AgeSeconds float64   `json:"age_s"`
	// IdleSeconds is the time since the connection last finished a
	// request; 0 while active.
	IdleSeconds float64 `json:"idle_s"`
	Requests    int64   `json:"requests"`
	// Streams is the number of HTTP/2 streams in use now (0 for
	// HTTP/1.x); MaxStreams the most seen at once.
	Streams    int   `json:"streams"`
	MaxStreams int   `json:"max_streams"`
	BytesIn    int64 `json:"bytes_in"`
	BytesOut   int64 `json:"bytes_out"`
	// DialMs is the DNS + TCP connect time; 0 when not dialed by a
	// tracked transport.
	DialMs     float64 `json:"dial_ms"`
	LocalAddr  string  `json:"local_addr,omitempty"`
	RemoteAddr string  `json:"remote_addr,omitempty"`
	// Inferred is true when the connection was not dialed through a
	// transport httptop instruments: it is known only from the requests
	// that used it, so its close time and byte counts are unknown.
	Inferred bool `json:"inferred,omitempty"`
	// MemBytes is everything the connection holds: TLS state and buffers,
	// the transport's buffers and its goroutines' stacks.
	MemBytes int64 `json:"mem_bytes"`
	// MemEstimated is true when part of MemBytes comes from a model
	// rather than from reading the live buffers.
	MemEstimated bool `json:"mem_estimated,omitempty"`
	TLS          *TLS `json:"tls,omitempty"`
}

// TLS is the TLS session of one connection.
type TLS struct {
	Version     string  `json:"version"`
	Cipher      string  `json:"cipher"`
	ALPN        string  `json:"alpn"`
	Resumed     bool    `json:"resumed"`
	ServerName  string  `json:"server_name,omitempty"`
	HandshakeMs float64 `json:"handshake_ms"`
	// The server's certificate chain: length, DER bytes, leaf expiry.
	PeerCerts     int       `json:"peer_certs"`
	PeerCertBytes int       `json:"peer_cert_bytes"`
	LeafNotAfter  time.Time `json:"leaf_not_after,omitzero"`
	// MemBytes is the TLS part of Conn.MemBytes.
	MemBytes int64 `json:"mem_bytes"`
}

// ConnState is what a connection is doing.
type ConnState string

// Connection states.
const (
	// ConnHandshaking: the connection is dialed and completing its
	// handshake (TLS) before its first request; it cannot serve one yet.
	ConnHandshaking ConnState = "handshaking"
	// ConnActive: at least one request uses the connection.
	ConnActive ConnState = "active"
	// ConnIdle: the connection waits in the pool for a request.
	ConnIdle ConnState = "idle"
	// ConnClosed: the connection has closed (snapshots keep a bounded
	// number of recently closed connections).
	ConnClosed ConnState = "closed"
)

// Live reports whether a connection in state s is open.
func (s ConnState) Live() bool { return s != ConnClosed && s != "" }

// Severity ranks a diagnosis.
type Severity string

// Severities, from least to most urgent.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: 0 for none or unknown, then info, warning and
// critical.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// DiagnosisKind names a problem httptop recognises.
type DiagnosisKind string

// Diagnosis kinds.
const (
	// KindPoolSaturated: requests wait for a connection because the
	// pool is at MaxConnsPerHost.
	KindPoolSaturated DiagnosisKind = "pool_saturated"
	// KindIdleChurn: connections are closed and dialed again because the
	// idle pool is smaller than the bursts.
	KindIdleChurn DiagnosisKind = "idle_churn"
	// KindBodyLeak: response bodies are left open and unread.
	KindBodyLeak DiagnosisKind = "body_leak"
	// KindBodyNotDrained: bodies are closed before EOF, so their HTTP/1.x
	// connection is closed instead of reused.
	KindBodyNotDrained DiagnosisKind = "body_not_drained"
	// KindH2StreamLimit: HTTP/2 requests wait for a stream.
	KindH2StreamLimit DiagnosisKind = "h2_stream_limit"
	// KindNoTLSResumption: new TLS connections to a known host do full
	// handshakes.
	KindNoTLSResumption DiagnosisKind = "no_tls_resumption"
	// KindSlowDial: DNS, TCP or TLS setup dominates latency.
	KindSlowDial DiagnosisKind = "slow_dial"
)

// Diagnosis is a problem httptop recognised in one client's traffic to one
// host, with the numbers that triggered it and what to change.
type Diagnosis struct {
	Kind     DiagnosisKind `json:"kind"`
	Client   string        `json:"client"`
	Host     string        `json:"host"`
	Severity Severity      `json:"severity"`
	Summary  string        `json:"summary"`
	Advice   string        `json:"advice"`
	// Evidence holds the figures behind the diagnosis, by name (for
	// example "conn_wait_p95_ms").
	Evidence map[string]float64 `json:"evidence"`
	// Sites are the places in the program's code the diagnosis points at
	// (for body_leak: where the leaked requests were issued).
	Sites []Site `json:"sites,omitempty"`
}

// Site is a place in the program's source code and how many times a
// diagnosis saw it.
type Site struct {
	Function string `json:"function"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Count    int    `json:"count"`
}

// String formats a site as file:line (function).
func (s Site) String() string {
	return s.File + ":" + strconv.Itoa(s.Line) + " (" + s.Function + ")"
}
