package poolstats

import (
	"strings"
	"testing"

	"github.com/httptop/httptop/snapshot"
	"github.com/httptop/httptop/tlsstats"
)

// TestNoTLSResumptionRule replays the handshakes of the workloads probe's
// TestNoTLSResumption runs for real, and checks when the rule fires.
func TestNoTLSResumptionRule(t *testing.T) {
	const ms = int64(1e6)
	const start = 1000 * 1e9 // a whole number of windows
	type hs struct {
		created int64 // ms after start
		resumed bool
	}
	// sequential returns n connections opened every 10 ms from at, all
	// full or, when resume, all resumed but the first.
	sequential := func(n int, at int64, resume bool) []hs {
		var out []hs
		for i := range n {
			out = append(out, hs{created: at + int64(i)*10, resumed: resume && i > 0})
		}
		return out
	}
	burst := func(n int) []hs {
		out := make([]hs, n)
		for i := range out {
			out[i].created = 1
		}
		return out
	}
	cases := []struct {
		name      string
		conns     []hs
		cache     tlsstats.Cache
		requests  int
		snapAt    int64 // ms after start
		want      bool
		advice    string
		fullTotal int64
	}{
		{name: "no keep-alive, no cache", conns: sequential(50, 0, false), cache: tlsstats.CacheNone, requests: 50,
			want: true, advice: "ClientSessionCache = tls.NewLRUClientSessionCache", fullTotal: 50},
		{name: "no keep-alive, cache", conns: sequential(50, 0, true), cache: tlsstats.CacheSet, requests: 50, fullTotal: 1},
		{name: "server without tickets", conns: sequential(50, 0, false), cache: tlsstats.CacheSet, requests: 50,
			want: true, advice: "issues session tickets", fullTotal: 50},
		{name: "one burst before any response", conns: burst(100), cache: tlsstats.CacheNone, requests: 100, fullTotal: 100},
		{name: "a keep-alive pool dialing a few extra", conns: sequential(12, 0, false), cache: tlsstats.CacheNone, requests: 400, fullTotal: 12},
		{name: "a few full handshakes", conns: sequential(9, 0, false), cache: tlsstats.CacheNone, requests: 9, fullTotal: 9},
		{name: "half resumed", conns: append(sequential(21, 0, false), sequential(30, 300, true)...), cache: tlsstats.CacheSet, requests: 51, fullTotal: 22},
		{name: "long ago", conns: sequential(50, 0, false), cache: tlsstats.CacheNone, requests: 50, snapAt: 20_000, fullTotal: 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ht hostTLS
			// The first response arrives 5 ms after the first
			// connection opened.
			first := start + 5*ms
			last := int64(0)
			for _, h := range tc.conns {
				c := &Conn{created: start + h.created*ms}
				c.handshakeEnd.Store(c.created + ms)
				ht.handshake(c.created+2*ms, first, c, &tlsstats.Session{Resumed: h.resumed, SessionCache: tc.cache})
				last = max(last, h.created+2)
			}
			now := start + max(last+1, tc.snapAt)*ms
			row := snapshot.Host{Client: "c", Host: "h:443", RPS: float64(tc.requests), RateWindowSeconds: 1}
			ht.fill(&row, now, false)
			if row.TLSFullHandshakes != tc.fullTotal || row.TLSFullHandshakes+row.TLSResumedHandshakes != int64(len(tc.conns)) {
				t.Errorf("handshakes: %d full, %d resumed; want %d full of %d", row.TLSFullHandshakes, row.TLSResumedHandshakes, tc.fullTotal, len(tc.conns))
			}
			if tc.snapAt == 0 && (row.TLSHandshake.Count != int64(len(tc.conns)) || row.TLSHandshake.P50 < 0.9 || row.TLSHandshake.P50 > 1.1) {
				t.Errorf("handshake times %+v, want %d of 1 ms", row.TLSHandshake, len(tc.conns))
			}
			ds := ht.diagnose(nil, &row, now)
			if got := len(ds) == 1; got != tc.want || len(ds) > 1 {
				t.Fatalf("diagnoses %+v, want firing %v", ds, tc.want)
			}
			if !tc.want {
				return
			}
			d := ds[0]
			if d.Kind != snapshot.KindNoTLSResumption || d.Client != "c" || d.Host != "h:443" || d.Severity != snapshot.SeverityWarning {
				t.Errorf("diagnosis %+v, want a warning of kind %s for c, h:443", d, snapshot.KindNoTLSResumption)
			}
			if !strings.Contains(d.Advice, tc.advice) {
				t.Errorf("advice %q does not mention %q", d.Advice, tc.advice)
			}
			if d.Evidence["avoidable_full_handshakes"] != float64(len(tc.conns)-1) || d.Evidence["session_cache"] != cacheEvidence(tc.cache) {
				t.Errorf("evidence %v, want %d avoidable handshakes and session_cache %v", d.Evidence, len(tc.conns)-1, cacheEvidence(tc.cache))
			}
		})
	}
}

// A host that never spoke TLS reports no handshakes and no times.
func TestHostTLSEmpty(t *testing.T) {
	var ht hostTLS
	var row snapshot.Host
	ht.fill(&row, 1e12, false)
	if row.TLSFullHandshakes != 0 || row.TLSResumedHandshakes != 0 || row.TLSHandshake != (snapshot.Percentiles{}) {
		t.Errorf("row %+v, want no handshakes", row)
	}
	if ds := ht.diagnose(nil, &row, 1e12); len(ds) != 0 {
		t.Errorf("diagnoses %+v, want none", ds)
	}
}
