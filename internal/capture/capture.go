// Package capture owns the capture directory that `httptop capture`
// writes: its format (Capture, stored as capture.json, and the names of
// the files beside it), reading it back safely (Load) and recording one
// from a running program (Run). Package report computes the
// pool-vs-latency report from what this package reads.
//
// Run gets its data from a Source, which the agent client implements, so
// the recording can be tested against a fake. It takes, over the same
// window:
//
//   - snapshots at Options.Interval (at most a second apart);
//   - a CPU and a wall-clock profile, requested from the agent in segments
//     of Options.Segment and merged (each covers the whole window when the
//     agent runs them side by side, as it does). Run asks for both together; an
//     agent that refuses to run two profiles at once (an older one, or
//     one busy with someone else's profile) gets them in turns for the
//     rest of the window, so each covers about half of it, spread over
//     all of it. Capture.ProfileMode records which happened, and every
//     segment is listed in Capture.Profiles;
//   - a mutex and a block profile (contention), in segments of their own
//     over the same window; an agent that does not serve them leaves them
//     out;
//   - a heap profile at the end.
//
// Cancelling the context (Ctrl-C) ends the window early: the snapshots so
// far and the profile segments that completed are still written, along
// with a heap profile. Segments keep that loss small: at most the segment
// in progress of each kind.
package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// Source is where a capture gets its data: the agent of the program being
// captured (*agentclient.Client implements it). Its methods may be called
// concurrently.
type Source interface {
	// Snapshot returns the program's current snapshot.
	Snapshot(ctx context.Context) (*snapshot.Snapshot, error)
	// Profile returns a raw pprof profile (.pb.gz bytes) of the given
	// kind; d is the duration for cpu and wall and ignored for the
	// others. When the agent refuses because a profile of that kind is
	// being taken, the error wraps a *snapshot.AgentError with the code
	// snapshot.ErrCodeBusy. A Source that can stop a profile early may
	// return what it gathered together with ctx's error when ctx is
	// canceled; Run keeps it.
	Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error)
}

// Defaults of Options.
const (
	DefaultDuration = 30 * time.Second
	DefaultInterval = time.Second
	DefaultSegment  = 5 * time.Second
	// MaxInterval is the longest interval between snapshots: the
	// per-second series and the rolling percentiles need at least one
	// snapshot a second to be followed over time.
	MaxInterval = time.Second
)

// finishTimeout bounds what Run still asks of the agent after the
// context was canceled (the heap profile), so that Ctrl-C stays prompt.
const finishTimeout = 5 * time.Second

// Options configures Run. Only Dir is required.
type Options struct {
	// Duration is the length of the window; 0 means DefaultDuration.
	Duration time.Duration
	// Interval is the time between snapshots, at most MaxInterval; 0
	// means DefaultInterval.
	Interval time.Duration
	// Dir is the directory to write; it is created if needed (mode 0700)
	// and files already in it are replaced.
	Dir string
	// Target is how the user named the program (a pid, an address); it
	// is recorded in capture.json and shown in the report.
	Target string
	// Segment is the length of one profile request; 0 means
	// DefaultSegment. It is shortened to half of Duration, so that when
	// the agent runs one profile at a time both kinds still get a turn.
	Segment time.Duration
	// Progress, if not nil, is called from time to time (at every
	// snapshot) with the time recorded so far and the total, and once
	// more when the window ends. done never decreases. It is called on
	// the goroutine that called Run.
	Progress func(done, total time.Duration)
	// Modules is the program's module list, from its agent's info
	// (agentclient.Info.MainModule and Modules); it is stored in
	// capture.json for the report's attribution.
	Modules flame.Modules
}

// busy reports whether a Profile error means the agent refused because a
// profile of that kind is being taken.
func busy(err error) bool { return snapshot.HasCode(err, snapshot.ErrCodeBusy) }

// withDefaults fills in defaults and checks opts.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, errors.New("capture: no output directory")
	}
	if o.Duration < 0 || o.Interval < 0 || o.Segment < 0 {
		return o, errors.New("capture: negative duration, interval or segment")
	}
	if o.Duration == 0 {
		o.Duration = DefaultDuration
	}
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.Interval > MaxInterval {
		return o, fmt.Errorf("capture: interval %v is longer than %v: snapshots must be at most a second apart", o.Interval, MaxInterval)
	}
	if o.Segment == 0 {
		o.Segment = DefaultSegment
	}
	o.Segment = max(min(o.Segment, o.Duration/2), time.Millisecond)
	return o, nil
}

// Run records a capture from src and writes it to opts.Dir: the profiles
// (cpu.pb.gz, wall.pb.gz, heap.pb.gz, mutex.pb.gz, block.pb.gz), the
// flame graphs (cpu.svg,
// wall.svg) and folded stacks (cpu.folded, wall.folded) and capture.json.
// It returns the capture and its parsed profiles, from which the caller
// builds the report (package report).
//
// A canceled ctx ends the window early; Run still writes what it gathered
// and returns nil error, with Capture.Canceled set. Failures of the agent
// (a refused profile, a failed snapshot) are recorded in Capture.Errors
// rather than returned. Run returns an error when the directory cannot be
// written, or when nothing at all could be recorded (capture.json is still
// written, to show why).
func Run(ctx context.Context, src Source, opts Options) (*Capture, Profiles, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, Profiles{}, err
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, Profiles{}, fmt.Errorf("capture: create output directory: %w", err)
	}

	start := time.Now()
	c := NewCapture(start)
	c.Target = opts.Target
	c.RequestedSeconds = opts.Duration.Seconds()
	c.IntervalSeconds = opts.Interval.Seconds()
	c.Modules = opts.Modules

	p := newProfiler(src, opts, start)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run(ctx)
	}()
	c.End, c.Canceled = recordSnapshots(ctx, src, opts, c, start)
	<-done

	// The heap profile, asked for even after Ctrl-C, within bounds.
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if ctx.Err() != nil {
		hctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	}
	heap, herr := src.Profile(hctx, snapshot.ProfileHeap, 0)
	cancel()

	profs, werr := p.write(c, opts.Dir, heap, herr)
	errs := []error{werr, Write(opts.Dir, c)}
	if len(c.Snapshots) == 0 && profs.CPU == nil && profs.Wall == nil && !c.Canceled {
		why := "no snapshot and no profile"
		if len(c.Errors) > 0 {
			why += ": " + c.Errors[0].Op + ": " + c.Errors[0].Message
		}
		errs = append(errs, errors.New("capture: nothing recorded ("+why+")"))
	}
	return c, profs, errors.Join(errs...)
}

// recordSnapshots takes a snapshot now, at every interval and at the end
// of the window, until the window ends or ctx is canceled, and returns when
// it stopped and whether ctx ended it.
func recordSnapshots(ctx context.Context, src Source, opts Options, c *Capture, start time.Time) (end time.Time, canceled bool) {
	// A snapshot may take a while on a loaded program, but not forever.
	timeout := max(5*time.Second, 2*opts.Interval)
	var last time.Time
	var reported time.Duration
	take := func() {
		sctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		last = time.Now()
		s, err := src.Snapshot(sctx)
		switch {
		case err != nil && ctx.Err() != nil:
			// Canceled: not a failure of the agent.
		case err != nil:
			c.AddError("snapshot", err)
		case s == nil:
			c.AddError("snapshot", errors.New("the agent returned no snapshot"))
		default:
			c.AddSnapshot(s)
		}
	}
	progress := func() {
		if opts.Progress == nil {
			return
		}
		reported = max(reported, min(time.Since(start), opts.Duration))
		opts.Progress(reported, opts.Duration)
	}

	window := time.NewTimer(opts.Duration)
	defer window.Stop()
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	take()
	progress()
	for {
		select {
		case <-ctx.Done():
			end = time.Now()
			progress()
			return end, true
		case <-window.C:
			if time.Since(last) >= opts.Interval/2 {
				take()
			}
			end = time.Now()
			progress()
			return end, false
		case <-tick.C:
			take()
			progress()
		}
	}
}

// DefaultDir returns the directory name httptop capture uses when none is
// given: httptop-PROGRAM-PID-YYYYMMDD-HHMMSS, in the local time of t.
func DefaultDir(program string, pid int, t time.Time) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, filepath.Base(program))
	if name == "" || name == "." || name == ".." {
		name = "program"
	}
	return "httptop-" + name + "-" + strconv.Itoa(pid) + "-" + t.Format("20060102-150405")
}

// renderFlame writes the flame graph and the folded stacks of p into dir
// and returns the names of the files written.
func renderFlame(dir string, p *profile.Profile, svgName, foldedName, title string) (svg, folded string, err error) {
	var errs []error
	opts := flame.DefaultSVGOptions()
	opts.Title = title
	var buf bytes.Buffer
	if e := flame.SVG(&buf, p, opts); e != nil {
		errs = append(errs, e)
	} else if e := WriteFile(dir, svgName, buf.Bytes()); e != nil {
		errs = append(errs, e)
	} else {
		svg = svgName
	}
	buf.Reset()
	if e := flame.Folded(&buf, p, -1); e != nil {
		errs = append(errs, e)
	} else if e := WriteFile(dir, foldedName, buf.Bytes()); e != nil {
		errs = append(errs, e)
	} else {
		folded = foldedName
	}
	return svg, folded, errors.Join(errs...)
}
