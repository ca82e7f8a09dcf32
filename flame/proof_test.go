package flame

import (
	"bufio"
	"context"
	"math"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
	"github.com/httptop/httptop/tlsstats/tlstest"
)

// TestHelperServers is the server process of tlstest.Start for the proofs
// below (servers in another process keep their CPU out of the client's
// profile); it skips in any other process.
func TestHelperServers(t *testing.T) { tlstest.Serve(t) }

const (
	fixturesPkg   = "github.com/httptop/httptop/fixtures."
	signFunc      = fixturesPkg + "SignHMAC"
	decodeFunc    = fixturesPkg + "DecodeJSON"
	backoffFunc   = fixturesPkg + "BackOff"
	requestDoFunc = fixturesPkg + "Request.Do"
	recordFunc    = fixturesPkg + "(*Hotspot).Record"
)

// runWorkload runs a closed loop of workers with req on c until the
// returned stop is called.
func runWorkload(t *testing.T, c *http.Client, workers int, backoff time.Duration, req fixtures.Request) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := fixtures.ClosedLoop{Workers: workers, Backoff: backoff}.Run(ctx, c, req)
		done <- err
	}()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("workload: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// waitRequests waits until the collector has seen n requests, so that
// profiles start on a warm workload.
func waitRequests(t *testing.T, col *probe.Collector, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got int64
		for _, h := range col.Snapshot().Hosts {
			got += h.Requests
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the workload made %d requests in 30 s, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond) // polling the collector's counter
	}
}

// pprofTop runs go tool pprof -top -cum on p and returns each function's
// flat and cum percentages as it prints them.
func pprofTop(t *testing.T, p *profile.Profile) (flat, cum map[string]float64, out string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to run go tool pprof")
	}
	file := filepath.Join(t.TempDir(), "cpu.pb.gz")
	if err := WriteFile(file, p); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "tool", "pprof", "-top", "-cum", "-nodefraction=0", "-nodecount=100000", file)
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("go tool pprof: %v", err)
	}
	flat, cum = map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// flat flat% sum% cum cum% name...
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		fp, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		cp, err2 := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err1 != nil || err2 != nil {
			continue
		}
		name := strings.Join(f[5:], " ")
		if i := strings.Index(name, " (inline)"); i >= 0 {
			name = name[:i]
		}
		flat[name] += fp
		cum[name] = cp
	}
	return flat, cum, string(data)
}

// TestProofCodeView is the proof of the code view on a real client: 50
// workers on a pool of 10 connections sign every request in a function of
// their own (SignHMAC) and decode a 50 KB JSON answer (DecodeJSON), over
// TLS to servers in another process. Both functions are in the code
// view's top 5, each within 5 points of its cumulative share as go tool
// pprof -top -cum reports it on the same profile, and the categories put
// the syscalls where pprof's flat column does.
func TestProofCodeView(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector distorts CPU shares")
	}
	srv := tlstest.Start(t, "TestHelperServers", tlstest.Spec{Proto: fixtures.HTTPS1, Servers: 1})
	tr := srv.Transport(fixtures.HTTPS1, 10)
	tr.MaxConnsPerHost = 10
	t.Cleanup(tr.CloseIdleConnections)
	col := probe.NewCollector(probe.CollectorOptions{})
	c := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}
	runWorkload(t, c, 50, 0, fixtures.Request{
		URL: srv.URLs[0] + "/json?size=50000", SignKey: []byte("proof"), SignRounds: 400, Decode: true,
	})
	waitRequests(t, col, 200)
	p := captureSamples(t, 300)
	a, err := Attribute(p, -1, ReadModules())
	if err != nil {
		t.Fatal(err)
	}
	_, pcum, out := pprofTop(t, p)
	t.Logf("go tool pprof -top -cum (first lines):\n%s", firstLines(out, 16))
	for i, e := range a.Code[:min(8, len(a.Code))] {
		t.Logf("code view %d: %5.1f%% (cum %5.1f%%, pprof cum %5.1f%%) %s", i+1, e.Pct, e.CumPct, pcum[e.Name], e.Name)
	}
	t.Logf("httptop: %.2f%%", a.HttptopPct)
	for _, name := range []string{signFunc, decodeFunc} {
		rank := -1
		for i, e := range a.Code {
			if e.Name == name {
				rank = i
			}
		}
		if rank < 0 || rank >= 5 {
			t.Errorf("%s is at rank %d of the code view, want the top 5", name, rank+1)
			continue
		}
		e := a.Code[rank]
		if d := math.Abs(e.Pct - pcum[name]); d > 5 {
			t.Errorf("%s: code view %.1f%%, go tool pprof cum %.1f%%: %.1f points apart, want at most 5", name, e.Pct, pcum[name], d)
		}
	}

	// Categories against pprof's flat column: the syscalls category
	// holds the samples whose leaf is a system call, so it matches the
	// flat share of the syscall functions.
	pflat, _, _ := pprofTop(t, p)
	var sysFlat, httpFlat float64
	for name, f := range pflat {
		switch ruleCategory(name) {
		case CategorySyscall:
			sysFlat += f
		case CategoryHTTPClient:
			httpFlat += f
		}
	}
	cats := map[Category]float64{}
	for _, e := range a.Categories {
		cats[e.Category] = e.Pct
		t.Logf("category %-40s %5.1f%%", e.Name, e.Pct)
	}
	t.Logf("pprof flat: syscall functions %.1f%%, net/http and x/net/http2 functions %.1f%%", sysFlat, httpFlat)
	if d := math.Abs(cats[CategorySyscall] - sysFlat); d > 5 {
		t.Errorf("syscalls category %.1f%%, pprof's flat share of syscall functions %.1f%%: %.1f points apart", cats[CategorySyscall], sysFlat, d)
	}
	// The HTTP client category holds net/http's own frames (pprof's flat)
	// and the generic work they call (memmove, bufio, strconv).
	if h := cats[CategoryHTTPClient]; h < httpFlat-0.5 || h > httpFlat+5 {
		t.Errorf("HTTP client category %.1f%%, pprof's flat share of net/http functions %.1f%%: want it at most 5 points above", h, httpFlat)
	}
}

// captureSamples takes CPU profiles of 3 s until together they hold at
// least n samples (a loaded machine gives the test process little CPU),
// and returns them merged.
func captureSamples(t *testing.T, n int64) *profile.Profile {
	t.Helper()
	var ps []*profile.Profile
	var got int64
	for try := 0; try < 10 && got < n; try++ {
		p, err := Capture(context.Background(), snapshot.ProfileCPU, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Sample {
			got += s.Value[0]
		}
		ps = append(ps, p)
	}
	if got < n {
		t.Fatalf("%d CPU samples in 30 s, want %d: the machine is too busy for the proof", got, n)
	}
	p, err := profile.Merge(ps)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestProofWaitsBackoff: workers that back off 50 ms between 5 ms
// requests spend most of their time outside the transport, in BackOff.
// By Little's law the goroutines backing off number the request rate
// times 50 ms; the rate comes from the collector over the same span, so
// that a machine too busy to answer in 5 ms does not change the answer.
func TestProofWaitsBackoff(t *testing.T) {
	srv, err := fixtures.NewServer(fixtures.Options{Defaults: fixtures.Behavior{Latency: 5 * time.Millisecond, Size: 512}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	col := probe.NewCollector(probe.CollectorOptions{})
	c := &http.Client{Transport: probe.Wrap(srv.Transport(), probe.WithCollector(col))}
	const backoff = 50 * time.Millisecond
	runWorkload(t, c, 8, backoff, fixtures.Request{URL: srv.URL})
	waitRequests(t, col, 16)
	before := requests(col)
	p, err := Capture(context.Background(), snapshot.ProfileWall, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rate := float64(requests(col)-before) / (float64(p.DurationNanos) / 1e9)
	w, err := AttributeWaits(p, -1, ReadModules())
	if err != nil {
		t.Fatal(err)
	}
	logWaits(t, w)
	out := w.Bucket(WaitOutside)
	if len(out.Funcs) == 0 || out.Funcs[0].Name != backoffFunc {
		t.Fatalf("outside the transport is charged first to %+v, want %s", out.Funcs, backoffFunc)
	}
	want := rate * backoff.Seconds()
	got := out.Goroutines * out.Funcs[0].Pct / 100
	t.Logf("%.0f requests/s: %.2f goroutines backing off by Little's law, %.2f in BackOff by the profile", rate, want, got)
	if got < 0.8*want || got > 1.3*want+0.2 {
		t.Errorf("%.2f goroutines in BackOff on average, want %.2f (rate × back-off) -20%%/+30%% (timer slack)", got, want)
	}
	if out.Pct < 50 {
		t.Errorf("outside the transport: %.1f%%, want most of the time (50 ms back-off per 5 ms request)", out.Pct)
	}
}

// requests returns the requests col has seen.
func requests(col *probe.Collector) int64 {
	var n int64
	for _, h := range col.Snapshot().Hosts {
		n += h.Requests
	}
	return n
}

// TestProofWaitsSaturated: a pool of 4 with 32 workers and a 50 ms server
// leaves about 28 requests waiting for a connection at any time.
func TestProofWaitsSaturated(t *testing.T) {
	srv, err := fixtures.NewServer(fixtures.Options{Defaults: fixtures.Behavior{Latency: 50 * time.Millisecond, Size: 512}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tr := srv.Transport()
	tr.MaxConnsPerHost = 4
	col := probe.NewCollector(probe.CollectorOptions{})
	c := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}
	runWorkload(t, c, 32, 0, fixtures.Request{URL: srv.URL})
	waitRequests(t, col, 40)
	p, err := Capture(context.Background(), snapshot.ProfileWall, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w, err := AttributeWaits(p, -1, ReadModules())
	if err != nil {
		t.Fatal(err)
	}
	logWaits(t, w)
	conn := w.Bucket(WaitConn)
	if conn.Pct < 70 {
		t.Errorf("waiting for a connection: %.1f%%, want most of the time (28 of 32 workers wait)", conn.Pct)
	}
	if g := conn.Goroutines; g < 24 || g > 30 {
		t.Errorf("%.1f goroutines wait for a connection on average, want about 28", g)
	}
	if g := w.Bucket(WaitHeaders).Goroutines; g < 2.5 || g > 5 {
		t.Errorf("%.1f goroutines wait for headers on average, want about 4 (the pool)", g)
	}
	if len(conn.Funcs) == 0 || conn.Funcs[0].Name != requestDoFunc {
		t.Errorf("waiting for a connection is charged first to %+v, want %s", conn.Funcs, requestDoFunc)
	}
}

func logWaits(t *testing.T, w *Waits) {
	t.Helper()
	t.Logf("requests' goroutines: %.1f%% of all goroutine time over %.1f s", percent(w.Requests, w.Total), w.Seconds)
	for _, b := range w.Buckets {
		fn := ""
		if len(b.Funcs) > 0 {
			fn = b.Funcs[0].Name
		}
		t.Logf("  %-30s %5.1f%%  %5.1f goroutines  %s", b.Title, b.Pct, b.Goroutines, fn)
	}
}

// TestProofContention: eight goroutines fighting over one lock put its
// call site at the top of both the block and the mutex profile.
func TestProofContention(t *testing.T) {
	for _, tt := range []struct {
		kind snapshot.ProfileKind
		on   string
	}{
		{snapshot.ProfileBlock, "sync.(*Mutex).Lock"},
		{snapshot.ProfileMutex, "sync.(*Mutex).Unlock"},
	} {
		t.Run(string(tt.kind), func(t *testing.T) {
			// The profile starts before the contention does: the runtime
			// times a lock's waits only if profiling was on when the
			// lock's queue of waiters formed, and a queue that formed
			// untimed stays so until it empties (runtime/sema.go), so
			// contention that began before the profile may never show in
			// it (under -race, a third run of this test in one process
			// recorded none in three one-second windows).
			var buf strings.Builder
			stop, err := Start(&buf, tt.kind)
			if err != nil {
				t.Fatal(err)
			}
			var h fixtures.Hotspot
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int64)
			go func() { done <- fixtures.Contend(ctx, 8, &h) }()
			time.Sleep(time.Second) // the profile's span: what is measured, not a wait for something
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			cancel()
			<-done
			p, err := profile.ParseData([]byte(buf.String()))
			if err != nil {
				t.Fatal(err)
			}
			sites, total, err := Contention(p, ReadModules(), 5)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range sites {
				t.Logf("%5.1f%% %8.1f ms %6d× %s:%d on %s", s.Pct, float64(s.Delay)/1e6, s.Count, s.Func, s.Line, s.On)
			}
			if total == 0 || len(sites) == 0 {
				t.Fatal("no contention recorded")
			}
			top := sites[0]
			if top.Func != recordFunc || top.On != tt.on || !top.Program || top.Line == 0 || !strings.HasSuffix(top.File, "fixtures/hot.go") {
				t.Errorf("top contended site = %+v, want %s on %s in fixtures/hot.go", top, recordFunc, tt.on)
			}
			if top.Pct < 50 {
				t.Errorf("the lock's call site has %.1f%% of the delay, want most", top.Pct)
			}
		})
	}
	// The rates are back where they were.
	if r := runtimeMutexFraction(); r != 0 {
		t.Errorf("mutex profile fraction is %d after the profile, want 0 as before", r)
	}
}

// runtimeMutexFraction reads the mutex profile fraction without changing it.
func runtimeMutexFraction() int { return runtime.SetMutexProfileFraction(-1) }
