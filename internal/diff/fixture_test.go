package diff

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/proftest"
	"github.com/httptop/httptop/snapshot"
)

// t0 is the start of the fixture captures, on a whole second.
var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

const (
	fixSeconds = 20
	backend    = "backend.internal:443"
)

// scenario is a synthetic capture of one client's traffic to one host
// in a closed loop of 32 workers against a 50 ms server, with per-second
// noise drawn from seed.
type scenario struct {
	seed    uint64
	host    string
	limit   int     // MaxConnsPerHost
	rps     float64 // requests per second
	latency float64 // mean latency, ms
	waiting float64 // requests waiting on average
	// jsonSamples is the CPU samples of JSON decoding per 1000 requests.
	jsonSamples int64
	// tail multiplies the tail (each second's maximum latency, the
	// snapshots' p95 and p99); 0 means 1.
	tail float64
}

// Two scenarios of the pool-size proof: a pool of 4 serves 4 ÷ 50 ms = 80
// req/s and each request waits 350 ms, 28 of the 32 workers waiting; a
// pool of 32 serves 640 req/s without waiting.
var (
	pool4  = scenario{seed: 1, host: backend, limit: 4, rps: 80, latency: 400, waiting: 28, jsonSamples: 200}
	pool32 = scenario{seed: 2, host: backend, limit: 32, rps: 640, latency: 50.5, waiting: 0.02, jsonSamples: 100}
)

// noisy returns v with relative noise of about rel (one standard
// deviation), never negative.
func noisy(rng *rand.Rand, v, rel float64) float64 {
	return math.Max(0, v*(1+rel*rng.NormFloat64()))
}

// fixtureCapture builds the capture of a scenario through AddSnapshot,
// as package capture does: 21 snapshots a second apart, each with the
// per-second series so far and the rolling-window percentiles.
func fixtureCapture(sc scenario) *capture.Capture {
	rng := rand.New(rand.NewPCG(sc.seed, 7))
	tail := sc.tail
	if tail == 0 {
		tail = 1
	}
	c := capture.NewCapture(t0)
	c.Target = "pid 4242"
	c.RequestedSeconds, c.IntervalSeconds = fixSeconds, 1
	open := min(sc.limit, 32)
	var series []snapshot.Point
	var requests int64
	for k := 0; k <= fixSeconds; k++ {
		now := t0.Add(time.Duration(k) * time.Second)
		if k > 0 {
			n := int64(math.Round(noisy(rng, sc.rps, 0.02)))
			lat := noisy(rng, sc.latency, 0.01)
			series = append(series, snapshot.Point{
				Time: now.Unix() - 1, Requests: n, ReusedConns: n,
				LatencyAvgMs: lat, LatencyMaxMs: lat * 1.15 * tail,
				AvgWaiting: noisy(rng, sc.waiting, 0.02), AvgInFlight: 32,
			})
			requests += n
		}
		wait := sc.latency - 50
		h := snapshot.Host{
			Client: "default", Scheme: "https", Host: sc.host,
			Open: open, Active: open, Waiting: int(math.Round(sc.waiting)), InFlight: 32,
			Requests: requests, NewConns: int64(open), ReusedConns: requests - int64(open),
			RPS: sc.rps, ReusedFraction: 1, RateWindowSeconds: 10,
			Latency:       snapshot.Percentiles{Count: 800, P50: sc.latency, P95: (sc.latency*1.05 + float64(k%3)) * tail, P99: sc.latency * 1.1 * tail, Max: sc.latency * 1.2 * tail},
			ConnWait:      snapshot.Percentiles{Count: 800, P50: wait, P95: max(wait*1.06, 0.05), P99: max(wait*1.09, 0.06), Max: wait * 1.15},
			WindowSeconds: 10, PeakInFlight: 32, AvgWaiting: sc.waiting,
			MemBytes: int64(open) * 60 << 10, TLSMemBytes: int64(open) * 40 << 10,
			MaxConnsPerHost: sc.limit, MaxIdleConnsPerHost: sc.limit, LimitsKnown: true,
			Series: append([]snapshot.Point(nil), series...),
		}
		s := snapshot.Snapshot{Version: snapshot.Version, Time: now, PID: 4242, Program: "orders-api", Hosts: []snapshot.Host{h}}
		if sc.waiting >= 1 {
			s.Diagnoses = []snapshot.Diagnosis{{
				Kind: snapshot.KindPoolSaturated, Client: "default", Host: sc.host, Severity: snapshot.SeverityCritical,
				Summary: "28 requests wait for a connection on average: the pool is at its limit of 4",
				Advice:  "Raise Transport.MaxConnsPerHost from 4 to at least 32.",
				Evidence: map[string]float64{
					"avg_waiting": sc.waiting, "conn_wait_p95_ms": wait * 1.06, "max_conns_per_host": float64(sc.limit), "peak_in_flight": 32,
				},
			}}
		}
		c.AddSnapshot(&s)
	}
	c.End = t0.Add(fixSeconds * time.Second)
	c.ProfileMode = capture.ModeConcurrent
	seg := []capture.Segment{{Offset: 0, Requested: fixSeconds, Seconds: fixSeconds + 0.01, OK: true}}
	c.Profiles = []capture.ProfileInfo{
		{Kind: snapshot.ProfileCPU, File: capture.CPUProfile, Seconds: fixSeconds, Segments: seg},
		{Kind: snapshot.ProfileWall, File: capture.WallProfile, Seconds: fixSeconds, Segments: seg},
	}
	return c
}

// fixtureProfiles returns a scenario's CPU and wall-clock profiles, whose
// costs per request are fixed: 2 ms of net/http and jsonSamples per 1000
// requests of JSON decoding on CPU.
func fixtureProfiles(sc scenario, requests int64) capture.Profiles {
	per := func(samplesPer1000 int64) int64 { return samplesPer1000 * requests / 1000 }
	cpu := proftest.Build(proftest.CPUTypes, t0, fixSeconds, []proftest.Stack{
		{Frames: []string{"main.main", "main.worker", "main.decodeReply", "encoding/json.(*Decoder).Decode", "encoding/json.(*decodeState).object"}, Count: per(sc.jsonSamples) * 3 / 4},
		{Frames: []string{"main.main", "main.worker", "main.decodeReply", "encoding/json.(*Decoder).Decode", "runtime.mallocgc"}, Count: per(sc.jsonSamples) / 4},
		{Frames: []string{"main.main", "main.worker", "net/http.(*Client).Do", "net/http.(*persistConn).roundTrip", "runtime.selectgo"}, Count: per(200)},
	})
	wall := proftest.Build(proftest.WallTypes, t0, fixSeconds, []proftest.Stack{
		{Frames: []string{"main.main", "main.worker", "net/http.(*Client).Do", "net/http.(*Transport).getConn", "runtime.gopark"}, Count: int64(sc.waiting * fixSeconds * 100)},
		{Frames: []string{"main.main", "main.worker", "net/http.(*Client).Do", "net/http.(*persistConn).roundTrip", "runtime.gopark"}, Count: 4 * fixSeconds * 100},
	})
	return capture.Profiles{CPU: cpu, Wall: wall}
}

// fixtureInput builds one side of a diff from a scenario.
func fixtureInput(sc scenario) Input {
	c := fixtureCapture(sc)
	var requests int64
	for _, s := range c.Snapshots {
		requests = s.Hosts[0].Requests
	}
	return Input{Capture: c, Profiles: fixtureProfiles(sc, requests)}
}

// flat sums the flat values of the functions of package pkg in p, as the
// rows of go tool pprof -top would add up.
func flat(p *profile.Profile, pkg string) int64 {
	var v int64
	for _, s := range p.Sample {
		if fn := s.Location[0].Line[0].Function.Name; PackageOf(fn) == pkg {
			v += s.Value[1]
		}
	}
	return v
}
