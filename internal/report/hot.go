package report

import (
	"slices"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// How many entries the hot tables keep.
const (
	hotCode       = 15 // functions of the code view
	hotPackages   = 12 // packages
	hotWaitFuncs  = 5  // functions per kind of wait
	hotContention = 10 // contended call sites per profile
)

// Hot is where the program's time goes, in its own terms (package flame's
// attribution): its CPU by code, package and kind of work, where its HTTP
// requests wait, and where its goroutines contend.
type Hot struct {
	// CPU is the CPU profile summed up; nil without a CPU profile.
	CPU *HotCPU `json:"cpu,omitempty"`
	// Waits is the wall-clock profile of the requests' goroutines; nil
	// without a wall-clock profile.
	Waits *HotWaits `json:"waits,omitempty"`
	// Contention holds the block and the mutex profile's top call sites,
	// in that order, for those the capture took.
	Contention []ContentionTable `json:"contention,omitempty"`
}

// HotCPU is a CPU profile's attribution (flame.Attribution): shares are
// percentages of all the CPU profiled, httptop's own included.
type HotCPU struct {
	Profile    string  `json:"profile"`
	Seconds    float64 `json:"seconds"`
	SampleType string  `json:"sample_type"`
	Unit       string  `json:"unit"`
	Total      int64   `json:"total"`
	// Httptop is what httptop itself cost (its agent, the probe's
	// bookkeeping), left out of Code and Packages.
	Httptop    int64   `json:"httptop"`
	HttptopPct float64 `json:"httptop_pct"`
	// Code, Packages and Categories are the views, cut to their first
	// entries (Categories: all of them).
	Code       []flame.Entry `json:"code"`
	Packages   []flame.Entry `json:"packages"`
	Categories []flame.Entry `json:"categories"`
}

// HotWaits is where the goroutines of the program's HTTP requests spend
// their wall-clock time (flame.Waits).
type HotWaits struct {
	Profile string  `json:"profile"`
	Seconds float64 `json:"seconds"`
	// Total is the time of every goroutine; Requests that of the
	// goroutines inside an HTTP call or issuing them, and RequestsPct its
	// share of Total.
	Total       int64   `json:"total"`
	Requests    int64   `json:"requests"`
	RequestsPct float64 `json:"requests_pct"`
	// Buckets are the kinds of wait, in the order of flame.WaitKinds,
	// each with its first functions of the program's code.
	Buckets []flame.WaitBucket `json:"buckets"`
}

// ContentionTable is a block or mutex profile's top call sites.
type ContentionTable struct {
	Kind    snapshot.ProfileKind `json:"kind"`
	Profile string               `json:"profile"`
	Seconds float64              `json:"seconds"`
	// Total is the delay of every wait (nanoseconds) but httptop's own.
	Total int64        `json:"total"`
	Sites []flame.Site `json:"sites"`
}

// Runtime summarises the Go runtime's figures of the snapshots (see
// snapshot.Process): the median and the largest value over the snapshots
// that carried them.
type Runtime struct {
	Snapshots          int         `json:"snapshots"`
	GCCPUPercent       MedianRange `json:"gc_cpu_percent"`
	SchedLatencyP99Ms  MedianRange `json:"sched_latency_p99_ms"`
	MutexWaitPerSecond MedianRange `json:"mutex_wait_per_s"`
	RunnableGoroutines MedianRange `json:"runnable_goroutines"`
}

// MedianRange is the median and the maximum of a figure over snapshots.
type MedianRange struct {
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// buildHot sums up the capture's profiles in the program's terms.
func buildHot(c *capture.Capture, p capture.Profiles) *Hot {
	h := &Hot{}
	if p.CPU != nil {
		if a, err := flame.Attribute(p.CPU, -1, c.Modules); err == nil {
			h.CPU = &HotCPU{
				Profile:    fileOf(c, snapshot.ProfileCPU),
				Seconds:    round3(float64(p.CPU.DurationNanos) / 1e9),
				SampleType: a.SampleType, Unit: a.Unit, Total: a.Total,
				Httptop: a.Httptop, HttptopPct: round3(a.HttptopPct),
				Code:       roundEntries(a.Code, hotCode),
				Packages:   roundEntries(a.Packages, hotPackages),
				Categories: roundEntries(a.Categories, 0),
			}
		}
	}
	if p.Wall != nil {
		if w, err := flame.AttributeWaits(p.Wall, -1, c.Modules); err == nil {
			hw := &HotWaits{
				Profile: fileOf(c, snapshot.ProfileWall), Seconds: round3(w.Seconds),
				Total: w.Total, Requests: w.Requests, RequestsPct: round3(pct(w.Requests, w.Total)),
			}
			for _, b := range w.Buckets {
				b.Pct, b.Goroutines = round3(b.Pct), round3(b.Goroutines)
				b.Funcs = roundEntries(b.Funcs, hotWaitFuncs)
				hw.Buckets = append(hw.Buckets, b)
			}
			h.Waits = hw
		}
	}
	for _, k := range []struct {
		kind snapshot.ProfileKind
		p    *profile.Profile
	}{{snapshot.ProfileBlock, p.Block}, {snapshot.ProfileMutex, p.Mutex}} {
		if k.p == nil {
			continue
		}
		sites, total, err := flame.Contention(k.p, c.Modules, hotContention)
		if err != nil {
			continue
		}
		for i := range sites {
			sites[i].Pct = round3(sites[i].Pct)
		}
		h.Contention = append(h.Contention, ContentionTable{
			Kind: k.kind, Profile: fileOf(c, k.kind), Seconds: round3(float64(k.p.DurationNanos) / 1e9),
			Total: total, Sites: sites,
		})
	}
	if h.CPU == nil && h.Waits == nil && h.Contention == nil {
		return nil
	}
	return h
}

// fileOf names the file of a capture's profile of the given kind.
func fileOf(c *capture.Capture, kind snapshot.ProfileKind) string {
	if pi := c.Profile(kind); pi != nil {
		return pi.File
	}
	return ""
}

// roundEntries returns the first n entries (all when n <= 0) with their
// shares rounded for report.json.
func roundEntries(es []flame.Entry, n int) []flame.Entry {
	if n > 0 && len(es) > n {
		es = es[:n]
	}
	out := slices.Clone(es)
	if out == nil {
		out = []flame.Entry{}
	}
	for i := range out {
		out[i].Pct, out[i].CumPct = round3(out[i].Pct), round3(out[i].CumPct)
	}
	return out
}

// pct is part as a percentage of total, 0 when total is 0.
func pct(part, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(part) / float64(total)
}

// runtimeSummary sums up the runtime figures of the snapshots; nil when
// none carried process figures.
func runtimeSummary(c *capture.Capture) *Runtime {
	var gc, lat, mw, run []float64
	for i := range c.Snapshots {
		pr := c.Snapshots[i].Process
		if pr == nil {
			continue
		}
		gc = append(gc, pr.GCCPUPercent)
		lat = append(lat, pr.SchedLatencyP99Ms)
		mw = append(mw, pr.MutexWaitPerSecond)
		run = append(run, float64(pr.RunnableGoroutines))
	}
	if len(gc) == 0 {
		return nil
	}
	mr := func(vs []float64) MedianRange {
		m := slices.Max(vs)
		return MedianRange{Median: median(vs), Max: round3(m)}
	}
	return &Runtime{
		Snapshots: len(gc), GCCPUPercent: mr(gc), SchedLatencyP99Ms: mr(lat),
		MutexWaitPerSecond: mr(mw), RunnableGoroutines: mr(run),
	}
}
