package poolstats

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The bucket bounds are 2^(i/8) s to the nanosecond: checked against
// 2^(1/8) computed with 256 bits of precision.
func TestBucketBounds(t *testing.T) {
	root := new(big.Float).SetPrec(256).SetInt64(2)
	for range HistogramSchema {
		root.Sqrt(root) // 2^(1/8) after three square roots
	}
	bound := func(i int) *big.Float {
		// 1e9 · 2^q · root^r with i = 8q + r, 0 ≤ r < 8: exact for whole
		// powers of two.
		q, r := i>>HistogramSchema, i&(1<<HistogramSchema-1)
		b := new(big.Float).SetPrec(256).SetInt64(1e9)
		b.SetMantExp(b, q)
		for range r {
			b.Mul(b, root)
		}
		return b
	}
	floor := func(f *big.Float) int64 {
		n, _ := f.Int(nil) // truncates toward zero: floor for f > 0
		return n.Int64()
	}
	if got, want := upperNs[0], floor(bound(-160)); got != want {
		t.Errorf("zero bucket bound = %d ns, want %d", got, want)
	}
	for s := 1; s < numBuckets; s++ {
		if got, want := upperNs[s], floor(bound(slotIndex(s))); got != want {
			t.Errorf("slot %d (index %d): bound %d ns, want %d", s, slotIndex(s), got, want)
		}
	}
	if got := upperNs[numBuckets-1]; got != 65536e9 {
		t.Errorf("last bound = %d ns, want 2^16 s", got)
	}
}

// bucketOf agrees with the bounds on both sides of every one of them, and
// on random values; every value falls in a bucket whose midpoint is
// within 4.6% of it.
func TestBucketOf(t *testing.T) {
	check := func(v int64) {
		t.Helper()
		s := bucketOf(v)
		if s < 0 || s >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, s)
		}
		inside := v <= upperNs[s] && (s == 0 || v > upperNs[s-1])
		if s == numBuckets-1 {
			inside = v > upperNs[s-1]
		}
		if !inside {
			t.Fatalf("bucketOf(%d) = slot %d, which holds (%d, %d]", v, s, upperNs[max(s-1, 0)], upperNs[s])
		}
		if mid := midNs[s]; s > 0 && s < numBuckets-1 && math.Abs(mid-float64(v))/float64(v) > 0.046 {
			t.Fatalf("value %d ns → slot %d mid %.1f: error %.2f%% > 4.6%%", v, s, mid, math.Abs(mid-float64(v))/float64(v)*100)
		}
	}
	for s := range numBuckets {
		for _, v := range []int64{upperNs[s] - 1, upperNs[s], upperNs[s] + 1} {
			check(max(v, 0))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		check(int64(math.Exp(r.Float64() * math.Log(1e14))))
	}
	for _, v := range []int64{-5, 0, 1, 953} {
		if got := bucketOf(v); got != 0 {
			t.Errorf("bucketOf(%d) = %d, want the zero bucket", v, got)
		}
	}
	if got := bucketOf(954); got != 1 {
		t.Errorf("bucketOf(954) = %d, want 1", got)
	}
	if got := bucketOf(1 << 62); got != numBuckets-1 {
		t.Errorf("bucketOf(huge) = %d, want last bucket", got)
	}
	// 1 s is a bound: it closes bucket 0 (slot 1-minIndex).
	if got, want := bucketOf(1e9), 1-minIndex; got != want {
		t.Errorf("bucketOf(1 s) = %d, want %d", got, want)
	}
}

// Buckets are ordered: a larger value never lands in a lower bucket.
func TestBucketMonotonic(t *testing.T) {
	prev := 0
	for ns := int64(0); ns < 1<<40; ns += 1 + ns/64 {
		b := bucketOf(ns)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d < previous %d", ns, b, prev)
		}
		prev = b
	}
}

// The cumulative counts hold every value observed, across window
// rotations, and never go down while values are being recorded and
// windows recycled concurrently.
func TestDistCumulative(t *testing.T) {
	d := newTotalDist()
	const writers, per = 4, 20000
	var clock atomic.Int64
	clock.Store(7 * windowPeriod)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range per {
				// Each writer moves the clock on now and then, so windows
				// are recycled while others record (and some record with
				// a clock a period old).
				now := clock.Load()
				if i%500 == 0 {
					now = clock.Add(windowPeriod / 2)
				}
				d.observe(now, int64(g+1)*int64(time.Millisecond))
			}
		})
	}
	var readErr error
	var rw sync.WaitGroup
	rw.Go(func() {
		var prev, cur [numBuckets]uint64
		for {
			select {
			case <-done:
				return
			default:
			}
			d.cumulative(&cur)
			for s := range cur {
				if cur[s] < prev[s] {
					readErr = fmt.Errorf("slot %d went down from %d to %d", s, prev[s], cur[s])
					return
				}
			}
			prev = cur
		}
	})
	wg.Wait()
	close(done)
	rw.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	var got [numBuckets]uint64
	d.cumulative(&got)
	for g := range writers {
		s := bucketOf(int64(g+1) * int64(time.Millisecond))
		if got[s] != per {
			t.Errorf("slot of %d ms holds %d values, want %d", g+1, got[s], per)
		}
	}
	var total uint64
	for _, n := range got {
		total += n
	}
	if total != writers*per {
		t.Errorf("total %d, want %d", total, writers*per)
	}
}

func TestPercentiles(t *testing.T) {
	cases := []struct {
		name   string
		values []time.Duration
	}{
		{"uniform 1..1000ms", func() []time.Duration {
			var v []time.Duration
			for i := 1; i <= 1000; i++ {
				v = append(v, time.Duration(i)*time.Millisecond)
			}
			return v
		}()},
		{"bimodal", func() []time.Duration {
			var v []time.Duration
			for i := 0; i < 900; i++ {
				v = append(v, 2*time.Millisecond)
			}
			for i := 0; i < 100; i++ {
				v = append(v, 400*time.Millisecond)
			}
			return v
		}()},
		{"single", []time.Duration{350 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var d dist
			now := 3 * windowPeriod
			for _, v := range tc.values {
				d.observe(now, int64(v))
			}
			p := d.percentiles(now)
			sorted := slices.Clone(tc.values)
			slices.Sort(sorted)
			exact := func(q float64) float64 {
				i := int(math.Ceil(q*float64(len(sorted)))) - 1
				return float64(sorted[max(i, 0)]) / 1e6
			}
			for _, c := range []struct {
				name      string
				got, want float64
			}{{"p50", p.P50, exact(0.5)}, {"p95", p.P95, exact(0.95)}, {"p99", p.P99, exact(0.99)}} {
				if rel := math.Abs(c.got-c.want) / c.want; rel > 0.0625 {
					t.Errorf("%s = %.3f ms, exact %.3f ms (error %.1f%%)", c.name, c.got, c.want, rel*100)
				}
			}
			if want := float64(sorted[len(sorted)-1]) / 1e6; p.Max != want {
				t.Errorf("max = %v, want exact %v", p.Max, want)
			}
			if p.Count != int64(len(tc.values)) {
				t.Errorf("count = %d, want %d", p.Count, len(tc.values))
			}
		})
	}
}

// Percentiles cover the current and the previous period only.
func TestDistWindow(t *testing.T) {
	var d dist
	t0 := 10 * windowPeriod
	d.observe(t0, int64(100*time.Millisecond))
	d.notePeak(t0, 7)
	if p := d.percentiles(t0 + windowPeriod); p.Count != 1 || p.P50 < 94 || p.P50 > 106 {
		t.Errorf("one period later: %+v, want the sample", p)
	}
	if got := d.peak(t0 + windowPeriod); got != 7 {
		t.Errorf("peak one period later = %d, want 7", got)
	}
	if p := d.percentiles(t0 + 2*windowPeriod); p.Count != 0 {
		t.Errorf("two periods later: %+v, want empty", p)
	}
	// Writing into the slot again clears the old period first.
	d.observe(t0+2*windowPeriod, int64(time.Millisecond))
	if p := d.percentiles(t0 + 2*windowPeriod); p.Count != 1 || p.Max != 1 {
		t.Errorf("after rotation: %+v, want only the new sample", p)
	}
}

func TestDistConcurrent(t *testing.T) {
	var d dist
	now := 5 * windowPeriod
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				d.observe(now, int64(g*1000+i)*1000)
				d.notePeak(now, int64(i))
			}
		})
	}
	wg.Wait()
	if p := d.percentiles(now); p.Count != 8000 {
		t.Errorf("count = %d, want 8000", p.Count)
	}
	if got := d.peak(now); got != 999 {
		t.Errorf("peak = %d, want 999", got)
	}
}
