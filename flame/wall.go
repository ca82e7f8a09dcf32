package flame

import (
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// WallHz is the rate of wall-clock profiles taken with Start: fgprof's
// 99 Hz.
const WallHz = 99

// StartWall begins a wall-clock profile that samples every goroutine's
// stack up to hz times a second, and returns the function that stops it
// and writes the profile to w in pprof format, shaped like fgprof's
// (sample types samples/count and time/nanoseconds). At WallHz it is
// fgprof's profile, as Start takes it.
//
// Below WallHz, StartWall also bounds its own cost to MaxWallShare of a
// core; StartWallShare takes a smaller share. Each sample walks the
// stack of every goroutine (runtime.GoroutineProfile, about a
// microsecond and a half a goroutine: 45 ms for a program of 30,000
// goroutines), so the next sample of any such profile of the process
// waits at least the last one's cost divided by the share, and each
// sample counts for the time since the one before (the last also for the
// time until stop). A program of a few hundred goroutines is sampled at
// hz; a large one less often, for the same picture at a lower
// resolution, and a profile too short for even one sample is empty. The
// profile's Period is then the mean time between its samples (its
// duration over their number, see WallSamples), so that a reader can
// tell the resolution it has. The dashboard's rolling profiles are taken
// this way; hz must be between 1 and WallHz.
func StartWall(w io.Writer, hz int) (stop func() error, err error) {
	return StartWallShare(w, hz, MaxWallShare)
}

// MaxWallShare is the largest share of a core the sampling of StartWall
// and StartWallShare may take below WallHz: 2%.
const MaxWallShare = 0.02

// StartWallShare is StartWall with the share of a core its sampling may
// take below WallHz, above 0 and at most MaxWallShare: 0.002 paces the
// samples so that they cost at most 0.2% of a core, whatever other
// profiles the process runs (they share one pace).
func StartWallShare(w io.Writer, hz int, share float64) (stop func() error, err error) {
	if w == nil {
		return nil, fmt.Errorf("flame: start wall profile: nil writer")
	}
	if hz < 1 || hz > WallHz {
		return nil, fmt.Errorf("flame: start wall profile: rate %d Hz is not between 1 and %d", hz, WallHz)
	}
	if !(share > 0 && share <= MaxWallShare) {
		return nil, fmt.Errorf("flame: start wall profile: share of a core %g is not above 0 and at most %g", share, MaxWallShare)
	}
	if hz == WallHz {
		return startWall(w), nil
	}
	return startSampledWall(w, hz, share), nil
}

// WallSamples returns how many times the goroutines were sampled for a
// wall-clock profile: its duration over its period (the mean time
// between samples for StartWall's, 1/99 s for fgprof's), 0 for a profile
// without samples.
func WallSamples(p *profile.Profile) int {
	if len(p.Sample) == 0 || p.Period <= 0 || p.DurationNanos <= 0 {
		return 0
	}
	return max(1, int(math.Round(float64(p.DurationNanos)/float64(p.Period))))
}

// wallPace paces the samples of every StartWall profile of the process
// together, so that back-to-back profiles (the dashboard's) stay within
// the bound too: next is the earliest time of the next sample.
var wallPace struct {
	mu   sync.Mutex
	next time.Time
}

// wallSlot reports whether a sample may be taken at now.
func wallSlot(now time.Time) bool {
	wallPace.mu.Lock()
	defer wallPace.mu.Unlock()
	return !now.Before(wallPace.next)
}

// wallTook records that a sample taken at start cost until end, and
// returns when the next may come: after period, and after the sample's
// cost divided by share.
func wallTook(start, end time.Time, period time.Duration, share float64) time.Time {
	wallPace.mu.Lock()
	defer wallPace.mu.Unlock()
	wallPace.next = start.Add(max(period, time.Duration(float64(end.Sub(start))/share)))
	return wallPace.next
}

// wallRecords keeps the buffer a sampler's goroutine stacks are read into
// (a *[]runtime.StackRecord, 256 bytes a goroutine: 7.5 MB for 30,000)
// from one profile to the next: allocated for each of the dashboard's
// rolling profiles, it was most of the garbage the agent made, and the
// collections it brought cost the program more than the samples.
var wallRecords sync.Pool

// startSampledWall samples goroutine stacks on a goroutine of its own
// until stopped.
func startSampledWall(w io.Writer, hz int, share float64) func() error {
	start := time.Now()
	s := &wallSampler{stacks: map[[32]uintptr]*wallCount{}, start: start, last: start}
	done := make(chan struct{})
	stopped := make(chan struct{})
	period := time.Second / time.Duration(hz)
	go func() {
		defer close(stopped)
		first := start.Add(period)
		wallPace.mu.Lock()
		if wallPace.next.After(first) {
			first = wallPace.next
		}
		wallPace.mu.Unlock()
		t := time.NewTimer(time.Until(first))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				now := time.Now()
				if !wallSlot(now) { // another profile sampled meanwhile
					t.Reset(period)
					continue
				}
				s.sample(now)
				t.Reset(time.Until(wallTook(now, time.Now(), period, share)))
			}
		}
	}()
	var (
		once sync.Once
		err  error
	)
	return func() error {
		once.Do(func() {
			close(done)
			<-stopped
			now := time.Now()
			switch {
			case s.samples == 0 && wallSlot(now):
				// One sample, here so that the goroutine left out as the
				// caller is this one, for the whole span.
				s.sample(now)
				wallTook(now, time.Now(), period, share)
			case s.samples > 0:
				// The goroutines of the last sample stand for the time
				// since.
				tail := now.Sub(s.last)
				for _, c := range s.lastCounts {
					c.time += tail
				}
			}
			s.release()
			if e := writeProfile(w, s.profile(now)); e != nil {
				err = fmt.Errorf("flame: write wall profile: %w", e)
			}
		})
		return err
	}
}

// wallSampler counts goroutine stacks.
type wallSampler struct {
	records    []runtime.StackRecord
	stacks     map[[32]uintptr]*wallCount
	start      time.Time
	last       time.Time    // of the latest sample
	lastCounts []*wallCount // one per goroutine of the latest sample
	samples    int
}

// wallCount is how often a stack was seen and the time it stands for.
type wallCount struct {
	n    int64
	time time.Duration
}

// sample records every goroutine's stack (but the sampler's own) as
// standing for the time since the previous sample (or the start).
func (s *wallSampler) sample(now time.Time) {
	interval := now.Sub(s.last)
	s.last = now
	s.samples++
	if s.records == nil {
		if r, ok := wallRecords.Get().(*[]runtime.StackRecord); ok {
			s.records = *r
		}
	}
	for {
		n, ok := runtime.GoroutineProfile(s.records)
		if ok {
			s.lastCounts = s.lastCounts[:0]
			// The first record is the calling goroutine: this one.
			for _, r := range s.records[min(1, n):n] {
				c := s.stacks[r.Stack0]
				if c == nil {
					c = &wallCount{}
					s.stacks[r.Stack0] = c
				}
				c.n++
				c.time += interval
				s.lastCounts = append(s.lastCounts, c)
			}
			return
		}
		s.records = make([]runtime.StackRecord, n+n/10+10)
	}
}

// release gives the sampler's buffer back for the next profile.
func (s *wallSampler) release() {
	if s.records != nil {
		r := s.records
		wallRecords.Put(&r)
		s.records = nil
	}
}

// profile builds the pprof profile of what was sampled up to end.
func (s *wallSampler) profile(end time.Time) *profile.Profile {
	p := emptyWallProfile(s.start, end)
	if s.samples > 0 {
		p.Period = int64(end.Sub(s.start)) / int64(s.samples)
	}
	m := p.Mapping[0]
	funcs := map[string]*profile.Function{}
	locs := map[uintptr]*profile.Location{}
	location := func(pc uintptr) *profile.Location {
		if l, ok := locs[pc]; ok {
			return l
		}
		l := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: uint64(pc)}
		frames := runtime.CallersFrames([]uintptr{pc})
		for {
			fr, more := frames.Next()
			name := fr.Function
			if name == "" {
				name = fmt.Sprintf("0x%x", fr.PC)
			}
			f := funcs[name]
			if f == nil {
				f = &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: fr.File}
				funcs[name] = f
				p.Function = append(p.Function, f)
			}
			l.Line = append(l.Line, profile.Line{Function: f, Line: int64(fr.Line)})
			if !more {
				break
			}
		}
		locs[pc] = l
		p.Location = append(p.Location, l)
		return l
	}
	for stack, c := range s.stacks {
		sm := &profile.Sample{Value: []int64{c.n, int64(c.time)}}
		for _, pc := range stack {
			if pc == 0 {
				break
			}
			sm.Location = append(sm.Location, location(pc))
		}
		p.Sample = append(p.Sample, sm)
	}
	return p
}

// profileGzip keeps gzip writers (*gzip.Writer) from one profile to the
// next: a new one allocates about a megabyte of tables.
var profileGzip sync.Pool

// writeProfile writes p to w gzipped, as profile.Write does, with a writer
// from profileGzip at the speed runtime/pprof compresses at.
func writeProfile(w io.Writer, p *profile.Profile) error {
	zw, _ := profileGzip.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
	} else {
		zw.Reset(w)
	}
	defer profileGzip.Put(zw)
	if err := p.WriteUncompressed(zw); err != nil {
		return err
	}
	return zw.Close()
}
