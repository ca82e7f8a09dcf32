package report

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/bottleneck"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// How many entries the CPU tables keep.
const (
	cpuCode        = 8 // functions of the requests' CPU
	allocHotSpots  = 5 // allocating functions of a gc_pressure finding
	windowSlackSec = 0.5
)

// CPU is what the program's HTTP requests cost of its CPU and where the
// CPU stops its throughput, from the snapshots' process figures (see
// snapshot.Process) and, when captured, the CPU profile.
type CPU struct {
	// Snapshots is how many snapshots the figures come from: those whose
	// window lies within the capture (all of them when none does).
	Snapshots int `json:"snapshots"`
	// GOMAXPROCS, CPULimitCores and Cores are the last snapshot's: the
	// cores the process may use (the least of GOMAXPROCS, its CPUs and
	// the cgroup's limit).
	GOMAXPROCS    int     `json:"gomaxprocs"`
	CPULimitCores float64 `json:"cpu_limit_cores,omitempty"`
	Cores         float64 `json:"cores"`
	// Used is the CPU the process used over each snapshot's window, in
	// cores.
	Used MedianRange `json:"used_cores"`
	// RequestsPerSecond is the rate of all hosts' requests: the median
	// over the same windows.
	RequestsPerSecond float64 `json:"requests_per_s"`
	// CPUPerRequestMs is the median of the snapshots' CPU per request
	// (all the process's CPU over their window ÷ its requests), and
	// CeilingRPS what Cores allow at that cost.
	CPUPerRequestMs float64 `json:"cpu_per_request_ms"`
	CeilingRPS      float64 `json:"ceiling_rps"`
	// SchedLatencyP99Ms and GCCPUPercent are the window figures the
	// diagnoses read: scheduling latency p99 and the GC's share of the
	// runtime's CPU.
	SchedLatencyP99Ms MedianRange `json:"sched_latency_p99_ms"`
	GCCPUPercent      MedianRange `json:"gc_cpu_percent"`
	// Profile is the CPU profile's account of the requests; nil without
	// a CPU profile.
	Profile *RequestProfile `json:"profile,omitempty"`
}

// RequestProfile is the part of the capture's CPU profile its HTTP
// requests cost (flame.AttributeRequests).
type RequestProfile struct {
	Profile string  `json:"profile"`
	Seconds float64 `json:"seconds"`
	// Requests is how many requests the hosts completed while it ran.
	Requests float64 `json:"requests"`
	// CoresUsed is the profile's CPU ÷ its duration.
	CoresUsed float64 `json:"cores_used"`
	// CPUPerRequestMs is all the profile's CPU ÷ Requests, and
	// RequestCPUPerRequestMs the requests' part of it ÷ Requests.
	CPUPerRequestMs        float64 `json:"cpu_per_request_ms"`
	RequestCPUPerRequestMs float64 `json:"request_cpu_per_request_ms"`
	// RequestsPct and HttptopPct are the requests' and httptop's shares
	// of the profile's CPU.
	RequestsPct float64 `json:"requests_pct"`
	HttptopPct  float64 `json:"httptop_pct"`
	// Code and Categories are the requests' CPU by the program's code
	// and by kind of work; Pct is a share of the requests' CPU.
	Code       []flame.Entry `json:"code"`
	Categories []flame.Entry `json:"categories"`
}

// cpuSummary sums up the process figures of c's snapshots and its CPU
// profile; nil when no snapshot carries the CPU figures (a capture of an
// agent older than them).
func cpuSummary(c *capture.Capture, p capture.Profiles) *CPU {
	var inside, all []*snapshot.Process
	var last *snapshot.Process
	for i := range c.Snapshots {
		s := &c.Snapshots[i]
		pr := s.Process
		if pr == nil || pr.Cores <= 0 || pr.CPUWindowSeconds <= 0 {
			continue
		}
		all = append(all, pr)
		last = pr
		if s.Time.Sub(c.Start).Seconds()+windowSlackSec >= pr.CPUWindowSeconds {
			inside = append(inside, pr)
		}
	}
	if len(all) == 0 {
		return nil
	}
	if len(inside) == 0 {
		inside = all
	}
	col := func(f func(*snapshot.Process) float64) []float64 {
		vs := make([]float64, len(inside))
		for i, pr := range inside {
			vs[i] = f(pr)
		}
		return vs
	}
	mr := func(vs []float64) MedianRange { return MedianRange{Median: median(vs), Max: round3(slices.Max(vs))} }
	out := &CPU{
		Snapshots:  len(inside),
		GOMAXPROCS: last.GOMAXPROCS, CPULimitCores: last.CPULimitCores, Cores: last.Cores,
		Used:              mr(col(func(pr *snapshot.Process) float64 { return pr.WindowCPUPercent / 100 })),
		SchedLatencyP99Ms: mr(col(func(pr *snapshot.Process) float64 { return pr.WindowSchedLatencyP99Ms })),
		GCCPUPercent:      mr(col(func(pr *snapshot.Process) float64 { return pr.WindowGCCPUPercent })),
	}
	out.RequestsPerSecond = median(col(func(pr *snapshot.Process) float64 { return pr.RequestsPerSecond }))
	var cprs []float64
	for _, pr := range inside {
		if pr.CPUPerRequestMs > 0 {
			cprs = append(cprs, pr.CPUPerRequestMs)
		}
	}
	if len(cprs) > 0 {
		out.CPUPerRequestMs = median(cprs)
		out.CeilingRPS = round3(out.Cores * 1000 / out.CPUPerRequestMs)
	}
	if p.CPU != nil {
		out.Profile = requestProfile(c, p.CPU)
	}
	return out
}

// requestProfile accounts for the requests' CPU in the CPU profile.
func requestProfile(c *capture.Capture, p *profile.Profile) *RequestProfile {
	a, err := flame.AttributeRequests(p, -1, c.Modules)
	if err != nil || a.Total == 0 {
		return nil
	}
	secs := float64(p.DurationNanos) / 1e9
	rp := &RequestProfile{
		Profile: fileOf(c, snapshot.ProfileCPU), Seconds: round3(secs),
		Requests:    round3(c.RequestsDuring(c.Profile(snapshot.ProfileCPU))),
		RequestsPct: round3(pct(a.Requests, a.Total)), HttptopPct: round3(pct(a.Httptop, a.Total)),
		Code: roundEntries(a.Code, cpuCode), Categories: roundEntries(a.Categories, 0),
	}
	toMs := 1e-6 // nanoseconds
	if a.Unit != "nanoseconds" {
		toMs = 0
	}
	if secs > 0 && toMs > 0 {
		rp.CoresUsed = round3(float64(a.Total) * toMs / 1000 / secs)
	}
	if rp.Requests > 0 && toMs > 0 {
		rp.CPUPerRequestMs = round3(float64(a.Total) * toMs / rp.Requests)
		rp.RequestCPUPerRequestMs = round3(float64(a.Requests) * toMs / rp.Requests)
	}
	return rp
}

// process returns the process figures a host's CPU ceiling is computed
// from: the cores, the median CPU used, requests per second and CPU per
// request; nil without them.
func (c *CPU) process() *snapshot.Process {
	if c == nil || c.CPUPerRequestMs <= 0 {
		return nil
	}
	return &snapshot.Process{Cores: c.Cores, WindowCPUPercent: c.Used.Median * 100, CPUPerRequestMs: c.CPUPerRequestMs,
		RequestsPerSecond: c.RequestsPerSecond}
}

// topCode is the request CPU's largest function of the program, as "of
// which 62% is main.sign": its share of all the process's CPU per
// request. It is "" without a profile or such a function.
func (c *CPU) topCode() string {
	if c == nil || c.Profile == nil || c.Profile.CPUPerRequestMs <= 0 {
		return ""
	}
	rp := c.Profile
	for _, e := range rp.Code {
		if e.IsCategory() {
			continue
		}
		share := e.Pct * rp.RequestCPUPerRequestMs / rp.CPUPerRequestMs
		return fmt.Sprintf("of which %s is %s", fmtPctValue(share), e.Name)
	}
	return ""
}

// schedNote says, next to latency figures, how much of them the Go
// scheduler may account for; "" when it is small.
func (c *CPU) schedNote() string {
	if c == nil || !bottleneck.InflatesLatency(c.SchedLatencyP99Ms.Max) {
		return ""
	}
	return fmt.Sprintf("Goroutines waited up to %s for a thread (scheduler latency p99, median %s over the snapshots): every latency here includes that wait (see scheduler_latency).",
		fmtMs(c.SchedLatencyP99Ms.Max), fmtMs(c.SchedLatencyP99Ms.Median))
}

// allocations returns the program's functions that allocate the most,
// from a heap profile's alloc_space (since the program started), for a
// gc_pressure finding; nil without a heap profile.
func allocations(c *capture.Capture, heap *profile.Profile) []flame.Entry {
	if heap == nil {
		return nil
	}
	idx, err := flame.SampleIndex(heap, "alloc_space")
	if err != nil {
		return nil
	}
	a, err := flame.Attribute(heap, idx, c.Modules)
	if err != nil {
		return nil
	}
	var out []flame.Entry
	for _, e := range a.Code {
		if !e.IsCategory() {
			out = append(out, e)
		}
	}
	return roundEntries(out, allocHotSpots)
}

// cpuLimitCell is a host's CPU limit in the pool sizing table: "~551
// req/s (binds)", or "–" when unknown.
func cpuLimitCell(lt *Little) string {
	if lt.CPUCeilingRPS <= 0 {
		return "–"
	}
	s := "~" + fmtWhole(lt.CPUCeilingRPS) + " req/s"
	if lt.Binds == "cpu" {
		s += " (binds)"
	}
	return s
}

// allocText lists allocating functions with their shares.
func allocText(es []flame.Entry, code func(string) string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = code(e.Name) + " " + fmtPctValue(e.Pct)
	}
	return strings.Join(parts, ", ")
}

// lines are the sentences of the CPU section, shared by report.md and
// report.html.
func (c *CPU) lines() []string {
	var out []string
	cores := fmtCores(c.Cores)
	var limits []string
	limits = append(limits, fmt.Sprintf("GOMAXPROCS %d", c.GOMAXPROCS))
	if c.CPULimitCores > 0 {
		limits = append(limits, "cgroup limit "+fmtCores(c.CPULimitCores))
	}
	s := fmt.Sprintf("The process may use %s (%s); over %s it used %s cores (median; up to %s).",
		cores, strings.Join(limits, ", "), plural(c.Snapshots, "snapshot's window", "snapshots' windows"), fmtRate(c.Used.Median), fmtRate(c.Used.Max))
	if c.CPUPerRequestMs > 0 {
		s += fmt.Sprintf(" Its requests (%s req/s over all hosts) cost %s of CPU each: all its CPU ÷ its requests, so the most it can issue is ~%s req/s.",
			fmtNum(c.RequestsPerSecond), fmtMs(c.CPUPerRequestMs), fmtWhole(c.CeilingRPS))
		if bottleneck.CPUBound(c.Used.Median, c.Cores) {
			s += " It is at that limit now."
		}
	}
	out = append(out, s)
	s = fmt.Sprintf("Goroutines waited up to %s for a thread (scheduler latency p99; median %s); the GC took %s of the runtime's CPU (median; up to %s).",
		fmtMs(c.SchedLatencyP99Ms.Max), fmtMs(c.SchedLatencyP99Ms.Median), fmtPctValue(c.GCCPUPercent.Median), fmtPctValue(c.GCCPUPercent.Max))
	out = append(out, s)
	if rp := c.Profile; rp != nil {
		s = fmt.Sprintf("The CPU profile (%s, %s cores on average) puts %s of the CPU in the work of the requests: the code that issues them and reads their answers, the HTTP client and its connections (httptop itself: %s; the rest is GC workers, servers in the process, other work).",
			fmtSeconds(rp.Seconds), fmtRate(rp.CoresUsed), fmtPctValue(rp.RequestsPct), fmtPctValue(rp.HttptopPct))
		if rp.Requests > 0 {
			s += fmt.Sprintf(" Over its %s requests that is %s of CPU per request, of %s in all.", fmtNum(rp.Requests), fmtMs(rp.RequestCPUPerRequestMs), fmtMs(rp.CPUPerRequestMs))
		}
		out = append(out, s)
	}
	return out
}

// writeCPUMarkdown writes the CPU section of report.md.
func (r *Report) writeCPUMarkdown(w io.Writer) {
	c := r.CPU
	if c == nil {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## CPU: the next bottleneck\n\n")
	for _, l := range c.lines() {
		p("%s\n\n", mdText(l))
	}
	rp := c.Profile
	if rp == nil || len(rp.Code) == 0 {
		return
	}
	p("| # | the requests' CPU goes to | share | per request |\n|--:|:--|--:|--:|\n")
	for i, e := range rp.Code {
		p("| %d | %s | %s | %s |\n", i+1, entryName(e), fmtPctValue(e.Pct), fmtMs(e.Pct/100*rp.RequestCPUPerRequestMs))
	}
	p("\n| kind of work | share of the requests' CPU |\n|:--|--:|\n")
	for _, e := range rp.Categories {
		p("| %s | %s |\n", mdText(e.Name), fmtPctValue(e.Pct))
	}
	p("\n")
}

// fmtWhole formats a rate the CPU allows, which is an estimate: a whole
// number.
func fmtWhole(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }

// fmtCores formats a number of cores: "2 cores", "1.5 cores", "1 core".
func fmtCores(c float64) string {
	s := strconv.FormatFloat(c, 'f', -1, 64)
	if c == 1 {
		return s + " core"
	}
	return s + " cores"
}
