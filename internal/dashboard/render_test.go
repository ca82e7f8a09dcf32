package dashboard

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

func TestHeaderFits(t *testing.T) {
	m := newModel()
	m.ingest(testSnapshot(1))
	for _, w := range []int{60, 80, 100, 120, 200} {
		l1, l2 := headerLines(m, "127.0.0.1:6061", w)
		if l1.width() > w || l2.width() > w {
			t.Errorf("width %d: header lines are %d and %d wide", w, l1.width(), l2.width())
		}
		// The traffic totals always show; the status too.
		if s := l2.String(); !strings.Contains(s, "req/s 400") || !strings.Contains(s, "err/s 0.2") {
			t.Errorf("width %d: line 2 %q lacks the totals", w, s)
		}
		if s := l1.String(); !strings.HasSuffix(s, "● live") {
			t.Errorf("width %d: line 1 %q lacks the status", w, s)
		}
	}
	_, l2 := headerLines(m, "", 200)
	// The long labels lose the runnable goroutines first.
	if got, want := l2.String(), "CPU 37.5%   CPU/req 915µs   ceiling 2.2k/s   RSS 48MiB   goroutines 311   threads 14   fds 57   TCP estab 31   time_wait 212   GC 8.5%   sched p99 420µs   lock wait 0.03/s   req/s 400   err/s 0.2"; got != want {
		t.Errorf("wide line 2:\n got %q\nwant %q", got, want)
	}
	// Narrow, the process figures go least useful first; TIME_WAIT, the
	// sign of churn, stays, and so does the CPU's ceiling.
	for _, tt := range []struct {
		w    int
		want string
	}{
		{80, "cpu 37.5%  c/r 915µs  max 2.2k/s  rss 48MiB  tw 212  req/s 400  err/s 0.2"},
		{60, "cpu 37.5%  max 2.2k/s  tw 212  req/s 400  err/s 0.2"},
		{40, "cpu 37.5%  tw 212  req/s 400  err/s 0.2"},
	} {
		if _, l2 := headerLines(m, "", tt.w); l2.String() != tt.want {
			t.Errorf("line 2 at %d cells:\n got %q\nwant %q", tt.w, l2.String(), tt.want)
		}
	}
	// An old TCP reading says its age.
	old := testSnapshot(1)
	old.Process.TCP.AgeSeconds = 21
	m.ingest(old)
	if _, l2 := headerLines(m, "", 80); !strings.Contains(l2.String(), "tw 212 (21s old)") {
		t.Errorf("line 2 with a 21 s old TCP reading: %q", l2.String())
	}
}

func TestHeaderBeforeData(t *testing.T) {
	m := newModel()
	l1, l2 := headerLines(m, "pid 4242", 80)
	if !strings.HasPrefix(l1.String(), "httptop  pid 4242") || !strings.HasSuffix(l1.String(), "○ connecting…") {
		t.Errorf("line 1 %q", l1.String())
	}
	if l2.String() != "waiting for the first snapshot…" {
		t.Errorf("line 2 %q", l2.String())
	}
}

func TestStatusLine(t *testing.T) {
	m := newModel()
	m.ingest(testSnapshot(1))
	for _, tt := range []struct {
		name string
		set  func()
		want string
	}{
		{"live", func() {}, "● live"},
		{"disconnected", func() { m.setDisconnected("gone", 2500*time.Millisecond) }, "✕ disconnected, reconnecting in 3s"},
		{"retrying", func() { m.setConnecting() }, "✕ disconnected, reconnecting…"},
		{"paused", func() { m.setPaused(true) }, "❚❚ paused  ✕ disconnected, reconnecting…"},
		{"live again", func() { m.ingest(testSnapshot(1)) }, "❚❚ paused  ● live"},
	} {
		tt.set()
		if got := statusLine(m).String(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFooterLine(t *testing.T) {
	m := newModel()
	for _, tt := range []struct {
		name string
		w    int
		set  func()
		want string
	}{
		{"wide", 120, func() {}, "q quit  h help  tab pane  enter drill  s/S sort  / filter  p pause  w wall  c capture"},
		{"80", 80, func() {}, "q quit h help tab pane enter drill s/S sort / filter p pause w wall c capture"},
		{"narrow", 40, func() {}, "q quit h help tab pane enter drill"},
		{"states", 120, func() { m.paused, m.drill, m.hot.kind = true, &hostKey{}, snapshot.ProfileWall },
			"q quit  h help  tab pane  esc all conns  s/S sort  / filter  p resume  w cpu  c capture"},
		{"message", 80, func() { m.message = "capture written to /tmp/x" }, "capture written to /tmp/x"},
		{"capture", 80, func() {
			m.message = ""
			m.capture = captureState{running: true, done: 3 * time.Second, total: 30 * time.Second}
		}, "capturing [██░░░░░░░░░░░░░░░░░░] 3s/30s  q quit h help tab pane esc all conns"},
	} {
		tt.set()
		got := footerLine(m, tt.w)
		if got.String() != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got.String(), tt.want)
		}
		if got.width() > tt.w {
			t.Errorf("%s: %d wide, more than %d", tt.name, got.width(), tt.w)
		}
	}
}

func TestProgressBar(t *testing.T) {
	for _, tt := range []struct {
		done, total time.Duration
		want        string
	}{
		{0, 30 * time.Second, "[░░░░░░░░░░] 0s/30s"},
		{15 * time.Second, 30 * time.Second, "[█████░░░░░] 15s/30s"},
		{40 * time.Second, 30 * time.Second, "[██████████] 40s/30s"},
		{0, 0, "[░░░░░░░░░░] 0s/0s"},
	} {
		if got := progressBar(tt.done, tt.total, 10); got != tt.want {
			t.Errorf("progressBar(%v, %v) = %q, want %q", tt.done, tt.total, got, tt.want)
		}
	}
}

func TestHotStatus(t *testing.T) {
	m := newModel()
	if got := hotStatus(m, 2*time.Second); got != "taking 2s CPU and wall-clock profiles…" {
		t.Errorf("before the first profile: %q", got)
	}
	m.setProfile(snapshot.ProfileCPU, profileResult{err: errors.New("the program runs its own CPU profile")})
	if got := hotStatus(m, 2*time.Second); got != "profiling unavailable: the program runs its own CPU profile (w: try wall-clock)" {
		t.Errorf("on error: %q", got)
	}
	m.toggleProfileKind()
	if got := hotStatus(m, 2*time.Second); got != "taking 2s CPU and wall-clock profiles…" {
		t.Errorf("after w: %q", got)
	}
	// A wall-clock profile without a sample (a program of many
	// goroutines is sampled seldom) is not taken for one without
	// requests.
	wallTypes := []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "time", Unit: "nanoseconds"}}
	m.setProfile(snapshot.ProfileWall, summarise(snapshot.ProfileWall, buildProfile(wallTypes, nil, nil), flame.Modules{}))
	if got := hotStatus(m, 2*time.Second); !strings.HasPrefix(got, "no wall-clock sample yet") {
		t.Errorf("no sample: %q", got)
	}
	// A wall-clock profile with no request in it says so.
	m.setProfile(snapshot.ProfileWall, summarise(snapshot.ProfileWall, buildProfile(
		[]*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "time", Unit: "nanoseconds"}},
		[][]string{{"main.main", "time.Sleep"}}, []int64{10}), flame.Modules{}))
	if got := hotStatus(m, 2*time.Second); got != "no goroutine was inside an HTTP client call during the last profile" {
		t.Errorf("no requests: %q", got)
	}
}

func TestDiagLines(t *testing.T) {
	m := newModel()
	if diagLines(m) != nil {
		t.Error("diagnoses before any snapshot")
	}
	s := testSnapshot(1)
	s.Diagnoses = nil
	m.ingest(s)
	if got := diagLines(m); len(got) != 1 || got[0].String() != "no problems found" {
		t.Errorf("no diagnoses: %v", got)
	}
	m.ingest(testSnapshot(1))
	got := diagLines(m)
	if len(got) != 3 || !strings.HasPrefix(got[0].String(), "CRIT payments api.stripe.test:443 pool_saturated: 28 requests wait") ||
		!strings.Contains(got[0].String(), "→ Raise Transport.MaxConnsPerHost from 4 to at least 32") {
		t.Errorf("first diagnosis: %q", got[0].String())
	}
}

func TestLayoutFor(t *testing.T) {
	for _, tt := range []struct {
		w, h int
		want layoutMode
	}{
		{40, 10, modeSmall}, {59, 24, modeSmall}, {80, 14, modeSmall},
		{60, 15, modeCompact}, {80, 24, modeCompact}, {200, 29, modeCompact}, {119, 50, modeCompact},
		{120, 30, modeWide}, {200, 50, modeWide},
	} {
		if got := layoutFor(tt.w, tt.h); got != tt.want {
			t.Errorf("layoutFor(%d, %d) = %v, want %v", tt.w, tt.h, got, tt.want)
		}
	}
}

func TestTaggedEscapes(t *testing.T) {
	th := newTheme(false)
	got := th.tagged(line{seg{"[::1]:443", roleBold}})
	if strings.Contains(got, "[::1]") {
		t.Errorf("tagged(%q) = %q: the address would parse as a style tag", "[::1]:443", got)
	}
}

// TestCPUBound: a process at its CPU's limit highlights its ceiling, says
// in the hosts pane's title that latencies include the scheduler's wait,
// and lists its diagnoses as the process's.
func TestCPUBound(t *testing.T) {
	s := testSnapshot(1)
	s.Process.WindowCPUPercent, s.Process.WindowSchedLatencyP99Ms = 196, 83.9
	s.Diagnoses = append([]snapshot.Diagnosis{{Kind: snapshot.KindCPUSaturated, Severity: snapshot.SeverityCritical,
		Summary: "The process uses 1.96 of the 2 cores it may use", Advice: "cut the CPU each request costs"}}, s.Diagnoses...)
	m := newModel()
	m.ingest(s)
	_, l2 := headerLines(m, "", 200)
	for _, sg := range l2 {
		if sg.text == "2.2k/s" && sg.role != roleWarn {
			t.Errorf("the ceiling of a CPU-bound process is not highlighted: %+v", sg)
		}
	}
	if got := hostsTitle(m); !strings.HasSuffix(got, " · latencies include up to 83.9ms of waiting for a thread") {
		t.Errorf("hosts title %q: want the scheduler's wait said next to the latencies", got)
	}
	if got := diagLines(m)[0].String(); !strings.HasPrefix(got, "CRIT process cpu_saturated: The process uses 1.96") {
		t.Errorf("first diagnosis %q", got)
	}
	s.Process.WindowSchedLatencyP99Ms = 3
	m.ingest(s)
	if got := hostsTitle(m); strings.Contains(got, "thread") {
		t.Errorf("hosts title %q with a 3 ms scheduling p99", got)
	}
}

// A hot functions title too long for its pane loses "-clock", then
// "functions"; one that fits stays whole.
func TestFitHotTitle(t *testing.T) {
	const wall = "Hot functions · wall-clock · where requests wait"
	for _, tt := range []struct {
		room int
		want string
	}{
		{60, wall},
		{48, wall},
		{47, "Hot functions · wall · where requests wait"},
		{42, "Hot functions · wall · where requests wait"},
		{41, "Hot · wall · where requests wait"},
		{10, "Hot · wall · where requests wait"},
	} {
		if got := fitHotTitle(wall, tt.room); got != tt.want {
			t.Errorf("fitHotTitle(%q, %d) = %q, want %q", wall, tt.room, got, tt.want)
		}
	}
}
