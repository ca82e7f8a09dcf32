package dashboard

import (
	"fmt"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/flame"
)

// The agent samples a rolling wall-clock profile less often the more
// goroutines the program has (each sample walks every goroutine's stack,
// and the agent keeps its cost within a budget, see flame.StartWall): a
// program of 30,000 goroutines gets a sample every minute or so, so most
// of the pane's rolling profiles (agentclient.RollingDuration) hold none. The pane shows the
// latest profiles together instead, enough of them for wallWantSamples
// samples but none older than wallMaxSpan, and says how many samples
// over how long it shows.
const (
	// wallWantSamples is how many samples the pane gathers from the
	// latest profiles before it leaves the older ones out: a program of
	// a few hundred goroutines, sampled at 19 Hz, fills it with the
	// latest profile alone.
	wallWantSamples = 20
	// wallMaxSpan bounds how far back the pane goes for them; the latest
	// profile that holds a sample is kept however old, so that the pane
	// is never empty once a sample came.
	wallMaxSpan = time.Minute
)

// wallSegment is one rolling wall-clock profile that holds samples.
type wallSegment struct {
	p          *profile.Profile
	samples    int
	start, end time.Time
}

// wallWindow gathers the latest rolling wall-clock profiles for the hot
// functions pane. It is used by the profiler's goroutine alone.
type wallWindow struct {
	segs []wallSegment // oldest first
	last time.Time     // the end of the latest profile, with samples or not
}

// wallView is what the pane shows of the wall-clock profiles: the merged
// profile and the resolution it has.
type wallView struct {
	p *profile.Profile // nil when no profile held a sample yet
	// samples is how many times the goroutines were sampled for it, and
	// span the time from the start of the oldest profile merged to the
	// end of the latest profile taken.
	samples int
	span    time.Duration
}

// add records the latest profile and returns what the pane shows: the
// latest profiles that hold samples merged into one, whose duration is
// the sum of theirs (each sample's time runs from the one before it in
// its profile, or its start, to the next, or its end), so that shares
// and average goroutine counts stay true.
func (w *wallWindow) add(p *profile.Profile) (wallView, error) {
	start := time.Unix(0, p.TimeNanos)
	end := start.Add(time.Duration(p.DurationNanos))
	w.last = end
	if n := flame.WallSamples(p); n > 0 {
		w.segs = append(w.segs, wallSegment{p: p, samples: n, start: start, end: end})
	}
	// Keep, from the latest back, the profiles that are needed for
	// wallWantSamples and no older than wallMaxSpan; the latest one
	// always.
	keep, got := 0, 0
	for i := len(w.segs) - 1; i >= 0; i-- {
		s := w.segs[i]
		if keep > 0 && (got >= wallWantSamples || w.last.Sub(s.start) > wallMaxSpan) {
			break
		}
		keep++
		got += s.samples
	}
	w.segs = append(w.segs[:0], w.segs[len(w.segs)-keep:]...)
	if keep == 0 {
		return wallView{}, nil
	}
	v := wallView{samples: got, span: w.last.Sub(w.segs[0].start)}
	if keep == 1 {
		v.p = w.segs[0].p
		return v, nil
	}
	ps := make([]*profile.Profile, keep)
	var d int64
	for i, s := range w.segs {
		ps[i] = s.p
		d += s.p.DurationNanos
	}
	m, err := profile.Merge(ps)
	if err != nil {
		return wallView{}, fmt.Errorf("merge wall-clock profiles: %w", err)
	}
	m.TimeNanos, m.DurationNanos, m.Period = w.segs[0].p.TimeNanos, d, d/int64(got)
	v.p = m
	return v, nil
}
