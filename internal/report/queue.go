package report

import "math"

// TargetWaitProbability is the queueing target of the recommended pool
// size: the smallest pool under which fewer than this fraction of requests
// wait for a connection.
const TargetWaitProbability = 0.05

// How the Erlang figures are computed, and what they cost.
//
// Up to exactLoad Erlangs they are exact (to a few units in the last
// place): 1/B(N, a) is summed from the pool size ⌊a⌋ down, where its
// terms fall like e^(−j²/2a), then carried up to N by the recurrence
// 1/B(k) = 1 + k/a · 1/B(k−1), stopping as soon as C(N) is known to be
// below 10⁻¹⁷. Each figure takes at most about 20·√a steps (a few
// thousand at exactLoad), whatever N, however large.
//
// Past exactLoad they use the normal approximation of the Poisson
// distribution with its first Edgeworth (skewness) term, which costs the
// same at 10⁵ or 10¹² Erlangs. Its error on C is at most
// normalErrorBound(a) = 0.023 ÷ a (measured against the exact recurrence
// from 10² to 10⁶ Erlangs, where it is 0.0221 ÷ a at worst, and shrinking
// as 1/a), so at most 2.3·10⁻⁷ there: far below the 0.1% the report
// shows. PoolFor may then answer one connection off when C at that size
// is within the bound of the target.
const exactLoad = 1e5

// normalErrorBound bounds the error of ErlangC past exactLoad.
func normalErrorBound(a float64) float64 { return 0.023 / a }

// ErlangC returns the probability that a request waits for a connection in
// an M/M/n queue with offered load a (in Erlangs: λ·W). It is 1 when n ≤ a,
// where the queue is unstable, and 0 when a ≤ 0. See exactLoad for its
// accuracy and cost.
func ErlangC(n int, a float64) float64 {
	switch {
	case !(a > 0): // NaN too
		return 0
	case float64(n) <= a:
		return 1
	case a > exactLoad:
		return erlangCNormal(float64(n), a)
	}
	k0 := int(a) // < n
	inv := invErlangB(k0, a)
	for k := k0 + 1; ; k++ {
		inv = 1 + float64(k)/a*inv
		if k == n {
			return erlangC(n, a, inv)
		}
		// For n > k > a, B(n) ≤ B(k) and n/(n−a) ≤ k/(k−a), so
		// C(n) ≤ n·B(n)/(n−a) ≤ k·B(k)/(k−a).
		if float64(k)/((float64(k)-a)*inv) < 1e-17 {
			return 0
		}
	}
}

// erlangC returns Erlang's C from inv = 1/B(n, a), for n > a.
func erlangC(n int, a, inv float64) float64 {
	b := 1 / inv
	return float64(n) * b / (float64(n) - a*(1-b))
}

// invErlangB returns 1/B(m, a), the inverse of Erlang's B formula (the
// blocking probability of m servers with no queue), for m ≤ a:
// Σ_{j=0..m} m!/((m−j)!·aʲ), whose terms fall by the ratio (m−j)/a ≤ 1,
// summed until what is left cannot change the sum.
func invErlangB(m int, a float64) float64 {
	sum, t := 1.0, 1.0
	for j := range m {
		r := float64(m-j) / a // t_{j+1}/t_j, falling with j
		t *= r
		sum += t
		// The terms left are at most t·(r + r² + …).
		if r < 1 && t*r/(1-r) < 1e-17*sum {
			break
		}
	}
	return sum
}

// erlangCNormal is ErlangC past exactLoad: B(n, a) = P(X = n) ÷ P(X ≤ n)
// for X Poisson of mean a, both from the normal distribution with the
// Edgeworth correction for the Poisson's skewness 1/√a (and a continuity
// correction of one half for the sum).
func erlangCNormal(n, a float64) float64 {
	s := math.Sqrt(a)
	k := 1 / (6 * s) // skewness ÷ 6
	z0 := (n - a) / s
	z := (n + 0.5 - a) / s
	pmf := normalPDF(z0) / s * (1 + k*(z0*z0*z0-3*z0))
	cdf := normalCDF(z) - normalPDF(z)*k*(z*z-1)
	b := pmf / cdf
	c := n * b / (n - a + a*b)
	if !(c >= 0) { // NaN: b underflowed against an infinite n
		return 0
	}
	return min(c, 1)
}

func normalPDF(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }
func normalCDF(x float64) float64 { return math.Erfc(-x/math.Sqrt2) / 2 }

// MeanWait returns the mean time a request waits for a connection in an
// M/M/n queue with offered load a and mean holding time w, in w's unit:
// ErlangC(n, a)·w ÷ (n − a). It is +Inf when n ≤ a.
func MeanWait(n int, a, w float64) float64 {
	if !(a > 0) {
		return 0
	}
	if float64(n) <= a {
		return math.Inf(1)
	}
	return ErlangC(n, a) * w / (float64(n) - a)
}

// PoolFor returns the smallest pool size n for which ErlangC(n, a) is less
// than target (0 < target < 1). It is 0 when a ≤ 0, and math.MaxInt when
// even that pool is too small. See exactLoad for its accuracy and cost.
func PoolFor(a, target float64) int {
	if !(a > 0) || !(target > 0) || target >= 1 {
		return 0
	}
	if a >= math.MaxInt/2 {
		return math.MaxInt
	}
	lo := int(a) + 1 // the smallest stable pool
	if a > exactLoad {
		// C falls as n grows: widen the step from lo until C is below
		// target, then bisect.
		hi, step := lo, int(math.Sqrt(a))
		for ErlangC(hi, a) >= target {
			if hi > math.MaxInt-step {
				return math.MaxInt
			}
			lo, hi, step = hi+1, hi+step, 2*step
		}
		for lo < hi {
			mid := lo + (hi-lo)/2
			if ErlangC(mid, a) < target {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return lo
	}
	inv := invErlangB(lo-1, a)
	for n := lo; ; n++ {
		inv = 1 + float64(n)/a*inv
		if erlangC(n, a, inv) < target {
			return n
		}
	}
}
