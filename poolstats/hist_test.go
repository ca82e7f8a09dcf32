package poolstats

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// Every value falls in a bucket whose midpoint is within 6.25% of it.
func TestBucketError(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		us := int64(math.Exp(r.Float64() * math.Log(1e10)))
		b := bucketOf(us)
		if b < 0 || b >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", us, b)
		}
		mid := bucketMid(b)
		if rel := math.Abs(mid-float64(us)) / float64(us); us >= subBuckets && rel > 0.0625 {
			t.Fatalf("value %d µs → bucket %d mid %.1f: error %.2f%% > 6.25%%", us, b, mid, rel*100)
		}
	}
	for us := int64(0); us < subBuckets; us++ {
		if got := bucketMid(bucketOf(us)); got != float64(us) {
			t.Errorf("small value %d µs → %v, want exact", us, got)
		}
	}
	if got := bucketOf(-5); got != 0 {
		t.Errorf("bucketOf(-5) = %d, want 0", got)
	}
	if got := bucketOf(1 << 62); got != numBuckets-1 {
		t.Errorf("bucketOf(huge) = %d, want last bucket", got)
	}
}

// Buckets are ordered: a larger value never lands in a lower bucket.
func TestBucketMonotonic(t *testing.T) {
	prev := 0
	for us := int64(0); us < 1<<20; us += 1 + us/64 {
		b := bucketOf(us)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d < previous %d", us, b, prev)
		}
		prev = b
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
