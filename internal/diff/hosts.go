package diff

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/httptop/httptop/internal/report"
)

// metricDef is how one figure of a host is read from a report and tested.
type metricDef struct {
	key, name, unit string
	// better is "lower", "higher" or "" (neither).
	better string
	// floor is the smallest change flagged, whatever the before figure.
	floor float64
	// setting marks a configuration value: exact, not tested.
	setting bool
	// follows, for a tail, is the key of the figure of the middle that
	// must be beyond noise the same way for the tail to be.
	follows string
	// figure reads the figure from the host's report.
	figure func(h *report.HostReport) float64
	// basis names the values values reads, the ones the test compares.
	basis  string
	values func(h *report.HostReport) []float64
}

// perSecond returns the values f gives for each second of the host's
// per-second series, skipping the seconds for which it gives none.
func perSecond(f func(ps *report.Seconds, i int) (float64, bool)) func(*report.HostReport) []float64 {
	return func(h *report.HostReport) []float64 {
		return collect(h.PerSecond.Len(), func(i int) (float64, bool) { return f(&h.PerSecond, i) })
	}
}

// perSnapshot is perSecond for the snapshots' samples.
func perSnapshot(f func(sm *report.Samples, i int) (float64, bool)) func(*report.HostReport) []float64 {
	return func(h *report.HostReport) []float64 {
		return collect(h.Samples.Len(), func(i int) (float64, bool) { return f(&h.Samples, i) })
	}
}

// collect returns the values f gives for 0 ≤ i < n, where it gives one.
func collect(n int, f func(i int) (float64, bool)) []float64 {
	out := make([]float64, 0, n)
	for i := range n {
		if v, ok := f(i); ok {
			out = append(out, v)
		}
	}
	return out
}

// completed reports whether requests completed without error in second i,
// so that its latency means something.
func completed(ps *report.Seconds, i int) bool { return ps.Requests[i]-ps.Errors[i] > 0 }

// handedOut is the number of connections handed to requests in second i.
func handedOut(ps *report.Seconds, i int) int64 { return ps.NewConns[i] + ps.ReusedConns[i] }

// metricDefs are the figures compared for every host, in the order the
// diff shows them.
var metricDefs = []metricDef{
	{
		key: "rps", name: "req/s", unit: "req/s", better: "higher", floor: 1,
		figure: func(h *report.HostReport) float64 { return h.RPS },
		basis:  "per-second requests",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) { return float64(ps.Requests[i]), true }),
	},
	{
		key: "latency_p50_ms", name: "p50", unit: "ms", better: "lower", floor: 1,
		figure: func(h *report.HostReport) float64 { return h.Latency.P50 },
		basis:  "per-second mean latency",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) { return ps.LatencyAvg[i], completed(ps, i) }),
	},
	{
		key: "latency_p95_ms", name: "p95", unit: "ms", better: "lower", floor: 1, follows: "latency_p50_ms",
		figure: func(h *report.HostReport) float64 { return h.Latency.P95 },
		basis:  "per-second maximum latency",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) { return ps.LatencyMax[i], completed(ps, i) }),
	},
	{
		key: "latency_p99_ms", name: "p99", unit: "ms", better: "lower", floor: 1, follows: "latency_p50_ms",
		figure: func(h *report.HostReport) float64 { return h.Latency.P99 },
		basis:  "per-second maximum latency",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) { return ps.LatencyMax[i], completed(ps, i) }),
	},
	{
		key: "conn_wait_p95_ms", name: "conn-wait p95", unit: "ms", better: "lower", floor: 1, follows: "waiting",
		figure: func(h *report.HostReport) float64 { return h.ConnWait.P95 },
		basis:  "per-second mean connection wait",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) {
			n := handedOut(ps, i)
			return ps.AvgWaiting[i] * 1000 / float64(max(n, 1)), n > 0
		}),
	},
	{
		key: "waiting", name: "waiting", better: "lower", floor: 0.5,
		figure: func(h *report.HostReport) float64 { return h.Pool.MeanWaiting },
		basis:  "per-second mean waiting",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) { return ps.AvgWaiting[i], true }),
	},
	{
		key: "pool_open", name: "pool open (peak)", unit: "conns", floor: 1,
		figure: func(h *report.HostReport) float64 { return float64(h.Pool.PeakOpen) },
		basis:  "per-snapshot open connections",
		values: perSnapshot(func(sm *report.Samples, i int) (float64, bool) { return float64(sm.Open[i]), true }),
	},
	{
		key: "pool_limit", name: "pool limit", unit: "conns", setting: true,
		figure: func(h *report.HostReport) float64 { return float64(h.Pool.Limit) },
	},
	{
		key: "new_conns_per_s", name: "new conns/s", unit: "/s", better: "lower", floor: 0.5,
		figure: func(h *report.HostReport) float64 { return h.Churn.NewPerSecond },
		basis:  "per-second new connections",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) { return float64(ps.NewConns[i]), true }),
	},
	{
		key: "reuse", name: "reuse", unit: "fraction", better: "higher", floor: 0.05,
		figure: func(h *report.HostReport) float64 {
			if h.Churn.NewConns+h.Churn.ReusedConns == 0 {
				return 0
			}
			return round3(1 - h.Churn.NewFraction)
		},
		basis: "per-second reused ÷ (new + reused) connections",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) {
			n := handedOut(ps, i)
			return float64(ps.ReusedConns[i]) / float64(max(n, 1)), n > 0
		}),
	},
	{
		key: "tls_mem_per_conn_bytes", name: "TLS memory/conn", unit: "bytes", better: "lower", floor: 1024,
		figure: func(h *report.HostReport) float64 { return h.Memory.TLSPerConn },
		basis:  "per-snapshot TLS memory ÷ open connections",
		values: perSnapshot(func(sm *report.Samples, i int) (float64, bool) {
			if i >= len(sm.TLSMem) || sm.Open[i] == 0 {
				return 0, false
			}
			return float64(sm.TLSMem[i]) / float64(sm.Open[i]), true
		}),
	},
	{
		key: "errors_per_s", name: "errors/s", unit: "/s", better: "lower", floor: 0.1,
		figure: func(h *report.HostReport) float64 { return h.ErrorsPerSecond },
		basis:  "per-second errors",
		values: perSecond(func(ps *report.Seconds, i int) (float64, bool) { return float64(ps.Errors[i]), true }),
	},
}

// compareHost fills in the metrics, diagnoses and pool sizing of a pair
// of hosts.
func compareHost(p pair) HostDiff {
	hd := HostDiff{Match: p.match, Metrics: []Metric{}, before: p.before, after: p.after}
	if b := p.before; b != nil {
		hd.Client = b.Client
		hd.Before = &HostRef{Scheme: b.Scheme, Host: b.Host, Label: b.Label()}
		hd.Little.Before = &b.Little
	}
	if a := p.after; a != nil {
		hd.Client = a.Client
		hd.After = &HostRef{Scheme: a.Scheme, Host: a.Host, Label: a.Label()}
		hd.Little.After = &a.Little
	}
	switch {
	case hd.After == nil:
		hd.Label = hd.Before.Label
	case hd.Before == nil || hd.Before.Label == hd.After.Label:
		hd.Label = hd.After.Label
	default:
		hd.Label = hd.After.Label + " (before: " + hd.Before.Label + ")"
	}
	if p.before != nil && p.after != nil {
		for _, d := range metricDefs {
			hd.Metrics = append(hd.Metrics, compareMetric(d, p.before, p.after))
		}
		corroborate(hd.Metrics)
		for _, m := range hd.Metrics {
			if m.BeyondNoise {
				hd.BeyondNoise++
			}
		}
	}
	var fb, fa []report.Finding
	var nb, na int
	if p.before != nil {
		fb, nb = p.before.Diagnoses, p.before.Snapshots
	}
	if p.after != nil {
		fa, na = p.after.Diagnoses, p.after.Snapshots
	}
	hd.Diagnoses = compareFindings(fb, fa, nb, na, func(f *report.Finding) string { return string(f.Kind) })
	return hd
}

// compareMetric compares one figure of two hosts and tests its change.
func compareMetric(d metricDef, b, a *report.HostReport) Metric {
	m := Metric{Key: d.key, Name: d.name, Unit: d.unit, Better: d.better, Setting: d.setting}
	m.Before, m.After = d.figure(b), d.figure(a)
	m.Change = round3(m.After - m.Before)
	if m.Before != 0 {
		rel := round3(m.Change / math.Abs(m.Before))
		m.RelChange = &rel
	}
	switch {
	case m.Before == m.After:
		m.Verdict = VerdictSame
		return m
	case d.setting:
		m.BeyondNoise, m.Verdict = true, VerdictChanged
		return m
	}
	vb, va := d.values(b), d.values(a)
	t := &Test{
		Basis: d.basis, NBefore: len(vb), NAfter: len(va),
		MeanBefore: round3(mean(vb)), MeanAfter: round3(mean(va)),
		SDBefore: round3(sd(vb)), SDAfter: round3(sd(va)),
		MinChange: round3(max(d.floor, MinRelativeChange*math.Abs(m.Before))),
	}
	m.Test = t
	tt, df, p, ok := welch(vb, va)
	if !ok {
		t.Note = fmt.Sprintf("too few values to test: %d before, %d after, %d needed on each side", len(vb), len(va), minSeconds)
		m.Verdict = VerdictUntested
		return m
	}
	t.T, t.DF, t.P = round3(tt), round3(df), roundSig(p)
	m.Verdict = VerdictNoise
	switch {
	case p >= Alpha:
	case math.Abs(m.Change) < t.MinChange:
		t.Note = "significant, but smaller than the minimum change"
	case (mean(va) > mean(vb)) != (m.Change > 0):
		t.Note = "significant, but the tested values moved the other way"
	default:
		m.BeyondNoise = true
		switch {
		case d.better == "":
			m.Verdict = VerdictChanged
		case (d.better == "higher") == (m.Change > 0):
			m.Verdict = VerdictBetter
		default:
			m.Verdict = VerdictWorse
		}
	}
	return m
}

// corroborate takes back the flag of a tail whose middle (metricDef.follows)
// did not move beyond noise the same way.
func corroborate(ms []Metric) {
	byKey := make(map[string]*Metric, len(ms))
	for i := range ms {
		byKey[ms[i].Key] = &ms[i]
	}
	for i, d := range metricDefs {
		m := &ms[i]
		mid := byKey[d.follows]
		if !m.BeyondNoise || mid == nil || mid.BeyondNoise && (mid.Change > 0) == (m.Change > 0) {
			continue
		}
		m.BeyondNoise, m.Verdict = false, VerdictNoise
		m.Test.Note = "significant, but " + mid.Name + " did not move beyond noise the same way: a tail alone varies too much between captures"
	}
}

// compareFindings pairs the findings of two captures by key: those that
// appeared or grew first, then those gone or receded, then those that
// stayed, each most severe first. nb and na are
// the snapshots each finding's count is out of.
func compareFindings(before, after []report.Finding, nb, na int, key func(*report.Finding) string) []DiagnosisDiff {
	out := []DiagnosisDiff{}
	seen := map[string]int{}
	add := func(f *report.Finding, isAfter bool) {
		k := key(f)
		i, ok := seen[k]
		if !ok {
			i = len(out)
			seen[k] = i
			out = append(out, DiagnosisDiff{Kind: f.Kind, Client: f.Client, Host: f.Host})
		}
		d := &out[i]
		if isAfter {
			d.After, d.ShareAfter = f, share(f.Snapshots, na)
			d.Host = f.Host
		} else {
			d.Before, d.ShareBefore = f, share(f.Snapshots, nb)
		}
	}
	for i := range before {
		add(&before[i], false)
	}
	for i := range after {
		add(&after[i], true)
	}
	for i := range out {
		d := &out[i]
		d.BeyondNoise = math.Abs(d.ShareAfter-d.ShareBefore) >= 0.5
		switch {
		case d.Before == nil:
			d.Status = StatusAppeared
		case d.After == nil:
			d.Status = StatusGone
		case d.BeyondNoise && d.ShareAfter > d.ShareBefore:
			d.Status = StatusGrew
		case d.BeyondNoise:
			d.Status = StatusReceded
		default:
			d.Status = StatusStayed
		}
		d.Evidence = evidence(d.Before, d.After)
	}
	rank := map[string]int{StatusAppeared: 0, StatusGrew: 1, StatusGone: 2, StatusReceded: 3, StatusStayed: 4}
	slices.SortStableFunc(out, func(a, b DiagnosisDiff) int {
		return cmp.Or(
			cmp.Compare(rank[a.Status], rank[b.Status]),
			cmp.Compare(severity(b), severity(a)),
			strings.Compare(string(a.Kind), string(b.Kind)),
		)
	})
	return out
}

// severity is the rank of the worse of a diagnosis' two severities.
func severity(d DiagnosisDiff) int {
	s := 0
	if d.Before != nil {
		s = d.Before.Severity.Rank()
	}
	if d.After != nil {
		s = max(s, d.After.Severity.Rank())
	}
	return s
}

// share returns n ÷ of, 0 when of is 0.
func share(n, of int) float64 {
	if of <= 0 {
		return 0
	}
	return round3(float64(n) / float64(of))
}

// evidence puts the evidence of two findings side by side, by name.
func evidence(b, a *report.Finding) []Evidence {
	rows := map[string]*Evidence{}
	var names []string
	put := func(f *report.Finding, after bool) {
		if f == nil {
			return
		}
		for k, v := range f.Evidence {
			e := rows[k]
			if e == nil {
				e = &Evidence{Name: k}
				rows[k] = e
				names = append(names, k)
			}
			if after {
				e.After = &v
			} else {
				e.Before = &v
			}
		}
	}
	put(b, false)
	put(a, true)
	slices.Sort(names)
	out := make([]Evidence, len(names))
	for i, k := range names {
		out[i] = *rows[k]
	}
	return out
}

// round3 rounds v to three decimals, as the reports do, so that diff.json
// holds the figures shown rather than float noise.
func round3(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}

// roundSig rounds v to three significant digits.
func roundSig(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	mag := math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-2)
	return math.Round(v/mag) * mag
}
