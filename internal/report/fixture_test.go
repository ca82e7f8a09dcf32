package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/proftest"
	"github.com/httptop/httptop/snapshot"
)

// t0 is the start of the fixture capture, on a whole second.
var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// The fixture capture lasts 20 s with a snapshot every second (21
// snapshots, at 0 s to 20 s) and three hosts:
//
//   - backend: a pool of 4 (MaxConnsPerHost 4) shared by 32 workers in a
//     closed loop against a 50 ms server. Four connections serve
//     4 ÷ 50 ms = 80 req/s; each worker's turn comes every 32 ÷ 80 = 400 ms,
//     of which 350 ms is spent waiting for a connection, so 28 requests
//     wait on average and 32 are in flight. λ·W = 80 × 0.05 = 4 = N.
//   - partner: no pool limit, 20 req/s, 5 of them on new connections
//     costing 20 ms to dial and 40 ms of TLS handshake. Those 5 wait 60 ms,
//     so the mean connection wait is 5 × 60 ÷ 20 = 15 ms, on top of a 30 ms
//     server: mean latency 45 ms, W = 30 ms, λ·W = 0.6.
//   - search: an unknown pool (not an *http.Transport) first seen 10 s in,
//     5 req/s at 8 ms; its series lack the holding time (an older
//     capture), so W comes from the means.
const (
	fixSnapshots = 21

	backendHost = "backend.internal:443"
	partnerHost = "api.partner.example:443"
	searchHost  = "10.0.0.7:9200"
)

// fixtureCapture builds the fixture capture through AddSnapshot, as the
// capture package does.
func fixtureCapture() *capture.Capture {
	c := capture.NewCapture(t0)
	c.Target = "pid 4242"
	c.RequestedSeconds, c.IntervalSeconds = 20, 1
	for k := range fixSnapshots {
		s := fixtureSnapshot(k)
		c.AddSnapshot(&s)
	}
	c.End = t0.Add(20 * time.Second)
	c.ProfileMode = capture.ModeConcurrent
	c.Profiles = []capture.ProfileInfo{
		{Kind: snapshot.ProfileCPU, File: capture.CPUProfile, FlameGraph: capture.CPUFlame, Folded: capture.CPUFolded, Seconds: 20,
			Segments: []capture.Segment{{Offset: 0, Requested: 20, Seconds: 20.01, OK: true}}},
		{Kind: snapshot.ProfileWall, File: capture.WallProfile, FlameGraph: capture.WallFlame, Folded: capture.WallFolded, Seconds: 20,
			Segments: []capture.Segment{{Offset: 0, Requested: 20, Seconds: 20.02, OK: true}}},
		{Kind: snapshot.ProfileHeap, File: capture.HeapProfile},
		{Kind: snapshot.ProfileMutex, File: capture.MutexProfile, Seconds: 20,
			Segments: []capture.Segment{{Offset: 0, Requested: 20, Seconds: 20.01, OK: true}}},
		{Kind: snapshot.ProfileBlock, File: capture.BlockProfile, Seconds: 20,
			Segments: []capture.Segment{{Offset: 0, Requested: 20, Seconds: 20.01, OK: true}}},
	}
	c.Modules = flame.Modules{Main: "example.com/orders", Deps: []string{"github.com/aws/aws-sdk-go-v2"}}
	c.AddError("snapshot", fmt.Errorf("agent: read snapshot: unexpected EOF"))
	return c
}

// fixtureSnapshot is snapshot k of the fixture, taken at t0 + k s.
func fixtureSnapshot(k int) snapshot.Snapshot {
	now := t0.Add(time.Duration(k) * time.Second)
	s := snapshot.Snapshot{
		Version: snapshot.Version, Time: now, PID: 4242, Program: "orders-api",
		Process: &snapshot.Process{CPUPercent: 35, RSSBytes: 64 << 20, Goroutines: 70, Threads: 12, FDs: 30,
			GCCPUPercent: 12 + float64(k%3), SchedLatencyP99Ms: 0.5 + 0.25*float64(k%5), MutexWaitPerSecond: 0.25, RunnableGoroutines: k % 4,
			// 0.35 of 2 cores for the hosts' 100 req/s: 3.5 ms of CPU
			// per request, a ceiling of 571 req/s.
			GOMAXPROCS: 2, Cores: 2, CPUWindowSeconds: min(float64(k), 10), WindowCPUPercent: 35 + float64(k%3),
			WindowGCCPUPercent: 12, WindowSchedLatencyP99Ms: 0.75, RequestsPerSecond: 100, CPUPerRequestMs: 3.5, CeilingRPS: 571.43},
	}

	// backend: saturated pool of 4.
	backend := snapshot.Host{
		Client: "default", Scheme: "https", Host: backendHost,
		Open: 4, Active: 4, Idle: 0, Waiting: 28, InFlight: 32,
		Requests: 10000 + 80*int64(k), NewConns: 4, ReusedConns: 10000 + 80*int64(k) - 4,
		RPS: 80, ReusedFraction: 1, RateWindowSeconds: 10,
		Latency:       snapshot.Percentiles{Count: 800, P50: 400, P95: 415 + 5*float64(k%3), P99: 430 + 5*float64(k%3), Max: 470 + float64(k)},
		ConnWait:      snapshot.Percentiles{Count: 800, P50: 350, P95: 370, P99: 380, Max: 400},
		WindowSeconds: 10, PeakInFlight: 32, AvgWaiting: 28,
		MemBytes: 4 * 60 << 10, TLSMemBytes: 4 * 40 << 10,
		MaxConnsPerHost: 4, MaxIdleConnsPerHost: 2, LimitsKnown: true,
		Series: fixtureSeries(now, t0.Add(-time.Hour), snapshot.Point{
			Requests: 80, ReusedConns: 80, LatencyAvgMs: 400, LatencyMaxMs: 470, HoldAvgMs: 50, AvgWaiting: 28, AvgInFlight: 32,
		}),
	}
	// partner: unlimited pool with churn.
	partner := snapshot.Host{
		Client: "default", Scheme: "https", Host: partnerHost,
		Open: 2, Active: 1, Idle: 1, InFlight: 1,
		Requests: 5000 + 20*int64(k), NewConns: 1000 + 5*int64(k), ReusedConns: 4000 + 15*int64(k), ClosedConns: 990 + 5*int64(k),
		RPS: 20, NewConnsPerSecond: 5, ReusedFraction: 0.75, RateWindowSeconds: 10,
		Latency:       snapshot.Percentiles{Count: 200, P50: 32, P95: 95, P99: 110, Max: 120},
		ConnWait:      snapshot.Percentiles{Count: 200, P50: 0.05, P95: 62, P99: 70, Max: 75},
		Dial:          snapshot.Percentiles{Count: 50, P50: 20, P95: 21, P99: 22, Max: 22},
		WindowSeconds: 10, PeakInFlight: 3, AvgWaiting: 0.3,
		MaxConnsPerHost: 0, MaxIdleConnsPerHost: 2, LimitsKnown: true,
		Series: fixtureSeries(now, t0.Add(-time.Hour), snapshot.Point{
			Requests: 20, NewConns: 5, ReusedConns: 15, LatencyAvgMs: 45, LatencyMaxMs: 120, HoldAvgMs: 30, AvgWaiting: 0.3, AvgInFlight: 0.9,
		}),
	}
	s.Hosts = []snapshot.Host{backend, partner}

	// search: appears 10 s in, limits unknown.
	if k >= 10 {
		s.Hosts = append(s.Hosts, snapshot.Host{
			Client: "search", Scheme: "http", Host: searchHost,
			Open: 1, Idle: 1,
			Requests: 5 * int64(k-9), NewConns: 1, ReusedConns: 5*int64(k-9) - 1,
			RPS: 5, ReusedFraction: 1, RateWindowSeconds: 1,
			Latency:       snapshot.Percentiles{Count: 5, P50: 8, P95: 9, P99: 9, Max: 9},
			ConnWait:      snapshot.Percentiles{Count: 5, P50: 0.01, P95: 0.02, P99: 0.02, Max: 0.02},
			WindowSeconds: 10, PeakInFlight: 1,
			Series: fixtureSeries(now, t0.Add(9*time.Second), snapshot.Point{
				Requests: 5, ReusedConns: 5, LatencyAvgMs: 8, LatencyMaxMs: 9, AvgInFlight: 0.04,
			}),
		})
	}

	// Connections: backend's four, open all along; one new partner
	// connection per snapshot.
	for id := uint64(1); id <= 4; id++ {
		s.Conns = append(s.Conns, snapshot.Conn{
			ID: id, Client: "default", Host: backendHost, Proto: "http/1.1", State: "active",
			AgeSeconds: 3600 + float64(k), Requests: 2500 + 20*int64(k), DialMs: 1 + 0.2*float64(id),
			TLS: &snapshot.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "http/1.1", HandshakeMs: 10 + 2*float64(id), MemBytes: 40 << 10},
		})
	}
	s.Conns = append(s.Conns, snapshot.Conn{
		ID: 100 + uint64(k), Client: "default", Host: partnerHost, Proto: "http/1.1", State: "idle",
		AgeSeconds: 0.2, Requests: 3, DialMs: 20,
		TLS: &snapshot.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "http/1.1", HandshakeMs: 40, MemBytes: 40 << 10},
	})

	s.Diagnoses = []snapshot.Diagnosis{{
		Kind: snapshot.KindPoolSaturated, Client: "default", Host: backendHost, Severity: snapshot.SeverityCritical,
		Summary: "28 requests wait for a connection on average (p50 350ms, p95 370ms): the pool is at its limit of 4",
		Advice:  "Raise Transport.MaxConnsPerHost from 4 to at least 32, the number of requests in flight at the peak; each request holds its connection 50.0ms on average, so 32 connections carry up to 640 req/s (4 carry 80). If the server cannot take more connections, limit concurrency before the client instead.",
		Evidence: map[string]float64{
			"avg_waiting": 28, "conn_wait_p50_ms": 350, "conn_wait_p95_ms": 370, "latency_p50_ms": 400,
			"mean_latency_ms": 400, "mean_conn_wait_ms": 350, "service_ms": 50, "open": 4, "max_conns_per_host": 4, "peak_in_flight": 32, "rps": 80, "waiting": 28,
		},
	}}
	if k >= 5 {
		sev := snapshot.SeverityWarning
		if k == 12 {
			sev = snapshot.SeverityCritical // worst severity wins
		}
		s.Diagnoses = append(s.Diagnoses, snapshot.Diagnosis{
			Kind: snapshot.KindIdleChurn, Client: "default", Host: partnerHost, Severity: sev,
			Summary: "25% of requests dial a new connection (5.0/s) and the pool closes them right after use: the idle pool keeps 2 of the 3 the bursts need",
			Advice:  "Raise Transport.MaxIdleConnsPerHost from 2 to at least 3, the peak concurrency to this host (batch size), and keep Transport.MaxIdleConns (all hosts together) at least as large.",
			Evidence: map[string]float64{
				"new_conn_fraction": 0.25, "new_conns_per_s": 5, "churned_per_s": 5, "peak_in_flight": 3,
				"max_idle_conns_per_host": 2, "rps": 20,
			},
		})
	}
	return s
}

// fixtureSeries returns the complete seconds before now, at most 60 and
// none before created, each a copy of p with its time set, as poolstats
// reports them.
func fixtureSeries(now, created time.Time, p snapshot.Point) []snapshot.Point {
	cur := now.Unix()
	first := max(cur-60, created.Unix())
	var out []snapshot.Point
	for e := first; e < cur; e++ {
		q := p
		q.Time = e
		out = append(out, q)
	}
	return out
}

// Profile fixtures: a CPU profile in which JSON encoding dominates and a
// wall-clock profile in which waiting for the network does.

// stack is one sample: function names from the root to the leaf, and its
// count (each sample is worth 10 ms).
type stack struct {
	frames []string
	count  int64
}

// buildProfile builds a valid profile of the fixture's 20 s from stacks.
func buildProfile(types []*profile.ValueType, seconds float64, stacks []stack) *profile.Profile {
	ss := make([]proftest.Stack, len(stacks))
	for i, st := range stacks {
		ss[i] = proftest.Stack{Frames: st.frames, Count: st.count}
	}
	return proftest.Build(types, t0, seconds, ss)
}

func fixtureCPU() *profile.Profile {
	return buildProfile(proftest.CPUTypes, 20, []stack{
		{[]string{"main.main", "main.worker", "main.encodeOrder", "encoding/json.Marshal", "encoding/json.(*encodeState).marshal"}, 420},
		{[]string{"main.main", "main.worker", "main.encodeOrder", "encoding/json.Marshal", "runtime.mallocgc"}, 160},
		{[]string{"main.main", "main.worker", "net/http.(*Client).Do", "crypto/tls.(*Conn).Write", "crypto/aes.gcmAesEnc"}, 90},
		{[]string{"main.main", "main.worker", "net/http.(*Client).Do", "net/http.(*persistConn).roundTrip", "runtime.selectgo"}, 40},
		{[]string{"runtime.gcBgMarkWorker", "runtime.gcDrain", "runtime.scanobject"}, 75},
		{[]string{"net/http.(*persistConn).readLoop", "bufio.(*Reader).Peek", "syscall.Syscall"}, 30},
		{[]string{"runtime.mcall", "runtime.schedule", "runtime.findRunnable"}, 15},
		{[]string{"main.main", "main.worker", "main.decodeReply", "encoding/json.Unmarshal", "encoding/json.(*decodeState).object"}, 55},
		{[]string{"main.main", "main.worker", "main.decodeReply", "encoding/json.Unmarshal", "runtime.mallocgc"}, 25},
		{[]string{"runtime.bgsweep", "runtime.sweepone"}, 8},
		{[]string{"main.main", "main.worker", "main.logLine", "log.(*Logger).output", "syscall.Syscall"}, 12},
		{[]string{"main.main", "main.worker", "strconv.AppendInt"}, 4},
	})
}

func fixtureWall() *profile.Profile {
	return buildProfile(proftest.WallTypes, 20, []stack{
		{[]string{"runtime.goexit", "main.worker", "net/http.(*Client).Do", "net/http.(*Transport).roundTrip", "net/http.(*Transport).getConn", "runtime.selectgo", "runtime.gopark"}, 22400},
		{[]string{"runtime.goexit", "main.worker", "net/http.(*Client).Do", "net/http.(*persistConn).roundTrip", "runtime.selectgo", "runtime.gopark"}, 3200},
		{[]string{"net/http.(*persistConn).readLoop", "bufio.(*Reader).Peek", "internal/poll.(*FD).Read", "runtime.gopark"}, 7800},
		{[]string{"net/http.(*persistConn).writeLoop", "runtime.selectgo", "runtime.gopark"}, 7800},
		{[]string{"runtime.goexit", "main.worker", "main.encodeOrder", "encoding/json.Marshal"}, 580},
		{[]string{"runtime.goexit", "main.worker", "main.decodeReply", "encoding/json.Unmarshal"}, 80},
		{[]string{"main.main", "sync.(*WaitGroup).Wait", "runtime.gopark"}, 2000},
	})
}

var contentionTypes = []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}}

// fixtureBlock: workers wait on the cache's lock and a rate limiter, and
// a connection's read loop waits in select (no frame of the program).
func fixtureBlock() *profile.Profile {
	return buildProfile(contentionTypes, 20, []stack{
		{[]string{"main.worker", "main.(*cache).get", "sync.(*Mutex).Lock"}, 80},
		{[]string{"main.worker", "main.(*limiter).Wait", "runtime.chanrecv1"}, 30},
		{[]string{"net/http.(*persistConn).readLoop", "runtime.selectgo"}, 50},
		{[]string{"github.com/httptop/httptop/probe/agent.(*handler).serveStream", "runtime.selectgo"}, 40},
	})
}

// fixtureMutex: the cache's lock, released in get.
func fixtureMutex() *profile.Profile {
	return buildProfile(contentionTypes, 20, []stack{
		{[]string{"main.worker", "main.(*cache).get", "sync.(*Mutex).Unlock"}, 60},
	})
}

// writeFixtureDir writes the fixture capture and its profiles to a new
// directory, as httptop capture would, and returns it.
func writeFixtureDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := capture.Write(dir, fixtureCapture()); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]*profile.Profile{
		capture.CPUProfile: fixtureCPU(), capture.WallProfile: fixtureWall(), capture.HeapProfile: fixtureCPU(),
		capture.MutexProfile: fixtureMutex(), capture.BlockProfile: fixtureBlock(),
	} {
		if err := flame.WriteFile(dir+"/"+name, p); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
