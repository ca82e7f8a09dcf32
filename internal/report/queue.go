package report

import "math"

// TargetWaitProbability is the queueing target of the recommended pool
// size: the smallest pool under which fewer than this fraction of requests
// wait for a connection.
const TargetWaitProbability = 0.05

// ErlangC returns the probability that a request waits for a connection in
// an M/M/n queue with offered load a (in Erlangs: λ·W). It is 1 when n ≤ a,
// where the queue is unstable, and 0 when a ≤ 0.
func ErlangC(n int, a float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return 1
	}
	b := erlangB(n, a)
	return float64(n) * b / (float64(n) - a*(1-b))
}

// erlangB returns Erlang's B formula (the blocking probability of n
// servers with no queue) by the stable recurrence B(k) = a·B(k−1) ÷ (k +
// a·B(k−1)), B(0) = 1.
func erlangB(n int, a float64) float64 {
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b
}

// MeanWait returns the mean time a request waits for a connection in an
// M/M/n queue with offered load a and mean holding time w, in w's unit:
// ErlangC(n, a)·w ÷ (n − a). It is +Inf when n ≤ a.
func MeanWait(n int, a, w float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return math.Inf(1)
	}
	return ErlangC(n, a) * w / (float64(n) - a)
}

// PoolFor returns the smallest pool size n for which ErlangC(n, a) is less
// than target (0 < target < 1). It is 0 when a ≤ 0.
func PoolFor(a, target float64) int {
	if a <= 0 || target <= 0 || target >= 1 {
		return 0
	}
	b := 1.0
	for n := 1; ; n++ {
		b = a * b / (float64(n) + a*b) // erlangB(n, a), incrementally
		if float64(n) <= a {
			continue
		}
		if c := float64(n) * b / (float64(n) - a*(1-b)); c < target {
			return n
		}
	}
}
