package report

import (
	"math"
	"testing"
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
