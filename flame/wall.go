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
// stack hz times a second, and returns the function that stops it and
// writes the profile to w in pprof format, shaped like fgprof's (sample
// types samples/count and time/nanoseconds). At WallHz it is fgprof's
// profile, as Start takes it. A lower rate costs proportionally less:
// each sample walks the stack of every goroutine (runtime.GoroutineProfile),
// which for a program of 20,000 goroutines takes milliseconds; the
// dashboard's rolling profiles sample at a fraction of fgprof's rate.
// hz must be between 1 and WallHz.
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

// startSampledWall samples goroutine stacks at hz on a goroutine of its
// own until stopped.
func startSampledWall(w io.Writer, hz int) func() error {
	s := &wallSampler{stacks: map[[32]uintptr]int64{}, start: time.Now()}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second / time.Duration(hz))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.sample()
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
			if e := s.profile(time.Now()).Write(w); e != nil {
				err = fmt.Errorf("flame: write wall profile: %w", e)
			}
		})
		return err
	}
}

// wallSampler counts goroutine stacks.
type wallSampler struct {
	records []runtime.StackRecord
	stacks  map[[32]uintptr]int64
	samples int64 // ticks taken
	start   time.Time
}

// sample records every goroutine's stack once, but the sampler's own.
func (s *wallSampler) sample() {
	for {
		n, ok := runtime.GoroutineProfile(s.records)
		if ok {
			// The first record is the calling goroutine: this one.
			for _, r := range s.records[min(1, n):n] {
				s.stacks[r.Stack0]++
			}
			s.samples++
			return
		}
		s.records = make([]runtime.StackRecord, n+n/10+10)
	}
}

// profile builds the pprof profile of what was sampled up to end: each
// sample is worth the time between two ticks as they really came.
func (s *wallSampler) profile(end time.Time) *profile.Profile {
	d := end.Sub(s.start)
	p := emptyWallProfile(s.start, end)
	if s.samples == 0 || d <= 0 {
		return p
	}
	period := int64(d) / s.samples
	p.Period = period
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
	for stack, n := range s.stacks {
		sm := &profile.Sample{Value: []int64{n, n * period}}
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
