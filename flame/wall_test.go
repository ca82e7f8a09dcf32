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
	// which makes the sampler wait 50 times as long (MaxWallShare).
	if parked < 3 || parked > 12 {
		t.Errorf("the parked goroutine was sampled %d times in 0.5 s at 19 Hz, want about 9", parked)
	}
	// Its period says how many samples it holds: the parked goroutine
	// was in each.
	if got := WallSamples(p); got != int(parked) {
		t.Errorf("WallSamples = %d (period %d ns over %.0f ms), want %d", got, p.Period, d/1e6, parked)
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
		name  string
		w     *bytes.Buffer
		hz    int
		share float64
	}{
		{"nil writer", nil, 10, MaxWallShare}, {"zero rate", new(bytes.Buffer), 0, MaxWallShare},
		{"above fgprof's", new(bytes.Buffer), 100, MaxWallShare},
		{"no share", new(bytes.Buffer), 19, 0}, {"above the largest share", new(bytes.Buffer), 19, 0.05},
	} {
		var err error
		if tt.w == nil {
			_, err = StartWallShare(nil, tt.hz, tt.share)
		} else {
			_, err = StartWallShare(tt.w, tt.hz, tt.share)
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
// more than MaxWallShare of a core, and the samples it takes still account
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

// TestWallPace checks that the next sample of any wall-clock profile
// waits for the last one's cost divided by the share of a core it may
// take, and at least the period asked for.
func TestWallPace(t *testing.T) {
	defer resetWallPace()
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		cost, period time.Duration
		share        float64
		want         time.Duration
	}{
		{cost: 40 * time.Millisecond, period: time.Second / 19, share: MaxWallShare, want: 2 * time.Second},
		{cost: 40 * time.Millisecond, period: time.Second / 19, share: 0.001, want: 40 * time.Second},
		{cost: 10 * time.Microsecond, period: time.Second / 19, share: 0.001, want: time.Second / 19},
	} {
		next := wallTook(t0, t0.Add(tt.cost), tt.period, tt.share)
		if got := next.Sub(t0); got != tt.want {
			t.Errorf("a sample of %v at a share of %g, period %v: the next after %v, want %v", tt.cost, tt.share, tt.period, got, tt.want)
		}
		if wallSlot(next.Add(-time.Nanosecond)) || !wallSlot(next) {
			t.Errorf("the slot opens other than at %v", next)
		}
	}
}

// TestWallSamples reads the number of samples from a profile's period.
func TestWallSamples(t *testing.T) {
	sample := []*profile.Sample{{Value: []int64{1, 1}}}
	for _, tt := range []struct {
		name string
		p    *profile.Profile
		want int
	}{
		{"sampled three times in 2 s", &profile.Profile{Sample: sample, DurationNanos: 2e9, Period: int64(2 * time.Second / 3)}, 3},
		{"fgprof's, 1 s at 99 Hz", &profile.Profile{Sample: sample, DurationNanos: 1e9, Period: int64(time.Second / 99)}, 99},
		{"no sample", &profile.Profile{DurationNanos: 2e9, Period: int64(time.Second / 99)}, 0},
		{"no period", &profile.Profile{Sample: sample, DurationNanos: 2e9}, 0},
	} {
		if got := WallSamples(tt.p); got != tt.want {
			t.Errorf("%s: WallSamples = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// resetWallPace forgets the pace earlier profiles set, so that a test's
// profile samples from its start.
func resetWallPace() {
	wallPace.mu.Lock()
	wallPace.next = time.Time{}
	wallPace.mu.Unlock()
}
