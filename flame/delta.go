package flame

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/snapshot"
)

// Rates at which Start samples contention when the program has not turned
// the profiles on itself.
const (
	// MutexFraction reports, on average, one contended mutex release in
	// MutexFraction (runtime.SetMutexProfileFraction); the runtime
	// scales what it records back up, so delays read as totals.
	MutexFraction = 10
	// BlockRate samples a blocking event of d nanoseconds with
	// probability d/BlockRate, and every event longer than BlockRate
	// (runtime.SetBlockProfileRate: 10 µs); the runtime scales the
	// sampled delays back up.
	BlockRate = 10_000
)

// contentionMu serialises the changes Start makes to the runtime's
// contention profiling rates, and blockOurs records that httptop has
// turned block profiling on at least once in this process (so that records
// in the block profile may be its own, not the program's).
var (
	contentionMu sync.Mutex
	blockOurs    bool
)

// startContention begins a mutex or block profile over a span: it turns
// the profile on if needed, reads its state, and on stop writes the
// difference between the state then and now, with the rate restored.
//
// Mutex: SetMutexProfileFraction returns the previous fraction, which is
// restored on stop; a program that already samples more often (a smaller
// non-zero fraction) keeps its own. The runtime times a lock's waits only
// if profiling was on when the lock's queue of waiters formed, and a queue
// that formed untimed stays so until it empties (runtime/sema.go): a lock
// contended without a break since before Start may not show in the
// profile at all. Block: the rate cannot be read back.
// If the block profile already holds records that httptop did not cause,
// the program profiles blocking itself and its rate is left alone;
// otherwise Start sets BlockRate and stop sets 0 (Go's default: off).
func startContention(w io.Writer, kind snapshot.ProfileKind) (func() error, error) {
	start := time.Now()
	contentionMu.Lock()
	base, err := readRuntimeProfile(kind)
	if err != nil {
		contentionMu.Unlock()
		return nil, fmt.Errorf("flame: start %s profile: %w", kind, err)
	}
	var restore func()
	switch kind {
	case snapshot.ProfileMutex:
		prev := runtime.SetMutexProfileFraction(-1)
		if prev == 0 || prev > MutexFraction {
			runtime.SetMutexProfileFraction(MutexFraction)
			restore = func() { runtime.SetMutexProfileFraction(prev) }
		}
	case snapshot.ProfileBlock:
		if len(base.Sample) == 0 || blockOurs {
			blockOurs = true
			runtime.SetBlockProfileRate(BlockRate)
			restore = func() { runtime.SetBlockProfileRate(0) }
		}
	}
	contentionMu.Unlock()

	var (
		once  sync.Once
		stErr error
	)
	return func() error {
		once.Do(func() {
			contentionMu.Lock()
			end, err := readRuntimeProfile(kind)
			if restore != nil {
				restore()
			}
			contentionMu.Unlock()
			if err != nil {
				stErr = fmt.Errorf("flame: %s profile: %w", kind, err)
				return
			}
			d, err := deltaProfile(base, end)
			if err != nil {
				stErr = fmt.Errorf("flame: %s profile: %w", kind, err)
				return
			}
			d.TimeNanos = start.UnixNano()
			d.DurationNanos = int64(time.Since(start))
			if err := d.Write(w); err != nil {
				stErr = fmt.Errorf("flame: write %s profile: %w", kind, err)
			}
		})
		return stErr
	}, nil
}

// readRuntimeProfile reads one of runtime/pprof's profiles, parsed.
func readRuntimeProfile(kind snapshot.ProfileKind) (*profile.Profile, error) {
	pr := pprof.Lookup(string(kind))
	if pr == nil {
		return nil, fmt.Errorf("runtime/pprof has no %s profile", kind)
	}
	var buf bytes.Buffer
	if err := pr.WriteTo(&buf, 0); err != nil {
		return nil, err
	}
	return profile.ParseData(buf.Bytes())
}

// deltaProfile returns end less base: what happened between the two
// readings of a cumulative profile, without the samples that did not
// change.
func deltaProfile(base, end *profile.Profile) (*profile.Profile, error) {
	if len(base.Sample) == 0 {
		return end, nil
	}
	base = base.Copy()
	base.Scale(-1)
	d, err := profile.Merge([]*profile.Profile{base, end})
	if err != nil {
		return nil, err
	}
	kept := d.Sample[:0]
	for _, s := range d.Sample {
		for _, v := range s.Value {
			if v != 0 {
				kept = append(kept, s)
				break
			}
		}
	}
	d.Sample = kept
	return d, nil
}
