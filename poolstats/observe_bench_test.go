package poolstats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// BenchmarkObserve measures recording one duration into a histogram, the
// per-request cost of a latency or wait histogram.
func BenchmarkObserve(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	var vals [1024]int64
	for i := range vals {
		vals[i] = int64(math.Exp(math.Log(1e3) + r.Float64()*math.Log(1e6))) // 1 µs … 1 s
	}
	d := newTotalDist()
	now := 3 * windowPeriod
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.observe(now, vals[i&1023])
		i++
	}
}
