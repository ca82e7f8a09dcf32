package agent

import (
	"math"
	"runtime/metrics"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// The runtime/metrics the process figures read (all present in Go 1.26).
const (
	metricGCCPU     = "/cpu/classes/gc/total:cpu-seconds"
	metricTotalCPU  = "/cpu/classes/total:cpu-seconds"
	metricIdleCPU   = "/cpu/classes/idle:cpu-seconds"
	metricSchedLat  = "/sched/latencies:seconds"
	metricMutexWait = "/sync/mutex/wait/total:seconds"
	metricRunnable  = "/sched/goroutines/runnable:goroutines"
)

// runtimeReader reads the Go runtime's figures for the process line: GC
// CPU share, scheduler latency p99 and mutex wait per second over the
// time since its previous reading, and runnable goroutines now. It is not
// safe for concurrent use (processSampler holds its lock).
type runtimeReader struct {
	samples []metrics.Sample
	ok      []bool // the metric exists in this Go release

	// The cumulative values at the previous reading.
	at          time.Time
	mutexWait   float64
	schedCounts []uint64

	// The runtime updates its CPU classes only at the end of each GC
	// cycle: gc and busy are their values when they last changed, at
	// gcAt; gcShare is the share measured then, over gcSpan.
	gc, busy float64
	gcAt     time.Time
	gcSpan   time.Duration
	gcShare  float64

	// The cumulative figures of the latest reading, for cpuWindow: GC
	// and busy CPU seconds, and the scheduling latency histogram
	// (schedBuckets nil when the metric is missing).
	nowGC, nowBusy float64
	nowSched       []uint64
	schedBuckets   []float64
}

// gcShareHold is the least time a GC share is reported after the cycle it
// was measured over; see read.
const gcShareHold = 5 * time.Second

func newRuntimeReader() *runtimeReader {
	names := []string{metricGCCPU, metricTotalCPU, metricIdleCPU, metricSchedLat, metricMutexWait, metricRunnable}
	r := &runtimeReader{samples: make([]metrics.Sample, len(names)), ok: make([]bool, len(names))}
	known := map[string]bool{}
	for _, d := range metrics.All() {
		known[d.Name] = true
	}
	for i, n := range names {
		r.samples[i].Name = n
		r.ok[i] = known[n]
	}
	return r
}

// read fills in p's runtime figures from the metrics now and their values
// at the previous reading (the process's start, for the first).
func (r *runtimeReader) read(p *snapshot.Process, now time.Time) {
	metrics.Read(r.samples)
	f := func(i int) float64 {
		if !r.ok[i] || r.samples[i].Value.Kind() != metrics.KindFloat64 {
			return 0
		}
		return r.samples[i].Value.Float64()
	}
	gc, total, idle, mutexWait := f(0), f(1), f(2), f(4)
	busy := total - idle
	r.nowGC, r.nowBusy = gc, busy
	// The CPU classes change only when a GC cycle ends: the share is
	// measured over the cycles that ended since they last changed, and
	// reported until no cycle has ended for twice that span (at least
	// gcShareHold), after which the GC is taken to be idle.
	if d := busy - r.busy; d > 0 {
		from := r.gcAt
		if from.IsZero() {
			from = processStart
		}
		r.gcShare = 100 * min(max(gc-r.gc, 0)/d, 1)
		r.gcSpan = now.Sub(from)
		r.gc, r.busy, r.gcAt = gc, busy, now
	}
	if !r.gcAt.IsZero() && now.Sub(r.gcAt) <= max(2*r.gcSpan, gcShareHold) {
		p.GCCPUPercent = round2(r.gcShare)
	}
	since := processStart
	if !r.at.IsZero() {
		since = r.at
	}
	if wall := now.Sub(since).Seconds(); wall > 0 {
		p.MutexWaitPerSecond = round2(max(mutexWait-r.mutexWait, 0) / wall)
	}
	if r.ok[5] && r.samples[5].Value.Kind() == metrics.KindUint64 {
		p.RunnableGoroutines = int(r.samples[5].Value.Uint64())
	}
	if r.ok[3] && r.samples[3].Value.Kind() == metrics.KindFloat64Histogram {
		h := r.samples[3].Value.Float64Histogram()
		p.SchedLatencyP99Ms = round2(1000 * histQuantile(h.Counts, r.schedCounts, h.Buckets, 0.99))
		r.schedCounts = append(r.schedCounts[:0], h.Counts...)
		r.nowSched, r.schedBuckets = r.schedCounts, h.Buckets
	}
	r.at, r.mutexWait = now, mutexWait
}

// histQuantile returns the q-quantile of the counts added to a cumulative
// histogram since prev (nil: since its start): the upper bound of the
// bucket holding it, or its lower bound for the last, unbounded bucket.
// It returns 0 when nothing was added.
func histQuantile(counts, prev []uint64, buckets []float64, q float64) float64 {
	var total uint64
	delta := func(i int) uint64 {
		c := counts[i]
		if i < len(prev) && prev[i] <= c {
			c -= prev[i]
		}
		return c
	}
	for i := range counts {
		total += delta(i)
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i := range counts {
		seen += delta(i)
		if seen >= rank {
			// Bucket i spans buckets[i] to buckets[i+1].
			if hi := buckets[i+1]; !math.IsInf(hi, 1) {
				return hi
			}
			return buckets[i]
		}
	}
	return buckets[len(buckets)-1]
}

// round2 rounds v to two decimals, so that snapshots carry figures
// rather than float noise.
func round2(v float64) float64 { return math.Round(v*100) / 100 }
