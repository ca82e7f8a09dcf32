// Package bottleneck says which limit binds a program's HTTP throughput
// first: a connection pool, the CPU, the Go scheduler or the garbage
// collector. It makes the diagnoses of the whole process (cpu_saturated,
// scheduler_latency, gc_pressure) from a snapshot's process figures, and
// completes the pool advice with what a new pool size should bring and
// where the CPU stops it (PoolChange).
//
// The agent applies it to every snapshot it serves (Apply), as it fills in
// snapshot.Process; a snapshot taken from a collector alone has no process
// figures, so no process diagnoses, and pool advice that names the CPU
// without a figure.
package bottleneck

import (
	"fmt"
	"math"
	"strings"

	"github.com/httptop/httptop/internal/units"
	"github.com/httptop/httptop/snapshot"
)

// Thresholds. Each was set after running the healthy and the sick
// fixtures of probe/agent's bottleneck tests on this project's two-core
// machine, shared with other contributors' work, both while other
// processes took a core and while they left it alone
// (HTTPTOP_BOTTLENECK_CALIBRATE=10 go test ./probe/agent -run
// BottleneckCalibration -v prints the figures each reads, second by
// second, over windows of up to 10 s; the README lists them).
const (
	// minWindowRequests is how many requests the window must hold
	// before CPU per request means anything.
	minWindowRequests = 20

	// cpu_saturated: the process used at least this share of the cores
	// it may use over the window, and requests queue: on average at
	// least cpuQueueWaiting wait for a connection (pool_saturated's
	// threshold, summed over hosts), or the p99 wait for a thread is at
	// least cpuQueueSchedMs. Measured: 64 workers spending 2 ms of CPU
	// per request with a pool of 64 used 1.94–1.98 of 2 cores, their
	// goroutines waiting 29–84 ms for a thread (p99); with a pool of 4,
	// 0.37–0.68 cores. Healthy clients used at most 0.7 (0.05 ms of CPU
	// per request at 2,900–4,900 req/s). Eight workers decoding JSON as
	// fast as they can used 1.7–1.8 cores with a p99 of 2.1–2.6 ms: at
	// the CPU's limit with nothing queued, silent; 64 workers reading
	// 1 MiB bodies used 1.4–2.0 with a p99 of 10–15 ms: bound by their
	// CPU by design, and diagnosed so.
	cpuSaturatedShare = 0.85
	cpuQueueWaiting   = 0.5
	cpuQueueSchedMs   = 5.0

	// scheduler_latency: the p99 wait of runnable goroutines for a
	// thread over the window is at least this long. Measured: healthy
	// clients 0.03–5.2 ms (batches of 50 goroutines started at once:
	// 2.6–5.2); 10–21 ms for 64 workers reading 1 MiB bodies, and
	// 12–21 ms for the allocation-heavy client, on a machine whose other
	// processes took a core; 10,000 runnable goroutines 117–168 ms, 64
	// workers spending 2 ms of CPU per request on 2 cores 29–134 ms.
	// The runtime's histogram buckets are about 20% apart (16.8, 21.0,
	// 25.2 ms), so 25 ms fires from the bucket above 21 ms.
	schedLatencyMs         = 25.0
	schedLatencyCriticalMs = 100.0

	// gc_pressure: the GC took at least this share of the runtime's CPU
	// over the window, and at least gcMinShareOfCores of the cores the
	// process may use (a GC share of an idle process costs nothing).
	// Measured: healthy clients 1.0–10.7% (eight workers decoding 16 KiB
	// JSON documents: 7.1–10.7%); sixteen workers allocating 20,000
	// small objects per response beside a 256 MiB cache of small objects
	// 27–34%.
	gcSharePercent         = 20.0
	gcShareCriticalPercent = 40.0
	gcMinShareOfCores      = 0.05
)

// CPUBound reports whether a process that used used cores of the cores
// it may use is at its CPU's limit: cpu_saturated's threshold.
func CPUBound(used, cores float64) bool { return cores > 0 && used >= cpuSaturatedShare*cores }

// InflatesLatency reports whether a scheduling latency p99 is long enough
// to say, next to latency figures, that they include it: the threshold
// of scheduler_latency.
func InflatesLatency(p99Ms float64) bool { return p99Ms >= schedLatencyMs }

// Diagnose returns the diagnoses of the whole process that s shows: its
// process figures and hosts. It returns none when s has no process
// figures (a snapshot taken from a collector alone).
func Diagnose(s *snapshot.Snapshot) []snapshot.Diagnosis {
	p := s.Process
	if p == nil {
		return nil
	}
	var out []snapshot.Diagnosis
	for _, rule := range []func(*snapshot.Process, []snapshot.Host) *snapshot.Diagnosis{cpuSaturated, schedulerLatency, gcPressure} {
		if d := rule(p, s.Hosts); d != nil {
			out = append(out, *d)
		}
	}
	return out
}

// Apply completes snapshot s with what its process figures tell: the
// diagnoses of the whole process, and the CPU's limit in the advice of
// its pool diagnoses. Diagnoses stay ordered most severe first.
func Apply(s *snapshot.Snapshot) {
	if s.Process == nil {
		return
	}
	for i := range s.Diagnoses {
		d := &s.Diagnoses[i]
		if d.Kind != snapshot.KindPoolSaturated {
			continue
		}
		h := hostOf(s.Hosts, d.Client, d.Host)
		c, ok := PoolChangeOf(d.Evidence)
		if h == nil || !ok {
			continue
		}
		old := c.Expectation()
		c.CPUCeilingRPS = HostCeiling(s.Process, OthersRPS(s.Hosts, d.Client, d.Host))
		c.CPUPerRequestMs, c.Cores = s.Process.CPUPerRequestMs, s.Process.Cores
		if c.CPUCeilingRPS <= 0 || old == "" || !strings.Contains(d.Advice, old) {
			continue
		}
		d.Advice = strings.Replace(d.Advice, old, c.Expectation(), 1)
		c.Record(d.Evidence)
	}
	diags := Diagnose(s)
	if len(diags) == 0 {
		return
	}
	// Insert by severity, after those at least as severe.
	for _, d := range diags {
		i := 0
		for i < len(s.Diagnoses) && s.Diagnoses[i].Severity.Rank() >= d.Severity.Rank() {
			i++
		}
		s.Diagnoses = append(s.Diagnoses, snapshot.Diagnosis{})
		copy(s.Diagnoses[i+1:], s.Diagnoses[i:])
		s.Diagnoses[i] = d
	}
}

// hostOf returns the row of a client's host, or nil.
func hostOf(hosts []snapshot.Host, client, host string) *snapshot.Host {
	for i := range hosts {
		if hosts[i].Client == client && hosts[i].Host == host && !hosts[i].DialOnly {
			return &hosts[i]
		}
	}
	return nil
}

// windowRequests is how many requests the process's window holds.
func windowRequests(p *snapshot.Process) float64 { return p.RequestsPerSecond * p.CPUWindowSeconds }

// cpuSaturated fires when the process uses nearly all the CPU it may and
// requests queue for a connection or a thread: more connections cannot
// carry more than Process.CeilingRPS.
func cpuSaturated(p *snapshot.Process, hosts []snapshot.Host) *snapshot.Diagnosis {
	used := p.WindowCPUPercent / 100
	if !CPUBound(used, p.Cores) || p.CPUPerRequestMs <= 0 || windowRequests(p) < minWindowRequests {
		return nil
	}
	var waiting float64
	for i := range hosts {
		waiting += hosts[i].AvgWaiting
	}
	var queues []string
	if waiting >= cpuQueueWaiting {
		queues = append(queues, fmt.Sprintf("%.0f wait for a connection on average", waiting))
	}
	if p.WindowSchedLatencyP99Ms >= cpuQueueSchedMs {
		queues = append(queues, fmt.Sprintf("goroutines wait up to %s for a thread (p99)", units.Ms(p.WindowSchedLatencyP99Ms)))
	}
	if len(queues) == 0 {
		return nil
	}
	sev := snapshot.SeverityWarning
	if waiting >= cpuQueueWaiting {
		// The pool's advice alone would promise what the CPU cannot
		// give.
		sev = snapshot.SeverityCritical
	}
	advice := fmt.Sprintf("More connections or workers cannot raise throughput beyond ~%s req/s: cut the CPU each request costs "+
		"(the dashboard's hot functions or httptop capture show where it goes)", rate(p.CeilingRPS))
	switch {
	case p.CPULimitCores > 0 && p.CPULimitCores < float64(p.GOMAXPROCS):
		advice += fmt.Sprintf(", or raise the container's CPU limit (%s, below GOMAXPROCS %d)", cores(p.CPULimitCores), p.GOMAXPROCS)
	default:
		advice += fmt.Sprintf(", or give the process more cores (GOMAXPROCS is %d)", p.GOMAXPROCS)
	}
	return &snapshot.Diagnosis{
		Kind:     snapshot.KindCPUSaturated,
		Severity: sev,
		Summary: fmt.Sprintf("The process uses %.2f of the %s it may use, and requests queue: %s. At %s of CPU per request (all its CPU ÷ its %s req/s over the last %s) it can issue at most ~%s req/s",
			used, cores(p.Cores), strings.Join(queues, "; "), units.Ms(p.CPUPerRequestMs), rate(p.RequestsPerSecond), seconds(p.CPUWindowSeconds), rate(p.CeilingRPS)),
		Advice: advice + ".",
		Evidence: map[string]float64{
			"cpu_cores_used":       round2(used),
			"cores":                p.Cores,
			"gomaxprocs":           float64(p.GOMAXPROCS),
			"cpu_per_request_ms":   p.CPUPerRequestMs,
			"requests_per_s":       p.RequestsPerSecond,
			"ceiling_rps":          p.CeilingRPS,
			"avg_waiting":          round1(waiting),
			"sched_latency_p99_ms": p.WindowSchedLatencyP99Ms,
		},
	}
}

// schedulerLatency fires when runnable goroutines wait long for a thread:
// every latency httptop measures includes that wait.
func schedulerLatency(p *snapshot.Process, _ []snapshot.Host) *snapshot.Diagnosis {
	lat := p.WindowSchedLatencyP99Ms
	if lat < schedLatencyMs {
		return nil
	}
	used := p.WindowCPUPercent / 100
	sev := snapshot.SeverityWarning
	if lat >= schedLatencyCriticalMs {
		sev = snapshot.SeverityCritical
	}
	var cause, advice string
	switch {
	case CPUBound(used, p.Cores):
		cause = fmt.Sprintf("the process's own goroutines fill the %s it may use (%.2f used, %d runnable now)", cores(p.Cores), used, p.RunnableGoroutines)
		advice = "Bound the goroutines that compute (a worker pool of GOMAXPROCS size instead of a goroutine per item), or give the process more cores"
	case p.MachineCPUs > 0 && used+p.OthersCores >= cpuSaturatedShare*float64(p.MachineCPUs):
		cause = fmt.Sprintf("the machine is busy: its other processes used %.2f of its %d CPUs meanwhile, and this process only %.2f of the %s it may use",
			p.OthersCores, p.MachineCPUs, used, cores(p.Cores))
		advice = "Find what else runs on the machine (top), or give the process CPUs of its own"
	case p.MachineCPUs > 0:
		cause = fmt.Sprintf("goroutines become runnable in bursts and wait their turn (%d runnable now), though the process used %.2f of the %s it may use on average and the machine had CPUs to spare",
			p.RunnableGoroutines, used, cores(p.Cores))
		advice = "Spread the bursts (bound the goroutines started at once, a worker pool of GOMAXPROCS size), or give the process more cores"
	default:
		cause = fmt.Sprintf("the process used %.2f of the %s it may use, so other processes or bursts of its own goroutines (%d runnable now) hold the threads",
			used, cores(p.Cores), p.RunnableGoroutines)
		advice = "Bound the goroutines that compute, find what else runs on the machine, or give the process more cores"
	}
	return &snapshot.Diagnosis{
		Kind:     snapshot.KindSchedulerLatency,
		Severity: sev,
		Summary: fmt.Sprintf("Runnable goroutines waited up to %s for a thread (p99 over the last %s): %s. Every latency httptop measures includes that wait",
			units.Ms(lat), seconds(p.CPUWindowSeconds), cause),
		Advice: advice + "; meanwhile read latency, connection waits and W knowing that up to " + units.Ms(lat) + " of each is waiting for a thread.",
		Evidence: map[string]float64{
			"sched_latency_p99_ms": lat,
			"runnable_goroutines":  float64(p.RunnableGoroutines),
			"cpu_cores_used":       round2(used),
			"cores":                p.Cores,
			"others_cores":         p.OthersCores,
		},
	}
}

// gcPressure fires when the garbage collector takes a large share of the
// process's CPU.
func gcPressure(p *snapshot.Process, _ []snapshot.Host) *snapshot.Diagnosis {
	share := p.WindowGCCPUPercent
	gcCores := share / 100 * p.WindowCPUPercent / 100
	if share < gcSharePercent || p.Cores <= 0 || gcCores < gcMinShareOfCores*p.Cores {
		return nil
	}
	sev := snapshot.SeverityWarning
	if share >= gcShareCriticalPercent {
		sev = snapshot.SeverityCritical
	}
	summary := fmt.Sprintf("The garbage collector took %.0f%% of the Go runtime's CPU over the last %s (about %.2f cores)", share, seconds(p.CPUWindowSeconds), gcCores)
	if p.CPUPerRequestMs > 0 {
		summary += fmt.Sprintf(", some %s of every request's %s of CPU", units.Ms(p.CPUPerRequestMs*share/100), units.Ms(p.CPUPerRequestMs))
	}
	return &snapshot.Diagnosis{
		Kind:     snapshot.KindGCPressure,
		Severity: sev,
		Summary:  summary,
		Advice: "Allocate less per request (a capture's heap profile lists where: httptop capture, or go tool pprof -sample_index=alloc_space), " +
			"reuse buffers (sync.Pool), or let the heap grow further between collections (GOGC, GOMEMLIMIT).",
		Evidence: map[string]float64{
			"gc_cpu_percent": share,
			"gc_cores":       round2(gcCores),
			"cpu_cores_used": round2(p.WindowCPUPercent / 100),
		},
	}
}

// seconds formats a window's span: "10 s", "2.5 s".
func seconds(s float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", s), "0"), ".") + " s"
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
