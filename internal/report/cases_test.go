package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// caseCapture is a capture of one host over 10 snapshots a second apart:
// host(k) is its row at snapshot k (its Series are filled in from point,
// one a second since the capture start), conns its connections.
func caseCapture(host func(k int) snapshot.Host, point snapshot.Point, conns []snapshot.Conn) *capture.Capture {
	c := capture.NewCapture(t0)
	c.RequestedSeconds, c.IntervalSeconds = 10, 1
	for k := range 11 {
		now := t0.Add(time.Duration(k) * time.Second)
		h := host(k)
		h.Series = fixtureSeries(now, t0.Add(-time.Minute), point)
		c.AddSnapshot(&snapshot.Snapshot{Version: snapshot.Version, Time: now, PID: 7, Program: "case",
			Hosts: []snapshot.Host{h}, Conns: conns})
	}
	c.End = t0.Add(10 * time.Second)
	return c
}

// A client on a transport cloned from the instrumented default transport
// (MaxConnsPerHost 2, 10 workers, a 200 ms server): its two connections
// and its requests starting (10 a second) are seen, nothing else. The
// report must say so, not "No requests completed", and size nothing.
func TestReportDialOnly(t *testing.T) {
	c := caseCapture(func(k int) snapshot.Host {
		return snapshot.Host{Client: "(unwrapped)", Scheme: "http", Host: "127.0.0.1:8080",
			Open: 2, Active: 2, DialOnly: true, DialOnlyConns: 2, RequestsStarted: 100 + 10*int64(k), StartsPerSecond: 10}
	}, snapshot.Point{Started: 10}, []snapshot.Conn{
		{ID: 1, Client: "(unwrapped)", Host: "127.0.0.1:8080", State: "active", DialOnly: true},
		{ID: 2, Client: "(unwrapped)", Host: "127.0.0.1:8080", State: "active", DialOnly: true},
	})
	r := Build(c, capture.Profiles{})
	h := r.Hosts[0]
	lt := h.Little
	if !h.DialOnly || h.RequestsStarted != 100 || h.StartsPerSecond != 10 || h.Requests != 0 {
		t.Errorf("dial only %v, started %d (%.1f/s), requests %d; want true, 100 (10/s), 0", h.DialOnly, h.RequestsStarted, h.StartsPerSecond, h.Requests)
	}
	if lt.NotApplicable != NotApplicableDialOnly || lt.Recommended != 0 || lt.Load != 0 || len(lt.Table) != 0 {
		t.Errorf("little = %+v, want no sizing", lt)
	}
	for _, want := range []string{"not its requests", "about 10.0 requests started per second, over at most 2 connections", "wrap the transport with probe.Wrap"} {
		if !strings.Contains(lt.Verdict, want) {
			t.Errorf("verdict %q lacks %q", lt.Verdict, want)
		}
	}
	if strings.Contains(lt.Verdict, "No requests completed") {
		t.Errorf("verdict %q: the requests were not seen, not absent", lt.Verdict)
	}
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	hosts := mdTable(t, md.String(), "## Hosts")
	if got := strings.Join(hosts[1][1:], " "); got != "~10.0 started ? ? ? ? 2/? ? ?" {
		t.Errorf("hosts row = %q, want unknowns, not zeros", got)
	}
	if sizing := mdTable(t, md.String(), "## Pool sizing"); sizing[1][5] != "not sized: dial only" {
		t.Errorf("pool sizing row = %q", sizing[1])
	}
}

// One HTTP/2 connection carrying 40 requests at once: no pool sizing.
func TestReportHTTP2NotSized(t *testing.T) {
	c := caseCapture(func(k int) snapshot.Host {
		return snapshot.Host{Client: "api", Scheme: "https", Host: "h2.example:443", Open: 1, Active: 1, InFlight: 40, PeakInFlight: 40,
			Requests: 4000 * int64(k), RPS: 400, LimitsKnown: true, MaxIdleConnsPerHost: 2,
			Latency: snapshot.Percentiles{Count: 4000, P50: 100}}
	}, snapshot.Point{Requests: 400, ReusedConns: 400, LatencyAvgMs: 100, HoldAvgMs: 100, AvgInFlight: 40},
		[]snapshot.Conn{{ID: 1, Client: "api", Host: "h2.example:443", Proto: "h2", State: "active", Streams: 40}})
	r := Build(c, capture.Profiles{})
	h := r.Hosts[0]
	if h.Proto != "h2" || h.Little.NotApplicable != NotApplicableHTTP2 || h.Little.Recommended != 0 || len(h.Little.Table) != 0 {
		t.Errorf("proto %q, little %+v: want HTTP/2 and no sizing", h.Proto, h.Little)
	}
	if v := h.Little.Verdict; !strings.Contains(v, "HTTP/2") || !strings.Contains(v, "40.0 requests in flight on average") ||
		strings.Contains(v, "MaxConnsPerHost") || strings.Contains(v, "MaxIdleConnsPerHost") {
		t.Errorf("verdict %q: want the HTTP/2 note and λ·W, and no pool advice", v)
	}
}

// One request at a time, 2 req/s at 1 ms, and bodies left unread: 132
// connections held open, in flight by the counters. The leak is the fix;
// the pool is sized from the requests awaiting their response (λ·W), and
// MaxIdleConnsPerHost is not raised to the number of leaked connections.
func TestReportLeakIsTheFix(t *testing.T) {
	c := caseCapture(func(k int) snapshot.Host {
		n := 112 + 2*k
		return snapshot.Host{Client: "leaky", Scheme: "http", Host: "127.0.0.1:9000", Open: n, Active: n, InFlight: n, PeakInFlight: n,
			LeakedBodies: n - 60, Requests: int64(n), RPS: 2, LimitsKnown: true, MaxIdleConnsPerHost: 2, NewConns: int64(n),
			Latency: snapshot.Percentiles{Count: 20, P50: 1}}
	}, snapshot.Point{Requests: 2, NewConns: 2, LatencyAvgMs: 1, HoldAvgMs: 1, AvgInFlight: 0.002}, nil)
	r := Build(c, capture.Profiles{})
	h := r.Hosts[0]
	lt := h.Little
	t.Logf("verdict: %s", lt.Verdict)
	if h.Pool.PeakLeaked != 72 || h.Pool.PeakInFlight != 132 {
		t.Errorf("peak leaked %d, peak in flight %d; want 72, 132", h.Pool.PeakLeaked, h.Pool.PeakInFlight)
	}
	if lt.Recommended != 1 || lt.Capped {
		t.Errorf("recommended N = %d (capped %v), want 1: λ·W = 0.002", lt.Recommended, lt.Capped)
	}
	if !strings.HasPrefix(lt.Verdict, "Up to 72 response bodies were left open and unread (see body_leak), each holding a connection no request needed: closing them is the fix") {
		t.Errorf("verdict %q: want the leak first, as the fix", lt.Verdict)
	}
	if strings.Contains(lt.Verdict, "MaxIdleConnsPerHost") || strings.Contains(lt.Verdict, "to 132") {
		t.Errorf("verdict %q: sizes the idle pool from leaked connections", lt.Verdict)
	}
}

// 32 workers in a closed loop against a pool of 32 at 50 ms: about 600
// req/s, λ·W ≈ 31 and never more than 32 in flight, so no request waits.
// The M/M/N model (open arrivals) would put P(wait) near 60% at that
// load: the verdict must not call the pool large enough "with P(wait) =
// 60%", and the mean in flight reading a little above the peak (the
// race detector's slowdown does that) must not ask for 34.
func TestReportClosedLoopPoolLargeEnough(t *testing.T) {
	c := caseCapture(func(k int) snapshot.Host {
		return snapshot.Host{Client: "api", Scheme: "http", Host: "127.0.0.1:9000", Open: 32, Active: 32, InFlight: 32, PeakInFlight: 32,
			Requests: 6000 * int64(k), RPS: 600, LimitsKnown: true, MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32,
			Latency: snapshot.Percentiles{Count: 6000, P50: 52}}
	}, snapshot.Point{Requests: 600, ReusedConns: 600, LatencyAvgMs: 56, HoldAvgMs: 52, AvgInFlight: 33.8}, nil)
	r := Build(c, capture.Profiles{})
	lt := r.Hosts[0].Little
	t.Logf("verdict: %s", lt.Verdict)
	if lt.Recommended != 32 {
		t.Errorf("recommended N = %d, want 32: never more than 32 requests were in flight", lt.Recommended)
	}
	if !strings.Contains(lt.Verdict, "The pool of 32 is large enough") || strings.Contains(lt.Verdict, "P(wait) =") {
		t.Errorf("verdict %q: want the pool called large enough from what was measured, not from the model's P(wait)", lt.Verdict)
	}
}
