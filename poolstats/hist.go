package poolstats

import (
	"math"
	"math/bits"
	"runtime"
	"sync/atomic"

	"github.com/httptop/httptop/snapshot"
)

// Durations are recorded in nanoseconds into exponential buckets whose
// boundaries are 2^(i/8) seconds for every integer i: the buckets of a
// Prometheus native histogram of schema 3 (an OpenTelemetry exponential
// histogram of scale 3), so that exporters hand them on unchanged. The
// bucket of index i holds the values in (2^((i-1)/8), 2^(i/8)] seconds; it
// is 9.05% wide, so the midpoint reported for a quantile is within 4.6% of
// any value in it. Values up to 2^-20 s (953 ns) share a zero bucket; the
// buckets reach 2^16 s (18.2 hours) and longer values share the last.
//
// A dist stores bucket i in slot i-minIndex+1 of its arrays; slot 0 is the
// zero bucket.
const (
	// HistogramSchema is the Prometheus native-histogram schema of the
	// buckets (OpenTelemetry calls it the scale): 2^HistogramSchema
	// buckets per power of two.
	HistogramSchema = 3
	// HistogramZeroThreshold is the upper bound, in seconds, of the zero
	// bucket: 2^-20 s.
	HistogramZeroThreshold = 0x1p-20
	// minIndex and maxIndex are the indexes of the first and last bucket
	// after the zero bucket.
	minIndex   = -159
	maxIndex   = 128
	numBuckets = maxIndex - minIndex + 2
	// minBitLen is the bit length of the smallest value above the zero
	// bucket (954 ns); maxBitLen that of the largest value below the
	// last bucket's bound (2^16 s).
	minBitLen = 10
	maxBitLen = 46
)

// Bucket tables, built once by init.
var (
	// upperNs[s] is the largest whole number of nanoseconds slot s holds:
	// a value v is in slot s when upperNs[s-1] < v <= upperNs[s].
	upperNs [numBuckets]int64
	// midNs[s] is the value, in nanoseconds, that stands for slot s: the
	// middle of the values it holds.
	midNs [numBuckets]float64
	// slotFrom[(e-minBitLen)<<4|k] is the slot of the smallest value of bit
	// length e whose four bits after the leading one are k. Such a range
	// of values is at most 1/16 of its lower end wide, less than a bucket
	// (2^(1/8)-1 = 9.05%), so it reaches into at most one more slot.
	slotFrom [(maxBitLen - minBitLen + 1) << 4]uint16
)

func init() {
	upperNs[0] = int64(math.Floor(1e9 * HistogramZeroThreshold))
	for s := 1; s < numBuckets; s++ {
		upperNs[s] = int64(math.Floor(1e9 * bucketBound(slotIndex(s))))
		midNs[s] = 1e9 * (bucketBound(slotIndex(s)-1) + bucketBound(slotIndex(s))) / 2
	}
	midNs[0] = 1e9 * HistogramZeroThreshold / 2
	s := 0
	for e := minBitLen; e <= maxBitLen; e++ {
		for k := range 16 {
			v := int64(1)<<(e-1) | int64(k)<<(e-5)
			for s < numBuckets-1 && v > upperNs[s] {
				s++
			}
			slotFrom[(e-minBitLen)<<4|k] = uint16(s)
		}
	}
}

// bucketBound returns the upper bound, in seconds, of the bucket of index
// i: 2^(i/8).
func bucketBound(i int) float64 { return math.Exp2(float64(i) / (1 << HistogramSchema)) }

// slotIndex returns the bucket index stored in slot s > 0.
func slotIndex(s int) int { return s + minIndex - 1 }

// windowPeriod is the length of one histogram window. A distribution keeps
// the current window and the previous one, so percentiles cover between one
// and two periods of recent traffic.
const windowPeriod = int64(5e9)

// bucketOf returns the slot holding a duration of ns nanoseconds.
func bucketOf(ns int64) int {
	if ns <= upperNs[0] {
		return 0
	}
	if ns >= upperNs[numBuckets-1] {
		return numBuckets - 1
	}
	e := bits.Len64(uint64(ns))
	s := int(slotFrom[(e-minBitLen)<<4|int(ns>>(e-5))&15])
	if ns > upperNs[s] {
		s++
	}
	return s
}

// window is one period of a distribution.
type window struct {
	epoch atomic.Int64 // windowPeriod index this window holds
	max   atomic.Int64 // largest value, nanoseconds
	peak  atomic.Int64 // largest gauge value seen (see dist.notePeak)
	n     [numBuckets]atomic.Uint32
}

// dist is a distribution of durations over a rolling window, in fixed
// memory, safe for concurrent use without locks. A dist with totals also
// counts every value since it was created (see cumulative).
type dist struct {
	w [2]window
	// totals holds the counts of the periods whose window was reused;
	// nil for a distribution that keeps only recent periods.
	totals *totals
}

// bucketCounts counts values per slot.
type bucketCounts [numBuckets]atomic.Uint64

// totals are a dist's counts of past periods.
type totals struct {
	n bucketCounts
	// top is the highest slot that holds a count, so that readers can
	// stop there.
	top atomic.Int64
}

// newTotalDist returns a dist that also keeps counts since its creation.
func newTotalDist() dist { return dist{totals: new(totals)} }

// totalDist counts durations per bucket since its creation, with their
// sum, and keeps no recent windows: for events too rare to need
// percentiles of the last seconds, such as connections closing.
type totalDist struct {
	n     bucketCounts
	top   atomic.Int64 // highest slot holding a count
	sumUs atomic.Int64
}

// observe records a duration of v nanoseconds.
func (t *totalDist) observe(v int64) {
	v = max(v, 0)
	b := bucketOf(v)
	t.n[b].Add(1)
	storeMax(&t.top, int64(b))
	t.sumUs.Add(v / 1e3)
}

// read sets dst to the counts per slot, and returns the highest slot
// that may hold one, and the sum in microseconds. The counts are read
// before the sum, so that the sum never lacks a value the counts have.
func (t *totalDist) read(dst *[numBuckets]uint64) (top int, sumUs int64) {
	top = int(t.top.Load())
	for i := 0; i <= top; i++ {
		dst[i] = t.n[i].Load()
	}
	clear(dst[top+1:])
	return top, t.sumUs.Load()
}

// current returns the window for the period containing now, clearing it
// first when it still holds an older period.
func (d *dist) current(now int64) *window {
	e := now / windowPeriod
	w := &d.w[e&1]
	if w.epoch.Load() != e {
		d.turn(w, e)
	}
	return w
}

// turn makes w hold period e (see advance), out of line: it runs once
// per period.
//
//go:noinline
func (d *dist) turn(w *window, e int64) { advance(&w.epoch, e, func() { d.recycle(w) }) }

// recycle clears window w for reuse, first adding its counts to the
// totals when the dist keeps them. A count is moved with one atomic swap,
// so that a value recorded into w by a caller whose clock read was a
// moment older than the new period is never lost: it lands in the
// totals or stays in the window.
func (d *dist) recycle(w *window) {
	w.max.Store(0)
	w.peak.Store(0)
	if d.totals == nil {
		for i := range w.n {
			w.n[i].Store(0)
		}
		return
	}
	top := -1
	for i := range w.n {
		if w.n[i].Load() != 0 {
			d.totals.n[i].Add(uint64(w.n[i].Swap(0)))
			top = i
		}
	}
	storeMax(&d.totals.top, int64(top))
}

// cumulative sets dst to the number of values recorded into each slot
// since the dist was created, and returns the highest slot that may hold
// a count (dst is zero above it); the dist must keep totals. The counts it
// reports never go down from one call to the next: a window's counts move
// into the totals only while its epoch reads clearing, and a read that
// overlaps a move (an epoch changed or was clearing) is taken again.
func (d *dist) cumulative(dst *[numBuckets]uint64) (top int) {
	for {
		e0, e1 := d.w[0].epoch.Load(), d.w[1].epoch.Load()
		if e0 == clearing || e1 == clearing {
			runtime.Gosched()
			continue
		}
		// Every top only grows until its window is recycled, when the
		// totals' top takes it over: a count once read stays in range.
		top = max(int(d.totals.top.Load()), bucketOf(d.w[0].max.Load()), bucketOf(d.w[1].max.Load()))
		for i := 0; i <= top; i++ {
			dst[i] = d.totals.n[i].Load() + uint64(d.w[0].n[i].Load()) + uint64(d.w[1].n[i].Load())
		}
		clear(dst[top+1:])
		if d.w[0].epoch.Load() == e0 && d.w[1].epoch.Load() == e1 {
			return top
		}
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
	w.n[bucketOf(v)].Add(1)
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
	top := bucketOf(maxNs)
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
			out[r] = midNs[b] / 1e6
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
