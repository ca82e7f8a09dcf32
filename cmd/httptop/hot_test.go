package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
	"github.com/httptop/httptop/tlsstats/tlstest"
)

// TestHelperServers is the server process of tlstest.Start for
// TestCaptureHotFunctions; it skips in any other process.
func TestHelperServers(t *testing.T) { tlstest.Serve(t) }

// TestCaptureHotFunctions is the proof of the hot functions through
// `httptop capture`: 50 workers on a pool of 10 TLS connections sign every
// request in a function of their own (fixtures.SignHMAC) and decode a
// 50 KB JSON answer (fixtures.DecodeJSON), against servers in another
// process. report.md names both in its code view's top 5, and the CPU and
// wall-clock profiles each cover at least 90% of the window.
func TestCaptureHotFunctions(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector distorts CPU shares")
	}
	dir := e2eDir(t)
	_, col := e2eAgent(t, dir)
	srv := tlstest.Start(t, "TestHelperServers", tlstest.Spec{Proto: fixtures.HTTPS1, Servers: 1})
	tr := srv.Transport(fixtures.HTTPS1, 10)
	tr.MaxConnsPerHost = 10
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName("signed"))}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fixtures.ClosedLoop{Workers: 50}.Run(ctx, c, fixtures.Request{
			URL: srv.URLs[0] + "/json?size=50000", SignKey: []byte("proof"), SignRounds: 400, Decode: true,
		})
	}()
	t.Cleanup(func() { stop(); <-done })

	out := filepath.Join(t.TempDir(), "capture")
	stdout, stderr, code := e2eRun(t, "capture", strconv.Itoa(os.Getpid()), "-d", "6s", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	cp, err := capture.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	window := cp.End.Sub(cp.Start).Seconds()
	if cp.ProfileMode != capture.ModeConcurrent {
		t.Errorf("profile mode %q, want %q", cp.ProfileMode, capture.ModeConcurrent)
	}
	for _, kind := range []snapshot.ProfileKind{snapshot.ProfileCPU, snapshot.ProfileWall, snapshot.ProfileMutex, snapshot.ProfileBlock} {
		info := cp.Profile(kind)
		if info == nil || info.File == "" {
			t.Errorf("no %s profile: %+v", kind, info)
			continue
		}
		t.Logf("%s profile covers %.3f s of the %.3f s window (%.1f%%), %d segments", kind, info.Seconds, window, 100*info.Seconds/window, len(info.Segments))
		if info.Seconds < 0.9*window {
			t.Errorf("the %s profile covers %.3f s of the %.3f s window, want at least 90%%", kind, info.Seconds, window)
		}
	}

	md, err := os.ReadFile(filepath.Join(out, capture.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	report := string(md)
	i, j := strings.Index(report, "### Your code (CPU)"), strings.Index(report, "### Packages (CPU)")
	if i < 0 || j < i {
		t.Fatalf("report.md has no code view:\n%s", report)
	}
	rows := regexp.MustCompile("(?m)^\\| (\\d+) \\| `([^`]+)` \\| ([0-9.]+)% ").FindAllStringSubmatch(report[i:j], -1)
	rank := map[string]int{}
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		rank[r[2]] = n
	}
	for _, fn := range []string{"github.com/httptop/httptop/fixtures.SignHMAC", "github.com/httptop/httptop/fixtures.DecodeJSON"} {
		if n := rank[fn]; n == 0 || n > 5 {
			t.Errorf("report.md ranks %s at %d of its code view, want the top 5", fn, n)
		}
	}
	t.Logf("report.md, hot functions:\n%s", report[strings.Index(report, "## Hot functions"):strings.Index(report, "### Packages (CPU)")])
	if w := strings.Index(report, "### Where requests wait"); w >= 0 {
		t.Logf("%s", report[w:w+min(1500, len(report)-w)])
	}
}
