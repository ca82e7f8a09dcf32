package report

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/bottleneck"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// topN is how many functions the top tables list.
const topN = 10

// Bases of a HostReport's rates and means.
const (
	BasisPerSecond = "per-second"
	BasisSnapshots = "snapshots"
)

// Build computes the report of capture c. It does not modify c.
func Build(c *capture.Capture, p capture.Profiles) *Report {
	r, _ := BuildContext(context.Background(), c, p)
	return r
}

// BuildContext is Build that gives up when ctx is done (Ctrl-C), returning
// nil and ctx's error.
func BuildContext(ctx context.Context, c *capture.Capture, p capture.Profiles) (*Report, error) {
	r := newReport(c)
	cpu := cpuSummary(c, p)
	sc, err := scanSnapshots(ctx, c)
	if err != nil {
		return nil, err
	}
	byHost, err := r.addHosts(ctx, c, sc.hosts)
	if err != nil {
		return nil, err
	}
	r.placeFindings(sc.findings, byHost, c, p)
	applyLittle(r.Hosts, cpu)
	sortFindings(r.OtherDiagnoses)
	sortFindings(r.ProcessDiagnoses)
	r.sortAndCapHosts()

	// CPU by flat time says which code burns the CPU; wall-clock by
	// cumulative time says where requests spend their time (flat, nearly
	// everything is runtime.gopark).
	r.TopCPU = topTable(snapshot.ProfileCPU, c.Profile(snapshot.ProfileCPU), p.CPU, OrderFlat)
	r.TopWall = topTable(snapshot.ProfileWall, c.Profile(snapshot.ProfileWall), p.Wall, OrderCum)
	r.Hot = buildHot(c, p)
	r.Runtime = runtimeSummary(c)
	r.CPU = cpu
	return r, nil
}

// newReport returns the report's header: what capture c recorded, how,
// and the files of its profiles (only those of the capture directory).
func newReport(c *capture.Capture) *Report {
	r := &Report{
		Version:               Version,
		Program:               c.Program,
		PID:                   c.PID,
		Target:                c.Target,
		Start:                 c.Start,
		End:                   c.End,
		Seconds:               round3(c.End.Sub(c.Start).Seconds()),
		RequestedSeconds:      c.RequestedSeconds,
		IntervalSeconds:       c.IntervalSeconds,
		Snapshots:             len(c.Snapshots),
		Canceled:              c.Canceled,
		ProfileMode:           c.ProfileMode,
		Profiles:              slices.Clone(c.Profiles),
		TargetWaitProbability: TargetWaitProbability,
		Errors:                slices.Clone(c.Errors),
		Baseline:              c.Baseline,
	}
	if r.Profiles == nil {
		r.Profiles = []capture.ProfileInfo{}
	}
	for i := range r.Profiles {
		pi := &r.Profiles[i]
		pi.File, pi.FlameGraph, pi.Folded = localFile(pi.File), localFile(pi.FlameGraph), localFile(pi.Folded)
	}
	return r
}

// snapshotScan is what one pass over a capture's snapshots gathers: an
// accumulator per host and a finding per diagnosis (kind, client and
// host), each in the order it first appeared.
type snapshotScan struct {
	hosts    []*hostAcc
	findings []*Finding
}

// scanSnapshots accumulates every host and diagnosis of c's snapshots;
// it gives up with ctx's error when ctx is done.
func scanSnapshots(ctx context.Context, c *capture.Capture) (snapshotScan, error) {
	var sc snapshotScan
	accs := map[string]*hostAcc{}
	findings := map[string]*Finding{}
	for si := range c.Snapshots {
		if err := ctx.Err(); err != nil {
			return snapshotScan{}, err
		}
		s := &c.Snapshots[si]
		t := s.Time.Sub(c.Start).Seconds()
		for hi := range s.Hosts {
			h := &s.Hosts[hi]
			k := capture.HostKey(h.Client, h.Scheme, h.Host)
			a := accs[k]
			if a == nil {
				a = &hostAcc{first: si}
				accs[k] = a
				sc.hosts = append(sc.hosts, a)
			}
			a.add(si, t, h)
		}
		for _, d := range s.Diagnoses {
			k := string(d.Kind) + "\x00" + d.Client + "\x00" + d.Host
			f := findings[k]
			if f == nil {
				f = &Finding{FirstSeen: round3(t)}
				findings[k] = f
				sc.findings = append(sc.findings, f)
			}
			f.observe(d, t)
		}
	}
	return sc, nil
}

// observe records that a snapshot at offset t showed diagnosis d: f
// takes d's latest text and figures, keeps the worst severity seen and
// counts the snapshot.
func (f *Finding) observe(d snapshot.Diagnosis, t float64) {
	worst := f.Severity
	f.Diagnosis = d
	if f.Snapshots > 0 && worst.Rank() > d.Severity.Rank() {
		f.Severity = worst
	}
	f.Snapshots++
	f.LastSeen = round3(t)
}

// addHosts sets r.Hosts to the report of each accumulated host, in
// order, and returns the index in r.Hosts of each client and host (the
// first with any scheme: diagnoses name none); it gives up with ctx's
// error when ctx is done.
func (r *Report) addHosts(ctx context.Context, c *capture.Capture, accs []*hostAcc) (map[string]int, error) {
	conns := connsByHost(c)
	r.Hosts = make([]HostReport, 0, len(accs))
	byHost := map[string]int{}
	for _, a := range accs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hr := a.report(c, conns)
		if _, ok := byHost[hr.Client+"\x00"+hr.Host]; !ok {
			byHost[hr.Client+"\x00"+hr.Host] = len(r.Hosts)
		}
		r.Hosts = append(r.Hosts, hr)
	}
	return byHost, nil
}

// connsByHost returns c's connections by client and host.
func connsByHost(c *capture.Capture) map[string][]*capture.ConnRecord {
	conns := map[string][]*capture.ConnRecord{}
	for i := range c.Conns {
		cn := &c.Conns[i]
		conns[cn.Client+"\x00"+cn.Host] = append(conns[cn.Client+"\x00"+cn.Host], cn)
	}
	return conns
}

// placeFindings files each finding under the process, its host (byHost:
// see addHosts) or the other hosts, and sorts each host's findings; a
// gc_pressure finding gets the heap profile's top allocations.
func (r *Report) placeFindings(findings []*Finding, byHost map[string]int, c *capture.Capture, p capture.Profiles) {
	for _, f := range findings {
		if f.Kind == snapshot.KindGCPressure {
			f.Allocations = allocations(c, p.Heap)
		}
		switch i, ok := byHost[f.Client+"\x00"+f.Host]; {
		case f.Process():
			r.ProcessDiagnoses = append(r.ProcessDiagnoses, *f)
		case ok:
			r.Hosts[i].Diagnoses = append(r.Hosts[i].Diagnoses, *f)
		default:
			r.OtherDiagnoses = append(r.OtherDiagnoses, *f)
		}
	}
	for i := range r.Hosts {
		sortFindings(r.Hosts[i].Diagnoses)
	}
}

// applyLittle fills in each host's Little's law and what binds first,
// each host's CPU ceiling net of the other hosts' traffic (the requests
// of dial-only hosts are not seen, so they count for none).
func applyLittle(hosts []HostReport, cpu *CPU) {
	var allRPS float64
	for i := range hosts {
		if !hosts[i].DialOnly {
			allRPS += hosts[i].RPS
		}
	}
	for i := range hosts {
		hr := &hosts[i]
		others := allRPS
		if !hr.DialOnly {
			others -= hr.RPS
		}
		little(hr, hr.Pool.knownLimit(), cpu, others)
	}
}

// sortAndCapHosts orders the hosts most severe diagnosis first, then
// busiest, then by label, and keeps the first MaxHosts.
func (r *Report) sortAndCapHosts() {
	slices.SortStableFunc(r.Hosts, func(a, b HostReport) int {
		return cmp.Or(
			cmp.Compare(worstSeverity(b.Diagnoses), worstSeverity(a.Diagnoses)),
			cmp.Compare(b.RPS, a.RPS),
			strings.Compare(hostLabel(a.Client, a.Scheme, a.Host), hostLabel(b.Client, b.Scheme, b.Host)),
		)
	})
	if len(r.Hosts) > MaxHosts {
		r.HostsOmitted = len(r.Hosts) - MaxHosts
		r.Hosts = slices.Clip(r.Hosts[:MaxHosts])
	}
}

// hostAcc accumulates one host's snapshots.
type hostAcc struct {
	first, lastIdx int // indexes of the first and last snapshot listing the host
	firstHost      *snapshot.Host
	last           *snapshot.Host
	samples        Samples

	latency, connWait quantilesAcc

	peakOpen, peakWaiting, peakInFlight      int
	peakLeaked                               int
	sumOpen, sumActive, sumIdle, sumInFlight float64
	sumAvgWaiting, sumHandshaking            float64
	// Memory of the snapshots with connections open, and those
	// connections.
	memBytes, tlsMemBytes, memOpen int64
}

// quantilesAcc gathers the percentiles of the snapshots that measured
// something, for Quantiles.
type quantilesAcc struct {
	p50, p95, p99 []float64
	worstP99, max float64
}

func (q *quantilesAcc) add(p snapshot.Percentiles) {
	if p.Count == 0 {
		return
	}
	q.p50 = append(q.p50, p.P50)
	q.p95 = append(q.p95, p.P95)
	q.p99 = append(q.p99, p.P99)
	q.worstP99 = max(q.worstP99, p.P99)
	q.max = max(q.max, p.Max)
}

// quantiles is the median of each percentile over the snapshots, with
// the worst p99 and the largest maximum.
func (q *quantilesAcc) quantiles() Quantiles {
	return Quantiles{P50: median(q.p50), P95: median(q.p95), P99: median(q.p99), WorstP99: q.worstP99, Max: q.max}
}

// add records the host as snapshot si (at offset t) showed it.
func (a *hostAcc) add(si int, t float64, h *snapshot.Host) {
	if a.firstHost == nil {
		a.firstHost = h
	}
	a.last, a.lastIdx = h, si
	sm := &a.samples
	sm.T = append(sm.T, round3(t))
	sm.LatencyN = append(sm.LatencyN, h.Latency.Count)
	sm.LatencyP50 = append(sm.LatencyP50, h.Latency.P50)
	sm.LatencyP95 = append(sm.LatencyP95, h.Latency.P95)
	sm.LatencyP99 = append(sm.LatencyP99, h.Latency.P99)
	sm.ConnWaitP50 = append(sm.ConnWaitP50, h.ConnWait.P50)
	sm.ConnWaitP95 = append(sm.ConnWaitP95, h.ConnWait.P95)
	sm.Open = append(sm.Open, h.Open)
	sm.Active = append(sm.Active, h.Active)
	sm.Idle = append(sm.Idle, h.Idle)
	sm.Handshaking = append(sm.Handshaking, h.Handshaking)
	sm.Waiting = append(sm.Waiting, h.Waiting)
	sm.InFlight = append(sm.InFlight, h.InFlight)
	sm.RPS = append(sm.RPS, h.RPS)
	sm.AvgWaiting = append(sm.AvgWaiting, h.AvgWaiting)
	sm.TLSMem = append(sm.TLSMem, h.TLSMemBytes)
	if h.Open > 0 {
		a.memBytes += h.MemBytes
		a.tlsMemBytes += h.TLSMemBytes
		a.memOpen += int64(h.Open)
	}
	a.latency.add(h.Latency)
	a.connWait.add(h.ConnWait)
	a.peakOpen = max(a.peakOpen, h.Open)
	a.peakWaiting = max(a.peakWaiting, h.Waiting)
	a.peakInFlight = max(a.peakInFlight, h.PeakInFlight, h.InFlight)
	a.peakLeaked = max(a.peakLeaked, h.LeakedBodies)
	a.sumHandshaking += float64(h.Handshaking)
	a.sumOpen += float64(h.Open)
	a.sumActive += float64(h.Active)
	a.sumIdle += float64(h.Idle)
	a.sumInFlight += float64(h.InFlight)
	a.sumAvgWaiting += h.AvgWaiting
}

// report computes the host's figures, all but Little's law (see
// little); conns holds the capture's connections by client and host.
func (a *hostAcc) report(c *capture.Capture, conns map[string][]*capture.ConnRecord) HostReport {
	h := a.last
	hr := a.snapshotFigures()
	// Rates and means: from the per-second series over the whole seconds
	// of the capture when there are any, else from the snapshots.
	tot := addPerSecond(&hr.PerSecond, c, h, hr.Pool.knownLimit())
	var span float64 // seconds the rates are over
	if hr.PerSecond.Len() > 0 {
		span = tot.setFromSeries(&hr)
	} else {
		span = a.setFromCounters(&hr, c)
	}
	if hr.DialOnly {
		a.setStarts(&hr, tot.started, span)
	}
	setRates(&hr, h, span)
	if a.first > 0 {
		hr.Churn.ClosedConns = h.ClosedConns // the host appeared during the capture
	} else {
		hr.Churn.ClosedConns = h.ClosedConns - a.firstHost.ClosedConns
	}
	hr.Handshakes, hr.Proto = handshakes(c, conns[h.Client+"\x00"+h.Host], hr.Churn.NewPerSecond)
	return hr
}

// snapshotFigures returns the host's report with what the snapshots give
// directly: who it is, when it was seen, the medians of its percentiles,
// its pool's occupancy and its connections' memory; PerSecond is empty.
func (a *hostAcc) snapshotFigures() HostReport {
	h := a.last
	n := float64(a.samples.Len())
	hr := HostReport{
		Client:        h.Client,
		Scheme:        h.Scheme,
		Host:          h.Host,
		Snapshots:     a.samples.Len(),
		FirstSeen:     a.samples.T[0],
		LastSeen:      a.samples.T[a.samples.Len()-1],
		WindowSeconds: h.WindowSeconds,
		Latency:       a.latency.quantiles(),
		ConnWait:      a.connWait.quantiles(),
		Pool: Pool{
			Limit:        h.MaxConnsPerHost,
			MaxIdle:      h.MaxIdleConnsPerHost,
			LimitsKnown:  h.LimitsKnown,
			PeakOpen:     a.peakOpen,
			MeanOpen:     round3(a.sumOpen / n),
			MeanActive:   round3(a.sumActive / n),
			MeanIdle:     round3(a.sumIdle / n),
			PeakWaiting:  a.peakWaiting,
			PeakInFlight: a.peakInFlight,
			PeakLeaked:   a.peakLeaked,

			MeanHandshaking: round3(a.sumHandshaking / n),
		},
		DialOnly:  h.DialOnly,
		Diagnoses: []Finding{},
		Samples:   a.samples,
		PerSecond: Seconds{
			T: []float64{}, Requests: []int64{}, Errors: []int64{}, NewConns: []int64{}, ReusedConns: []int64{},
			LatencyAvg: []float64{}, LatencyMax: []float64{}, AvgWaiting: []float64{}, AvgInFlight: []float64{}, Utilisation: []float64{},
		},
	}
	if a.memOpen > 0 {
		hr.Memory.PerConn = round3(float64(a.memBytes) / float64(a.memOpen))
		hr.Memory.TLSPerConn = round3(float64(a.tlsMemBytes) / float64(a.memOpen))
	}
	return hr
}

// seriesTotals sums a host's per-second series over the capture.
type seriesTotals struct {
	reqs, errs, news, reused int64
	ok                       int64 // requests that did not fail
	started                  int64
	// latSum and holdSum weigh each second's mean latency and holding
	// time by its successful requests; waitSum and flightSum add up each
	// second's mean waiting and in flight.
	latSum, waitSum, flightSum float64
	holdSum                    float64
}

// addPerSecond appends to ps the points of host h's per-second series
// that fall within the whole seconds of capture c, with the utilisation
// of a pool of limit connections (0: none, the utilisation is the mean
// in flight), and returns their totals.
func addPerSecond(ps *Seconds, c *capture.Capture, h *snapshot.Host, limit int) seriesTotals {
	var tot seriesTotals
	startSec := c.Start.Unix()
	end := float64(c.End.UnixNano()) / 1e9
	for _, p := range c.SeriesOf(h.Client, h.Scheme, h.Host) {
		if p.Time < startSec || float64(p.Time) >= end {
			continue
		}
		ps.T = append(ps.T, round3(float64(p.Time)-float64(c.Start.UnixNano())/1e9))
		ps.Requests = append(ps.Requests, p.Requests)
		ps.Errors = append(ps.Errors, p.Errors)
		ps.NewConns = append(ps.NewConns, p.NewConns)
		ps.ReusedConns = append(ps.ReusedConns, p.ReusedConns)
		ps.LatencyAvg = append(ps.LatencyAvg, p.LatencyAvgMs)
		ps.LatencyMax = append(ps.LatencyMax, p.LatencyMaxMs)
		ps.AvgWaiting = append(ps.AvgWaiting, p.AvgWaiting)
		ps.AvgInFlight = append(ps.AvgInFlight, p.AvgInFlight)
		util := p.AvgInFlight
		if limit > 0 {
			util = round3(p.AvgInFlight / float64(limit))
		}
		ps.Utilisation = append(ps.Utilisation, util)
		tot.reqs += p.Requests
		tot.started += p.Started
		tot.errs += p.Errors
		tot.news += p.NewConns
		tot.reused += p.ReusedConns
		tot.ok += p.Requests - p.Errors
		tot.latSum += p.LatencyAvgMs * float64(p.Requests-p.Errors)
		tot.holdSum += p.HoldAvgMs * float64(p.Requests-p.Errors)
		tot.waitSum += p.AvgWaiting
		tot.flightSum += p.AvgInFlight
	}
	return tot
}

// setFromSeries sets hr's counts, mean waiting and in flight, and
// Little's mean latency, wait and holding time from the per-second
// totals, and returns the seconds they cover. hr.PerSecond holds the
// series.
func (tot seriesTotals) setFromSeries(hr *HostReport) (span float64) {
	lt := &hr.Little
	secs := hr.PerSecond.Len()
	span = float64(secs)
	hr.Basis, hr.Seconds = BasisPerSecond, secs
	hr.Requests, hr.Errors = tot.reqs, tot.errs
	hr.Churn.NewConns, hr.Churn.ReusedConns = tot.news, tot.reused
	hr.Pool.MeanWaiting = round3(tot.waitSum / span)
	hr.Pool.MeanInFlight = round3(tot.flightSum / span)
	if tot.ok > 0 {
		lt.MeanLatency = round3(tot.latSum / float64(tot.ok))
		// W per request (latency minus its own wait), as
		// pool_saturated computes it; a capture taken before
		// the series carried it falls back to the difference of
		// the means (see little).
		lt.Service = round3(tot.holdSum / float64(tot.ok))
	}
	if got := tot.news + tot.reused; got > 0 {
		lt.MeanConnWait = round3(tot.waitSum * 1000 / float64(got))
	}
	return span
}

// setFromCounters sets hr's counts, mean waiting and in flight, and
// Little's mean latency and wait from the snapshots' counters, for a
// capture without a per-second series, and returns the seconds they
// cover.
func (a *hostAcc) setFromCounters(hr *HostReport, c *capture.Capture) (span float64) {
	h := a.last
	n := float64(a.samples.Len())
	// Counters since the host was first seen: the baseline is the
	// host's first snapshot, or zero at the snapshot before it when
	// the host appeared during the capture.
	base, baseT := a.firstHost, a.samples.T[0]
	if a.first > 0 {
		base = &snapshot.Host{}
		baseT = c.Snapshots[a.first-1].Time.Sub(c.Start).Seconds()
	}
	span = hr.LastSeen - baseT
	hr.Basis, hr.Seconds = BasisSnapshots, int(span)
	hr.Requests, hr.Errors = h.Requests-base.Requests, h.Errors-base.Errors
	hr.Churn.NewConns, hr.Churn.ReusedConns = h.NewConns-base.NewConns, h.ReusedConns-base.ReusedConns
	hr.Pool.MeanWaiting = round3(a.sumAvgWaiting / n)
	hr.Pool.MeanInFlight = round3(a.sumInFlight / n)
	// Medians stand in for the means the series would give.
	hr.Little.MeanLatency, hr.Little.MeanConnWait = hr.Latency.P50, hr.ConnWait.P50
	return span
}

// setStarts sets a dial-only host's requests started and their rate:
// started is the per-second series' count (see hr.Basis), span the
// seconds the rates are over (0: the last snapshot's rate stands).
func (a *hostAcc) setStarts(hr *HostReport, started int64, span float64) {
	h := a.last
	hr.RequestsStarted = started
	if hr.Basis == BasisSnapshots {
		hr.RequestsStarted = h.RequestsStarted
		if a.first == 0 {
			hr.RequestsStarted -= a.firstHost.RequestsStarted
		}
	}
	switch {
	case span > 0:
		hr.StartsPerSecond = round3(float64(hr.RequestsStarted) / span)
	default:
		hr.StartsPerSecond = round3(h.StartsPerSecond)
	}
}

// setRates sets hr's request, error and connection rates from its counts
// over span seconds, or, when span is 0 (one snapshot), from last, the
// host's last snapshot; and the share of requests on new connections.
func setRates(hr *HostReport, last *snapshot.Host, span float64) {
	if span > 0 {
		hr.RPS = round3(float64(hr.Requests) / span)
		hr.ErrorsPerSecond = round3(float64(hr.Errors) / span)
		hr.Churn.NewPerSecond = round3(float64(hr.Churn.NewConns) / span)
		hr.Churn.ReusedPerSecond = round3(float64(hr.Churn.ReusedConns) / span)
	} else {
		// One snapshot: its own rates are all there is.
		hr.RPS, hr.ErrorsPerSecond = round3(last.RPS), round3(last.ErrorsPerSecond)
		hr.Churn.NewPerSecond = round3(last.NewConnsPerSecond)
		hr.Churn.ReusedPerSecond = round3(max(last.RPS-last.NewConnsPerSecond, 0))
	}
	if got := hr.Churn.NewConns + hr.Churn.ReusedConns; got > 0 {
		hr.Churn.NewFraction = round3(float64(hr.Churn.NewConns) / float64(got))
	}
}

// handshakes summarises the set-up cost of a host's connections, and
// says which protocol they carried (see HostReport.Proto).
func handshakes(c *capture.Capture, conns []*capture.ConnRecord, newPerSecond float64) (Handshakes, string) {
	var hs Handshakes
	var dial, tls []float64
	proto := ""
	for _, cn := range conns {
		switch {
		case cn.Proto == "" || cn.Proto == proto:
		case proto == "":
			proto = cn.Proto
		default:
			proto = "mixed"
		}
		hs.Conns++
		if len(c.Snapshots) > 0 && cn.FirstSeen.After(c.Snapshots[0].Time) {
			hs.Opened++
		}
		if cn.DialMs > 0 {
			dial = append(dial, cn.DialMs)
		}
		if cn.TLS != nil {
			if cn.TLS.Resumed {
				hs.Resumed++
			}
			if cn.TLS.HandshakeMs > 0 {
				tls = append(tls, cn.TLS.HandshakeMs)
			}
		}
	}
	hs.Dial, hs.TLS = dist(dial), dist(tls)
	hs.SetupPerSecond = round3(newPerSecond * (hs.Dial.Mean + hs.TLS.Mean))
	return hs, proto
}

// little fills in hr.Little from the host's rates and means (already set:
// MeanLatency, MeanConnWait, and Service when the per-second series
// carried the holding time), its pool limit (0 for none), the process's
// CPU figures (nil when unknown) and the request rate of the other hosts.
func little(hr *HostReport, limit int, cpu *CPU, othersRPS float64) {
	if littleLoad(hr, cpu, othersRPS) {
		poolRelation(hr, limit)
		sizePool(hr, limit)
		expectChange(hr, cpu)
	}
	hr.Little.Verdict = verdict(hr, cpu)
}

// littleLoad sets what Little's law says of any host that made requests:
// λ, the CPU's ceiling, W when the series did not carry it, and the load
// λ·W. It reports whether the pool can be sized; when not (a dial-only
// host, whose requests are not seen, or HTTP/2), NotApplicable, Relation
// and Table say so.
func littleLoad(hr *HostReport, cpu *CPU, othersRPS float64) bool {
	lt := &hr.Little
	switch {
	case hr.DialOnly:
		// Nothing about the requests is known: no figure may stand in
		// for them.
		lt.NotApplicable = NotApplicableDialOnly
		lt.Relation, lt.Table = "unknown", []ErlangRow{}
		lt.MeanLatency, lt.MeanConnWait, lt.Service = 0, 0, 0
		return false
	case hr.Proto == "h2":
		lt.NotApplicable = NotApplicableHTTP2
	}
	lt.Lambda = hr.RPS
	lt.CPUCeilingRPS = bottleneck.HostCeiling(cpu.process(), othersRPS)
	if lt.Service <= 0 {
		lt.Service = round3(max(lt.MeanLatency-lt.MeanConnWait, 0))
	}
	lt.Load = round3(lt.Lambda * lt.Service / 1000)
	if lt.NotApplicable != "" {
		lt.Relation, lt.Table = "not applicable", []ErlangRow{}
		return false
	}
	return true
}

// poolRelation sets N, the pool's limit (0 for none), how the load
// compares with it and whether the pool is the bottleneck.
func poolRelation(hr *HostReport, limit int) {
	lt := &hr.Little
	lt.N = limit
	lt.Relation = "unlimited"
	if limit <= 0 {
		return
	}
	lt.Utilisation = round3(lt.Load / float64(limit))
	switch {
	case lt.Load < 0.95*float64(limit):
		lt.Relation = "below"
	case lt.Load <= 1.05*float64(limit):
		lt.Relation = "at"
	default:
		lt.Relation = "above"
	}
	// The pool is the bottleneck when requests queue for it: a pool
	// that runs full while nobody waits (a closed loop of as many
	// workers as connections) is sized right, and the workers are
	// the limit. The threshold is pool_saturated's (poolstats).
	lt.Saturated = hr.Pool.PeakOpen >= limit && hr.Pool.MeanWaiting >= 0.5
}

// sizePool sets the demand on the pool, the M/M/N queue's figures at the
// pool's limit (0 for none), the Erlang-C and the recommended pool sizes
// and the table of sizes around them.
func sizePool(hr *HostReport, limit int) {
	lt := &hr.Little
	lt.Demand = lt.Load
	leaking := hr.Pool.PeakLeaked > 0
	if lt.Saturated && !leaking {
		// A pool saturated by leaked bodies queues requests that a pool
		// without the leak would serve at once: the queue is no demand.
		lt.Demand = max(lt.Load, hr.Pool.MeanInFlight)
	}
	if limit > 0 && lt.Demand > 0 {
		lt.Stable = float64(limit) > lt.Demand
		lt.PWait = round3(ErlangC(limit, lt.Demand))
		if lt.Stable {
			lt.MeanWait = round3(MeanWait(limit, lt.Demand, lt.Service))
		}
	}
	lt.ErlangN = PoolFor(lt.Demand, TargetWaitProbability)
	lt.Recommended = lt.ErlangN
	if peak := hr.Pool.PeakInFlight; peak > 0 && peak < lt.Recommended && !leaking {
		// No more requests than the peak were ever in flight at once
		// (every snapshot's window is covered), so that many connections
		// serve them all without waiting, whatever the M/M/N model says
		// of an open stream of arrivals. The mean in flight can read a
		// little above the peak (it is derived per second from the
		// latency of the requests that completed in it; a slowed-down
		// program shows it): the peak is what the workers issue. With
		// bodies leaking, the peak counts requests whose connection an
		// unread body holds: not a cap.
		lt.Recommended = peak
		lt.Capped = true
	}
	lt.Table = erlangTable(lt.Demand, lt.Service, limit, lt.ErlangN, lt.Recommended)
}

// expectChange sets which limit binds first after the recommended change
// of pool, the pool or the CPU (cpu, nil when unknown), and, when the
// change raises the limit, what it should bring.
func expectChange(hr *HostReport, cpu *CPU) {
	lt := &hr.Little
	change, ok := poolChange(hr, cpu)
	if !ok {
		return
	}
	if pc := change.PoolRPS(); lt.CPUCeilingRPS > 0 && pc > 0 {
		lt.Binds = "pool"
		if change.CPUBinds() {
			lt.Binds = "cpu"
		}
	}
	if lt.N > 0 && lt.Recommended > lt.N {
		lt.ExpectedRPS, lt.ExpectedP95Ms = round3(change.ExpectedRPS()), round3(change.ExpectedP95Ms())
		lt.ExpectedMeanLatencyMs = round3(change.ExpectedMeanLatencyMs())
	}
}

// poolChange is the change of pool the host's figures advise (from N to
// Recommended; from the peak open when N is 0), with the CPU's ceiling;
// ok is false when W is unknown.
func poolChange(hr *HostReport, cpu *CPU) (bottleneck.PoolChange, bool) {
	lt := &hr.Little
	if lt.Service <= 0 {
		return bottleneck.PoolChange{}, false
	}
	from := lt.N
	if from <= 0 {
		from = hr.Pool.PeakOpen
	}
	c := bottleneck.PoolChange{
		From: from, To: lt.Recommended, HoldMs: lt.Service, RPS: lt.Lambda,
		LatencyP95Ms: hr.Latency.P95, ConnWaitP95Ms: hr.ConnWait.P95,
		CPUCeilingRPS: lt.CPUCeilingRPS, CPUBreakdown: cpu.topCode(),
	}
	if cpu != nil {
		c.CPUPerRequestMs, c.Cores = cpu.CPUPerRequestMs, cpu.Cores
	}
	return c, true
}

// erlangTable returns the M/M/N queue at a few pool sizes around the
// current (n), the Erlang-C (en) and the recommended (rec) one.
func erlangTable(a, w float64, n, en, rec int) []ErlangRow {
	if a <= 0 {
		return []ErlangRow{}
	}
	lo := ceilInt(math.Floor(a) + 1)
	sizes := []int{lo, lo + 1, n, rec, en - 1, en, en + 1}
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	rows := make([]ErlangRow, 0, len(sizes))
	for _, s := range sizes {
		if s < lo || float64(s) <= a { // below lo, or lo + 1 overflowed
			continue
		}
		rows = append(rows, ErlangRow{N: s, PWait: round3(ErlangC(s, a)), MeanWait: round3(MeanWait(s, a, w))})
	}
	return rows
}

// localFile returns name when it names a file of the capture directory
// (capture.IsFileName), else "": the report links nothing else, whatever
// capture.json says.
func localFile(name string) string {
	if capture.IsFileName(name) {
		return name
	}
	return ""
}

// ceilInt returns ⌈v⌉ as an int, math.MaxInt when it is larger (or NaN):
// a conversion out of range would give any value.
func ceilInt(v float64) int {
	if !(v < math.MaxInt) {
		return math.MaxInt
	}
	return int(math.Ceil(v))
}

// Orders of a TopTable.
const (
	OrderFlat = "flat"
	OrderCum  = "cum"
)

// topTable returns the top functions of p in the given order, or nil when
// p is nil.
func topTable(kind snapshot.ProfileKind, info *capture.ProfileInfo, p *profile.Profile, order string) *TopTable {
	if p == nil {
		return nil
	}
	idx, err := flame.SampleIndex(p, "")
	if err != nil {
		return nil
	}
	t := &TopTable{
		Kind:       kind,
		SampleType: p.SampleType[idx].Type,
		Unit:       p.SampleType[idx].Unit,
		Seconds:    round3(float64(p.DurationNanos) / 1e9),
		Order:      order,
		Funcs:      []TopFunc{},
	}
	if info != nil {
		t.Profile, t.FlameGraph = localFile(info.File), localFile(info.FlameGraph)
	}
	for _, s := range p.Sample {
		if idx < len(s.Value) {
			// Saturated: a sum past MaxInt64 would turn the total
			// negative.
			if v := s.Value[idx]; v > 0 && t.Total > math.MaxInt64-v {
				t.Total = math.MaxInt64
			} else {
				t.Total += v
			}
		}
	}
	var funcs []flame.Func
	if order == OrderCum {
		funcs = flame.Top(p, idx, 0)
		slices.SortStableFunc(funcs, func(a, b flame.Func) int {
			return cmp.Or(cmp.Compare(b.Cum, a.Cum), cmp.Compare(b.Flat, a.Flat), strings.Compare(a.Name, b.Name))
		})
		funcs = funcs[:min(len(funcs), topN)]
	} else {
		funcs = flame.Top(p, idx, topN)
	}
	for _, f := range funcs {
		t.Funcs = append(t.Funcs, TopFunc{
			Name: f.Name, Flat: f.Flat, FlatPct: round3(f.FlatPct), Cum: f.Cum, CumPct: round3(f.CumPct),
		})
	}
	return t
}

// median returns the median of vs (the mean of the middle two for an even
// count), or 0 for none. vs is sorted in place.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return round3(vs[m])
	}
	return round3((vs[m-1] + vs[m]) / 2)
}

// dist summarises vs with nearest-rank percentiles. vs is sorted in place.
func dist(vs []float64) Dist {
	if len(vs) == 0 {
		return Dist{}
	}
	slices.Sort(vs)
	var sum float64
	for _, v := range vs {
		sum += v
	}
	rank := func(q float64) float64 {
		return vs[max(int(math.Ceil(q*float64(len(vs))))-1, 0)]
	}
	return Dist{
		N:    len(vs),
		Mean: round3(sum / float64(len(vs))),
		P50:  round3(rank(0.50)),
		P95:  round3(rank(0.95)),
		Max:  round3(vs[len(vs)-1]),
	}
}

// worstSeverity returns the rank of the most severe finding.
func worstSeverity(fs []Finding) int {
	w := 0
	for _, f := range fs {
		w = max(w, f.Severity.Rank())
	}
	return w
}

// sortFindings orders findings most severe first, then by kind.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(a.Kind, b.Kind),
			strings.Compare(a.Host, b.Host),
		)
	})
}

// round3 rounds v to three decimals, so that report.json holds the figures
// the report shows rather than float noise.
func round3(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return math.Round(v*1000) / 1000
}
