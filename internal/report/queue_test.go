package report

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// erlangCDirect is Erlang's C formula written out as in the textbooks:
// (aⁿ/n! · n/(n−a)) ÷ (Σ_{k<n} aᵏ/k! + aⁿ/n! · n/(n−a)).
func erlangCDirect(n int, a float64) float64 {
	term, sum := 1.0, 0.0 // term = aᵏ/k!
	for k := 0; k < n; k++ {
		sum += term
		term *= a / float64(k+1)
	}
	top := term * float64(n) / (float64(n) - a)
	return top / (sum + top)
}

// bruteForcePool returns the smallest n with erlangCDirect(n, a) < target.
func bruteForcePool(a, target float64) int {
	for n := int(math.Floor(a)) + 1; ; n++ {
		if erlangCDirect(n, a) < target {
			return n
		}
	}
}

func TestErlangC(t *testing.T) {
	tests := []struct {
		n    int
		a    float64
		want float64
	}{
		{2, 1, 1.0 / 3}, // M/M/2 at ρ = 0.5
		{1, 0.5, 0.5},   // M/M/1: P(wait) = ρ
		{1, 0.9, 0.9},
		{4, 4, 1},    // at capacity: unstable
		{4, 5, 1},    // over capacity
		{3, 0, 0},    // no load
		{10, 8, -1},  // -1: compare with the direct formula
		{40, 32, -1}, // the fixture's demand
		{100, 90, -1},
	}
	for _, tt := range tests {
		want := tt.want
		if want < 0 {
			want = erlangCDirect(tt.n, tt.a)
		}
		if got := ErlangC(tt.n, tt.a); math.Abs(got-want) > 1e-9 {
			t.Errorf("ErlangC(%d, %v) = %v, want %v", tt.n, tt.a, got, want)
		}
	}
}

func TestMeanWait(t *testing.T) {
	// M/M/1 at ρ = 0.5 with W = 50 ms: Wq = ρ/(1−ρ)·W = 50 ms.
	if got := MeanWait(1, 0.5, 50); math.Abs(got-50) > 1e-9 {
		t.Errorf("MeanWait(1, 0.5, 50) = %v, want 50", got)
	}
	if got := MeanWait(4, 4, 50); !math.IsInf(got, 1) {
		t.Errorf("MeanWait at capacity = %v, want +Inf", got)
	}
}

func TestPoolFor(t *testing.T) {
	for _, a := range []float64{0.04, 0.6, 1, 4, 7.5, 32, 80, 250} {
		if got, want := PoolFor(a, 0.05), bruteForcePool(a, 0.05); got != want {
			t.Errorf("PoolFor(%v, 0.05) = %d, want %d", a, got, want)
		}
		n := PoolFor(a, 0.05)
		if ErlangC(n, a) >= 0.05 || (n-1 > int(a) && ErlangC(n-1, a) < 0.05) {
			t.Errorf("PoolFor(%v) = %d is not the smallest pool with P(wait) < 5%%", a, n)
		}
	}
	if got := PoolFor(0, 0.05); got != 0 {
		t.Errorf("PoolFor(0) = %d, want 0", got)
	}
	// The worked example of the docs: 0.6 Erlangs need 3 connections
	// (C(2, 0.6) ≈ 13.8%, C(3, 0.6) ≈ 2.5%).
	if got := PoolFor(0.6, 0.05); got != 3 {
		t.Errorf("PoolFor(0.6) = %d, want 3", got)
	}
}

// erlangCRecurrence is Erlang's C formula by the B recurrence over every
// k up to n: exact, and O(n), for checking the bounded methods.
func erlangCRecurrence(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return float64(n) * b / (float64(n) - a*(1-b))
}

// TestErlangHugeFinishes sizes pools of MaxInt64 and MaxInt32 connections
// at demands up to 10¹² Erlangs, as a hostile or odd capture asks: every
// figure must come back, and be sane. The deadline is generous: the work
// is bounded by O(√a) steps whatever N.
func TestErlangHugeFinishes(t *testing.T) {
	type result struct {
		n    int
		a    float64
		c, w float64
		lt   Little
	}
	results := make(chan []result, 1)
	go func() {
		var rs []result
		for _, n := range []int{math.MaxInt64, math.MaxInt32, 1 << 20} {
			for _, a := range []float64{0.5, 40, 1e5 + 0.5, 1e9, 1e10, 1e12} {
				hr := HostReport{RPS: a, Pool: Pool{PeakOpen: n, PeakInFlight: 0}}
				hr.Little.MeanLatency = 1000 // W = 1 s: Load = RPS
				little(&hr, n, nil, 0)
				rs = append(rs, result{n, a, ErlangC(n, a), MeanWait(n, a, 50), hr.Little})
			}
		}
		results <- rs
	}()
	var rs []result
	select {
	case rs = <-results:
	case <-time.After(30 * time.Second):
		t.Fatal("Erlang figures for huge pools and demands did not finish within 30 s")
	}
	for _, r := range rs {
		if float64(r.n) > r.a && (r.c < 0 || r.c > 1 || math.IsNaN(r.c)) {
			t.Errorf("ErlangC(%d, %g) = %v, want a probability", r.n, r.a, r.c)
		}
		if r.lt.ErlangN <= int(r.a) && r.a < 1e15 {
			t.Errorf("N=%d a=%g: ErlangN = %d, want above the demand", r.n, r.a, r.lt.ErlangN)
		}
		for _, row := range r.lt.Table {
			if float64(row.N) <= r.a || row.PWait < 0 || row.PWait > 1 {
				t.Errorf("N=%d a=%g: table row %+v", r.n, r.a, row)
			}
		}
	}
}

// TestErlangLargeLoadAccuracy checks the normal approximation used past
// exactLoad against the exact recurrence: within the bound its
// documentation states, at pool sizes from just above the load to far
// beyond it.
func TestErlangLargeLoadAccuracy(t *testing.T) {
	for _, a := range []float64{exactLoad + 0.37, 3e5, 1e6} {
		bound := normalErrorBound(a)
		for _, beta := range []float64{0, 0.01, 0.3, 0.97, 1.6, 2.5, 4, 8} {
			n := int(math.Floor(a+beta*math.Sqrt(a))) + 1
			want := erlangCRecurrence(n, a)
			if got := ErlangC(n, a); math.Abs(got-want) > bound {
				t.Errorf("ErlangC(%d, %v) = %.9g, want %.9g ± %.2g", n, a, got, want, bound)
			}
		}
		// PoolFor: the exact answer, or one off where C(n) is within
		// the bound of the target.
		b, want := 1.0, 0
		for k := 1; ; k++ {
			b = a * b / (float64(k) + a*b)
			if float64(k) > a && float64(k)*b/(float64(k)-a*(1-b)) < 0.05 {
				want = k
				break
			}
		}
		got := PoolFor(a, 0.05)
		if got != want && math.Abs(erlangCRecurrence(min(got, want), a)-0.05) > bound {
			t.Errorf("PoolFor(%v) = %d, want %d", a, got, want)
		}
	}
}

// BenchmarkErlangHuge is the cost of the figures of one host at a huge
// pool size and demand: ErlangC, MeanWait and PoolFor.
func BenchmarkErlangHuge(b *testing.B) {
	for _, a := range []float64{40, 1e5, 1e9, 1e12} {
		b.Run(fmt.Sprintf("a=%g", a), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ErlangC(math.MaxInt64, a)
				MeanWait(math.MaxInt32, a, 50)
				PoolFor(a, TargetWaitProbability)
			}
		})
	}
}

// TestErlangExactRegion checks the bounded exact method against the full
// recurrence, from just above the load to pools so large that C is lost
// below 10⁻¹⁷ (where the method stops early).
func TestErlangExactRegion(t *testing.T) {
	for _, a := range []float64{0.001, 0.3, 5, 99.5, 1000, 5e4, exactLoad} {
		s := math.Sqrt(a)
		for n := int(a) + 1; float64(n) < a+40*s+60; n += 1 + int(s/7) {
			if got, want := ErlangC(n, a), erlangCRecurrence(n, a); math.Abs(got-want) > 1e-12 {
				t.Errorf("ErlangC(%d, %v) = %.15g, want %.15g", n, a, got, want)
			}
		}
		for _, target := range []float64{0.5, 0.05, 1e-6} {
			b, want := 1.0, 0
			for k := 1; ; k++ {
				b = a * b / (float64(k) + a*b)
				if float64(k) > a && float64(k)*b/(float64(k)-a*(1-b)) < target {
					want = k
					break
				}
			}
			if got := PoolFor(a, target); got != want {
				t.Errorf("PoolFor(%v, %v) = %d, want %d", a, target, got, want)
			}
		}
	}
	for _, a := range []float64{math.NaN(), math.Inf(1), -1, 1e300} {
		c, n := ErlangC(math.MaxInt64, a), PoolFor(a, 0.05)
		if math.IsNaN(c) || c < 0 || c > 1 || n < 0 {
			t.Errorf("ErlangC(MaxInt64, %v) = %v, PoolFor = %d", a, c, n)
		}
	}
}
