package main

import (
	"math"
	"testing"
)

// Reference values from the exact distribution of the signed-rank
// statistic (for n = 5 all positive: 2/32; for n = 10 all positive:
// 2/1024).
func TestSignedRank(t *testing.T) {
	for _, tc := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{2, 3, 4, 5, 6}, []float64{1, 1, 1, 1, 1}, 2.0 / 32},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, make([]float64, 10), 2.0 / 1024},
		// d = +1, -2, +3: W+ = 4, W- = 2; of the 8 sign assignments
		// 3 have W+ ≤ 2 (sums 0, 1, 2): p = 2 × 3/8.
		{[]float64{1, -2, 3}, []float64{0, 0, 0}, 0.75},
		{[]float64{1, 1}, []float64{1, 1}, 1},
	} {
		if got := signedRank(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("signedRank(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
