package flame

import (
	"fmt"
	"io"
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
// Below WallHz, StartWall also bounds its own cost. Each sample walks the
// stack of every goroutine (runtime.GoroutineProfile, about a microsecond
// a goroutine: 20 ms for a program of 20,000 goroutines), so the next
// sample of any such profile of the process waits at least
// wallCostFactor times the last one's cost (2% of a core at most), and
// each sample counts for the time since the one before (the last also for
// the time until stop). A program of a few hundred goroutines is sampled
// at hz; a large one less often, for the same picture at a lower
// resolution, and a profile too short for even one sample is empty. The
// dashboard's rolling profiles are taken this way; hz must be between 1
// and WallHz.
func StartWall(w io.Writer, hz int) (stop func() error, err error) {
	if w == nil {
		return nil, fmt.Errorf("flame: start wall profile: nil writer")
	}
	if hz < 1 || hz > WallHz {
		return nil, fmt.Errorf("flame: start wall profile: rate %d Hz is not between 1 and %d", hz, WallHz)
	}
	if hz == WallHz {
		return startWall(w), nil
	}
	return startSampledWall(w, hz), nil
}

// wallCostFactor bounds the share of a core StartWall's sampling takes
// below WallHz: the next sample comes at the earliest after this many
// times the last one's cost (50: 2%).
const wallCostFactor = 50

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
// returns when the next may come.
func wallTook(start, end time.Time, period time.Duration) time.Time {
	wallPace.mu.Lock()
	defer wallPace.mu.Unlock()
	wallPace.next = start.Add(max(period, wallCostFactor*end.Sub(start)))
	return wallPace.next
}

// startSampledWall samples goroutine stacks on a goroutine of its own
// until stopped.
func startSampledWall(w io.Writer, hz int) func() error {
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
				t.Reset(time.Until(wallTook(now, time.Now(), period)))
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
				wallTook(now, time.Now(), period)
			case s.samples > 0:
				// The goroutines of the last sample stand for the time
				// since.
				tail := now.Sub(s.last)
				for _, c := range s.lastCounts {
					c.time += tail
				}
			}
			if e := s.profile(now).Write(w); e != nil {
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

// profile builds the pprof profile of what was sampled up to end.
func (s *wallSampler) profile(end time.Time) *profile.Profile {
	p := emptyWallProfile(s.start, end)
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
