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
	"strings"
	"time"
)

// Version is the snapshot format version this package encodes and decodes.
const Version = 1

// Snapshot is the state of one program's instrumented HTTP clients at one
// instant.
type Snapshot struct {
	// Version is the snapshot format version (the package's Version).
	Version int `json:"version"`
	// Time is when the snapshot was taken, by the program's clock.
	Time time.Time `json:"time"`
	// PID is the program's process id.
	PID int `json:"pid"`
	// Program is the base name of the program's executable.
	Program string `json:"program"`
	// Process is filled in by the agent; it is nil in a snapshot taken
	// directly from a collector.
	Process *Process `json:"process,omitempty"`
	// Hosts holds one entry per client and host, ordered by client, then host.
	Hosts []Host `json:"hosts"`
	// Conns lists the clients' open connections and a bounded number of
	// recently closed ones, host by host.
	Conns []Conn `json:"conns"`
	// Diagnoses are the problems recognised now, host by host, and
	// those of the whole process (cpu_saturated, scheduler_latency,
	// gc_pressure: Client and Host empty), which only the agent adds, as
	// it fills in Process.
	Diagnoses []Diagnosis `json:"diagnoses"`
	// ProbeErrors counts panics httptop recovered from in its own code
	// (never passed on to the program), and LastProbeError describes the
	// latest. Both are empty unless httptop has a bug to report.
	ProbeErrors int64 `json:"probe_errors,omitempty"`
	// LastProbeError describes the latest of ProbeErrors.
	LastProbeError string `json:"last_probe_error,omitempty"`
	// ConnChanges is set in the snapshots of a stream asked for with
	// StreamConnsParam=StreamConnsChanges, but its first: Conns then
	// holds only the connections that are new or changed since the
	// stream's previous snapshot otherwise than by the time passed, and
	// ConnIDs lists every connection. ApplyConnChanges makes such a
	// snapshot whole again. Other snapshots never carry these fields.
	ConnChanges bool `json:"conn_changes,omitempty"`
	// ConnIDs lists the IDs of all the connections of a snapshot whose
	// ConnChanges is set, in the order of a whole snapshot's Conns.
	ConnIDs []uint64 `json:"conn_ids,omitempty"`
}

// Process holds the load of the whole program, read from the operating
// system and the Go runtime.
type Process struct {
	// CPUPercent is the CPU time used since the previous reading over the
	// wall time, × 100: 150 means one and a half cores busy.
	CPUPercent float64 `json:"cpu_percent"`
	// RSSBytes is the resident set size.
	RSSBytes uint64 `json:"rss_bytes"`
	// Goroutines is the number of goroutines (runtime.NumGoroutine).
	Goroutines int `json:"goroutines"`
	// Threads is the number of operating-system threads.
	Threads int `json:"threads"`
	// FDs is the number of open file descriptors.
	FDs int `json:"fds"`
	// UptimeSeconds is the time since the process started.
	UptimeSeconds float64 `json:"uptime_s"`
	// TCP counts the process's TCP sockets by state.
	TCP TCP `json:"tcp"`

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

	// The CPU the process may use, and what its HTTP requests cost of it.
	//
	// GOMAXPROCS is the number of threads that may run Go code at once
	// (runtime.GOMAXPROCS). Since Go 1.25 its default follows the
	// cgroup's CPU limit, rounded up and at least 2.
	GOMAXPROCS int `json:"gomaxprocs"`
	// CPULimitCores is the cgroup's CPU bandwidth limit (quota ÷ period,
	// the smallest along the process's cgroup and its parents), in
	// cores; 0 when there is none or it cannot be read.
	CPULimitCores float64 `json:"cpu_limit_cores,omitempty"`
	// Cores is the CPU the process may use, in cores: the least of
	// GOMAXPROCS, the CPUs it may run on and CPULimitCores.
	Cores float64 `json:"cores"`
	// CPUWindowSeconds is the span the figures below cover: up to the
	// last 10 s of readings (since the process started, for the first
	// reading; longer when snapshots are rarer).
	CPUWindowSeconds float64 `json:"cpu_window_s"`
	// WindowCPUPercent is the CPU the process used over that window, as
	// CPUPercent: 150 means one and a half cores busy.
	WindowCPUPercent float64 `json:"window_cpu_percent"`
	// WindowGCCPUPercent is GCCPUPercent over the window: the share of
	// the runtime's CPU the GC took in the cycles that ended within it.
	WindowGCCPUPercent float64 `json:"window_gc_cpu_percent"`
	// WindowSchedLatencyP99Ms is SchedLatencyP99Ms over the window.
	WindowSchedLatencyP99Ms float64 `json:"window_sched_latency_p99_ms"`
	// MachineCPUs is the number of CPUs of the machine (Linux:
	// /proc/stat), 0 where it is not read; OthersCores is the CPU the
	// machine's other processes used over the window, in cores: what
	// they took of the CPUs this process might have run on.
	MachineCPUs int     `json:"machine_cpus,omitempty"`
	OthersCores float64 `json:"others_cores,omitempty"`
	// RequestsPerSecond is the rate of the requests every client of the
	// collector completed over the window (all hosts; requests of
	// dial-only clients are not seen and not counted).
	RequestsPerSecond float64 `json:"requests_per_s"`
	// CPUPerRequestMs is the process's CPU time over the window divided
	// by those requests: all the CPU the process used, whatever it ran,
	// so an upper bound of what a request costs when the program does
	// other work too. 0 when no request completed.
	CPUPerRequestMs float64 `json:"cpu_per_request_ms"`
	// CeilingRPS is the most requests per second the process can issue
	// at that cost: Cores ÷ CPUPerRequestMs. 0 when CPUPerRequestMs is.
	CeilingRPS float64 `json:"ceiling_rps"`
}

// TCP counts the process's TCP sockets by state. TIME_WAIT piling up is how
// connection churn shows from outside the program.
type TCP struct {
	// Established counts ESTABLISHED sockets.
	Established int `json:"established"`
	// SynSent counts SYN_SENT sockets: connects in progress.
	SynSent int `json:"syn_sent"`
	// TimeWait counts TIME_WAIT sockets: connections this process closed
	// first, kept by the kernel for 60 s.
	TimeWait int `json:"time_wait"`
	// CloseWait counts CLOSE_WAIT sockets: closed by the peer, not yet by
	// the process.
	CloseWait int `json:"close_wait"`
	// FinWait counts FIN_WAIT1 and FIN_WAIT2 sockets.
	FinWait int `json:"fin_wait"`
	// Listen counts listening sockets.
	Listen int `json:"listen"`
	// Other counts sockets in any other state (SYN_RECV, LAST_ACK,
	// CLOSING, CLOSE).
	Other int `json:"other"`
	// AgeSeconds is how old the counts are: the table is read again only
	// when doing so costs at most a tenth of a percent of a core, so with
	// a very large table a snapshot may carry the last reading; 0 when
	// read for this one.
	AgeSeconds float64 `json:"age_s,omitempty"`
}

// Host is one client's view of one origin (scheme://host:port): its
// connection pool, its queue and its latency.
type Host struct {
	// Client is the name the client was wrapped with (probe.WithName).
	Client string `json:"client"`
	// Scheme is the URL scheme of the requests (http, https), or empty
	// for a host known only from the address its connections were dialed
	// to.
	Scheme string `json:"scheme"`
	// Host is host:port, with the scheme's default port filled in.
	Host string `json:"host"`

	// Pool occupancy, now. Open = Active + Idle + Handshaking:
	// Handshaking counts connections dialed and still completing their
	// TLS handshake, which can serve no request yet.
	Open int `json:"open"`
	// Active counts open connections carrying at least one request.
	Active int `json:"active"`
	// Idle counts open connections waiting in the pool for a request.
	Idle int `json:"idle"`
	// Handshaking counts open connections still completing their TLS
	// handshake, which can serve no request yet.
	Handshaking int `json:"handshaking"`
	// Waiting counts requests waiting for a connection from the pool.
	Waiting int `json:"waiting"`
	// Dialing counts connections being dialed (DNS and TCP connect).
	Dialing int `json:"dialing"`
	// InFlight counts requests from RoundTrip until their body ends.
	InFlight int `json:"in_flight"`

	// DialOnly is true when the host's requests are invisible to httptop:
	// its connections were dialed through the dial hook a transport
	// inherits by being cloned from an instrumented one (or by a client
	// that shares an instrumented transport without the probe), and no
	// traced request used them. Open, Active and Idle are then inferred
	// from the connections' traffic, the limits are unknown, and every
	// figure about requests (counts, rates, latency, waits, errors) is
	// unknown, not zero. Wrap the client's transport with probe.Wrap to
	// see them.
	DialOnly bool `json:"dial_only,omitempty"`
	// DialOnlyConns counts the open connections whose requests are
	// invisible (see Conn.DialOnly).
	DialOnlyConns int `json:"dial_only_conns,omitempty"`
	// RequestsStarted counts, for a DialOnly host, the requests seen
	// starting through its transport's Proxy function, which a transport
	// cloned from http.DefaultTransport after probe/attach inherits:
	// HTTP/1.x requests, and the first of each HTTP/2 connection (later
	// HTTP/2 requests skip it). StartsPerSecond is their rate over the
	// rate window. Neither counts in Requests or RPS, which are requests
	// seen complete.
	RequestsStarted int64 `json:"requests_started,omitempty"`
	// StartsPerSecond is the rate of RequestsStarted over the rate
	// window.
	StartsPerSecond float64 `json:"starts_per_s,omitempty"`

	// Totals since the host was first seen.
	Requests int64 `json:"requests"`
	// Errors counts requests whose RoundTrip or body read failed.
	Errors int64 `json:"errors"`
	// NewConns counts requests that got a newly dialed connection.
	NewConns int64 `json:"new_conns"`
	// ReusedConns counts requests that got a connection from the pool.
	ReusedConns int64 `json:"reused_conns"`
	// ClosedConns counts connections of this host that have closed.
	ClosedConns int64 `json:"closed_conns"`
	// Status5xx counts responses with a 5xx status; they are not Errors.
	Status5xx int64 `json:"status_5xx"`

	// Rates over the last RateWindowSeconds (up to 10 s, less for a new
	// host, at least 1 s).
	RPS float64 `json:"rps"`
	// ErrorsPerSecond is the rate of Errors over the rate window.
	ErrorsPerSecond float64 `json:"errors_per_s"`
	// NewConnsPerSecond is the rate of NewConns over the rate window.
	NewConnsPerSecond float64 `json:"new_conns_per_s"`
	// ReusedFraction is reused ÷ (new + reused) connections handed to
	// requests over the rate window; 0 when no request got a connection.
	ReusedFraction float64 `json:"reused_fraction"`
	// RateWindowSeconds is the span the rates cover.
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
	MemBytes int64 `json:"mem_bytes"`
	// TLSMemBytes is the TLS part of MemBytes.
	TLSMemBytes int64 `json:"tls_mem_bytes"`
	// TLS handshakes of new connections since the host was first seen,
	// full or resumed, and their durations over the percentile window.
	TLSFullHandshakes int64 `json:"tls_full_handshakes"`
	// TLSResumedHandshakes counts the resumed ones.
	TLSResumedHandshakes int64 `json:"tls_resumed_handshakes"`
	// TLSHandshake is the distribution of handshake times.
	TLSHandshake Percentiles `json:"tls_handshake_ms"`

	// The transport's limits, effective values (0 means unlimited). Both
	// are 0 and LimitsKnown is false when the wrapped RoundTripper is not
	// an *http.Transport.
	MaxConnsPerHost int `json:"max_conns_per_host"`
	// MaxIdleConnsPerHost is Transport.MaxIdleConnsPerHost, effective
	// (2 when the transport leaves it zero).
	MaxIdleConnsPerHost int `json:"max_idle_conns_per_host"`
	// LimitsKnown reports whether the limits could be read.
	LimitsKnown bool `json:"limits_known"`

	// ErrorClasses counts errors by class: timeout, canceled, dns,
	// refused, reset, tls, other.
	ErrorClasses map[string]int64 `json:"error_classes,omitempty"`
	// Series is one point per second, oldest first, bounded.
	Series []Point `json:"series,omitempty"`
}

// Origin names the host as a URL's origin, the way httptop shows it:
// scheme://host, with the scheme's default port left out, or host:port
// alone when the scheme is unknown (a host known only from the address its
// connections were dialed to).
func (h *Host) Origin() string { return Origin(h.Scheme, h.Host) }

// Origin is Host.Origin for a scheme and a host:port.
func Origin(scheme, host string) string {
	switch scheme {
	case "":
		return host
	case "http":
		host = strings.TrimSuffix(host, ":80")
	case "https":
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host
}

// Percentiles summarises a distribution of durations in milliseconds.
// Quantiles come from a histogram with 8 exponential buckets per power of
// two (bounds 2^(1/8) apart, as in a Prometheus native histogram of schema
// 3), so each is within about 4.6% of the true value; Max is exact.
type Percentiles struct {
	// Count is how many durations the window holds.
	Count int64 `json:"n"`
	// P50 is the median.
	P50 float64 `json:"p50"`
	// P95 is the 95th percentile.
	P95 float64 `json:"p95"`
	// P99 is the 99th percentile.
	P99 float64 `json:"p99"`
	// Max is the largest duration, exact.
	Max float64 `json:"max"`
}

// Point is one second of one host's traffic.
type Point struct {
	// Time is the start of the second, in Unix seconds.
	Time int64 `json:"t"`
	// Requests counts requests completed in the second.
	Requests int64 `json:"requests"`
	// Errors counts requests that failed in the second.
	Errors int64 `json:"errors"`
	// NewConns counts requests that got a new connection.
	NewConns int64 `json:"new_conns"`
	// ReusedConns counts requests that got a pooled connection.
	ReusedConns int64 `json:"reused_conns"`
	// LatencyAvgMs is the mean latency of the requests that responded.
	LatencyAvgMs float64 `json:"latency_avg_ms"`
	// LatencyMaxMs is their largest latency.
	LatencyMaxMs float64 `json:"latency_max_ms"`
	// HoldAvgMs is the mean time the requests that responded in the
	// second held their connection: each one's latency minus its own
	// wait for a connection (W of Little's law).
	HoldAvgMs float64 `json:"hold_avg_ms"`
	// AvgWaiting is the mean number of requests waiting for a
	// connection over the second, from Little's law: the wait time
	// accrued by requests whose wait ended in the second ÷ 1 s.
	AvgWaiting float64 `json:"avg_waiting"`
	// AvgInFlight is the mean number of requests in flight over the
	// second, likewise from the latency of the requests that completed
	// in it.
	AvgInFlight float64 `json:"avg_in_flight"`
	// Started counts the untraced requests of a DialOnly host seen
	// starting in the second (see Host.RequestsStarted).
	Started int64 `json:"started,omitempty"`
}

// Conn is one connection of a client's pool.
type Conn struct {
	// ID identifies the connection within the program, for its life.
	ID uint64 `json:"id"`
	// Client is the name of the client the connection belongs to.
	Client string `json:"client"`
	// Host is the host:port of the host the connection serves.
	Host string `json:"host"`
	// Proto is "http/1.1" or "h2"; empty until the first response (and
	// for a DialOnly connection).
	Proto string `json:"proto"`
	// State is what the connection is doing now (see ConnState).
	State ConnState `json:"state"`
	// AgeSeconds is the time since the connection was established (to
	// its close, for a closed one).
	AgeSeconds float64 `json:"age_s"`
	// IdleSeconds is the time since the connection last finished a
	// request; 0 while active.
	IdleSeconds float64 `json:"idle_s"`
	// Requests counts the requests the connection has carried.
	Requests int64 `json:"requests"`
	// Streams is the number of HTTP/2 streams in use now (0 for
	// HTTP/1.x); MaxStreams the most seen at once.
	Streams int `json:"streams"`
	// MaxStreams is the most streams in use at once.
	MaxStreams int `json:"max_streams"`
	// BytesIn counts bytes read from the connection (TLS records
	// included); 0 for an inferred connection.
	BytesIn int64 `json:"bytes_in"`
	// BytesOut counts bytes written to it.
	BytesOut int64 `json:"bytes_out"`
	// DialMs is the DNS + TCP connect time; 0 when not dialed by a
	// tracked transport.
	DialMs float64 `json:"dial_ms"`
	// LocalAddr is the connection's local address.
	LocalAddr string `json:"local_addr,omitempty"`
	// RemoteAddr is the address it is connected to.
	RemoteAddr string `json:"remote_addr,omitempty"`
	// Inferred is true when the connection was not dialed through a
	// transport httptop instruments: it is known only from the requests
	// that used it, so its close time and byte counts are unknown.
	Inferred bool `json:"inferred,omitempty"`
	// DialOnly is true when the connection was dialed through an
	// instrumented transport's hook with no traced request behind it and
	// no traced request has used it since: its requests are invisible
	// (Requests is unknown, not 0) and its State is inferred from its
	// traffic (active while a request awaits its response or bytes came
	// in within the last 100 ms).
	DialOnly bool `json:"dial_only,omitempty"`
	// MemBytes is everything the connection holds: TLS state and buffers,
	// the transport's buffers and its goroutines' stacks.
	MemBytes int64 `json:"mem_bytes"`
	// MemEstimated is true when part of MemBytes comes from a model
	// rather than from reading the live buffers.
	MemEstimated bool `json:"mem_estimated,omitempty"`
	// TLS is the connection's TLS session, nil for plain connections and
	// before the first request.
	TLS *TLS `json:"tls,omitempty"`
}

// TLS is the TLS session of one connection.
type TLS struct {
	// Version is the TLS version, such as "TLS 1.3".
	Version string `json:"version"`
	// Cipher is the cipher suite's name.
	Cipher string `json:"cipher"`
	// ALPN is the protocol negotiated by ALPN ("h2", "http/1.1"), or
	// empty.
	ALPN string `json:"alpn"`
	// Resumed reports whether the session was resumed rather than
	// established by a full handshake.
	Resumed bool `json:"resumed"`
	// ServerName is the name sent in SNI.
	ServerName string `json:"server_name,omitempty"`
	// HandshakeMs is the time from the end of the TCP connect to the
	// connection being ready for its first request.
	HandshakeMs float64 `json:"handshake_ms"`
	// PeerCerts is the length of the server's certificate chain.
	PeerCerts int `json:"peer_certs"`
	// PeerCertBytes is the chain's size in DER bytes.
	PeerCertBytes int `json:"peer_cert_bytes"`
	// LeafNotAfter is when the leaf certificate expires.
	LeafNotAfter time.Time `json:"leaf_not_after,omitzero"`
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

	// Diagnoses of the whole process, which the agent adds (with Client
	// and Host empty; see Diagnosis.Process).

	// KindCPUSaturated: the process uses (nearly) all the CPU it may,
	// and requests queue (for a connection, or for a thread): beyond
	// Process.CeilingRPS more connections cannot help.
	KindCPUSaturated DiagnosisKind = "cpu_saturated"
	// KindSchedulerLatency: runnable goroutines wait long for a thread
	// (/sched/latencies:seconds p99), which every latency httptop
	// measures includes.
	KindSchedulerLatency DiagnosisKind = "scheduler_latency"
	// KindGCPressure: the garbage collector takes a large share of the
	// process's CPU (/cpu/classes/gc/total:cpu-seconds).
	KindGCPressure DiagnosisKind = "gc_pressure"
)

// Diagnosis is a problem httptop recognised in one client's traffic to one
// host, or in the whole process (Client and Host empty), with the numbers
// that triggered it and what to change.
type Diagnosis struct {
	// Kind names the problem.
	Kind DiagnosisKind `json:"kind"`
	// Client is the client whose traffic shows it; empty for a diagnosis
	// of the whole process.
	Client string `json:"client"`
	// Host is the host:port it concerns; empty for a diagnosis of the
	// whole process.
	Host string `json:"host"`
	// Severity ranks it.
	Severity Severity `json:"severity"`
	// Summary says what is wrong, with the figures that show it.
	Summary string `json:"summary"`
	// Advice says what to change: which http.Transport field, to which
	// value, or which code.
	Advice string `json:"advice"`
	// Evidence holds the figures behind the diagnosis, by name (for
	// example "conn_wait_p95_ms").
	Evidence map[string]float64 `json:"evidence"`
	// Sites are the places in the program's code the diagnosis points at
	// (for body_leak: where the leaked requests were issued).
	Sites []Site `json:"sites,omitempty"`
}

// Process reports whether the diagnosis is of the whole process rather
// than of one client's host.
func (d *Diagnosis) Process() bool { return d.Client == "" && d.Host == "" }

// Site is a place in the program's source code and how many times a
// diagnosis saw it.
type Site struct {
	// Function is the function's full name.
	Function string `json:"function"`
	// File is the source file's path.
	File string `json:"file"`
	// Line is the line in File.
	Line int `json:"line"`
	// Count is how many times the diagnosis saw the site.
	Count int `json:"count"`
}

// String formats a site as file:line (function).
func (s Site) String() string {
	return s.File + ":" + strconv.Itoa(s.Line) + " (" + s.Function + ")"
}
