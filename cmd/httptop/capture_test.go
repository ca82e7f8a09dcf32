package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/probe"
)

// spinHash is the client's CPU-heavy step in TestCaptureCommand: the
// function the CPU flame graph must find.
//
//go:noinline
func spinHash(rounds int) uint64 {
	x := uint64(rounds) | 1
	for range rounds {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// spinSink keeps spinHash from being optimised away.
var spinSink uint64

// TestCaptureCommand runs `httptop capture PID -d 3s -o DIR` against the
// test process, where two workloads run through a wrapped client: one
// burns CPU in spinHash between requests to a fast server, the other
// waits on a 300 ms server. The CPU flame graph must rank spinHash in its
// top 3 and the wall-clock one must show the slow workers waiting on the
// network most of the time.
func TestCaptureCommand(t *testing.T) {
	dir := e2eDir(t)
	_, col := e2eAgent(t, dir)
	fast := e2eServer(t)
	slow, err := fixtures.NewServer(fixtures.Options{Defaults: fixtures.Behavior{Size: 100, Latency: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slow.Close() })

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	get := func(c *http.Client, url string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err != nil {
			return // canceled at the end of the test
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	fastClient := &http.Client{Transport: probe.Wrap(fast.Transport(), probe.WithCollector(col), probe.WithName("cpu"))}
	slowClient := &http.Client{Transport: probe.Wrap(slow.Transport(), probe.WithCollector(col), probe.WithName("slow"))}
	wg.Go(func() {
		var n uint64
		for ctx.Err() == nil {
			n += spinHash(1 << 20)
			get(fastClient, fast.URL+"/")
		}
		spinSink = n
	})
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				slowWorker(slowClient, slow.URL+"/", get)
			}
		})
	}

	out := filepath.Join(t.TempDir(), "capture")
	stdout, stderr, code := e2eRun(t, "capture", strconv.Itoa(os.Getpid()), "-d", "3s", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, name := range []string{capture.HTMLFile, capture.MarkdownFile, capture.JSONFile, capture.CaptureFile,
		"cpu.svg", "wall.svg", "cpu.folded", "wall.folded", "cpu.pb.gz", "wall.pb.gz", "heap.pb.gz"} {
		if !strings.Contains(stdout, filepath.Join(out, name)) {
			t.Errorf("output does not list %s:\n%s", name, stdout)
		}
	}
	if !strings.Contains(stderr, "100%") {
		t.Errorf("no progress reaching 100%% on stderr:\n%s", stderr)
	}

	cpu := readProfile(t, filepath.Join(out, "cpu.pb.gz"))
	idx, err := flame.SampleIndex(cpu, "")
	if err != nil {
		t.Fatal(err)
	}
	top := flame.Top(cpu, idx, 3)
	found := false
	for _, f := range top {
		found = found || strings.HasSuffix(f.Name, ".spinHash")
	}
	if !found {
		t.Errorf("spinHash is not among the top 3 CPU functions: %+v", top)
	}
	for _, name := range []string{"cpu.svg", "cpu.folded"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || !strings.Contains(string(b), "spinHash") {
			t.Errorf("%s does not show spinHash (%v)", name, err)
		}
	}

	// Of the wall-clock time of the slow workers, most is spent in
	// RoundTrip waiting for the server.
	wall := readProfile(t, filepath.Join(out, "wall.pb.gz"))
	widx, err := flame.SampleIndex(wall, "")
	if err != nil {
		t.Fatal(err)
	}
	var worker, waiting int64
	for _, s := range wall.Sample {
		if !onStack(s, ".slowWorker") {
			continue
		}
		worker += s.Value[widx]
		if onStack(s, "net/http.(*Transport).roundTrip") {
			waiting += s.Value[widx]
		}
	}
	t.Logf("cpu top 3: %+v; slow workers: %d of %d ns in roundTrip", top, waiting, worker)
	if worker == 0 || float64(waiting) < 0.8*float64(worker) {
		t.Errorf("slow workers: %d of %d wall-clock time in Transport.roundTrip, want at least 80%%", waiting, worker)
	}
}

// slowWorker is one request of the workload blocked on a slow server.
//
//go:noinline
func slowWorker(c *http.Client, url string, get func(*http.Client, string)) { get(c, url) }

func readProfile(t *testing.T, path string) *profile.Profile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return p
}

// onStack reports whether a function whose name ends with suffix is on
// the sample's stack.
func onStack(s *profile.Sample, suffix string) bool {
	for _, loc := range s.Location {
		for _, l := range loc.Line {
			if l.Function != nil && strings.HasSuffix(l.Function.Name, suffix) {
				return true
			}
		}
	}
	return false
}

// TestCaptureStoppedEarly stops a 30-second capture after about 1.5 s, as
// Ctrl-C does: the CPU and wall-clock profiles of those 1.5 s are written
// (the agent ends the segments in progress and sends what they gathered),
// nothing complains that the agent was busy, and the closing lines name
// only files that exist.
func TestCaptureStoppedEarly(t *testing.T) {
	dir := e2eDir(t)
	_, col := e2eAgent(t, dir)
	e2eTraffic(t, col, e2eServer(t), 20)
	c, err := agentclient.Dial(t.Context(), strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	out := filepath.Join(t.TempDir(), "capture")
	cp, _, err := recordCapture(ctx, c, capture.Options{
		Duration: 30 * time.Second, Interval: 250 * time.Millisecond, Dir: out,
		Progress: func(done, _ time.Duration) {
			if done >= 1500*time.Millisecond {
				stop() // Ctrl-C
			}
		},
	}, nil)
	if cp == nil {
		t.Fatalf("no capture: %v", err)
	}
	if !cp.Canceled {
		t.Errorf("capture not marked as stopped early")
	}
	for _, e := range cp.Errors {
		if strings.Contains(e.Message, "already taking") || strings.Contains(e.Op, "profile") {
			t.Errorf("capture problem: %s: %s", e.Op, e.Message)
		}
	}
	for _, kind := range []string{"cpu", "wall"} {
		p := readProfile(t, filepath.Join(out, kind+".pb.gz"))
		if d := time.Duration(p.DurationNanos); d < time.Second || d > 5*time.Second {
			t.Errorf("%s profile covers %v, want the 1.5 s before the stop", kind, d)
		}
	}
	var buf bytes.Buffer
	m := NewMain(strings.NewReader(""), &buf, io.Discard)
	m.writeCaptureSummary(cp, out)
	t.Logf("summary:\n%s", buf.String())
	named := regexp.MustCompile(`(?:wrote|open|pprof -http=:) (\S+)`).FindAllStringSubmatch(buf.String(), -1)
	if len(named) == 0 || !strings.Contains(buf.String(), "cpu.pb.gz") {
		t.Errorf("summary names no files, or not the CPU profile:\n%s", buf.String())
	}
	for _, m := range named {
		if _, err := os.Stat(strings.TrimSuffix(m[1], "'")); err != nil {
			t.Errorf("summary names %s: %v", m[1], err)
		}
	}
}

// The closing lines of a capture name only files it wrote: with no CPU or
// wall-clock profile, the pprof hint names the heap profile; with no
// profile and no report, there is no hint at all.
func TestCaptureSummaryNamesExistingFiles(t *testing.T) {
	dir := t.TempDir()
	c := capture.NewCapture(time.Now())
	summary := func() string {
		var buf bytes.Buffer
		NewMain(strings.NewReader(""), &buf, io.Discard).writeCaptureSummary(c, dir)
		return buf.String()
	}
	if s := summary(); strings.Contains(s, "pprof") || strings.Contains(s, "open ") || strings.Contains(s, "wrote") {
		t.Errorf("nothing written, yet the summary names files:\n%s", s)
	}
	for _, name := range []string{"heap.pb.gz", capture.HTMLFile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := summary()
	if strings.Contains(s, "cpu.pb.gz") || !strings.Contains(s, "pprof -http=: "+filepath.Join(dir, "heap.pb.gz")) ||
		!strings.Contains(s, "open "+filepath.Join(dir, capture.HTMLFile)) {
		t.Errorf("summary:\n%s\nwant the report and the heap profile named, not cpu.pb.gz", s)
	}
}
