package dashboard

import (
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/flame"
)

// wallSegmentAt is a rolling wall-clock profile of 2 s starting at
// start (seconds) with samples samples, every goroutine of which (n of
// them) waits in fn: each stands for the whole 2 s, as the agent's
// sampler counts them.
func wallSegmentAt(t *testing.T, start float64, samples int, fn string, n int64) *profile.Profile {
	t.Helper()
	const d = int64(2 * time.Second)
	p, err := profile.ParseData(buildProfile([]*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "time", Unit: "nanoseconds"}},
		[][]string{{"main.main", "main.(*client).do", fn}}, []int64{1}))
	if err != nil {
		t.Fatal(err)
	}
	p.TimeNanos = fakeNow.Add(time.Duration(start * float64(time.Second))).UnixNano()
	p.DurationNanos = d
	p.Period = int64(time.Second / 99) // an empty profile's, as the agent writes it
	if samples == 0 {
		p.Sample = nil
		return p
	}
	p.Period = d / int64(samples)
	p.Sample[0].Value = []int64{int64(samples) * n, n * d}
	return p
}

// TestWallWindow feeds the window profiles the way a program of many
// goroutines gets them (most 2 s profiles without a sample) and one of
// few (every profile with enough): it merges the latest ones that hold
// samples, no older than wallMaxSpan, enough for wallWantSamples, and
// says how many samples over how long.
func TestWallWindow(t *testing.T) {
	type seg struct {
		start   float64
		samples int
		fn      string
	}
	for _, tt := range []struct {
		name        string
		segs        []seg
		wantSamples int
		wantSpan    time.Duration
		// wantShare is the share of the time charged to "main.wait"
		// (the rest to "main.sleep"), in percent.
		wantShare float64
		// wantGor is the number of goroutines on average.
		wantGor float64
	}{{
		name:        "no sample yet",
		segs:        []seg{{0, 0, ""}, {2, 0, ""}},
		wantSamples: 0,
	}, {
		name:        "a small program: the latest profile alone",
		segs:        []seg{{0, 38, "main.sleep"}, {2, 38, "main.wait"}},
		wantSamples: 38, wantSpan: 2 * time.Second, wantShare: 100, wantGor: 1000,
	}, {
		name: "a large program: the profiles with a sample in the last minute",
		segs: []seg{
			{0, 1, "main.sleep"}, // older than a minute at the end: left out
			{2, 0, ""}, {30, 1, "main.sleep"}, {32, 0, ""}, {50, 1, "main.wait"}, {60, 0, ""}, {62, 0, ""},
		},
		wantSamples: 2, wantSpan: 34 * time.Second, wantShare: 50, wantGor: 1000,
	}, {
		name:        "the latest sample is kept however old",
		segs:        []seg{{0, 1, "main.wait"}, {100, 0, ""}, {200, 0, ""}},
		wantSamples: 1, wantSpan: 202 * time.Second, wantShare: 100, wantGor: 1000,
	}, {
		name:        "enough samples: older profiles left out",
		segs:        []seg{{0, 15, "main.sleep"}, {2, 15, "main.wait"}, {4, 10, "main.wait"}},
		wantSamples: 25, wantSpan: 4 * time.Second, wantShare: 100, wantGor: 1000,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			var w wallWindow
			var v wallView
			for _, s := range tt.segs {
				var err error
				if v, err = w.add(wallSegmentAt(t, s.start, s.samples, s.fn, 1000)); err != nil {
					t.Fatal(err)
				}
			}
			if v.samples != tt.wantSamples || v.span != tt.wantSpan {
				t.Errorf("%d samples over %v, want %d over %v", v.samples, v.span, tt.wantSamples, tt.wantSpan)
			}
			if tt.wantSamples == 0 {
				if v.p != nil {
					t.Errorf("a profile without samples on show: %v", v.p)
				}
				return
			}
			if got := flame.WallSamples(v.p); got != tt.wantSamples {
				t.Errorf("the merged profile holds %d samples by its period, want %d", got, tt.wantSamples)
			}
			a, err := flame.Attribute(v.p, -1, flame.Modules{})
			if err != nil {
				t.Fatal(err)
			}
			var share float64
			for _, e := range a.Code {
				if e.Name == "main.wait" {
					share = e.Pct
				}
			}
			// The time on the profile over its duration.
			gor := float64(a.Total) / float64(v.p.DurationNanos)
			if share < tt.wantShare-0.1 || share > tt.wantShare+0.1 {
				t.Errorf("main.wait has %.1f%% of the time, want %.1f%%", share, tt.wantShare)
			}
			if gor < tt.wantGor-1 || gor > tt.wantGor+1 {
				t.Errorf("%.1f goroutines on average, want %.0f", gor, tt.wantGor)
			}
		})
	}
}
