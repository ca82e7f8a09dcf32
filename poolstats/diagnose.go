package poolstats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/httptop/httptop/internal/bottleneck"
	"github.com/httptop/httptop/internal/units"
	"github.com/httptop/httptop/snapshot"
)

// Diagnosis thresholds. Each was set after measuring what a bare
// http.Transport does in the healthy and the sick version of its scenario
// (see poolstats' and probe's scenario tests and the README).
const (
	// minRequests is how many requests the rate window must hold before
	// rates say anything.
	minRequests = 20

	// pool_saturated: on average at least this many requests wait for a
	// connection, and the 95th percentile wait is at least this long.
	saturatedAvgWaiting = 0.5
	saturatedWaitP95Ms  = 5.0

	// idle_churn: at least this fraction of requests get a new
	// connection, and most new connections are matched by healthy
	// connections the pool closed right after use. A closed loop of
	// workers with no think time, which is healthy, gets 2–3% new
	// connections; batches of 50 against an idle pool of 2 get 96%.
	churnNewFraction    = 0.25
	churnClosedFraction = 0.5

	// body_not_drained: at least this many HTTP/1.x bodies closed before
	// EOF in the rate window, making up at least this fraction of
	// requests.
	undrainedMin      = 5
	undrainedFraction = 0.10

	// body_leak: this many leaked bodies make the diagnosis critical.
	leakCritical = 10
	// maxSites is how many call sites a diagnosis lists.
	maxSites = 5
)

// hostView is what diagnose reads about one host.
type hostView struct {
	hs     *snapshot.Host
	recent sums
	limits Limits
	leak   *leakReport
}

// diagnose returns the problems recognised in one host's statistics.
func diagnose(v hostView, sites *siteCache) []snapshot.Diagnosis {
	var out []snapshot.Diagnosis
	for _, rule := range []func(hostView, *siteCache) *snapshot.Diagnosis{
		poolSaturated, idleChurn, bodyLeak, bodyNotDrained,
	} {
		if d := rule(v, sites); d != nil {
			d.Client, d.Host = v.hs.Client, v.hs.Host
			out = append(out, *d)
		}
	}
	return out
}

// poolSaturated fires when requests queue for a connection because the
// pool is at MaxConnsPerHost.
func poolSaturated(v hostView, _ *siteCache) *snapshot.Diagnosis {
	hs, limit := v.hs, v.limits.MaxConnsPerHost
	if !v.limits.Known || limit <= 0 || hs.Open < limit {
		return nil
	}
	if hs.AvgWaiting < saturatedAvgWaiting || hs.ConnWait.Count < minRequests/2 ||
		hs.ConnWait.P95 < saturatedWaitP95Ms {
		return nil
	}
	// W, the mean time a request holds a connection, from the counters
	// of the rate window (the same W as the capture report's Little's
	// law): bucketed quantiles would jump between buckets.
	latency, wait, w, _ := v.recent.holding()
	// Active+Waiting would double count a request moving between them
	// while the snapshot is read; the in-flight counter is one number.
	want := max(hs.PeakInFlight, hs.InFlight, limit+1)
	sev := snapshot.SeverityWarning
	if wait >= w {
		sev = snapshot.SeverityCritical
	}
	evidence := map[string]float64{
		"waiting":            float64(hs.Waiting),
		"avg_waiting":        round1(hs.AvgWaiting),
		"conn_wait_p50_ms":   round1(hs.ConnWait.P50),
		"conn_wait_p95_ms":   round1(hs.ConnWait.P95),
		"latency_p50_ms":     round1(hs.Latency.P50),
		"latency_p95_ms":     round1(hs.Latency.P95),
		"mean_latency_ms":    round1(latency),
		"mean_conn_wait_ms":  round1(wait),
		"service_ms":         round1(w),
		"open":               float64(hs.Open),
		"max_conns_per_host": float64(limit),
		"peak_in_flight":     float64(hs.PeakInFlight),
		"rps":                round1(hs.RPS),
	}
	var advice string
	if v.leak != nil && v.leak.count > 0 {
		// Connections held by bodies nobody reads are not demand: more
		// of them would only leak too.
		advice = fmt.Sprintf("Close the response bodies first: %d of the pool's connections are held by bodies left open and unread (see body_leak), "+
			"so raising Transport.MaxConnsPerHost would only let more leak.", min(v.leak.count, hs.Open))
		if w > 0 {
			advice += fmt.Sprintf(" Each request holds its connection %s on average, so once they are closed %d connections carry up to %.0f req/s.",
				units.Ms(w), limit, float64(limit)/w*1000)
		}
	} else {
		advice = fmt.Sprintf("Raise Transport.MaxConnsPerHost from %d to at least %d, the number of requests in flight at the peak.",
			limit, want)
		// What the new size should bring, and what would stop it; the
		// agent completes it with the CPU's limit (bottleneck.Apply).
		change := bottleneck.PoolChange{
			From: limit, To: want, HoldMs: evidence["service_ms"], RPS: evidence["rps"],
			LatencyP95Ms: evidence["latency_p95_ms"], ConnWaitP95Ms: evidence["conn_wait_p95_ms"],
		}
		if e := change.Expectation(); e != "" {
			advice += " " + e
			change.Record(evidence)
		}
		advice += " If the server cannot take more connections, limit concurrency before the client instead."
	}
	return &snapshot.Diagnosis{
		Kind:     snapshot.KindPoolSaturated,
		Severity: sev,
		Summary: fmt.Sprintf("%.0f requests wait for a connection on average (p50 %s, p95 %s): the pool is at its limit of %d",
			hs.AvgWaiting, units.Ms(hs.ConnWait.P50), units.Ms(hs.ConnWait.P95), limit),
		Advice:   advice,
		Evidence: evidence,
	}
}

// idleChurn fires when most requests dial a new connection because the
// idle pool is too small to keep the connections the last burst used.
func idleChurn(v hostView, _ *siteCache) *snapshot.Diagnosis {
	r := &v.recent
	newc := r.c[cNew]
	if r.c[cRequests] < minRequests || newc == 0 {
		return nil
	}
	newFraction := 1 - r.reusedFraction()
	churned := float64(r.c[cChurned])
	if newFraction < churnNewFraction || churned < churnClosedFraction*float64(newc) {
		return nil
	}
	hs := v.hs
	want := max(hs.PeakInFlight, 1)
	var advice string
	idle := v.limits.MaxIdleConnsPerHost
	switch {
	case v.limits.Known && idle < want:
		advice = fmt.Sprintf("Raise Transport.MaxIdleConnsPerHost from %d to at least %d, the peak concurrency to this host (batch size), "+
			"and keep Transport.MaxIdleConns (all hosts together) at least as large", idle, want)
	case v.limits.Known:
		advice = fmt.Sprintf("MaxIdleConnsPerHost (%d) already covers the peak concurrency (%d): raise Transport.MaxIdleConns "+
			"(all hosts together, now %d) and check the program does not call CloseIdleConnections between bursts",
			idle, want, v.limits.MaxIdleConns)
	default:
		advice = fmt.Sprintf("Keep at least %d idle connections per host (http.Transport.MaxIdleConnsPerHost), the peak concurrency to this host", want)
	}
	sev := snapshot.SeverityWarning
	if newFraction >= 0.75 {
		sev = snapshot.SeverityCritical
	}
	return &snapshot.Diagnosis{
		Kind:     snapshot.KindIdleChurn,
		Severity: sev,
		Summary: fmt.Sprintf("%.0f%% of requests dial a new connection (%.1f/s) and the pool closes them right after use: "+
			"the idle pool keeps %d of the %d the bursts need", newFraction*100, r.per(cNew), idle, want),
		Advice: advice + ". " + churnExpectation(hs, r.per(cNew), want),
		Evidence: map[string]float64{
			"new_conn_fraction":       round3(newFraction),
			"new_conns_per_s":         round1(r.per(cNew)),
			"churned_per_s":           round1(r.per(cChurned)),
			"peak_in_flight":          float64(want),
			"max_idle_conns_per_host": float64(idle),
			"rps":                     round1(r.per(cRequests)),
		},
	}
}

// churnExpectation says what keeping want idle connections should bring
// (new connections per second, set-up time saved per request, p95) and
// what would stop it.
func churnExpectation(hs *snapshot.Host, newPerSecond float64, want int) string {
	setup := hs.Dial.P95 + hs.TLSHandshake.P95
	s := fmt.Sprintf("Expect new connections to fall from %.1f/s to near none", newPerSecond)
	if setup > 0 && hs.Latency.Count > 0 {
		s += fmt.Sprintf(", sparing those requests their set-up (dial p95 %s", units.Ms(hs.Dial.P95))
		if hs.TLSHandshake.Count > 0 {
			s += fmt.Sprintf(", TLS handshake p95 %s", units.Ms(hs.TLSHandshake.P95))
		}
		s += fmt.Sprintf("), so a p95 nearer %s (now %s)", units.Ms(max(hs.Latency.P95-setup, hs.Latency.P50)), units.Ms(hs.Latency.P95))
	}
	return s + fmt.Sprintf("; what would stop it: bursts larger than %d, or a server that closes idle connections before the next burst (its keep-alive timeout).", want)
}

// bodyLeak fires when response bodies stay open, unread, past LeakAfter.
func bodyLeak(v hostView, sites *siteCache) *snapshot.Diagnosis {
	if v.leak == nil || v.leak.count == 0 {
		return nil
	}
	d := &snapshot.Diagnosis{
		Kind:     snapshot.KindBodyLeak,
		Severity: snapshot.SeverityWarning,
		Evidence: map[string]float64{"leaked_bodies": float64(v.leak.count)},
		Sites:    leakSites(v.leak, sites),
	}
	if v.leak.count >= leakCritical {
		d.Severity = snapshot.SeverityCritical
	}
	d.Summary = fmt.Sprintf("%d response bodies are open and unread: each holds its connection", v.leak.count)
	where := ""
	if len(d.Sites) > 0 {
		where = " in " + d.Sites[0].Function + " (" + shortFile(d.Sites[0].File) + ":" + fmt.Sprint(d.Sites[0].Line) + ")"
	}
	d.Advice = "Close every response body" + where + ": `defer resp.Body.Close()` right after checking the error, " +
		"and read it to EOF first so the connection is reused."
	return d
}

// leakSites returns the call sites of a host's leaked bodies, most frequent
// first. Stacks that resolve to the same site are merged.
func leakSites(r *leakReport, cache *siteCache) []snapshot.Site {
	bySite := make(map[snapshot.Site]int)
	for pcs, n := range r.sites {
		bySite[cache.site(pcs)] += n
	}
	out := make([]snapshot.Site, 0, len(bySite))
	for s, n := range bySite {
		s.Count = n
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b snapshot.Site) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	if len(out) > maxSites {
		out = out[:maxSites]
	}
	return out
}

// bodyNotDrained fires when HTTP/1.x bodies are closed before EOF often
// enough to cost connections.
func bodyNotDrained(v hostView, _ *siteCache) *snapshot.Diagnosis {
	r := &v.recent
	n := r.c[cUndrained]
	if n < undrainedMin || r.c[cRequests] == 0 {
		return nil
	}
	frac := float64(n) / float64(r.c[cRequests])
	if frac < undrainedFraction {
		return nil
	}
	return &snapshot.Diagnosis{
		Kind:     snapshot.KindBodyNotDrained,
		Severity: snapshot.SeverityWarning,
		Summary: fmt.Sprintf("%.0f%% of responses (%.1f/s) are closed before their body is read to EOF, so their HTTP/1.1 connection is closed instead of reused",
			frac*100, r.per(cUndrained)),
		Advice: "Read the body to EOF before closing it, e.g. `io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))`, " +
			"or enable HTTP/2, where closing early only resets the stream.",
		Evidence: map[string]float64{
			"undrained_fraction": round3(frac),
			"undrained_per_s":    round1(r.per(cUndrained)),
			"new_conns_per_s":    round1(r.per(cNew)),
		},
	}
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// shortFile trims a source path to its last two elements.
func shortFile(f string) string {
	if i := strings.LastIndexByte(f, '/'); i > 0 {
		if j := strings.LastIndexByte(f[:i], '/'); j >= 0 {
			return f[j+1:]
		}
	}
	return f
}
