package poolstats

import (
	"fmt"
	"math"
	"testing"

	"github.com/httptop/httptop/snapshot"
)

// ReadMetrics reports the same gauges and counters as a snapshot taken at
// the same instant, and histograms that hold every recorded value since
// the start, with exact sums.
func TestReadMetrics(t *testing.T) {
	now := Now()
	s := populate(3, 6, now)
	h := s.Client("bench").Host("https", "host-1.example:443")
	h.Failed(now, ErrTimeout, Got{})
	conn := s.NewConn(h, DialTiming{Start: now - 3e6, End: now - 2e6}, nil, nil)
	conn.Close(now) // open 2 ms

	snap := fillAt(s, now)
	got := s.ReadMetrics(nil, now)
	if len(got) != len(snap.Hosts) {
		t.Fatalf("%d hosts read, snapshot has %d", len(got), len(snap.Hosts))
	}
	for i, m := range got {
		hs := snap.Hosts[i]
		if m.Client != hs.Client || m.Host != hs.Host || m.Scheme != hs.Scheme {
			t.Fatalf("host %d is %s/%s/%s, snapshot has %s/%s/%s", i, m.Client, m.Scheme, m.Host, hs.Client, hs.Scheme, hs.Host)
		}
		for _, f := range []struct {
			name      string
			got, want int64
		}{
			{"open", m.Open, int64(hs.Open)}, {"active", m.Active, int64(hs.Active)}, {"idle", m.Idle, int64(hs.Idle)},
			{"requests", m.Requests, hs.Requests}, {"errors", m.Errors, hs.Errors}, {"new", m.NewConns, hs.NewConns},
			{"reused", m.ReusedConns, hs.ReusedConns}, {"closed", m.ClosedConns, hs.ClosedConns},
			{"timeouts", m.ErrorClasses[ErrTimeout], hs.ErrorClasses["timeout"]},
		} {
			if f.got != f.want {
				t.Errorf("%s %s = %d, snapshot says %d", m.Host, f.name, f.got, f.want)
			}
		}
		// 200 waits of 0, 1, …, 199 µs and 200 latencies of 0, 50, …, 9950 µs.
		checkHist(t, m.Host+" wait", &m.ConnWait, 200, 19900e-6, func(k int) int64 { return int64(k) * 1000 })
		checkHist(t, m.Host+" latency", &m.Latency, 200, 995000e-6, func(k int) int64 { return int64(k) * 50_000 })
		if m.Host == "host-1.example:443" {
			if m.ConnDuration.Count != 1 || m.ConnDuration.Sum != 0.002 {
				t.Errorf("connection durations: %+v, want one of 2 ms", m.ConnDuration)
			}
		} else if m.ConnDuration.Count != 0 {
			t.Errorf("%s: connection durations %+v, want none", m.Host, m.ConnDuration)
		}
	}
	if names := ErrorClassNames(); names[ErrTimeout] != "timeout" {
		t.Errorf("ErrorClassNames()[ErrTimeout] = %q", names[ErrTimeout])
	}
}

// checkHist checks that h holds exactly the n values value(0..n-1), which
// sum to sum seconds.
func checkHist(t *testing.T, name string, h *Histogram, n int, sum float64, value func(int) int64) {
	t.Helper()
	want := make(map[int]uint64)
	for k := range n {
		want[bucketOf(value(k))]++
	}
	if h.Count != uint64(n) || math.Abs(h.Sum-sum) > 1e-9 {
		t.Errorf("%s: count %d sum %v, want %d and %v", name, h.Count, h.Sum, n, sum)
	}
	if h.ZeroCount != want[0] {
		t.Errorf("%s: zero count %d, want %d", name, h.ZeroCount, want[0])
	}
	for k, c := range h.Counts {
		s := int(h.Offset) + k - minIndex + 1
		if c != want[s] {
			t.Errorf("%s: bucket %d holds %d, want %d", name, int(h.Offset)+k, c, want[s])
		}
		delete(want, s)
	}
	delete(want, 0)
	if len(want) > 0 {
		t.Errorf("%s: buckets missing from Counts: %v", name, want)
	}
	// A power of two is a bucket bound: CountAtMost is exact there.
	le := math.Exp2(-10)
	exact := uint64(0)
	for k := range n {
		if float64(value(k))/1e9 <= le {
			exact++
		}
	}
	if got := h.CountAtMost(le); got != exact {
		t.Errorf("%s: CountAtMost(2^-10) = %d, want %d", name, got, exact)
	}
}

// Diagnoses in force show in the reading as in a snapshot.
func TestReadMetricsDiagnoses(t *testing.T) {
	now := Now()
	s := New(Options{})
	c := s.Client("leaky")
	h := c.Host("http", "api.example:80")
	for range 12 {
		b := &Body{Host: h, Opened: now - int64(DefaultLeakAfter) - 1}
		s.OpenBody(b)
	}
	got := s.ReadMetrics(nil, now)
	if len(got) != 1 {
		t.Fatalf("%d hosts, want 1", len(got))
	}
	want := []ActiveDiagnosis{{Kind: snapshot.KindBodyLeak, Severity: snapshot.SeverityCritical}}
	if fmt.Sprint(got[0].Diagnoses) != fmt.Sprint(want) || got[0].LeakedBodies != 12 {
		t.Errorf("diagnoses %v, leaked %d; want %v and 12", got[0].Diagnoses, got[0].LeakedBodies, want)
	}
	// Reading again into the same slice reuses it and says the same.
	again := s.ReadMetrics(got[:0], now)
	if fmt.Sprint(again[0].Diagnoses) != fmt.Sprint(want) {
		t.Errorf("second read: %v", again[0].Diagnoses)
	}
}

// A host of the Unwrapped client reads as dial only: the requests seen
// starting counted, its connections' figures as a snapshot says, and no
// request figure, limit or diagnosis, while a traced host of the same name
// counts no requests started.
func TestReadMetricsDialOnly(t *testing.T) {
	now := Now()
	s := New(Options{})
	h := s.Unwrapped().Host("http", "api.example:80")
	for range 3 {
		h.Started(now)
	}
	open := s.NewUntracedConn(h, DialTiming{Start: now - 5e6, End: now - 4e6}, nil, nil)
	open.NoteWrite(now-1e6, 100)
	closed := s.NewUntracedConn(h, DialTiming{Start: now - 3e6, End: now - 2e6}, nil, nil)
	closed.Close(now) // open 2 ms
	traced := s.Client("api").Host("http", "api.example:80")
	traced.RequestStarted(now)
	traced.Responded(now, 1e6, 0, 200, Got{})
	traced.RequestEnded()

	snap := fillAt(s, now)
	got := s.ReadMetrics(nil, now)
	if len(got) != 2 || len(snap.Hosts) != 2 {
		t.Fatalf("%d hosts read, %d in the snapshot; want 2", len(got), len(snap.Hosts))
	}
	var dialOnly, tracedRow HostMetrics
	for i, m := range got {
		if m.DialOnly != snap.Hosts[i].DialOnly || m.RequestsStarted != snap.Hosts[i].RequestsStarted {
			t.Errorf("%s/%s: dial only %v, started %d; snapshot says %v, %d", m.Client, m.Host,
				m.DialOnly, m.RequestsStarted, snap.Hosts[i].DialOnly, snap.Hosts[i].RequestsStarted)
		}
		if m.Client == UnwrappedClient {
			dialOnly = m
		} else {
			tracedRow = m
		}
	}
	if !dialOnly.DialOnly || dialOnly.RequestsStarted != 3 || dialOnly.Requests != 0 {
		t.Errorf("dial-only host: dial only %v, started %d, requests %d; want true, 3, 0",
			dialOnly.DialOnly, dialOnly.RequestsStarted, dialOnly.Requests)
	}
	if dialOnly.Open != 1 || dialOnly.ClosedConns != 1 || dialOnly.ConnDuration.Count != 1 || dialOnly.ConnDuration.Sum != 0.002 {
		t.Errorf("dial-only host: open %d, closed %d, lifetimes %+v; want 1, 1, one of 2 ms",
			dialOnly.Open, dialOnly.ClosedConns, dialOnly.ConnDuration)
	}
	if dialOnly.LimitsKnown || len(dialOnly.Diagnoses) != 0 {
		t.Errorf("dial-only host: limits known %v, diagnoses %v; want neither", dialOnly.LimitsKnown, dialOnly.Diagnoses)
	}
	if tracedRow.DialOnly || tracedRow.RequestsStarted != 0 || tracedRow.Requests != 1 {
		t.Errorf("traced host: dial only %v, started %d, requests %d; want false, 0, 1",
			tracedRow.DialOnly, tracedRow.RequestsStarted, tracedRow.Requests)
	}
}

// BenchmarkReadMetrics measures reading 1,000 hosts with 10 connections
// each, what a scrape costs before any encoding.
func BenchmarkReadMetrics(b *testing.B) {
	for _, hosts := range []int{10, 1000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			now := Now()
			s := populate(hosts, 10, now)
			var dst []HostMetrics
			b.ReportAllocs()
			for b.Loop() {
				dst = s.ReadMetrics(dst[:0], now)
			}
		})
	}
}
