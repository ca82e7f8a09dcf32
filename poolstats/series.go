package poolstats

import (
	"runtime"
	"sync/atomic"

	"github.com/httptop/httptop/snapshot"
)

// seriesSlots is the number of one-second slots a host keeps: a minute of
// history plus the second in progress and slack for a snapshot taken late.
const seriesSlots = 64

// seriesPoints is the most points a snapshot reports per host.
const seriesPoints = 60

// rateSeconds is how many seconds (at most) rates are averaged over.
const rateSeconds = 10

// counter names one of the per-second counters of a host.
type counter int

// Those every request changes come first, next to the slot's epoch.
const (
	cRequests  counter = iota // requests completed (responded or failed)
	cLatSumUs                 // latency of responded requests, summed
	cLatMaxUs                 // largest such latency
	cReused                   // requests that got a pooled connection
	cNew                      // requests that got a new connection
	cWaitUs                   // connection wait, summed
	cErrors                   // failed requests and failed body reads
	cChurned                  // healthy idle connections closed by the client
	cUndrained                // HTTP/1.x bodies closed before EOF
	cHoldUs                   // latency minus connection wait of responded requests, summed
	cStarted                  // untraced requests seen starting (Host.Started)
	numCounters
)

// second holds one second of one host's traffic. Durations are attributed
// to the second in which the wait or the request ended.
type second struct {
	epoch atomic.Int64 // second index on the monotonic clock
	c     [numCounters]atomic.Int64
}

func (s *second) add(c counter, v int64) { s.c[c].Add(v) }

// series is a ring of per-second slots.
type series struct {
	s [seriesSlots]second
	// latSumUs and waitSumUs total the cLatSumUs and cWaitUs counters
	// of the seconds whose slot was reused, so that the sums since the
	// host was first seen cost the hot path nothing (see sumsSince).
	latSumUs, waitSumUs atomic.Int64
}

// at returns the slot for the second containing now, clearing it first when
// it still holds an older second (see advance).
func (r *series) at(now int64) *second {
	e := now / 1e9
	s := &r.s[e%seriesSlots]
	if s.epoch.Load() != e {
		r.turn(s, e)
	}
	return s
}

// live returns the slot for the second containing t, as of now (t <= now),
// or nil when the ring no longer keeps that second.
func (r *series) live(t, now int64) *second {
	if t/1e9 <= now/1e9-seriesSlots {
		return nil
	}
	return r.at(t)
}

// turn makes s hold second e (see advance), out of line: it runs once a
// second.
//
//go:noinline
func (r *series) turn(s *second, e int64) { advance(&s.epoch, e, func() { r.recycle(s) }) }

// recycle clears slot s for reuse, first adding its duration sums to the
// series' totals. They move with an atomic swap, so that a duration added
// by a caller whose clock read was a moment older than the new second is
// never lost (see dist.recycle).
func (r *series) recycle(s *second) {
	r.latSumUs.Add(s.c[cLatSumUs].Swap(0))
	r.waitSumUs.Add(s.c[cWaitUs].Swap(0))
	for i := range s.c {
		if counter(i) != cLatSumUs && counter(i) != cWaitUs {
			s.c[i].Store(0)
		}
	}
}

// totalSums returns the latency and connection-wait sums, in
// microseconds, since the series began. Like dist.cumulative it never
// reports less than before: a read that overlaps a slot's recycling is
// taken again.
func (r *series) totalSums() (latUs, waitUs int64) {
	var epochs [seriesSlots]int64
	for {
		busy := false
		for i := range r.s {
			epochs[i] = r.s[i].epoch.Load()
			busy = busy || epochs[i] == clearing
		}
		if busy {
			runtime.Gosched()
			continue
		}
		latUs, waitUs = r.latSumUs.Load(), r.waitSumUs.Load()
		for i := range r.s {
			latUs += r.s[i].c[cLatSumUs].Load()
			waitUs += r.s[i].c[cWaitUs].Load()
		}
		same := true
		for i := range r.s {
			same = same && r.s[i].epoch.Load() == epochs[i]
		}
		if same {
			return latUs, waitUs
		}
	}
}

// slot returns the slot holding second e, or nil when it was overwritten or
// never written.
func (r *series) slot(e int64) *second {
	if e < 0 {
		return nil
	}
	s := &r.s[e%seriesSlots]
	if s.epoch.Load() != e {
		return nil
	}
	return s
}

// lastActive returns the most recent second in which the host recorded
// anything, or -1.
func (r *series) lastActive() int64 {
	last := int64(-1)
	for i := range r.s {
		last = max(last, r.s[i].epoch.Load())
	}
	return last
}

// sums are the per-second counters added up over a span of seconds.
type sums struct {
	c       [numCounters]int64
	seconds float64
}

// per returns counter c per second over the span.
func (s sums) per(c counter) float64 { return float64(s.c[c]) / s.seconds }

// holding returns the mean latency of the requests that responded over
// the span, the mean wait for a connection of the requests that got one,
// and W, the mean time a responded request held its connection (its own
// latency minus its own wait, summed per request), all in milliseconds: the
// W of the capture report's Little's-law section, from the same counters.
// ok is false when no request responded.
func (s sums) holding() (latencyMs, waitMs, w float64, ok bool) {
	responded := s.c[cRequests] - s.c[cErrors]
	if responded <= 0 || s.c[cLatSumUs] <= 0 {
		return 0, 0, 0, false
	}
	latencyMs = float64(s.c[cLatSumUs]) / 1e3 / float64(responded)
	if got := s.c[cNew] + s.c[cReused]; got > 0 {
		waitMs = float64(s.c[cWaitUs]) / 1e3 / float64(got)
	}
	return latencyMs, waitMs, float64(s.c[cHoldUs]) / 1e3 / float64(responded), true
}

// reusedFraction returns reused ÷ (new + reused), or 0 without data.
func (s sums) reusedFraction() float64 {
	if got := s.c[cNew] + s.c[cReused]; got > 0 {
		return float64(s.c[cReused]) / float64(got)
	}
	return 0
}

// recent sums the counters from rateSeconds whole seconds ago (or the
// host's creation, if later) up to now, including the second in progress,
// and divides by the time that spans, at least one second: a burst of
// requests in a host's first milliseconds is not extrapolated to a rate.
func (r *series) recent(now, created int64) sums {
	cur := now / 1e9
	start := max(created, (cur-rateSeconds)*1e9)
	out := sums{seconds: max(float64(now-start)/1e9, 1)}
	for e := start / 1e9; e <= cur; e++ {
		s := r.slot(e)
		if s == nil {
			continue
		}
		for i := range out.c {
			if counter(i) == cLatMaxUs {
				out.c[i] = max(out.c[i], s.c[i].Load())
			} else {
				out.c[i] += s.c[i].Load()
			}
		}
	}
	return out
}

// points returns up to seriesPoints complete seconds before now, oldest
// first. Seconds with no traffic are reported as zero points so that the
// series has no gaps.
func (r *series) points(now, created int64) []snapshot.Point {
	cur := now / 1e9
	first := max(cur-seriesPoints, created/1e9)
	if first >= cur {
		return nil
	}
	out := make([]snapshot.Point, 0, cur-first)
	for e := first; e < cur; e++ {
		p := snapshot.Point{Time: wallTime(e * 1e9).Unix()}
		if s := r.slot(e); s != nil {
			p.Requests = s.c[cRequests].Load()
			p.Errors = s.c[cErrors].Load()
			p.NewConns = s.c[cNew].Load()
			p.ReusedConns = s.c[cReused].Load()
			lat := s.c[cLatSumUs].Load()
			if ok := p.Requests - p.Errors; ok > 0 {
				p.LatencyAvgMs = float64(lat) / 1e3 / float64(ok)
				p.HoldAvgMs = float64(s.c[cHoldUs].Load()) / 1e3 / float64(ok)
			}
			p.LatencyMaxMs = float64(s.c[cLatMaxUs].Load()) / 1e3
			p.AvgWaiting = float64(s.c[cWaitUs].Load()) / 1e6
			p.AvgInFlight = float64(lat) / 1e6
			p.Started = s.c[cStarted].Load()
		}
		out = append(out, p)
	}
	return out
}
