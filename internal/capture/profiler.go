package capture

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// profiler takes the CPU and wall-clock profiles of one capture window in
// segments.
//
// It first asks for a segment of both at once. If both come back, each
// kind then runs back to back on a lane of its own for the rest of the
// window (ModeConcurrent). If one is refused as busy while the other ran,
// the agent runs one profile at a time: a single lane alternates them,
// the refused kind first (ModeAlternating). A kind that fails for any
// other reason is dropped and the other gets the window to itself
// (ModeSingle). A busy refusal later on (someone else profiling) is
// retried: the lane moves on to its next kind, or waits a segment when
// every kind was refused.
type profiler struct {
	src     Source
	start   time.Time
	end     time.Time
	segment time.Duration
	minSeg  time.Duration
	kinds   [2]*kindState // cpu, wall
	mode    ProfileMode
	// contention are the mutex and block profiles, each on a lane of its
	// own for the whole window.
	contention [2]*kindState
}

// kindState is what one kind of profile gathered. Only one goroutine at a
// time touches it: the first round runs the two kinds on goroutines of
// their own, and afterwards each kind belongs to one lane.
type kindState struct {
	kind     snapshot.ProfileKind
	segments []Segment
	// merged is the merge of the segments' profiles so far: merged as
	// they come, so that a capture holds one profile of each kind and the
	// segment in progress, not every segment of the window.
	merged   *profile.Profile
	mergeErr error // the first failure to merge a segment, which is left out
	// dropped is set by a failure other than busy: the kind is not asked
	// for again.
	dropped bool
	lastErr error
}

// expectRefusal turns the kind's last segment, refused as busy while the
// other kind ran, from a failure into a note: it is how Run learns that
// the agent runs one profile at a time.
func (k *kindState) expectRefusal() {
	seg := &k.segments[len(k.segments)-1]
	seg.Note = "refused while the other profile ran (" + seg.Error + "): the agent runs one at a time, so the two take turns"
	seg.Error = ""
	k.lastErr = nil
}

// add merges a segment's profile into what the kind gathered.
func (k *kindState) add(p *profile.Profile) {
	if k.merged == nil {
		k.merged = p
		return
	}
	m, err := profile.Merge([]*profile.Profile{k.merged, p})
	if err != nil {
		if k.mergeErr == nil {
			k.mergeErr = err
		}
		return
	}
	k.merged = m
}

// segmentResult is the outcome of one profile request.
type segmentResult struct {
	ok   bool // a profile came back
	busy bool // refused because another profile runs
}

func newProfiler(src Source, opts Options, start time.Time) *profiler {
	return &profiler{
		src:     src,
		start:   start,
		end:     start.Add(opts.Duration),
		segment: opts.Segment,
		// A leftover shorter than this at the end of the window is not
		// worth a request.
		minSeg:     min(time.Second, opts.Segment/4),
		kinds:      [2]*kindState{{kind: snapshot.ProfileCPU}, {kind: snapshot.ProfileWall}},
		mode:       ModeNone,
		contention: [2]*kindState{{kind: snapshot.ProfileMutex}, {kind: snapshot.ProfileBlock}},
	}
}

// run takes profiles until the window ends or ctx is canceled.
func (p *profiler) run(ctx context.Context) {
	var cw sync.WaitGroup
	defer cw.Wait()
	for _, k := range p.contention {
		cw.Go(func() { p.lane(ctx, []*kindState{k}) })
	}
	d := min(p.segment, time.Until(p.end))
	if d < p.minSeg {
		return
	}
	var res [2]segmentResult
	var wg sync.WaitGroup
	for i, k := range p.kinds {
		wg.Go(func() { res[i] = p.take(ctx, k, d) })
	}
	wg.Wait()
	for _, lane := range p.planLanes(ctx.Err() != nil, res) {
		wg.Go(func() { p.lane(ctx, lane) })
	}
	wg.Wait()
}

// planLanes sets the profile mode from the first round's results (CPU
// and wall-clock, side by side) and returns the lanes to take the rest of
// the window in: each lane takes its kinds in turn. It returns none when
// the capture was canceled during the first round (the mode records what
// came back) or every kind was dropped.
func (p *profiler) planLanes(canceled bool, res [2]segmentResult) [][]*kindState {
	cpu, wall := p.kinds[0], p.kinds[1]
	switch {
	case canceled:
		// Canceled during the first round: record what came back.
		switch {
		case res[0].ok && res[1].ok:
			p.mode = ModeConcurrent
		case res[0].ok || res[1].ok:
			p.mode = ModeSingle
		}
		return nil
	case res[0].ok && res[1].ok:
		p.mode = ModeConcurrent
		return [][]*kindState{{cpu}, {wall}}
	case res[0].ok && res[1].busy:
		p.mode = ModeAlternating
		wall.expectRefusal()
		return [][]*kindState{{wall, cpu}}
	case res[1].ok && res[0].busy:
		p.mode = ModeAlternating
		cpu.expectRefusal()
		return [][]*kindState{{cpu, wall}}
	default:
		alive := notDropped(p.kinds[:])
		switch len(alive) {
		case 2:
			// Both refused as busy: someone else is profiling. Taking
			// turns is what works whatever the agent allows.
			p.mode = ModeAlternating
		case 1:
			p.mode = ModeSingle
		default:
			return nil
		}
		return [][]*kindState{alive}
	}
}

// lane takes segments of its kinds in turn until the window ends.
func (p *profiler) lane(ctx context.Context, kinds []*kindState) {
	next, refused := 0, 0
	for ctx.Err() == nil {
		alive := notDropped(kinds)
		left := time.Until(p.end)
		if len(alive) == 0 || left < p.minSeg {
			return
		}
		k := alive[next%len(alive)]
		next++
		res := p.take(ctx, k, min(p.segment, left))
		if !res.busy {
			refused = 0
			continue
		}
		if refused++; refused >= len(alive) {
			// Every kind was refused: wait a segment for the other
			// profile to end.
			refused = 0
			t := time.NewTimer(min(p.segment, left))
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
	}
}

// notDropped returns the kinds the agent has not refused for good.
func notDropped(kinds []*kindState) []*kindState {
	var alive []*kindState
	for _, k := range kinds {
		if !k.dropped {
			alive = append(alive, k)
		}
	}
	return alive
}

// take asks the agent for one segment of kind k lasting d and records it.
func (p *profiler) take(ctx context.Context, k *kindState, d time.Duration) segmentResult {
	began := time.Now()
	data, err := p.src.Profile(ctx, k.kind, d)
	seg := Segment{
		Offset:    round3(began.Sub(p.start).Seconds()),
		Requested: round3(d.Seconds()),
		Seconds:   round3(time.Since(began).Seconds()),
	}
	var res segmentResult
	if len(data) > 0 {
		prof, perr := ParseProfile(data)
		data = nil // the parsed profile is all that is kept
		if perr == nil {
			k.add(prof)
			res.ok = true
		} else {
			err = errors.Join(err, fmt.Errorf("%s profile: %w", k.kind, perr))
		}
	} else if err == nil {
		err = fmt.Errorf("the agent returned an empty %s profile", k.kind)
	}
	seg.OK = res.ok
	if err != nil && res.ok && ctx.Err() != nil {
		// The source ended the profile early and kept what it gathered.
		seg.Note = "ended early: the capture was stopped"
		err = nil
	}
	if err != nil {
		seg.Error = err.Error()
		switch {
		case ctx.Err() != nil:
			// Canceled: the capture ends; not the agent's fault.
		case busy(err):
			res.busy = true
			k.lastErr = err
		default:
			k.lastErr = err
			if !res.ok {
				k.dropped = true
			}
		}
	}
	k.segments = append(k.segments, seg)
	return res
}

// write merges each kind's segments, writes the profiles, flame graphs and
// folded stacks, the heap profile and the contention profiles into dir,
// and records them in c (in the order cpu, wall, heap, mutex, block). It
// returns the merged profiles for the report, and the errors writing
// files.
func (p *profiler) write(c *Capture, dir string, heap []byte, heapErr error) (Profiles, error) {
	var out Profiles
	var errs []error
	c.ProfileMode = p.mode
	c.Profiles = c.Profiles[:0]
	name := c.Program
	if name == "" {
		name = "program"
	}
	for _, k := range p.kinds {
		info, merged := collect(c, k)
		file, svg, folded, title := CPUProfile, CPUFlame, CPUFolded, "CPU"
		if k.kind == snapshot.ProfileWall {
			file, svg, folded, title = WallProfile, WallFlame, WallFolded, "Wall-clock"
		}
		if merged != nil {
			errs = append(errs, writeProfile(c, dir, file, k.kind, merged, &info, &out))
			t := fmt.Sprintf("%s: %s (pid %d), %.1f s", title, name, c.PID, info.Seconds)
			var err error
			info.FlameGraph, info.Folded, err = renderFlame(dir, merged, svg, folded, t)
			if err != nil {
				errs = append(errs, err)
				c.AddError("render "+string(k.kind)+" flame graph", err)
			}
		}
		c.Profiles = append(c.Profiles, info)
	}

	hinfo, err := writeHeap(c, dir, heap, heapErr, &out)
	errs = append(errs, err)
	c.Profiles = append(c.Profiles, hinfo)

	for _, k := range p.contention {
		info, merged := collect(c, k)
		file := MutexProfile
		if k.kind == snapshot.ProfileBlock {
			file = BlockProfile
		}
		if merged != nil {
			errs = append(errs, writeProfile(c, dir, file, k.kind, merged, &info, &out))
		}
		c.Profiles = append(c.Profiles, info)
	}
	return out, errors.Join(errs...)
}

// writeHeap writes the heap profile the agent returned (heap, or
// heapErr) to dir and records it in out, and returns its entry for c's
// profiles and the error writing the file; the profile's own problems
// are in the entry and c's errors.
func writeHeap(c *Capture, dir string, heap []byte, heapErr error, out *Profiles) (ProfileInfo, error) {
	hinfo := ProfileInfo{Kind: snapshot.ProfileHeap}
	switch {
	case heapErr != nil:
		hinfo.Error = heapErr.Error()
		c.AddError("heap profile", heapErr)
	case len(heap) == 0:
		hinfo.Error = "the agent returned an empty heap profile"
	default:
		hp, err := ParseProfile(heap)
		if err != nil {
			hinfo.Error = "heap profile: " + err.Error()
			c.AddError("heap profile", err)
			break
		}
		if err := flame.WriteFile(filepath.Join(dir, HeapProfile), hp); err != nil {
			c.AddError("write "+HeapProfile, err)
			return hinfo, err
		}
		hinfo.File = HeapProfile
		out.Heap = hp
	}
	return hinfo, nil
}

// writeProfile writes the merged profile of a kind to dir/file and records
// it in info and out, or the failure in c.
func writeProfile(c *Capture, dir, file string, kind snapshot.ProfileKind, merged *profile.Profile, info *ProfileInfo, out *Profiles) error {
	if err := flame.WriteFile(filepath.Join(dir, file), merged); err != nil {
		c.AddError("write "+file, err)
		return err
	}
	info.File = file
	*out = setProfile(*out, kind, merged)
	return nil
}

// collect returns the merge of the segments of kind k (nil when none
// came back) and describes them, recording k's last error in c.
func collect(c *Capture, k *kindState) (ProfileInfo, *profile.Profile) {
	info := ProfileInfo{Kind: k.kind, Segments: k.segments}
	failed := 0
	for _, s := range k.segments {
		if !s.OK && s.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		info.Error = fmt.Sprintf("%d of %d segments failed", failed, len(k.segments))
		if k.lastErr != nil {
			info.Error += ": " + k.lastErr.Error()
		} else {
			info.Error += " (the capture was canceled)"
		}
	}
	if len(k.segments) == 0 {
		info.Error = "not taken: the capture ended before the first segment"
	}
	if k.mergeErr != nil {
		c.AddError("merge "+string(k.kind)+" profile", k.mergeErr)
	}
	merged := k.merged
	if merged != nil {
		info.Seconds = round3(float64(merged.DurationNanos) / 1e9)
	}
	if k.lastErr != nil {
		c.AddError(string(k.kind)+" profile", k.lastErr)
	}
	return info, merged
}

// setProfile sets the profile of the given kind in ps.
func setProfile(ps Profiles, kind snapshot.ProfileKind, p *profile.Profile) Profiles {
	switch kind {
	case snapshot.ProfileCPU:
		ps.CPU = p
	case snapshot.ProfileWall:
		ps.Wall = p
	case snapshot.ProfileMutex:
		ps.Mutex = p
	case snapshot.ProfileBlock:
		ps.Block = p
	}
	return ps
}

// round3 rounds v to milliseconds, for capture.json.
func round3(v float64) float64 {
	return float64(int64(v*1000+0.5)) / 1000
}
