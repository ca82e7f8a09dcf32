package diff

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// How a change is judged beyond noise (see noiseText).
const (
	// Alpha is the two-sided significance level of the t-test. A host has
	// about ten figures; at 0.01 a pair of captures of an unchanged
	// workload would flag one by chance about once in ten hosts without
	// the minimum change.
	Alpha = 0.01
	// MinRelativeChange is the smallest change, relative to the before
	// figure, that is flagged. Two captures of the same workload differ
	// for real, because the machine does other work: eight captures each
	// of three workloads on a shared two-core machine (load 6 to 10)
	// spread their req/s and p50 by up to ±12% around the middle, and
	// seconds-long tests find that significant. Nobody should chase it.
	MinRelativeChange = 0.25
	// minSeconds is the fewest values per capture the test needs.
	minSeconds = 3
)

// noiseText explains the test; diff.md, diff.html and diff.json carry it.
var noiseText = []string{
	"A figure's change is flagged as beyond noise when Welch's t-test (unequal variances) on the per-second values behind it, " +
		"before against after, gives a two-sided p below 0.01, and the change is at least 25% of the before figure and at least a floor " +
		"(1 ms for latencies, 0.5 requests waiting, 1 req/s, 0.5 new connections/s, 0.1 errors/s, 5 points of reuse, 1 connection, 1 KiB), " +
		"in the same direction as the tested values. A tail (p95, p99, conn-wait p95) is flagged only when its middle moved beyond noise " +
		"the same way too (p50, or the number of requests waiting): the tails of one workload captured again and again on a busy machine " +
		"spread by a factor of two or more while its median held. Each capture needs at least 3 whole seconds of per-second series to be tested.",
	"The tested values: req/s, errors/s and new conns/s, each second's counts; waiting, each second's time-averaged number of requests waiting; " +
		"reuse, each second's reused ÷ (new + reused) connections; p50, each second's mean latency; p95 and p99, each second's largest latency " +
		"(the per-second series stores each second's mean and maximum latency, not its quantiles, so the tail is tested on the maximum, " +
		"the closest per-second tail it keeps); conn-wait p95, each second's mean connection wait (time spent waiting ÷ connections handed out); " +
		"pool open and TLS memory per connection, each snapshot's value. The figures shown are the reports' own " +
		"(p50, p95 and p99 are the median over the snapshots of each snapshot's rolling-window percentile).",
	"Consecutive seconds are not independent (a slow second tends to follow a slow second), which makes any test on them optimistic, " +
		"and two captures of the same workload differ for real when the machine is busier during one: the minimum change is there for both. " +
		"A program whose speed is bound by its CPU runs slower on a machine busy with other work, which no test on the two captures can tell " +
		"from a change of the program: compare the program's CPU share and its CPU per request. " +
		"A diagnosis counts as appeared or gone (or, made in both captures, as grown or receded) beyond noise when the share of the host's snapshots " +
		"that made it changed by at least half. " +
		"The pool limit is a setting: any change of it is exact.",
}

// welch runs Welch's t-test of a against b and returns the statistic,
// the degrees of freedom and the two-sided p-value. With no variance on
// either side the means are exact: p is 0 when they differ and 1 when
// they do not, and t is 0. ok is false when either side has fewer than
// minSeconds values.
func welch(a, b []float64) (t, df, p float64, ok bool) {
	na, nb := float64(len(a)), float64(len(b))
	if len(a) < minSeconds || len(b) < minSeconds {
		return 0, 0, 0, false
	}
	ma, va := meanVar(a)
	mb, vb := meanVar(b)
	sa, sb := va/na, vb/nb
	se2 := sa + sb
	if se2 == 0 {
		if ma == mb {
			return 0, na + nb - 2, 1, true
		}
		return 0, na + nb - 2, 0, true
	}
	t = (mb - ma) / math.Sqrt(se2)
	df = se2 * se2 / (sa*sa/(na-1) + sb*sb/(nb-1))
	p = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t))
	return t, df, min(p, 1), true
}

// meanVar returns the mean and the sample variance (n − 1) of vs, which
// holds at least two values.
func meanVar(vs []float64) (mean, variance float64) {
	for _, v := range vs {
		mean += v
	}
	mean /= float64(len(vs))
	for _, v := range vs {
		variance += (v - mean) * (v - mean)
	}
	return mean, variance / float64(len(vs)-1)
}

// sd returns the sample standard deviation of vs, 0 for fewer than two.
func sd(vs []float64) float64 {
	if len(vs) < 2 {
		return 0
	}
	_, v := meanVar(vs)
	return math.Sqrt(v)
}

// mean returns the mean of vs, 0 for none.
func mean(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	var s float64
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}
