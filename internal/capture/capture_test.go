package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// fakeSource is an in-memory agent. Its profiles take the time asked for,
// as the agent's do, on a timer that a canceled context cuts short.
type fakeSource struct {
	// oneAtATime makes it refuse a cpu or wall profile while another runs,
	// with the agent's busy error.
	oneAtATime bool
	// cpuErr, if set, fails every cpu profile.
	cpuErr error
	// snapshotErr, if set, fails every snapshot, and profileErr every
	// profile.
	snapshotErr, profileErr error
	// onSnapshot and onProfile, if set, are called with the number of
	// snapshots (or of profiles of that kind) asked for so far,
	// including this one, before it is served.
	onSnapshot func(n int)
	onProfile  func(kind snapshot.ProfileKind, n int)
	// partialOnCancel makes a canceled cpu or wall profile return what it
	// gathered, with ctx's error.
	partialOnCancel bool
	// noContention refuses mutex and block profiles, as an agent older
	// than them does.
	noContention bool

	mu         sync.Mutex
	snapshots  int
	calls      map[snapshot.ProfileKind]int
	running    int
	maxRunning int
}

var _ Source = (*fakeSource)(nil)

func (f *fakeSource) Snapshot(ctx context.Context) (*snapshot.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.snapshots++
	n := f.snapshots
	f.mu.Unlock()
	if f.onSnapshot != nil {
		f.onSnapshot(n)
	}
	if f.snapshotErr != nil {
		return nil, f.snapshotErr
	}
	now := time.Now()
	h := snapshot.Host{
		Client: "default", Scheme: "https", Host: "backend.test:443",
		Open: 4, Active: 4, Waiting: 2, InFlight: 6, Requests: int64(100 * n), ReusedConns: int64(100*n) - 4, NewConns: 4,
		RPS: 80, Latency: snapshot.Percentiles{Count: 100, P50: 70, P95: 90, P99: 95, Max: 99},
		ConnWait:      snapshot.Percentiles{Count: 100, P50: 20, P95: 40, P99: 45, Max: 49},
		WindowSeconds: 10, PeakInFlight: 6, AvgWaiting: 1.5, MaxConnsPerHost: 4, MaxIdleConnsPerHost: 2, LimitsKnown: true,
		Series: []snapshot.Point{{Time: now.Unix() - 1, Requests: 80, ReusedConns: 80, LatencyAvgMs: 70, AvgWaiting: 1.6, AvgInFlight: 5.6}},
	}
	return &snapshot.Snapshot{
		Version: snapshot.Version, Time: now, PID: 99, Program: "fakeprog", Hosts: []snapshot.Host{h},
		Conns: []snapshot.Conn{{ID: 1, Client: "default", Host: h.Host, State: snapshot.ConnActive, DialMs: 1, TLS: &snapshot.TLS{HandshakeMs: 9}}},
	}, nil
}

func (f *fakeSource) Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[snapshot.ProfileKind]int{}
	}
	f.calls[kind]++
	n := f.calls[kind]
	f.mu.Unlock()
	if f.onProfile != nil {
		f.onProfile(kind, n)
	}
	if f.profileErr != nil {
		return nil, f.profileErr
	}
	switch kind {
	case "heap":
		return encode(cannedProfile(kind, 0)), nil
	case "cpu", "wall":
	case "mutex", "block":
		if f.noContention {
			return nil, fmt.Errorf("agent: %w", &snapshot.AgentError{Code: snapshot.ErrCodeBadRequest, Message: "kind: want cpu, wall, heap or goroutine"})
		}
		return f.contention(ctx, kind, d)
	default:
		return nil, fmt.Errorf("agent: unknown profile kind %q", kind)
	}
	if kind == "cpu" && f.cpuErr != nil {
		return nil, f.cpuErr
	}
	f.mu.Lock()
	if f.oneAtATime && f.running > 0 {
		f.mu.Unlock()
		return nil, fmt.Errorf("agent: %s profile: %w", kind, &snapshot.AgentError{Code: snapshot.ErrCodeBusy, Message: "busy"})
	}
	f.running++
	f.maxRunning = max(f.maxRunning, f.running)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running--
		f.mu.Unlock()
	}()

	began := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return encode(cannedProfile(kind, d)), nil
	case <-ctx.Done():
		if f.partialOnCancel {
			return encode(cannedProfile(kind, time.Since(began))), ctx.Err()
		}
		return nil, ctx.Err()
	}
}

// contention serves a mutex or block profile covering d, on a timer that
// a canceled context cuts short.
func (f *fakeSource) contention(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return encode(cannedProfile(kind, d)), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cannedProfile returns a small profile of the given kind covering d: the
// CPU goes to main.burnCPU, wall-clock time to waiting on the network.
func cannedProfile(kind snapshot.ProfileKind, d time.Duration) *profile.Profile {
	types := []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
	leaf := "main.burnCPU"
	switch kind {
	case "wall":
		types[1].Type, leaf = "time", "net/http.(*persistConn).roundTrip"
	case "heap":
		types = []*profile.ValueType{{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}}
		leaf = "main.allocate"
	case "mutex", "block":
		types = []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}}
		leaf = "sync.(*Mutex).Lock"
	}
	m := &profile.Mapping{ID: 1, HasFunctions: true}
	fmain := &profile.Function{ID: 1, Name: "main.main", SystemName: "main.main"}
	fleaf := &profile.Function{ID: 2, Name: leaf, SystemName: leaf}
	lmain := &profile.Location{ID: 1, Mapping: m, Address: 0x10, Line: []profile.Line{{Function: fmain, Line: 3}}}
	lleaf := &profile.Location{ID: 2, Mapping: m, Address: 0x20, Line: []profile.Line{{Function: fleaf, Line: 7}}}
	return &profile.Profile{
		SampleType: types, PeriodType: types[1], Period: 10e6, DurationNanos: int64(d), TimeNanos: time.Now().UnixNano(),
		Mapping: []*profile.Mapping{m}, Function: []*profile.Function{fmain, fleaf}, Location: []*profile.Location{lmain, lleaf},
		Sample: []*profile.Sample{{Location: []*profile.Location{lleaf, lmain}, Value: []int64{5, 50e6}}},
	}
}

func encode(p *profile.Profile) []byte {
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// allFiles are the files a complete capture directory holds.
var allFiles = []string{
	CPUProfile, WallProfile, HeapProfile, CPUFlame, WallFlame,
	CPUFolded, WallFolded, CaptureFile, MutexProfile, BlockProfile,
}

// checkFiles fails the test unless every named file exists in dir and is
// not empty.
func checkFiles(t *testing.T, dir string, names []string) {
	t.Helper()
	for _, name := range names {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s was not written: %v", name, err)
			continue
		}
		if fi.Size() == 0 {
			t.Errorf("%s is empty", name)
		}
	}
}

// readProfile parses a profile the capture wrote.
func readProfileT(t *testing.T, dir, name string) *profile.Profile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.ParseData(data)
	if err != nil {
		t.Fatalf("%s does not parse: %v", name, err)
	}
	return p
}

// progressLog records Progress calls.
type progressLog struct {
	mu    sync.Mutex
	calls [][2]time.Duration
}

func (l *progressLog) record(done, total time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, [2]time.Duration{done, total})
}

// check fails unless done never decreased, total was always want, and
// (when complete) the last call reported the whole window.
func (l *progressLog) check(t *testing.T, want time.Duration, complete bool) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.calls) < 2 {
		t.Fatalf("Progress called %d times, want at least 2", len(l.calls))
	}
	for i, c := range l.calls {
		if c[1] != want {
			t.Errorf("Progress call %d: total %v, want %v", i, c[1], want)
		}
		if c[0] > c[1] {
			t.Errorf("Progress call %d: done %v > total %v", i, c[0], c[1])
		}
		if i > 0 && c[0] < l.calls[i-1][0] {
			t.Errorf("Progress call %d: done went back from %v to %v", i, l.calls[i-1][0], c[0])
		}
	}
	if last := l.calls[len(l.calls)-1]; complete && last[0] != want {
		t.Errorf("last Progress call: done %v, want %v", last[0], want)
	}
}

func TestRunConcurrentAgent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	src := &fakeSource{}
	var prog progressLog
	// Segments are short against the window so that a loaded machine,
	// delaying timers, still leaves room for several.
	const window = time.Second
	mods := flame.Modules{Main: "example.com/fakeprog", Deps: []string{"github.com/aws/aws-sdk-go-v2"}}
	c, profs, err := Run(context.Background(), src, Options{
		Duration: window, Interval: 25 * time.Millisecond, Segment: 100 * time.Millisecond,
		Dir: dir, Target: "pid 99", Progress: prog.record, Modules: mods,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, allFiles)
	prog.check(t, window, true)
	if c.ProfileMode != ModeConcurrent {
		t.Errorf("profile mode = %q, want %q", c.ProfileMode, ModeConcurrent)
	}
	if c.Canceled {
		t.Error("capture marked canceled")
	}
	if len(c.Snapshots) < 2 {
		t.Errorf("%d snapshots, want at least 2", len(c.Snapshots))
	}
	if c.Program != "fakeprog" || c.PID != 99 || c.Target != "pid 99" {
		t.Errorf("capture of %s pid %d target %q, want fakeprog 99 pid 99", c.Program, c.PID, c.Target)
	}
	for _, kind := range []snapshot.ProfileKind{snapshot.ProfileCPU, snapshot.ProfileWall} {
		info := c.Profile(kind)
		if info == nil || len(info.Segments) < 2 {
			t.Fatalf("%s profile info = %+v, want several segments", kind, info)
		}
		var sum float64
		for _, s := range info.Segments {
			if !s.OK {
				t.Errorf("%s segment %+v failed", kind, s)
			}
			sum += s.Requested
		}
		// The merged profile covers every segment: the fake's profiles
		// last exactly what was asked.
		p := readProfileT(t, dir, info.File)
		if got := float64(p.DurationNanos) / 1e9; got < sum-0.002 || got > sum+0.002 {
			t.Errorf("%s profile covers %.3f s, want the segments' %.3f s", kind, got, sum)
		}
		if sum > window.Seconds()+0.01 {
			t.Errorf("%s segments ask for %.3f s, more than the %v window", kind, sum, window)
		}
	}
	if src.maxRunning != 2 {
		t.Errorf("at most %d profiles ran at once, want 2 (concurrent)", src.maxRunning)
	}

	// The outputs hold what the profiles and snapshots hold.
	svg, _ := os.ReadFile(filepath.Join(dir, CPUFlame))
	if !bytes.Contains(svg, []byte("main.burnCPU")) {
		t.Error("cpu.svg does not show main.burnCPU")
	}
	folded, _ := os.ReadFile(filepath.Join(dir, WallFolded))
	if !strings.HasPrefix(string(folded), "main.main;net/http.(*persistConn).roundTrip ") {
		t.Errorf("wall.folded = %q, want the network wait stack", folded)
	}
	if profs.CPU == nil || profs.Wall == nil {
		t.Errorf("returned profiles cpu %v wall %v, want the merged profiles written", profs.CPU != nil, profs.Wall != nil)
	}
	got, gotProfs, err := Load(dir)
	if err != nil || len(got.Snapshots) != len(c.Snapshots) || len(got.Series) != 1 || gotProfs.CPU == nil || gotProfs.Wall == nil {
		t.Errorf("capture read back: %v, %d snapshots (want %d), profiles cpu %v wall %v", err, len(got.Snapshots), len(c.Snapshots), gotProfs.CPU != nil, gotProfs.Wall != nil)
	}

	// The contention profiles cover the window too, and come back with
	// the module list.
	var kinds []snapshot.ProfileKind
	for _, pi := range c.Profiles {
		kinds = append(kinds, pi.Kind)
	}
	if want := []snapshot.ProfileKind{"cpu", "wall", "heap", "mutex", "block"}; !slices.Equal(kinds, want) {
		t.Errorf("profiles %v, want %v", kinds, want)
	}
	for _, kind := range []snapshot.ProfileKind{snapshot.ProfileMutex, snapshot.ProfileBlock} {
		info := c.Profile(kind)
		if info.File == "" || info.Error != "" || info.Seconds < 0.5 {
			t.Errorf("%s profile = %+v, want a file covering most of the window", kind, info)
		}
	}
	if profs.Mutex == nil || profs.Block == nil || gotProfs.Mutex == nil || gotProfs.Block == nil {
		t.Error("the mutex and block profiles are missing from the returned or loaded profiles")
	}
	if got.Modules.Main != mods.Main || !slices.Equal(got.Modules.Deps, mods.Deps) {
		t.Errorf("modules read back %+v, want %+v", got.Modules, mods)
	}
}

// TestRunAgentWithoutContention: an agent that serves no mutex or block
// profile (older than them) still gives a complete capture of the rest,
// the two marked missing with the agent's reason.
func TestRunAgentWithoutContention(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{noContention: true}
	c, profs, err := Run(context.Background(), src, Options{Duration: 300 * time.Millisecond, Interval: 50 * time.Millisecond, Segment: 100 * time.Millisecond, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if profs.CPU == nil || profs.Wall == nil || profs.Mutex != nil || profs.Block != nil {
		t.Errorf("profiles cpu %v wall %v mutex %v block %v", profs.CPU != nil, profs.Wall != nil, profs.Mutex != nil, profs.Block != nil)
	}
	for _, kind := range []snapshot.ProfileKind{snapshot.ProfileMutex, snapshot.ProfileBlock} {
		info := c.Profile(kind)
		if info == nil || info.File != "" || !strings.Contains(info.Error, "want cpu, wall, heap or goroutine") {
			t.Errorf("%s profile = %+v, want missing with the agent's reason", kind, info)
		}
		if n := src.calls[kind]; n != 1 {
			t.Errorf("%s asked %d times, want once (a refusal that is not busy drops the kind)", kind, n)
		}
	}
}

func TestRunOneProfileAtATime(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{oneAtATime: true}
	const window = time.Second
	c, _, err := Run(context.Background(), src, Options{
		Duration: window, Interval: 25 * time.Millisecond, Segment: 100 * time.Millisecond, Dir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, allFiles)
	if c.ProfileMode != ModeAlternating {
		t.Errorf("profile mode = %q, want %q", c.ProfileMode, ModeAlternating)
	}
	if src.maxRunning != 1 {
		t.Errorf("%d profiles ran at once on an agent that allows one", src.maxRunning)
	}
	var covered float64
	busy := 0
	for _, kind := range []snapshot.ProfileKind{snapshot.ProfileCPU, snapshot.ProfileWall} {
		info := c.Profile(kind)
		ok := 0
		for _, s := range info.Segments {
			if s.OK {
				ok++
			} else if strings.Contains(s.Note, "refused while the other profile ran") && s.Error == "" {
				busy++
			}
		}
		if ok < 2 {
			t.Errorf("%s has %d segments, want at least 2 turns: %+v", kind, ok, info.Segments)
		}
		if info.Error != "" {
			t.Errorf("%s error = %q, want none: taking turns is no failure", kind, info.Error)
		}
		covered += info.Seconds
	}
	if busy != 1 {
		t.Errorf("%d busy refusals noted, want 1 (the first round)", busy)
	}
	if len(c.Errors) != 0 {
		t.Errorf("capture errors = %+v, want none", c.Errors)
	}
	// Taking turns, the two together cover no more than the window.
	if covered > window.Seconds()+0.01 {
		t.Errorf("cpu and wall cover %.3f s together, more than the %v window", covered, window)
	}
}

func TestRunCanceled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C when the third CPU segment is asked for: two have completed.
	src := &fakeSource{onProfile: func(kind snapshot.ProfileKind, n int) {
		if kind == "cpu" && n == 3 {
			cancel()
		}
	}}
	var prog progressLog
	const window = time.Minute
	began := time.Now()
	c, _, err := Run(ctx, src, Options{
		Duration: window, Interval: 20 * time.Millisecond, Segment: 60 * time.Millisecond, Dir: dir, Progress: prog.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > window/2 {
		t.Fatalf("canceled capture took %v, want it to end early", took)
	}
	checkFiles(t, dir, allFiles)
	prog.check(t, window, false)
	if !c.Canceled {
		t.Error("capture not marked canceled")
	}
	if c.End.Sub(c.Start) >= window {
		t.Errorf("capture ends %v after it started, want early", c.End.Sub(c.Start))
	}
	if len(c.Snapshots) == 0 {
		t.Error("no snapshot kept")
	}
	cpu := c.Profile(snapshot.ProfileCPU)
	if p := readProfileT(t, dir, CPUProfile); p.DurationNanos != int64(120*time.Millisecond) {
		t.Errorf("cpu.pb.gz covers %v, want the two completed 60 ms segments", time.Duration(p.DurationNanos))
	}
	if n := len(cpu.Segments); n != 3 || cpu.Segments[2].OK {
		t.Errorf("cpu segments = %+v, want 2 completed and 1 cut short", cpu.Segments)
	}
	if !strings.Contains(cpu.Error, "canceled") {
		t.Errorf("cpu profile error = %q, want it to say the capture was canceled", cpu.Error)
	}
	if h := c.Profile(snapshot.ProfileHeap); h.File != HeapProfile {
		t.Errorf("heap profile not taken after Ctrl-C: %+v", h)
	}
	if got, err := Read(dir); err != nil || !got.Canceled {
		t.Errorf("capture.json read back: %v, canceled %v; want it to say the capture ended early", err, got != nil && got.Canceled)
	}
}

func TestRunKeepsPartialProfile(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &fakeSource{partialOnCancel: true, onSnapshot: func(n int) {
		if n == 3 {
			cancel()
		}
	}}
	c, _, err := Run(ctx, src, Options{Duration: time.Minute, Interval: 10 * time.Millisecond, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []snapshot.ProfileKind{snapshot.ProfileCPU, snapshot.ProfileWall} {
		info := c.Profile(kind)
		if info.File == "" || len(info.Segments) != 1 || !info.Segments[0].OK || info.Segments[0].Error != "" ||
			!strings.Contains(info.Segments[0].Note, "ended early") || info.Error != "" {
			t.Errorf("%s = %+v, want the one segment cut short kept, noted as ended early, no error", kind, info)
		}
	}
	if got := len(c.Snapshots); got != 3 {
		t.Errorf("%d snapshots, want 3 (canceled during the third)", got)
	}
}

func TestRunCanceledBeforeStart(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, _, err := Run(ctx, &fakeSource{}, Options{Duration: time.Minute, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, []string{HeapProfile, CaptureFile})
	if !c.Canceled || c.ProfileMode != ModeNone || len(c.Snapshots) != 0 {
		t.Errorf("canceled %v, mode %q, %d snapshots; want true, none, 0", c.Canceled, c.ProfileMode, len(c.Snapshots))
	}
	if len(c.Errors) != 0 {
		t.Errorf("errors = %+v, want none: a canceled request is not the agent's failure", c.Errors)
	}
}

func TestRunCPUUnavailable(t *testing.T) {
	dir := t.TempDir()
	src := &fakeSource{cpuErr: errors.New("agent: cpu profile: the program runs its own CPU profile")}
	c, _, err := Run(context.Background(), src, Options{
		Duration: time.Second, Interval: 20 * time.Millisecond, Segment: 100 * time.Millisecond, Dir: dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, dir, []string{WallProfile, WallFlame, HeapProfile, CaptureFile})
	if _, err := os.Stat(filepath.Join(dir, CPUProfile)); err == nil {
		t.Error("cpu.pb.gz written though every cpu profile failed")
	}
	if c.ProfileMode != ModeSingle {
		t.Errorf("profile mode = %q, want %q", c.ProfileMode, ModeSingle)
	}
	cpu := c.Profile(snapshot.ProfileCPU)
	if len(cpu.Segments) != 1 || !strings.Contains(cpu.Error, "runs its own CPU profile") {
		t.Errorf("cpu = %+v, want one failed segment and the agent's reason", cpu)
	}
	if wall := c.Profile(snapshot.ProfileWall); len(wall.Segments) < 2 {
		t.Errorf("wall has %d segments, want the window to itself", len(wall.Segments))
	}
	if !strings.Contains(cpu.Error, "runs its own CPU profile") {
		t.Errorf("cpu profile error %q does not say why the CPU profile is missing", cpu.Error)
	}
}

func TestRunAgentGone(t *testing.T) {
	dir := t.TempDir()
	gone := errors.New("agent: connection refused")
	src := &fakeSource{snapshotErr: gone, profileErr: gone}
	c, _, err := Run(context.Background(), src, Options{
		Duration: 100 * time.Millisecond, Interval: 20 * time.Millisecond, Segment: 50 * time.Millisecond, Dir: dir,
	})
	if err == nil || !strings.Contains(err.Error(), "nothing recorded") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Run = %v, want an error saying nothing was recorded and why", err)
	}
	checkFiles(t, dir, []string{CaptureFile})
	if len(c.Errors) == 0 || c.Errors[0].Op != "snapshot" || c.Errors[0].Count < 2 {
		t.Errorf("errors = %+v, want the failed snapshots counted", c.Errors)
	}
}

func TestOptions(t *testing.T) {
	src := &fakeSource{}
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{}, "no output directory"},
		{Options{Dir: t.TempDir(), Interval: 2 * time.Second}, "interval 2s is longer than 1s"},
		{Options{Dir: t.TempDir(), Duration: -time.Second}, "negative"},
	} {
		if _, _, err := Run(context.Background(), src, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%+v) = %v, want an error containing %q", tt.opts, err, tt.want)
		}
	}
	o, err := Options{Dir: "x"}.withDefaults()
	if err != nil || o.Duration != DefaultDuration || o.Interval != DefaultInterval || o.Segment != DefaultSegment {
		t.Errorf("defaults = %+v, %v", o, err)
	}
	if o, _ := (Options{Dir: "x", Duration: 4 * time.Second}).withDefaults(); o.Segment != 2*time.Second {
		t.Errorf("segment of a 4 s capture = %v, want 2s (half the window)", o.Segment)
	}
}

func TestDefaultDir(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 5, 7, 0, time.Local)
	for _, tt := range []struct {
		program string
		want    string
	}{
		{"orders-api", "httptop-orders-api-42-20250314-090507"},
		{"/usr/local/bin/my app", "httptop-my_app-42-20250314-090507"},
		{"", "httptop-program-42-20250314-090507"},
		{"..", "httptop-program-42-20250314-090507"},
	} {
		if got := DefaultDir(tt.program, 42, at); got != tt.want {
			t.Errorf("DefaultDir(%q) = %q, want %q", tt.program, got, tt.want)
		}
	}
}
