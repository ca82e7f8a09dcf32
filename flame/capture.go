package flame

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/felixge/fgprof"
	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/snapshot"
)

// ErrCPUProfileBusy is returned, wrapped, by Start and Capture for CPU when
// the process already runs a CPU profile. The Go runtime allows one at a
// time, and it may belong to someone else (net/http/pprof, a test's
// -cpuprofile), so the caller should report it and retry later rather than
// stop the other one.
var ErrCPUProfileBusy = errors.New("a cpu profile is already running in this process")

// Start begins a profile of the given continuous kind (CPU, Wall, Mutex or
// Block) and returns the function that stops it. Stop writes the profile to w in pprof
// format (gzipped protobuf, readable with profile.Parse and go tool pprof)
// and returns the first error met writing it. Stop may be called more than
// once; later calls do nothing and return the same error.
//
// Nothing is written to w for a Wall profile until stop is called; a CPU
// profile is streamed to w while it runs, so w must be safe to write from
// another goroutine until stop returns.
//
// A Mutex or Block profile is the difference between runtime/pprof's
// cumulative profile at stop and at start: the contention of that span.
// Start turns the runtime's sampling on for the span when the program has
// not (see MutexFraction and BlockRate) and stop restores it.
//
// Start fails with ErrCPUProfileBusy when a CPU profile already runs, and
// with ErrUnsupportedKind for Heap and Goroutine, which are read at once
// with Snapshot.
func Start(w io.Writer, kind snapshot.ProfileKind) (stop func() error, err error) {
	if w == nil {
		return nil, fmt.Errorf("flame: start %s profile: nil writer", kind)
	}
	switch kind {
	case snapshot.ProfileCPU:
		return startCPU(w)
	case snapshot.ProfileWall:
		return startWall(w), nil
	case snapshot.ProfileMutex, snapshot.ProfileBlock:
		return startContention(w, kind)
	case snapshot.ProfileHeap, snapshot.ProfileGoroutine:
		return nil, fmt.Errorf("flame: start %s profile: %w: it is a point-in-time profile, use Snapshot", kind, ErrUnsupportedKind)
	default:
		return nil, fmt.Errorf("flame: start %q profile: %w", string(kind), ErrUnsupportedKind)
	}
}

// startCPU starts runtime/pprof's CPU profiler writing to w.
func startCPU(w io.Writer) (func() error, error) {
	// runtime/pprof drops write errors on the floor; errWriter keeps the
	// first so that stop can report a truncated profile.
	ew := &errWriter{w: w}
	if err := pprof.StartCPUProfile(ew); err != nil {
		// The only error StartCPUProfile returns is "cpu profiling
		// already in use".
		return nil, fmt.Errorf("flame: start cpu profile: %w; retry when the other profile has finished", ErrCPUProfileBusy)
	}
	var (
		once sync.Once
		err  error
	)
	return func() error {
		once.Do(func() {
			// StopCPUProfile returns after the last write, so ew.err
			// is safe to read here.
			pprof.StopCPUProfile()
			if ew.err != nil {
				err = fmt.Errorf("flame: write cpu profile: %w", ew.err)
			}
		})
		return err
	}, nil
}

// startWall starts an fgprof wall-clock profile writing to w on stop.
func startWall(w io.Writer) func() error {
	start := time.Now()
	stop := fgprof.Start(w, fgprof.FormatPprof)
	var (
		once sync.Once
		err  error
	)
	return func() error {
		// fgprof's stop blocks forever when called twice; once makes
		// ours idempotent.
		once.Do(func() {
			if e := stopWall(stop, w, start); e != nil {
				err = fmt.Errorf("flame: write wall profile: %w", e)
			}
		})
		return err
	}
}

// stopWall calls fgprof's stop function. fgprof v0.9.5 divides by the
// sample rate it measured, which rounds to zero when stop comes before its
// ticker first fired (a capture of a few milliseconds, or a starved
// process), and panics with an integer divide by zero before writing
// anything. No sample was taken then, so stopWall recovers and writes an
// empty wall-clock profile of the same shape instead. Any other panic is
// passed on.
func stopWall(stop func() error, w io.Writer, start time.Time) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if re, ok := r.(runtime.Error); !ok || !strings.Contains(re.Error(), "divide by zero") {
			panic(r)
		}
		err = emptyWallProfile(start, time.Now()).Write(w)
	}()
	return stop()
}

// emptyWallProfile is a wall-clock profile without samples, shaped like
// fgprof's so that readers see the same sample types either way.
func emptyWallProfile(start, end time.Time) *profile.Profile {
	const hz = 99 // fgprof's rate
	return &profile.Profile{
		SampleType: []*profile.ValueType{
			{Type: "samples", Unit: "count"},
			{Type: "time", Unit: "nanoseconds"},
		},
		PeriodType:    &profile.ValueType{Type: "wallclock", Unit: "nanoseconds"},
		Period:        int64(time.Second / hz),
		TimeNanos:     start.UnixNano(),
		DurationNanos: int64(end.Sub(start)),
		Mapping:       []*profile.Mapping{{ID: 1, HasFunctions: true}},
	}
}

// Capture runs a profile of the given continuous kind (CPU, Wall, Mutex or
// Block) for d and returns it parsed. When ctx ends first, Capture stops early and still
// returns what was gathered so far with a nil error; the profile's
// DurationNanos tells how long it really ran, and the caller, who owns ctx,
// can tell the two cases apart with ctx.Err. A ctx that has already ended
// before the capture starts is an error.
func Capture(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) (*profile.Profile, error) {
	if d <= 0 {
		return nil, fmt.Errorf("flame: capture %s profile: duration %v is not positive", kind, d)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("flame: capture %s profile: %w", kind, err)
	}
	var buf bytes.Buffer
	stop, err := Start(&buf, kind)
	if err != nil {
		return nil, err
	}
	timer := time.NewTimer(d)
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	if err := stop(); err != nil {
		return nil, err
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("flame: parse %s profile: %w", kind, err)
	}
	return p, nil
}

// errWriter passes writes through to w and remembers the first error.
type errWriter struct {
	w   io.Writer
	err error
}

// Write writes p to the underlying writer unless an earlier write failed.
func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
