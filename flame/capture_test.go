package flame

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/snapshot"
)

// burnCPU spins for about d of wall-clock time and returns a value so the
// loop is not optimised away. It checks the clock rarely so that nearly all
// CPU samples land in burnCPU itself.
//
//go:noinline
func burnCPU(d time.Duration) uint64 {
	x := uint64(1)
	for start := time.Now(); time.Since(start) < d; {
		for range 1 << 16 {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
	}
	return x
}

var sink uint64

func TestCaptureCPU(t *testing.T) {
	var buf bytes.Buffer
	stop, err := Start(&buf, snapshot.ProfileCPU)
	if errors.Is(err, ErrCPUProfileBusy) {
		t.Skip("a CPU profile is already running (go test -cpuprofile?)")
	}
	if err != nil {
		t.Fatal(err)
	}
	sink = burnCPU(300 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Errorf("second stop: %v", err)
	}

	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatalf("parse CPU profile: %v", err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("CheckValid: %v", err)
	}
	samplesIdx, err := SampleIndex(p, "samples")
	if err != nil {
		t.Fatal(err)
	}
	cpuIdx, err := SampleIndex(p, "")
	if err != nil || p.SampleType[cpuIdx].Type != "cpu" {
		t.Fatalf("default sample type = %d (%v), want cpu", cpuIdx, err)
	}
	var n int64
	for _, s := range p.Sample {
		n += s.Value[samplesIdx]
	}
	if n < 10 {
		t.Skipf("only %d CPU samples in 300ms of burning (busy or throttled machine); too few to rank functions", n)
	}
	top := Top(p, cpuIdx, 3)
	for _, f := range top {
		if strings.HasSuffix(f.Name, "flame.burnCPU") {
			return
		}
	}
	t.Errorf("burnCPU not among the top 3 of %d samples: %+v", n, top)
}

func TestStartCPUBusy(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Skipf("cannot start the competing CPU profile: %v", err)
	}
	defer pprof.StopCPUProfile()

	stop, err := Start(io.Discard, snapshot.ProfileCPU)
	if !errors.Is(err, ErrCPUProfileBusy) {
		if stop != nil {
			stop()
		}
		t.Fatalf("Start(CPU) while a CPU profile runs: err = %v, want ErrCPUProfileBusy", err)
	}
	if stop != nil {
		t.Error("Start returned a stop function with its error")
	}
	if !strings.HasPrefix(err.Error(), "flame: start cpu profile: ") {
		t.Errorf("error %q lacks its context", err)
	}
	if _, err := Capture(context.Background(), snapshot.ProfileCPU, time.Millisecond); !errors.Is(err, ErrCPUProfileBusy) {
		t.Errorf("Capture(CPU) while a CPU profile runs: err = %v, want ErrCPUProfileBusy", err)
	}
}

func TestCaptureWall(t *testing.T) {
	p, err := Capture(context.Background(), snapshot.ProfileWall, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	checkWall(t, p)

	// Round trip: what we parsed writes and parses again unchanged.
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	q, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkWall(t, q)
	var a, b bytes.Buffer
	if err := Folded(&a, p, -1); err != nil {
		t.Fatal(err)
	}
	if err := Folded(&b, q, -1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("folded stacks changed across a write/parse round trip")
	}
	if err := SVG(io.Discard, p, DefaultSVGOptions()); err != nil {
		t.Errorf("SVG of a wall profile: %v", err)
	}
}

// checkWall checks that p looks like fgprof's output.
func checkWall(t *testing.T, p *profile.Profile) {
	t.Helper()
	if err := p.CheckValid(); err != nil {
		t.Fatalf("CheckValid: %v", err)
	}
	if len(p.SampleType) != 2 || p.SampleType[0].Type != "samples" || p.SampleType[1].Type != "time" {
		t.Errorf("sample types = %v, want samples and time", sampleTypeNames(p))
	}
	if p.PeriodType == nil || p.PeriodType.Type != "wallclock" {
		t.Errorf("period type = %v, want wallclock", p.PeriodType)
	}
	if i, _ := SampleIndex(p, ""); p.SampleType[i].Type != "time" {
		t.Errorf("default sample type = %q, want time", p.SampleType[i].Type)
	}
}

func TestStartWallStopTwice(t *testing.T) {
	var buf bytes.Buffer
	stop, err := Start(&buf, snapshot.ProfileWall)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	n := buf.Len()
	if err := stop(); err != nil { // fgprof's own stop would block here
		t.Fatal(err)
	}
	if buf.Len() != n {
		t.Error("second stop wrote again")
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkWall(t, p)
}

func TestStartWriteError(t *testing.T) {
	stop, err := Start(&failWriter{}, snapshot.ProfileWall)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); !errors.Is(err, errWrite) || !strings.HasPrefix(err.Error(), "flame: write wall profile: ") {
		t.Errorf("stop with a failing writer: err = %v, want %v with context", err, errWrite)
	}
}

func TestCaptureStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	p, err := Capture(ctx, snapshot.ProfileWall, time.Hour)
	if err != nil {
		t.Fatalf("Capture cut short by ctx: err = %v, want the partial profile", err)
	}
	if elapsed := time.Since(start); elapsed > time.Minute {
		t.Errorf("Capture ran %v, want it to stop when ctx ended", elapsed)
	}
	checkWall(t, p)
	if p.DurationNanos >= int64(time.Hour) {
		t.Errorf("DurationNanos = %d, want the short real duration", p.DurationNanos)
	}
}

func TestCaptureErrors(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		kind snapshot.ProfileKind
		d    time.Duration
		want error
	}{
		{"canceled before start", canceled, snapshot.ProfileWall, time.Second, context.Canceled},
		{"snapshot kind", context.Background(), snapshot.ProfileHeap, time.Second, ErrUnsupportedKind},
		{"unknown kind", context.Background(), snapshot.ProfileKind("threadcreate"), time.Second, ErrUnsupportedKind},
		{"zero duration", context.Background(), snapshot.ProfileWall, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Capture(tt.ctx, tt.kind, tt.d)
			if err == nil {
				t.Fatalf("Capture succeeded with %v", p)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "flame: ") {
				t.Errorf("error %q lacks the flame: prefix", err)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name string
		w    io.Writer
		kind snapshot.ProfileKind
		want error
	}{
		{"heap", io.Discard, snapshot.ProfileHeap, ErrUnsupportedKind},
		{"goroutine", io.Discard, snapshot.ProfileGoroutine, ErrUnsupportedKind},
		{"unknown", io.Discard, snapshot.ProfileKind("threadcreate"), ErrUnsupportedKind},
		{"nil writer", nil, snapshot.ProfileWall, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stop, err := Start(tt.w, tt.kind)
			if err == nil {
				stop()
				t.Fatal("Start succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSnapshot(t *testing.T) {
	tests := []struct {
		kind     snapshot.ProfileKind
		wantType string // the default sample type
	}{
		{snapshot.ProfileHeap, "inuse_space"},
		{snapshot.ProfileGoroutine, "goroutine"},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			p, err := Snapshot(tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CheckValid(); err != nil {
				t.Fatal(err)
			}
			i, err := SampleIndex(p, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := p.SampleType[i].Type; got != tt.wantType {
				t.Errorf("default sample type = %q, want %q", got, tt.wantType)
			}
			if err := SVG(io.Discard, p, DefaultSVGOptions()); err != nil {
				t.Error(err)
			}
		})
	}

	// This goroutine is blocked in the test runner, so it is on a stack.
	p, err := Snapshot(snapshot.ProfileGoroutine)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range Top(p, -1, 0) {
		found = found || strings.HasSuffix(f.Name, "flame.TestSnapshot")
	}
	if !found {
		t.Error("goroutine snapshot does not show TestSnapshot")
	}

	for _, k := range []snapshot.ProfileKind{snapshot.ProfileCPU, snapshot.ProfileWall, snapshot.ProfileKind("nope")} {
		if _, err := Snapshot(k); !errors.Is(err, ErrUnsupportedKind) {
			t.Errorf("Snapshot(%q): err = %v, want ErrUnsupportedKind", k, err)
		}
	}
}

// zero is a variable so that the division below is not a compile error.
var zero = 0

func TestStopWallRecoversFromZeroRate(t *testing.T) {
	var buf bytes.Buffer
	start := time.Now()
	panicky := func() error {
		_ = 1 / zero // what fgprof v0.9.5 does when no tick was seen
		return nil
	}
	if err := stopWall(panicky, &buf, start); err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		t.Fatalf("parse the replacement profile: %v", err)
	}
	checkWall(t, p)
	if len(p.Sample) != 0 {
		t.Errorf("replacement profile has %d samples, want none", len(p.Sample))
	}

	defer func() {
		if r := recover(); r != "other" {
			t.Errorf("recovered %v, want the unrelated panic passed on", r)
		}
	}()
	stopWall(func() error { panic("other") }, &buf, start)
	t.Error("an unrelated panic was swallowed")
}
