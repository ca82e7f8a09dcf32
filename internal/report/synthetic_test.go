package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// syntheticCapture builds a capture of the given number of hosts over n
// snapshots a second apart, with load that swells and ebbs, for benchmarks
// and for looking at the charts. Host i has a pool limit of 4, 8, 12 or 16
// (every fifth host none), a server time of 20 to 80 ms, and workers in a
// closed loop whose number follows a sine wave with noise; the pool, the
// queue and the latency follow from those as in an M/M/N-ish closed loop.
// Each snapshot carries 60 s of series per host, as poolstats reports.
func syntheticCapture(hosts, n int) *capture.Capture {
	rng := rand.New(rand.NewPCG(1, 2))
	c := capture.NewCapture(t0)
	c.RequestedSeconds, c.IntervalSeconds = float64(n-1), 1
	type hostState struct {
		name            string
		limit           int
		service         float64 // ms
		base, amp       float64 // workers
		period, newFrac float64
		requests, news  int64
		series          []snapshot.Point
	}
	hs := make([]*hostState, hosts)
	for i := range hs {
		limit := 4 * (1 + i%4)
		if i%5 == 4 {
			limit = 0
		}
		h := &hostState{
			name:    fmt.Sprintf("svc-%02d.internal:443", i),
			limit:   limit,
			service: 20 + 10*float64(i%7),
			base:    float64(2 + 3*(i%4)),
			amp:     float64(3 + i%5),
			period:  float64(60 + 30*(i%4)),
			newFrac: 0.02,
		}
		if i%3 == 0 {
			h.newFrac = 0.2
		}
		hs[i] = h
	}
	var connID uint64
	for k := range n {
		now := t0.Add(time.Duration(k) * time.Second)
		s := snapshot.Snapshot{Version: snapshot.Version, Time: now, PID: 4242, Program: "synthetic"}
		for i, h := range hs {
			workers := math.Max(1, h.base+h.amp*math.Sin(2*math.Pi*float64(k)/h.period)+rng.NormFloat64()*0.7)
			busy := workers
			if h.limit > 0 {
				busy = math.Min(workers, float64(h.limit))
			}
			svc := h.service * (1 + 0.1*rng.NormFloat64())
			lambda := busy / svc * 1000
			latency := workers / lambda * 1000
			wait := max(latency-svc, 0) // noise can put svc above latency
			waiting := workers - busy
			reqs := int64(math.Round(lambda))
			news := int64(math.Round(lambda * h.newFrac))
			h.requests += reqs
			h.news += news
			h.series = append(h.series, snapshot.Point{
				Time: now.Unix() - 1, Requests: reqs, NewConns: news, ReusedConns: reqs - news,
				LatencyAvgMs: latency, LatencyMaxMs: latency * 2, AvgWaiting: waiting, AvgInFlight: workers,
			})
			if len(h.series) > 60 {
				h.series = h.series[1:]
			}
			open := int(math.Ceil(busy))
			host := snapshot.Host{
				Client: "default", Scheme: "https", Host: h.name,
				Open: open, Active: int(math.Round(busy)), Idle: open - int(math.Round(busy)),
				Waiting: int(math.Round(waiting)), InFlight: int(math.Round(workers)),
				Requests: h.requests, NewConns: h.news, ReusedConns: h.requests - h.news, ClosedConns: h.news,
				RPS: lambda, NewConnsPerSecond: lambda * h.newFrac, RateWindowSeconds: 10,
				Latency: snapshot.Percentiles{Count: reqs * 10, P50: latency * 0.9, P95: latency * (1.3 + 0.1*rng.Float64()),
					P99: latency * (1.6 + 0.2*rng.Float64()), Max: latency * 2.5},
				ConnWait:      snapshot.Percentiles{Count: reqs * 10, P50: wait * 0.8, P95: wait * 1.4, P99: wait * 1.8, Max: wait * 2.5},
				Dial:          snapshot.Percentiles{Count: 10, P50: 2, P95: 4, P99: 6, Max: 8},
				WindowSeconds: 10, PeakInFlight: int(math.Ceil(workers + 1)), AvgWaiting: waiting,
				MaxConnsPerHost: h.limit, MaxIdleConnsPerHost: 2, LimitsKnown: true,
				Series: h.series,
			}
			s.Hosts = append(s.Hosts, host)
			for j := range open {
				s.Conns = append(s.Conns, snapshot.Conn{
					ID: uint64(i*1000 + j), Client: "default", Host: h.name, Proto: "http/1.1", State: "active",
					DialMs: 1 + float64(j)*0.3, TLS: &snapshot.TLS{Version: "TLS 1.3", HandshakeMs: 8 + float64(j)},
				})
			}
			if news > 0 && k%5 == 0 {
				connID++
				s.Conns = append(s.Conns, snapshot.Conn{
					ID: 1e6 + connID, Client: "default", Host: h.name, Proto: "http/1.1", State: "idle",
					DialMs: 3, TLS: &snapshot.TLS{Version: "TLS 1.3", HandshakeMs: 25},
				})
			}
			if h.limit > 0 && waiting >= 0.5 {
				s.Diagnoses = append(s.Diagnoses, snapshot.Diagnosis{
					Kind: snapshot.KindPoolSaturated, Client: "default", Host: h.name, Severity: snapshot.SeverityWarning,
					Summary:  fmt.Sprintf("%.0f requests wait for a connection on average: the pool is at its limit of %d", waiting, h.limit),
					Advice:   fmt.Sprintf("Raise Transport.MaxConnsPerHost from %d to at least %d.", h.limit, int(math.Ceil(workers+1))),
					Evidence: map[string]float64{"avg_waiting": math.Round(waiting*10) / 10, "max_conns_per_host": float64(h.limit)},
				})
			}
		}
		c.AddSnapshot(&s)
	}
	c.End = t0.Add(time.Duration(n-1) * time.Second)
	c.ProfileMode = capture.ModeAlternating
	c.Profiles = []capture.ProfileInfo{
		{Kind: snapshot.ProfileCPU, File: capture.CPUProfile, FlameGraph: capture.CPUFlame, Folded: capture.CPUFolded, Seconds: float64(n-1) / 2},
		{Kind: snapshot.ProfileWall, File: capture.WallProfile, FlameGraph: capture.WallFlame, Folded: capture.WallFolded, Seconds: float64(n-1) / 2},
		{Kind: snapshot.ProfileHeap, File: capture.HeapProfile},
	}
	return c
}
