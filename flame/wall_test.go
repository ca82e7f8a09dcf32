package flame

import (
	"bytes"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// parkedInWallTest blocks until release is closed: a goroutine whose
// whole wall-clock time the profile must see.
//
//go:noinline
func parkedInWallTest(release chan struct{}) { <-release }

// TestStartWallRate samples at 19 Hz for half a second with one goroutine
// parked in a known function: the profile has fgprof's shape, and that
// goroutine's time is the profile's duration.
func TestStartWallRate(t *testing.T) {
	runtime.GC() // what an earlier test left, out of the samples' cost
	resetWallPace()
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { parkedInWallTest(release) })
	defer func() { close(release); wg.Wait() }()

	var buf bytes.Buffer
	stop, err := StartWall(&buf, 19)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the span profiled, not a wait for an event
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if len(p.SampleType) != 2 || p.SampleType[0].Type != "samples" || p.SampleType[1].Type != "time" || p.PeriodType.Type != "wallclock" {
		t.Errorf("sample types %v, period type %v: want fgprof's", p.SampleType, p.PeriodType)
	}
	var parked, parkedTime int64
	for _, s := range p.Sample {
		for _, l := range s.Location {
			for _, ln := range l.Line {
				if strings.HasSuffix(ln.Function.Name, ".parkedInWallTest") {
					parked += s.Value[0]
					parkedTime += s.Value[1]
				}
			}
		}
	}
	d := float64(p.DurationNanos)
	t.Logf("%d samples of the parked goroutine, %.0f ms of %.0f ms", parked, float64(parkedTime)/1e6, d/1e6)
	// About 9; fewer when a sample was slow (a busy machine, a GC),
	// which makes the sampler wait 50 times as long.
	if parked < 3 || parked > 12 {
		t.Errorf("the parked goroutine was sampled %d times in 0.5 s at 19 Hz, want about 9", parked)
	}
	if math.Abs(float64(parkedTime)-d) > 0.25*d {
		t.Errorf("the parked goroutine's time is %.0f ms of a %.0f ms profile, want all of it", float64(parkedTime)/1e6, d/1e6)
	}
	// The sampler's own goroutine is not in the profile.
	for _, f := range p.Function {
		if strings.Contains(f.Name, "startSampledWall") || strings.Contains(f.Name, "(*wallSampler)") {
			t.Errorf("the profile shows the sampler itself: %s", f.Name)
		}
	}
}

func TestStartWallErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		w    *bytes.Buffer
		hz   int
	}{{"nil writer", nil, 10}, {"zero rate", new(bytes.Buffer), 0}, {"above fgprof's", new(bytes.Buffer), 100}} {
		var err error
		if tt.w == nil {
			_, err = StartWall(nil, tt.hz)
		} else {
			_, err = StartWall(tt.w, tt.hz)
		}
		if err == nil || !strings.HasPrefix(err.Error(), "flame: ") {
			t.Errorf("%s: err = %v, want a flame: error", tt.name, err)
		}
	}
	// At fgprof's rate, StartWall is fgprof.
	var buf bytes.Buffer
	stop, err := StartWall(&buf, WallHz)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := profile.ParseData(buf.Bytes()); err != nil {
		t.Error(err)
	}
}

// TestStartWallBoundsItsCost parks 20,000 goroutines, which makes each
// sample walk 20,000 stacks: the sampler slows down rather than spend
// more than about 2% of a core, and the samples it takes still account
// for the whole span.
func TestStartWallBoundsItsCost(t *testing.T) {
	if testing.Short() {
		t.Skip("parks 20,000 goroutines")
	}
	resetWallPace()
	const n = 20000
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { parkedInWallTest(release) })
	}
	defer func() { close(release); wg.Wait() }()
	var buf bytes.Buffer
	stop, err := StartWall(&buf, 19)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the span profiled
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var samples, parkedTime int64
	for _, s := range p.Sample {
		for _, l := range s.Location {
			if l.Line[len(l.Line)-1].Function.Name == "github.com/httptop/httptop/flame.parkedInWallTest" {
				samples += s.Value[0]
				parkedTime += s.Value[1]
			}
		}
	}
	ticks := samples / n
	t.Logf("%d samples of %d goroutines in 1 s at most 19 Hz; %.2f s of goroutine time for %.2f s", ticks, n, float64(parkedTime)/1e9, float64(p.DurationNanos)/1e9)
	if ticks >= 19 {
		t.Errorf("%d samples of 20,000 goroutines in a second: the sampler did not slow down", ticks)
	}
	if want := float64(n) * float64(p.DurationNanos); math.Abs(float64(parkedTime)-want) > 0.1*want {
		t.Errorf("the parked goroutines account for %.0f goroutine-seconds, want %.0f", float64(parkedTime)/1e9, want/1e9)
	}
}

// resetWallPace forgets the pace earlier profiles set, so that a test's
// profile samples from its start.
func resetWallPace() {
	wallPace.mu.Lock()
	wallPace.next = time.Time{}
	wallPace.mu.Unlock()
}
