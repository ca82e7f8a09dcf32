package dashboard

import (
	"strings"

	"github.com/httptop/httptop/snapshot"
)

// historyLen is how many values per host the dashboard keeps for its
// sparklines: one per snapshot received, so a minute at the default
// interval.
const historyLen = 60

// ring is a fixed-size series of the latest historyLen values.
type ring struct {
	vals [historyLen]float64
	n    int // values held, up to historyLen
	next int // where the next value goes
}

// add appends v, dropping the oldest value when full.
func (r *ring) add(v float64) {
	r.vals[r.next] = v
	r.next = (r.next + 1) % historyLen
	if r.n < historyLen {
		r.n++
	}
}

// last copies the latest min(k, n) values, oldest first, into dst[:0].
func (r *ring) last(dst []float64, k int) []float64 {
	dst = dst[:0]
	if k > r.n {
		k = r.n
	}
	for i := k; i > 0; i-- {
		dst = append(dst, r.vals[(r.next-i+historyLen)%historyLen])
	}
	return dst
}

// hostHistory is what the dashboard remembers about one host between
// snapshots.
type hostHistory struct {
	rps, p95 ring
	// seen is the model generation that last saw the host; hosts that
	// drop out of a snapshot lose their history.
	seen uint64
}

// seed fills a new host's request-rate history from the per-second series
// the snapshot carries, so its sparkline means something from the first
// frame.
func (h *hostHistory) seed(series []snapshot.Point) {
	if len(series) > historyLen {
		series = series[len(series)-historyLen:]
	}
	for _, p := range series {
		// A dial-only host's series counts requests starting; others'
		// count none.
		h.rps.add(float64(p.Requests + p.Started))
	}
}

// sparkBlocks are the eight levels of a sparkline, lowest first.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws vals (oldest first) in width cells, right-aligned, each
// value scaled to the largest: zero is the lowest block, the maximum the
// highest. Missing history is blank.
func sparkline(vals []float64, width int) string {
	if width <= 0 {
		return ""
	}
	if len(vals) > width {
		vals = vals[len(vals)-width:]
	}
	var top float64
	for _, v := range vals {
		top = max(top, v)
	}
	var b strings.Builder
	b.Grow(width * 3)
	for range width - len(vals) {
		b.WriteByte(' ')
	}
	for _, v := range vals {
		level := 0
		if top > 0 && v > 0 {
			level = int(v/top*float64(len(sparkBlocks)-1) + 0.5)
			level = min(max(level, 0), len(sparkBlocks)-1)
			if level == 0 {
				level = 1 // non-zero traffic is never drawn as idle
			}
		}
		b.WriteRune(sparkBlocks[level])
	}
	return b.String()
}
