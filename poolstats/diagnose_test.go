package poolstats

import (
	"strings"
	"testing"

	"github.com/httptop/httptop/snapshot"
)

// Each rule fires on the sick version of its scenario and stays silent on
// the healthy one. The figures are those measured in probe's scenario
// tests against a bare http.Transport.
func TestDiagnoseRules(t *testing.T) {
	sums := func(req, newc, reused, churned, undrained int64) sums {
		var s sums
		s.seconds = 10
		s.c[cRequests], s.c[cNew], s.c[cReused], s.c[cChurned], s.c[cUndrained] = req, newc, reused, churned, undrained
		return s
	}
	saturated := snapshot.Host{Open: 4, Active: 4, Waiting: 28, AvgWaiting: 27.6, PeakInFlight: 32,
		ConnWait: snapshot.Percentiles{Count: 131, P50: 344, P95: 362}, Latency: snapshot.Percentiles{Count: 127, P50: 409}}
	// Ten seconds of the saturated pool: 770 requests responded, each
	// after 400 ms of which it waited 348 ms for a connection.
	saturatedSums := sums(770, 0, 770, 0, 0)
	saturatedSums.c[cLatSumUs], saturatedSums.c[cWaitUs], saturatedSums.c[cHoldUs] = 770*400_000, 770*348_000, 770*52_000
	known := func(maxConns, maxIdle int) Limits {
		return Limits{MaxConnsPerHost: maxConns, MaxIdleConnsPerHost: maxIdle, MaxIdleConns: 100, Known: true}
	}
	cases := []struct {
		name    string
		view    hostView
		want    snapshot.DiagnosisKind // kind, or "" for none
		advice  string
		sev     snapshot.Severity
		noKinds []snapshot.DiagnosisKind
	}{
		{name: "saturated pool", view: hostView{hs: &saturated, recent: saturatedSums, limits: known(4, 4)},
			want: snapshot.KindPoolSaturated, advice: "MaxConnsPerHost from 4 to at least 32", sev: snapshot.SeverityCritical},
		{name: "saturated pool promises N ÷ W", view: hostView{hs: &saturated, recent: saturatedSums, limits: known(4, 4)},
			want: snapshot.KindPoolSaturated, advice: "holds its connection 52.0ms on average, so 32 connections carry up to 615 req/s (4 carry 77)", sev: snapshot.SeverityCritical},
		{name: "unlimited pool never saturates", view: hostView{hs: &saturated, limits: known(0, 2)}, noKinds: []snapshot.DiagnosisKind{snapshot.KindPoolSaturated}},
		{name: "unknown limits", view: hostView{hs: &saturated}, noKinds: []snapshot.DiagnosisKind{snapshot.KindPoolSaturated}},
		{name: "pool below limit", view: hostView{hs: &snapshot.Host{Open: 3, AvgWaiting: 5, ConnWait: snapshot.Percentiles{Count: 100, P95: 50}}, limits: known(4, 4)},
			noKinds: []snapshot.DiagnosisKind{snapshot.KindPoolSaturated}},
		{name: "batches churn", view: hostView{hs: &snapshot.Host{PeakInFlight: 50}, recent: sums(1500, 1441, 59, 1440, 0), limits: known(0, 2)},
			want: snapshot.KindIdleChurn, advice: "MaxIdleConnsPerHost from 2 to at least 50", sev: snapshot.SeverityCritical},
		{name: "closed loop 3% new", view: hostView{hs: &snapshot.Host{PeakInFlight: 32}, recent: sums(1489, 45, 1444, 30, 0), limits: known(0, 2)},
			noKinds: []snapshot.DiagnosisKind{snapshot.KindIdleChurn}},
		{name: "new conns the server closed", view: hostView{hs: &snapshot.Host{PeakInFlight: 50}, recent: sums(1000, 900, 100, 10, 0), limits: known(0, 2)},
			noKinds: []snapshot.DiagnosisKind{snapshot.KindIdleChurn}},
		{name: "few requests", view: hostView{hs: &snapshot.Host{PeakInFlight: 5}, recent: sums(10, 10, 0, 10, 0), limits: known(0, 2)},
			noKinds: []snapshot.DiagnosisKind{snapshot.KindIdleChurn}},
		{name: "undrained bodies", view: hostView{hs: &snapshot.Host{}, recent: sums(100, 20, 80, 0, 20)},
			want: snapshot.KindBodyNotDrained, advice: "io.Copy(io.Discard", sev: snapshot.SeverityWarning},
		{name: "a few undrained", view: hostView{hs: &snapshot.Host{}, recent: sums(1000, 0, 1000, 0, 4)},
			noKinds: []snapshot.DiagnosisKind{snapshot.KindBodyNotDrained}},
	}
	var cache siteCache
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.view.hs.Client, tc.view.hs.Host = "c", "h:80"
			got := diagnose(tc.view, &cache)
			kinds := map[snapshot.DiagnosisKind]snapshot.Diagnosis{}
			for _, d := range got {
				kinds[d.Kind] = d
				if d.Client != "c" || d.Host != "h:80" || d.Summary == "" || d.Advice == "" || len(d.Evidence) == 0 {
					t.Errorf("incomplete diagnosis: %+v", d)
				}
			}
			for _, k := range tc.noKinds {
				if d, ok := kinds[k]; ok {
					t.Errorf("%s fired: %s", k, d.Summary)
				}
			}
			if tc.want == "" {
				return
			}
			d, ok := kinds[tc.want]
			if !ok {
				t.Fatalf("%s did not fire; got %+v", tc.want, got)
			}
			if !strings.Contains(d.Advice, tc.advice) {
				t.Errorf("advice %q, want it to contain %q", d.Advice, tc.advice)
			}
			if d.Severity != tc.sev {
				t.Errorf("severity %s, want %s", d.Severity, tc.sev)
			}
		})
	}
}

// W is each request's latency minus its own wait, averaged: in the first
// seconds of a saturated pool the requests holding a connection have
// waited long while those that responded first did not wait, so the
// difference of the means is off while the per-request sum is not.
func TestHolding(t *testing.T) {
	var s sums
	s.seconds = 1
	// 4 requests responded without waiting (50 ms each); 4 more got a
	// connection after waiting 350 ms and have not responded yet.
	s.c[cRequests], s.c[cNew], s.c[cReused] = 4, 4, 4
	s.c[cLatSumUs], s.c[cHoldUs], s.c[cWaitUs] = 4*50_000, 4*50_000, 4*350_000
	lat, wait, w, ok := s.holding()
	if !ok || lat != 50 || wait != 175 || w != 50 {
		t.Errorf("holding = %v, %v, %v, %v; want 50, 175, 50, true", lat, wait, w, ok)
	}
	if _, _, _, ok := (sums{seconds: 1}).holding(); ok {
		t.Error("holding of no requests reports ok")
	}
}
