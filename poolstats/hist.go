package poolstats

import (
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/httptop/httptop/snapshot"
)

// Durations are recorded in microseconds into log-linear buckets: values
// below 8 µs get a bucket each, above that every power of two is split into
// 8 equal buckets. A bucket is at most 1/8 of its lower bound wide, so the
// midpoint reported for a quantile is within 6.25% of any value in the
// bucket. The buckets reach 2^36 µs (19 hours); longer values share the last.
const (
	subBits    = 3
	subBuckets = 1 << subBits
	maxExp     = 36
	numBuckets = subBuckets + (maxExp-subBits)*subBuckets
)

// windowPeriod is the length of one histogram window. A distribution keeps
// the current window and the previous one, so percentiles cover between one
// and two periods of recent traffic.
const windowPeriod = int64(5e9)

// bucketOf returns the bucket holding a duration of us microseconds.
func bucketOf(us int64) int {
	if us < subBuckets {
		if us < 0 {
			return 0
		}
		return int(us)
	}
	e := bits.Len64(uint64(us)) - 1
	if e >= maxExp {
		return numBuckets - 1
	}
	sub := int(us>>(e-subBits)) & (subBuckets - 1)
	return subBuckets + (e-subBits)*subBuckets + sub
}

// bucketMid returns the value, in microseconds, that stands for bucket b:
// the middle of the values it holds.
func bucketMid(b int) float64 {
	if b < subBuckets {
		return float64(b)
	}
	e := (b-subBuckets)/subBuckets + subBits
	sub := (b - subBuckets) % subBuckets
	width := int64(1) << (e - subBits)
	low := int64(1)<<e + int64(sub)*width
	return float64(low) + float64(width)/2
}

// window is one period of a distribution.
type window struct {
	epoch atomic.Int64 // windowPeriod index this window holds
	max   atomic.Int64 // largest value, nanoseconds
	peak  atomic.Int64 // largest gauge value seen (see dist.notePeak)
	n     [numBuckets]atomic.Uint32
}

// dist is a distribution of durations over a rolling window, in fixed
// memory, safe for concurrent use without locks.
type dist struct {
	w [2]window
}

// current returns the window for the period containing now, clearing it
// first when it still holds an older period.
func (d *dist) current(now int64) *window {
	e := now / windowPeriod
	w := &d.w[e&1]
	if w.epoch.Load() != e {
		w.turn(e)
	}
	return w
}

// turn makes w hold period e (see advance).
func (w *window) turn(e int64) { advance(&w.epoch, e, w.clear) }

func (w *window) clear() {
	w.max.Store(0)
	w.peak.Store(0)
	for i := range w.n {
		w.n[i].Store(0)
	}
}

// clearing marks an epoch whose slot is being cleared.
const clearing = -1

// advance makes a slot whose epoch is held in epoch hold period e, calling
// clear first when it held an older period. One caller clears; the others
// wait for it (the clearing takes about a microsecond, once per period), so
// that no count recorded for e is wiped. A caller whose clock read is a
// moment older than the slot's period records into the newer period.
func advance(epoch *atomic.Int64, e int64, clear func()) {
	for {
		switch old := epoch.Load(); {
		case old == e || old > e:
			return
		case old == clearing:
			runtime.Gosched()
		case epoch.CompareAndSwap(old, clearing):
			clear()
			epoch.Store(e)
			return
		}
	}
}

// observe records a duration of v nanoseconds at time now.
func (d *dist) observe(now, v int64) {
	if v < 0 {
		v = 0
	}
	w := d.current(now)
	w.n[bucketOf(v/1000)].Add(1)
	storeMax(&w.max, v)
}

// notePeak records a gauge value (such as requests in flight) so that the
// largest value of the window can be reported.
func (d *dist) notePeak(now, v int64) {
	w := d.current(now)
	if v > w.peak.Load() {
		storeMax(&w.peak, v)
	}
}

// storeMax raises a to v if v is larger.
func storeMax(a *atomic.Int64, v int64) {
	for {
		m := a.Load()
		if v <= m || a.CompareAndSwap(m, v) {
			return
		}
	}
}

// live returns the windows that hold data of the current or previous
// period at time now.
func (d *dist) live(now int64) (cur, prev *window) {
	e := now / windowPeriod
	if w := &d.w[e&1]; w.epoch.Load() == e {
		cur = w
	}
	if w := &d.w[(e-1)&1]; w.epoch.Load() == e-1 {
		prev = w
	}
	return cur, prev
}

// windowSeconds returns how much recent time the live windows span at now:
// the whole previous period plus the elapsed part of the current one.
func windowSeconds(now int64) float64 {
	return float64(windowPeriod+now%windowPeriod) / 1e9
}

// peak returns the largest gauge value noted over the live windows.
func (d *dist) peak(now int64) int64 {
	cur, prev := d.live(now)
	var p int64
	for _, w := range [2]*window{cur, prev} {
		if w != nil {
			p = max(p, w.peak.Load())
		}
	}
	return p
}

// percentiles summarises the live windows at time now, in milliseconds.
// It reads the buckets in place, up to the one holding the windows'
// maximum, without copying them.
func (d *dist) percentiles(now int64) snapshot.Percentiles {
	cur, prev := d.live(now)
	ws := make([]*window, 0, 2)
	var maxNs int64
	for _, w := range [2]*window{cur, prev} {
		if w != nil {
			ws = append(ws, w)
			maxNs = max(maxNs, w.max.Load())
		}
	}
	top := bucketOf(maxNs / 1000)
	count := func(b int) uint64 {
		var n uint64
		for _, w := range ws {
			n += uint64(w.n[b].Load())
		}
		return n
	}
	var total uint64
	for b := 0; b <= top; b++ {
		total += count(b)
	}
	p := snapshot.Percentiles{Count: int64(total), Max: float64(maxNs) / 1e6}
	if total == 0 {
		return p
	}
	ranks := [3]float64{0.50, 0.95, 0.99}
	var out [3]float64
	var cum uint64
	r := 0
	for b := 0; b <= top && r < len(ranks); b++ {
		cum += count(b)
		for r < len(ranks) && cum > 0 && float64(cum) >= ranks[r]*float64(total) {
			out[r] = bucketMid(b) / 1e3
			r++
		}
	}
	for ; r < len(ranks); r++ {
		// Samples recorded between reading the maximum and the buckets.
		out[r] = p.Max
	}
	// A quantile never exceeds the exact maximum.
	for i := range out {
		out[i] = min(out[i], p.Max)
	}
	p.P50, p.P95, p.P99 = out[0], out[1], out[2]
	return p
}
