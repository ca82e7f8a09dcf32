package report

import (
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// Version is the version of the report.json format (Report).
const Version = 1

// MaxHosts bounds the hosts a report details: past a hundred, a page of
// charts per host helps nobody, and a capture of thousands of hosts would
// make a report of hundreds of megabytes.
const MaxHosts = 100

// Report is the pool-vs-latency report of one capture, as report.json
// holds it; report.md and report.html show the same figures. Build computes
// it from a Capture and the capture's profiles.
//
// All durations are milliseconds unless a name says seconds (_s); rates are
// per second. Offsets (offset_s, t) are seconds from the capture's start.
type Report struct {
	Version int    `json:"version"`
	Program string `json:"program"`
	PID     int    `json:"pid"`
	Target  string `json:"target,omitempty"`
	// Start and End bound the capture; Seconds is End − Start.
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Seconds float64   `json:"seconds"`
	// RequestedSeconds is the window asked for, IntervalSeconds the time
	// between snapshots and Snapshots how many were taken.
	RequestedSeconds float64 `json:"requested_s"`
	IntervalSeconds  float64 `json:"interval_s"`
	Snapshots        int     `json:"snapshots"`
	// Canceled is true when the capture was ended early.
	Canceled bool `json:"canceled,omitempty"`
	// ProfileMode and Profiles say which profiles were taken and how
	// (copied from the capture).
	ProfileMode capture.ProfileMode   `json:"profile_mode"`
	Profiles    []capture.ProfileInfo `json:"profiles"`
	// TargetWaitProbability is the queueing target of the recommended pool
	// sizes (Little.Recommended).
	TargetWaitProbability float64 `json:"target_p_wait"`
	// Hosts are ordered by their most severe diagnosis, then by request
	// rate, then by name: at most MaxHosts of them, the first in that
	// order. HostsOmitted counts the others (capture.json holds them);
	// their diagnoses are left out too.
	Hosts        []HostReport `json:"hosts"`
	HostsOmitted int          `json:"hosts_omitted,omitempty"`
	// OtherDiagnoses are diagnoses of hosts that no snapshot listed.
	OtherDiagnoses []Finding `json:"other_diagnoses,omitempty"`
	// ProcessDiagnoses are the diagnoses of the whole process
	// (cpu_saturated, scheduler_latency, gc_pressure), most severe first.
	ProcessDiagnoses []Finding `json:"process_diagnoses,omitempty"`
	// TopCPU is the ten functions with the most flat time in the CPU
	// profile, and TopWall the ten with the most cumulative time in the
	// wall-clock profile (by flat time nearly all of it is
	// runtime.gopark); nil when the profile is missing.
	TopCPU  *TopTable `json:"top_cpu,omitempty"`
	TopWall *TopTable `json:"top_wall,omitempty"`
	// Hot is where the time goes in the program's terms: its CPU by
	// code, package and kind of work (httptop's own cost apart), where
	// its HTTP requests wait, and contended call sites; nil without
	// profiles.
	Hot *Hot `json:"hot,omitempty"`
	// Runtime summarises the Go runtime's figures over the snapshots
	// (GC CPU share, scheduler latency, mutex wait, runnable
	// goroutines); nil when the snapshots carry no process figures.
	Runtime *Runtime `json:"runtime,omitempty"`
	// CPU is what the requests cost of the process's CPU, and where the
	// CPU stops their throughput; nil when the snapshots carry no CPU
	// figures.
	CPU *CPU `json:"cpu,omitempty"`
	// Errors lists what went wrong capturing and reading the capture.
	Errors []capture.CaptureError `json:"errors,omitempty"`
	// Baseline names the capture this one was compared with and the
	// diff beside the report (httptop capture --baseline), when there is
	// one.
	Baseline *capture.Baseline `json:"baseline,omitempty"`
}

// HostReport is the report on one client's traffic to one host.
type HostReport struct {
	Client string `json:"client"`
	Scheme string `json:"scheme"`
	Host   string `json:"host"`
	// Snapshots is how many snapshots listed the host; FirstSeen and
	// LastSeen are the offsets of the first and the last.
	Snapshots int     `json:"snapshots"`
	FirstSeen float64 `json:"first_seen_s"`
	LastSeen  float64 `json:"last_seen_s"`
	// WindowSeconds is the rolling window the snapshots' percentiles cover
	// (Host.WindowSeconds of the last snapshot).
	WindowSeconds float64 `json:"window_s"`
	// Basis says where the rates and means come from: "per-second" (the
	// hosts' per-second series over the whole seconds of the capture,
	// exact) or "snapshots" (the snapshots' counters and rolling rates,
	// when no whole second of series was captured).
	Basis string `json:"basis"`
	// Seconds is how many seconds the rates and means cover: whole
	// seconds of per-second data, or the span of the snapshots
	// (truncated) on the snapshots basis.
	Seconds int `json:"seconds"`
	// Proto is "h2" when every connection of the host the snapshots
	// showed carried HTTP/2, "http/1.1" when every one carried HTTP/1.1,
	// "mixed", or "" when none was seen with a protocol.
	Proto string `json:"proto,omitempty"`
	// DialOnly is true when httptop saw the host's connections but not its
	// requests (snapshot.Host.DialOnly): request figures are unknown, not
	// zero. RequestsStarted and StartsPerSecond then count the requests
	// seen starting through the transport's Proxy function.
	DialOnly        bool    `json:"dial_only,omitempty"`
	RequestsStarted int64   `json:"requests_started,omitempty"`
	StartsPerSecond float64 `json:"starts_per_s,omitempty"`

	// Requests and Errors are counted over those seconds; RPS and
	// ErrorsPerSecond are their rates.
	Requests        int64   `json:"requests"`
	Errors          int64   `json:"errors"`
	RPS             float64 `json:"rps"`
	ErrorsPerSecond float64 `json:"errors_per_s"`

	// Latency and ConnWait are the median, over the snapshots whose window
	// held requests, of each snapshot's rolling-window percentiles; Max is
	// the largest maximum any snapshot saw and WorstP99 the largest p99.
	Latency  Quantiles `json:"latency_ms"`
	ConnWait Quantiles `json:"conn_wait_ms"`

	Pool       Pool       `json:"pool"`
	Little     Little     `json:"little"`
	Churn      Churn      `json:"churn"`
	Handshakes Handshakes `json:"handshakes"`
	Memory     Memory     `json:"memory"`
	// Diagnoses are the distinct diagnoses any snapshot made for the host,
	// most severe first.
	Diagnoses []Finding `json:"diagnoses"`

	// Samples holds one point per snapshot that listed the host.
	Samples Samples `json:"samples"`
	// PerSecond holds the host's per-second points over the capture.
	PerSecond Seconds `json:"per_second"`
}

// Quantiles summarises a latency distribution over a capture.
type Quantiles struct {
	P50      float64 `json:"p50"`
	P95      float64 `json:"p95"`
	P99      float64 `json:"p99"`
	WorstP99 float64 `json:"worst_p99"`
	Max      float64 `json:"max"`
}

// Pool is the connection pool's occupancy over a capture.
type Pool struct {
	// Limit is Transport.MaxConnsPerHost and MaxIdle
	// Transport.MaxIdleConnsPerHost, as last reported (0 means
	// unlimited); both are 0 and LimitsKnown false when the client's
	// RoundTripper is not an *http.Transport.
	Limit       int  `json:"max_conns_per_host"`
	MaxIdle     int  `json:"max_idle_conns_per_host"`
	LimitsKnown bool `json:"limits_known"`
	// PeakOpen is the most connections open in any snapshot; MeanOpen,
	// MeanActive and MeanIdle average the snapshots.
	PeakOpen   int     `json:"peak_open"`
	MeanOpen   float64 `json:"mean_open"`
	MeanActive float64 `json:"mean_active"`
	MeanIdle   float64 `json:"mean_idle"`
	// MeanWaiting is the time-averaged number of requests waiting for a
	// connection (from the per-second series: wait time accrued ÷ time);
	// PeakWaiting the most any snapshot saw waiting at once.
	MeanWaiting float64 `json:"mean_waiting"`
	PeakWaiting int     `json:"peak_waiting"`
	// MeanInFlight is the time-averaged number of requests in flight
	// (waiting or holding a connection); PeakInFlight the most at once
	// (Host.PeakInFlight, the largest any snapshot reported).
	MeanInFlight float64 `json:"mean_in_flight"`
	PeakInFlight int     `json:"peak_in_flight"`
	// MeanHandshaking averages the connections still in their TLS
	// handshake over the snapshots; they are neither active nor idle.
	MeanHandshaking float64 `json:"mean_handshaking"`
	// PeakLeaked is the most response bodies any snapshot saw left open
	// and unread past the leak threshold: each holds a connection that no
	// request needs, so in-flight figures overstate demand while it is
	// not 0.
	PeakLeaked int `json:"peak_leaked"`
}

// knownLimit is the pool's limit (MaxConnsPerHost) when it has one and
// it is known, else 0.
func (p Pool) knownLimit() int {
	if p.LimitsKnown && p.Limit > 0 {
		return p.Limit
	}
	return 0
}

// Little applies Little's law and an M/M/N queue (see ErlangC) to a
// host's pool.
type Little struct {
	// Lambda is the arrival rate λ (req/s).
	Lambda float64 `json:"lambda_rps"`
	// MeanLatency and MeanConnWait are the mean latency and connection
	// wait of a request; Service is W, the mean time a request holds a
	// connection: each request's latency minus its own wait, averaged
	// (MeanLatency − MeanConnWait for captures whose series lack it).
	MeanLatency  float64 `json:"mean_latency_ms"`
	MeanConnWait float64 `json:"mean_conn_wait_ms"`
	Service      float64 `json:"service_ms"`
	// Load is λ·W: the mean number of connections busy (Erlangs).
	Load float64 `json:"load"`
	// N is the pool size (MaxConnsPerHost), 0 when unlimited or unknown;
	// Utilisation is Load ÷ N (λ ÷ N × W), 0 when N is 0.
	N           int     `json:"n"`
	Utilisation float64 `json:"utilisation"`
	// Relation compares Load with N: "below", "at" (within 5%), "above",
	// or "unlimited" when N is 0.
	Relation string `json:"relation"`
	// Saturated is true when the pool is the bottleneck: at its limit and
	// either fully used (Load ≥ 95% of N) or with requests queueing (0.5
	// or more waiting on average). λ is then capped at N ÷ W and
	// understates demand.
	Saturated bool `json:"saturated"`
	// Demand is the offered load used for sizing: Load, or, when the pool
	// is saturated, the mean number of requests in flight (every request
	// waiting would hold a connection if one were free).
	Demand float64 `json:"demand"`
	// PWait and MeanWait are the M/M/N probability of waiting and mean
	// wait at the current N and Demand; Stable is false (and both are 1
	// and 0) when N ≤ Demand, where the queue only grows. All three are
	// zero when N is 0.
	PWait    float64 `json:"p_wait"`
	MeanWait float64 `json:"mean_wait_ms"`
	Stable   bool    `json:"stable"`
	// ErlangN is the smallest pool with PWait < TargetWaitProbability at
	// Demand. Recommended is ErlangN capped at the peak number of requests
	// in flight (never less than Demand): more connections than requests
	// in flight cannot help. Capped says whether the cap applied.
	ErlangN     int  `json:"erlang_n"`
	Recommended int  `json:"recommended_n"`
	Capped      bool `json:"capped"`
	// Table shows PWait and MeanWait at Demand for pool sizes around the
	// current and the recommended one.
	Table []ErlangRow `json:"table"`
	// CPUCeilingRPS is the most requests per second the host can reach
	// with the CPU the process may use, the rest of its traffic as during
	// the capture (bottleneck.HostCeiling); 0 when the snapshots carry no
	// CPU figures.
	CPUCeilingRPS float64 `json:"cpu_ceiling_rps,omitempty"`
	// Binds says which limit binds first with the recommended pool:
	// "pool" (what Recommended connections carry at W), "cpu" (the CPU
	// ceiling is lower), or "" when unknown.
	Binds string `json:"binds,omitempty"`
	// ExpectedRPS is what raising the pool to Recommended should bring
	// (bottleneck.PoolChange), when the verdict advises it, with the p95
	// latency once no request waits (ExpectedP95Ms) when the pool binds,
	// or the mean latency of the requests waiting for the CPU instead
	// (ExpectedMeanLatencyMs) when the CPU does; 0 otherwise.
	ExpectedRPS           float64 `json:"expected_rps,omitempty"`
	ExpectedP95Ms         float64 `json:"expected_p95_ms,omitempty"`
	ExpectedMeanLatencyMs float64 `json:"expected_mean_latency_ms,omitempty"`
	// NotApplicable says why the host gets no pool sizing, with the
	// sizing figures left zero: "dial_only" (its requests are not seen)
	// or "http2" (one connection carries many requests at once, so an
	// M/M/N queue of connections does not describe it); empty otherwise.
	NotApplicable string `json:"not_applicable,omitempty"`
	// Verdict says all of the above in a few sentences.
	Verdict string `json:"verdict"`
}

// Reasons of Little.NotApplicable.
const (
	NotApplicableDialOnly = "dial_only"
	NotApplicableHTTP2    = "http2"
)

// ErlangRow is the M/M/N queue at one pool size.
type ErlangRow struct {
	N        int     `json:"n"`
	PWait    float64 `json:"p_wait"`
	MeanWait float64 `json:"mean_wait_ms"`
}

// Churn is how often a host's requests got a new connection rather than a
// pooled one.
type Churn struct {
	NewConns        int64   `json:"new_conns"`
	ReusedConns     int64   `json:"reused_conns"`
	NewPerSecond    float64 `json:"new_per_s"`
	ReusedPerSecond float64 `json:"reused_per_s"`
	// NewFraction is new ÷ (new + reused).
	NewFraction float64 `json:"new_fraction"`
	// ClosedConns counts connections closed during the capture (from the
	// snapshots' counters).
	ClosedConns int64 `json:"closed_conns"`
}

// Handshakes is what setting up a host's connections costs.
type Handshakes struct {
	// Conns is how many of the host's connections the snapshots showed;
	// Opened how many of those were first seen after the capture's first
	// snapshot. Connections that opened and closed between two snapshots
	// are not among them (Churn counts them).
	Conns  int `json:"conns"`
	Opened int `json:"opened"`
	// Dial is the DNS + TCP connect time of those connections
	// (Conn.dial_ms) and TLS their TLS handshake time
	// (Conn.tls.handshake_ms); Resumed counts TLS sessions resumed.
	Dial    Dist `json:"dial_ms"`
	TLS     Dist `json:"tls_handshake_ms"`
	Resumed int  `json:"tls_resumed"`
	// SetupPerSecond is the connection set-up time spent per second:
	// new connections per second × (mean dial + mean TLS handshake).
	SetupPerSecond float64 `json:"setup_ms_per_s"`
}

// Memory is what a host's open connections hold, over the snapshots that
// showed any open: the memory the snapshots reported summed, divided by
// the connections open summed over the same snapshots.
type Memory struct {
	// PerConn is the memory per open connection (Host.MemBytes ÷ Open:
	// TLS, transport buffers, goroutine stacks) and TLSPerConn its TLS
	// part (Host.TLSMemBytes ÷ Open), in bytes.
	PerConn    float64 `json:"per_conn_bytes"`
	TLSPerConn float64 `json:"tls_per_conn_bytes"`
}

// Dist summarises a handful of durations.
type Dist struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Max  float64 `json:"max"`
}

// Finding is one diagnosis as a capture saw it: the latest occurrence's
// summary, advice and evidence, the worst severity any snapshot gave it,
// and when it was seen.
type Finding struct {
	snapshot.Diagnosis
	Snapshots int     `json:"snapshots"`
	FirstSeen float64 `json:"first_seen_s"`
	LastSeen  float64 `json:"last_seen_s"`
	// Allocations are, for gc_pressure, the program's functions that
	// allocated the most (the heap profile's alloc_space, since the
	// program started), when the capture has a heap profile.
	Allocations []flame.Entry `json:"allocations,omitempty"`
}

// Samples holds one point per snapshot that listed a host, as columns:
// element i of every slice belongs to the i-th such snapshot. Columns keep
// report.json small and feed charts directly.
type Samples struct {
	// T is the snapshot's offset from the capture start, in seconds.
	T []float64 `json:"t"`
	// Latency and connection-wait percentiles of the rolling window, and
	// the number of requests it held.
	LatencyN    []int64   `json:"latency_n"`
	LatencyP50  []float64 `json:"latency_p50"`
	LatencyP95  []float64 `json:"latency_p95"`
	LatencyP99  []float64 `json:"latency_p99"`
	ConnWaitP50 []float64 `json:"conn_wait_p50"`
	ConnWaitP95 []float64 `json:"conn_wait_p95"`
	// Pool occupancy at the instant of the snapshot.
	Open        []int `json:"open"`
	Active      []int `json:"active"`
	Idle        []int `json:"idle"`
	Handshaking []int `json:"handshaking"`
	Waiting     []int `json:"waiting"`
	InFlight    []int `json:"in_flight"`
	// RPS and AvgWaiting are the snapshot's rates over its rate window.
	RPS        []float64 `json:"rps"`
	AvgWaiting []float64 `json:"avg_waiting"`
	// TLSMem is the memory the host's open connections hold for TLS
	// (Host.TLSMemBytes).
	TLSMem []int64 `json:"tls_mem_bytes"`
}

// Len returns the number of samples.
func (s *Samples) Len() int { return len(s.T) }

// Seconds holds a host's per-second points over the capture, as columns
// (see Samples).
type Seconds struct {
	// T is the start of the second, as an offset from the capture start
	// (negative for the second in which the capture started).
	T           []float64 `json:"t"`
	Requests    []int64   `json:"requests"`
	Errors      []int64   `json:"errors"`
	NewConns    []int64   `json:"new_conns"`
	ReusedConns []int64   `json:"reused_conns"`
	// LatencyAvg and LatencyMax are the mean and the largest latency of
	// the requests that completed in the second; AvgWaiting and
	// AvgInFlight are time averages over it.
	LatencyAvg  []float64 `json:"latency_avg_ms"`
	LatencyMax  []float64 `json:"latency_max_ms"`
	AvgWaiting  []float64 `json:"avg_waiting"`
	AvgInFlight []float64 `json:"avg_in_flight"`
	// Utilisation is AvgInFlight ÷ MaxConnsPerHost, or AvgInFlight when
	// the pool has no known limit.
	Utilisation []float64 `json:"utilisation"`
}

// Len returns the number of seconds.
func (s *Seconds) Len() int { return len(s.T) }

// TopTable is the top functions of one profile.
type TopTable struct {
	// Kind is cpu or wall; Profile and FlameGraph name its files in the
	// capture directory.
	Kind       snapshot.ProfileKind `json:"kind"`
	Profile    string               `json:"profile"`
	FlameGraph string               `json:"flame_graph,omitempty"`
	// SampleType and Unit describe the values (cpu nanoseconds, time
	// nanoseconds); Total is the sum of all samples' values and Seconds
	// the time the profile covers.
	SampleType string  `json:"sample_type"`
	Unit       string  `json:"unit"`
	Total      int64   `json:"total"`
	Seconds    float64 `json:"seconds"`
	// Order is what Funcs are sorted by: "flat" or "cum" (largest
	// first).
	Order string    `json:"order"`
	Funcs []TopFunc `json:"funcs"`
}

// TopFunc is one function's share of a profile (see flame.Func).
type TopFunc struct {
	Name    string  `json:"name"`
	Flat    int64   `json:"flat"`
	FlatPct float64 `json:"flat_pct"`
	Cum     int64   `json:"cum"`
	CumPct  float64 `json:"cum_pct"`
}
