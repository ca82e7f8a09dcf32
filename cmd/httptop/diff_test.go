package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/diff"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// diffCaptureLength is the length of each capture of the diff proofs:
// four or five whole seconds of per-second series, enough for the noise
// test, and short enough for CI.
const diffCaptureLength = "5s"

// phase is a workload running in this process behind an agent of its
// own, with a collector of its own: a program started again after a
// change, as a user would capture before and after.
type phase struct {
	stop func()
}

// startPhase starts an agent (and makes it the only one httptop finds)
// and runs work with its collector until the phase stops, then waits for
// ready to hold.
func startPhase(t *testing.T, work func(ctx context.Context, col *probe.Collector), ready func(ctx context.Context) error) *phase {
	t.Helper()
	dir := e2eDir(t)
	a, col := e2eAgent(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { work(ctx, col) })
	var once sync.Once
	p := &phase{stop: func() { once.Do(func() { cancel(); wg.Wait(); a.Close() }) }}
	t.Cleanup(p.stop)
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()
	if err := ready(wctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// keepDir returns the directory a proof writes its captures and diffs
// to: a temporary one, or name under $HTTPTOP_DIFF_KEEP to look at them
// afterwards.
func keepDir(t *testing.T, name string) string {
	t.Helper()
	keep := os.Getenv("HTTPTOP_DIFF_KEEP")
	if keep == "" {
		return t.TempDir()
	}
	dir := filepath.Join(keep, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// captureTo runs httptop capture of this process into out and returns
// its standard output.
func captureTo(t *testing.T, out string, extra ...string) string {
	t.Helper()
	args := append([]string{"capture", strconv.Itoa(os.Getpid()), "-d", diffCaptureLength, "-o", out}, extra...)
	stdout, stderr, code := e2eRun(t, args...)
	if code != 0 {
		t.Fatalf("httptop %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return stdout
}

// runDiff runs httptop diff and returns the diff it wrote and its
// standard output.
func runDiff(t *testing.T, before, after, out string, extra ...string) (*diff.Diff, string) {
	t.Helper()
	args := append([]string{"diff", before, after, "-o", out}, extra...)
	stdout, stderr, code := e2eRun(t, args...)
	if code != 0 {
		t.Fatalf("httptop %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, stdout, stderr)
	}
	return readDiff(t, out), stdout
}

// readDiff decodes dir/diff.json.
func readDiff(t *testing.T, dir string) *diff.Diff {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, capture.DiffJSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var d diff.Diff
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("diff.json: %v", err)
	}
	return &d
}

// metric returns the metric of the diff's only host with the given key.
func metric(t *testing.T, d *diff.Diff, key string) diff.Metric {
	t.Helper()
	if len(d.Hosts) != 1 {
		t.Fatalf("diff has %d hosts, want 1: %+v", len(d.Hosts), d.Hosts)
	}
	for _, m := range d.Hosts[0].Metrics {
		if m.Key == key {
			return m
		}
	}
	t.Fatalf("diff has no metric %s", key)
	return diff.Metric{}
}

// diffUnchanged diffs two captures of the same workload, which must
// differ by nothing beyond noise.
func diffUnchanged(t *testing.T, before, after, out string) *diff.Diff {
	t.Helper()
	d, stdout := runDiff(t, before, after, out)
	t.Logf("the same workload twice:\n%s", stdout)
	if f := flagged(d); len(f) > 0 {
		t.Errorf("two captures of the same workload differ beyond noise: %q", f)
	}
	if !strings.Contains(stdout, "nothing beyond noise") {
		t.Errorf("summary does not say nothing changed:\n%s", stdout)
	}
	return d
}

// flagged lists what a diff flags beyond noise.
func flagged(d *diff.Diff) []string {
	var out []string
	for _, h := range d.Hosts {
		for _, m := range h.Metrics {
			if m.BeyondNoise {
				out = append(out, h.Label+": "+m.Name+" "+strconv.FormatFloat(m.Before, 'f', 3, 64)+" → "+strconv.FormatFloat(m.After, 'f', 3, 64))
			}
		}
		for _, dd := range h.Diagnoses {
			if dd.BeyondNoise {
				out = append(out, h.Label+": "+string(dd.Kind)+" "+dd.Status)
			}
		}
	}
	for _, dd := range d.OtherDiagnoses {
		if dd.BeyondNoise {
			out = append(out, string(dd.Kind)+" "+dd.Status)
		}
	}
	return out
}

// poolWorkload is the saturated-pool scenario's client: 32 workers in a
// closed loop against srv through a pool of the given size.
func poolWorkload(srv *fixtures.Server, pool int) func(context.Context, *probe.Collector) {
	return func(ctx context.Context, col *probe.Collector) {
		tr := srv.Transport()
		tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = pool, pool
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName("api"))}
		fixtures.ClosedLoop{Workers: 32}.Run(ctx, c, fixtures.Request{URL: srv.URL + "/"})
	}
}

// served returns a ready function of a phase: srv has answered n more
// requests than now.
func served(srv *fixtures.Server, n int64) func(context.Context) error {
	from := srv.Stats().Requests
	return func(ctx context.Context) error {
		return srv.WaitFor(ctx, func(s fixtures.Stats) bool { return s.Requests >= from+n })
	}
}

// TestDiffPoolSize is the pool-size proof: the saturated-pool scenario
// (32 workers, 50 ms server) captured twice with a pool of 4, then again
// with a pool of 32 through httptop capture --baseline. The two captures
// of the same workload differ by nothing beyond noise; against a pool of
// 32, waiting falls from ~28 to ~0, conn-wait p95 from ~350 ms to ~0, p50
// falls and pool_saturated is gone, each beyond noise, and req/s rises.
func TestDiffPoolSize(t *testing.T) {
	if testing.Short() {
		t.Skip("three captures of 5 s")
	}
	work := keepDir(t, "pool")
	slow := func() *fixtures.Server {
		srv, err := fixtures.NewServer(fixtures.Options{Defaults: fixtures.Behavior{Size: 100, Latency: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}

	// Pool of 4: after 96 responses (24 rounds of 4) every worker has
	// queued twice.
	srv4 := slow()
	p4 := startPhase(t, poolWorkload(srv4, 4), served(srv4, 96))
	a1, a2 := filepath.Join(work, "pool4-1"), filepath.Join(work, "pool4-2")
	captureTo(t, a1)
	captureTo(t, a2)
	p4.stop()

	// Pool of 32, on a server of another port: the hosts are matched
	// because the client has one host in each capture.
	srv32 := slow()
	p32 := startPhase(t, poolWorkload(srv32, 32), served(srv32, 4*32))
	b := filepath.Join(work, "pool32")
	out := captureTo(t, b, "--baseline", a2)
	p32.stop()

	t.Run("unchanged", func(t *testing.T) {
		d := diffUnchanged(t, a1, a2, filepath.Join(work, "diff-unchanged"))
		if w := metric(t, d, "waiting"); w.Before < 20 || w.After < 20 {
			t.Errorf("waiting %v → %v, want ~28 in both", w.Before, w.After)
		}
	})

	t.Run("pool 4 to 32", func(t *testing.T) {
		if !strings.Contains(out, "against the baseline") || !strings.Contains(out, filepath.Join(b, capture.DiffHTMLFile)) {
			t.Errorf("capture --baseline output lacks the diff:\n%s", out)
		}
		t.Logf("capture --baseline:\n%s", out)
		d := readDiff(t, b)
		if d.Hosts[0].Match != diff.MatchAuto {
			t.Errorf("hosts matched %q, want %q (one host per client, ports differ)", d.Hosts[0].Match, diff.MatchAuto)
		}
		type want struct {
			key             string
			before, after   func(float64) bool
			verdict, reason string
		}
		near := func(v, tol float64) func(float64) bool { return func(x float64) bool { return math.Abs(x-v) <= tol } }
		below := func(v float64) func(float64) bool { return func(x float64) bool { return x < v } }
		above := func(v float64) func(float64) bool { return func(x float64) bool { return x > v } }
		between := func(lo, hi float64) func(float64) bool { return func(x float64) bool { return x >= lo && x <= hi } }
		for _, w := range []want{
			{"waiting", near(28, 3), below(0.5), diff.VerdictBetter, "28 of 32 workers wait, then none"},
			{"conn_wait_p95_ms", between(300, 1000), below(5), diff.VerdictBetter, "7 rounds of 50 ms on average (more at p95), then no wait"},
			{"latency_p50_ms", near(400, 60), below(80), diff.VerdictBetter, "8 rounds of 50 ms, then one"},
			{"pool_limit", near(4, 0), near(32, 0), diff.VerdictChanged, "the setting changed"},
		} {
			m := metric(t, d, w.key)
			// The race detector slows the scenario down: the figures move,
			// the changes must still be flagged.
			figures := raceEnabled || w.before(m.Before) && w.after(m.After)
			if !figures || m.Verdict != w.verdict || !m.BeyondNoise {
				t.Errorf("%s: %v → %v, %s (beyond noise %v), want %s beyond noise: %s; test %+v",
					w.key, m.Before, m.After, m.Verdict, m.BeyondNoise, w.verdict, w.reason, m.Test)
			}
		}
		// req/s rises (4 ÷ 50 ms, then up to 32 ÷ 50 ms); on a busy
		// machine a pool of 32 serves it unevenly, second by second, so
		// it need not be beyond noise.
		if m := metric(t, d, "rps"); m.After < 2*m.Before || !raceEnabled && !(near(80, 12)(m.Before) && above(300)(m.After)) {
			t.Errorf("req/s %v → %v (%s), want 80 → over 300", m.Before, m.After, m.Verdict)
		}

		// Under the race detector 32 connections for 32 workers queue now
		// and then: the diagnosis may linger in a few snapshots.
		var gone bool
		for _, dd := range d.Hosts[0].Diagnoses {
			gone = gone || dd.Kind == snapshot.KindPoolSaturated && dd.BeyondNoise &&
				(dd.Status == diff.StatusGone || raceEnabled && dd.Status == diff.StatusReceded)
		}
		if !gone {
			t.Errorf("pool_saturated is not gone beyond noise: %+v", d.Hosts[0].Diagnoses)
		}
		if lt := d.Hosts[0].Little; lt.Before == nil || lt.Before.Recommended < 32 || lt.After == nil || lt.After.N != 32 {
			t.Errorf("pool sizing: before %+v, after %+v; want at least the 32 workers recommended, then N = 32", lt.Before, lt.After)
		}

		// The report links to the diff, and renders it again.
		for _, name := range []string{capture.HTMLFile, capture.MarkdownFile} {
			page, err := os.ReadFile(filepath.Join(b, name))
			if err != nil || !strings.Contains(string(page), capture.DiffHTMLFile) {
				t.Errorf("%s does not link to %s (%v)", name, capture.DiffHTMLFile, err)
			}
		}
		c, err := capture.Read(b)
		if err != nil || c.Baseline == nil || c.Baseline.Dir != a2 {
			t.Fatalf("capture.json baseline = %+v (%v), want %s", c.Baseline, err, a2)
		}
		if _, stderr, code := e2eRun(t, "report", b); code != 0 {
			t.Fatalf("httptop report: %s", stderr)
		}
		if page, _ := os.ReadFile(filepath.Join(b, capture.HTMLFile)); !bytes.Contains(page, []byte(`href="diff.html"`)) {
			t.Error("report.html rendered again lost the link to diff.html")
		}
	})
}

// jsonWorkload is a client that decodes the fixture server's JSON
// document of size bytes with encoding/json, 8 workers in a closed loop
// against a 50 ms server: about 160 req/s, a fifth of a core decoding.
func jsonWorkload(srv *fixtures.Server, size int) func(context.Context, *probe.Collector) {
	return func(ctx context.Context, col *probe.Collector) {
		tr := srv.Transport()
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName("api"))}
		fixtures.ClosedLoop{Workers: 8}.Run(ctx, c, fixtures.Request{URL: srv.URL + "/json?size=" + strconv.Itoa(size), Decode: true})
	}
}

// TestDiffJSONDecode is the code proof: a workload decoding a 64 KiB
// JSON document captured twice, then with the document halved. The two
// captures of the same workload differ by nothing beyond noise; halving
// the payload halves the CPU per request of encoding/json, by the amount
// go tool pprof measures in each capture's profile, and the differential
// flame graph colours its frames as shrinking. go tool pprof -diff_base
// reads the pair the diff writes.
//
// The client waits on a server, as HTTP clients do, rather than
// saturating the CPU: a CPU-bound workload runs as fast as the machine
// lets it, and on a machine shared with other work two captures of it
// differ for real (one got half the CPU of the other), which the diff
// rightly flags and this test would take for a false alarm.
func TestDiffJSONDecode(t *testing.T) {
	if testing.Short() {
		t.Skip("three captures of 5 s")
	}
	if raceEnabled {
		t.Skip("the race detector changes what JSON decoding costs from one request to the next")
	}
	work := keepDir(t, "json")
	srv, err := fixtures.NewServer(fixtures.Options{Defaults: fixtures.Behavior{Latency: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	const size = 64 << 10
	full := startPhase(t, jsonWorkload(srv, size), served(srv, 50))
	j1, j2 := filepath.Join(work, "json-1"), filepath.Join(work, "json-2")
	captureTo(t, j1)
	captureTo(t, j2)
	full.stop()
	half := startPhase(t, jsonWorkload(srv, size/2), served(srv, 50))
	j3 := filepath.Join(work, "json-half")
	captureTo(t, j3)
	half.stop()

	t.Run("unchanged", func(t *testing.T) { diffUnchanged(t, j1, j2, filepath.Join(work, "diff-unchanged")) })

	t.Run("payload halved", func(t *testing.T) {
		out := filepath.Join(work, "diff-half")
		d, stdout := runDiff(t, j2, j3, out)
		t.Logf("JSON payload halved:\n%s", stdout)
		if d.CPU == nil || d.CPU.Per != diff.PerRequest {
			t.Fatalf("no CPU comparison per request: %+v (warnings %q)", d.CPU, d.Warnings)
		}
		var row *diff.CodeRow
		for _, v := range d.CPU.Views {
			for i := range v.Rows {
				if v.Name == "package" && v.Rows[i].Name == "encoding/json" {
					row = &v.Rows[i]
				}
			}
		}
		if row == nil {
			t.Fatalf("the package table has no encoding/json row: %+v", d.CPU.Views)
		}
		// What go tool pprof measures in each profile, per request: the
		// flat values of encoding/json's functions (-top) and the samples
		// with any of them on the stack (-focus).
		before, after := filepath.Join(j2, capture.CPUProfile), filepath.Join(j3, capture.CPUProfile)
		rb, ra := d.CPU.Before.Requests, d.CPU.After.Requests
		fb, fa := pprofFlat(t, before, "encoding/json.")/rb, pprofFlat(t, after, "encoding/json.")/ra
		cb, ca := pprofFocus(t, before, `^encoding/json\.`)/rb, pprofFocus(t, after, `^encoding/json\.`)/ra
		t.Logf("encoding/json CPU per request over %.0f and %.0f requests: cum %.0f → %.0f ns (%+.1f%%), pprof -focus %.0f → %.0f ns; flat %.0f → %.0f ns, pprof -top %.0f → %.0f ns",
			rb, ra, row.CumBefore, row.CumAfter, 100*row.CumChange/row.CumBefore, cb, ca, row.FlatBefore, row.FlatAfter, fb, fa)
		for _, c := range []struct {
			name            string
			diff, pprofCost float64
		}{{"cum before", row.CumBefore, cb}, {"cum after", row.CumAfter, ca}, {"flat before", row.FlatBefore, fb}, {"flat after", row.FlatAfter, fa}} {
			if !(math.Abs(c.diff-c.pprofCost) <= 0.001*c.pprofCost) {
				t.Errorf("encoding/json %s per request: diff %.0f ns, pprof %.0f ns", c.name, c.diff, c.pprofCost)
			}
		}
		if ratio := row.CumAfter / row.CumBefore; ratio < 0.3 || ratio > 0.75 {
			t.Errorf("encoding/json per request fell to %.2f of before, want about half", ratio)
		}

		// The differential flame graph colours encoding/json blue.
		svg, err := os.ReadFile(filepath.Join(out, d.CPU.FlameGraph))
		if err != nil {
			t.Fatal(err)
		}
		// Its widest frame: deep recursive frames are a few samples each.
		frames := regexp.MustCompile(`<title>(encoding/json\.\(\*Decoder\)\.Decode) \(([^<]*)\)</title><rect [^>]*width="([\d.]+)"[^>]*fill="rgb\((\d+),(\d+),(\d+)\)"`).FindAllSubmatch(svg, -1)
		var widest [][]byte
		var width float64
		for _, f := range frames {
			if w, _ := strconv.ParseFloat(string(f[3]), 64); w > width {
				widest, width = f, w
			}
		}
		if widest == nil {
			t.Fatalf("%s has no frame of encoding/json.(*Decoder).Decode", d.CPU.FlameGraph)
		}
		r, _ := strconv.Atoi(string(widest[4]))
		b, _ := strconv.Atoi(string(widest[6]))
		t.Logf("%s: %s (%s) is rgb(%s,%s,%s)", d.CPU.FlameGraph, widest[1], widest[2], widest[4], widest[5], widest[6])
		if b <= r+40 {
			t.Errorf("frame %s (%s) is rgb(%s,%s,%s), want blue (shrinking)", widest[1], widest[2], widest[4], widest[5], widest[6])
		}

		// go tool pprof -diff_base reads the pair, per request.
		top := goToolPprof(t, out, "-top", "-nodefraction=0", "-diff_base", d.CPU.ProfileBefore, d.CPU.ProfileAfter)
		t.Logf("go tool pprof -top -diff_base %s %s:\n%s", d.CPU.ProfileBefore, d.CPU.ProfileAfter, firstLines(top, 16))
		if !regexp.MustCompile(`(?m)^\s*-[\d.]+\S*\s.*encoding/json\.`).MatchString(top) {
			t.Errorf("pprof -diff_base shows no fall of encoding/json:\n%s", top)
		}
	})
}

// goToolPprof runs go tool pprof in dir, skipping the test without a go
// tool.
func goToolPprof(t *testing.T, dir string, args ...string) string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to run pprof:", err)
	}
	cmd := exec.Command(gotool, append([]string{"tool", "pprof"}, args...)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("go tool pprof %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// pprofFlat runs go tool pprof -top on a profile and sums the flat
// values, in nanoseconds, of the functions whose names start with
// prefix.
func pprofFlat(t *testing.T, path, prefix string) float64 {
	t.Helper()
	top := goToolPprof(t, filepath.Dir(path), "-top", "-unit=ns", "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0", filepath.Base(path))
	var sum float64
	n := 0
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[5], prefix) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "ns"), 64)
		if err != nil {
			t.Fatalf("pprof -top line %q: %v", line, err)
		}
		sum += v
		n++
	}
	if n == 0 {
		t.Fatalf("pprof -top of %s lists no %s function:\n%s", path, prefix, firstLines(top, 20))
	}
	return sum
}

// pprofFocus runs go tool pprof -top -focus on a profile and returns the
// value, in nanoseconds, of the samples the focus keeps.
func pprofFocus(t *testing.T, path, focus string) float64 {
	t.Helper()
	top := goToolPprof(t, filepath.Dir(path), "-top", "-unit=ns", "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0", "-focus="+focus, filepath.Base(path))
	m := regexp.MustCompile(`Showing nodes accounting for ([\d.]+)ns`).FindStringSubmatch(top)
	if m == nil {
		t.Fatalf("pprof -top -focus of %s: no total:\n%s", path, firstLines(top, 12))
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(len(lines), n)], "\n")
}
