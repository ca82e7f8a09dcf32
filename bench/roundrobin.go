package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// RoundRobinOptions configure RoundRobin.
type RoundRobinOptions struct {
	// URL is where every variant sends its GETs.
	URL string
	// Warm is how many requests each variant sends before the
	// measurement, Iterations how many it sends during it.
	Warm, Iterations int
}

// Sample is the measured time of every request one variant sent in a
// round robin, in the order sent.
type Sample struct {
	Variant string
	Times   []time.Duration
}

// RoundRobin builds one client per variant, each on a transport of its
// own, warms them up, then runs opts.Iterations iterations: each iteration
// sends one GET through every variant, in an order drawn afresh (from a
// fixed seed), and times each request alone (from building the request to
// the body's Close). Drift of the machine thus hits every variant at the
// scale of one iteration (k requests), and each variant's state has been
// left alone for about k-1 other requests when its turn comes, as in a
// program where the instrumentation is touched once per request between
// the program's own work.
//
// The order is shuffled rather than rotated: with a rotation each variant
// always follows the same other one, and follows a heavy variant's cache
// and allocation footprint every time, which biases the comparison.
func RoundRobin(variants []Variant, opts RoundRobinOptions) ([]Sample, error) {
	clients := make([]Client, len(variants))
	for i, v := range variants {
		clients[i] = v.New(NewTransport())
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i, c := range clients {
		for range opts.Warm {
			if err := c.Get(opts.URL); err != nil {
				return nil, fmt.Errorf("bench: warm %s: %w", variants[i].Name, err)
			}
		}
	}
	out := make([]Sample, len(variants))
	for i, v := range variants {
		out[i] = Sample{Variant: v.Name, Times: make([]time.Duration, 0, opts.Iterations)}
	}
	k := len(clients)
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range opts.Iterations {
		rng.Shuffle(k, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, v := range order {
			start := time.Now()
			err := clients[v].Get(opts.URL)
			d := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("bench: %s: %w", variants[v].Name, err)
			}
			out[v].Times = append(out[v].Times, d)
		}
	}
	return out, nil
}

// Median returns the median of ts.
func Median(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	s := slices.Clone(ts)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Mean returns the mean of ts.
func Mean(ts []time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	var sum float64
	for _, t := range ts {
		sum += float64(t)
	}
	return time.Duration(math.Round(sum / float64(len(ts))))
}
