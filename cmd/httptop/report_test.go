package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/snapshot"
)

// writeCaptureDir writes a small capture (no profiles) to a new directory.
func writeCaptureDir(t *testing.T) string {
	t.Helper()
	start := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	c := capture.NewCapture(start)
	for k := range 3 {
		now := start.Add(time.Duration(k) * time.Second)
		c.AddSnapshot(&snapshot.Snapshot{
			Version: snapshot.Version, Time: now, PID: 7, Program: "prog",
			Hosts: []snapshot.Host{{
				Client: "default", Scheme: "https", Host: "api.test:443", Open: 2, Active: 1, Idle: 1,
				Requests: int64(10 * k), ReusedConns: int64(10 * k), RPS: 10,
				Latency:       snapshot.Percentiles{Count: 10, P50: 20, P95: 30, P99: 40, Max: 41},
				WindowSeconds: 10, MaxConnsPerHost: 4, LimitsKnown: true,
				Series: []snapshot.Point{{Time: now.Unix() - 1, Requests: 10, ReusedConns: 10, LatencyAvgMs: 20, AvgInFlight: 0.2}},
			}},
			Diagnoses: []snapshot.Diagnosis{{Kind: snapshot.KindSlowDial, Client: "default", Host: "api.test:443",
				Severity: snapshot.SeverityWarning, Summary: "dialing is slow", Advice: "keep connections"}},
		})
	}
	c.End = start.Add(2 * time.Second)
	dir := t.TempDir()
	if err := capture.Write(dir, c); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReportCommand(t *testing.T) {
	dir := writeCaptureDir(t)
	var out, errb bytes.Buffer
	m := NewMain(strings.NewReader(""), &out, &errb)
	if err := m.Run(context.Background(), []string{"report", dir}); err != nil {
		t.Fatalf("httptop report: %v", err)
	}
	for _, name := range []string{capture.HTMLFile, capture.MarkdownFile, capture.JSONFile} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
		if !strings.Contains(out.String(), filepath.Join(dir, name)) {
			t.Errorf("output does not name %s:\n%s", name, out.String())
		}
	}
	if !strings.HasPrefix(out.String(), "prog (pid 7): 1 host, 1 diagnosis over 2 s\n") {
		t.Errorf("output = %q, want a summary line first", out.String())
	}
	md, _ := os.ReadFile(filepath.Join(dir, capture.MarkdownFile))
	if !strings.Contains(string(md), "| default → https://api.test | 10.0 | 20.0ms | 30.0ms | 40.0ms |") {
		t.Errorf("report.md lacks the host's row:\n%s", md)
	}
}

func TestReportCommandErrors(t *testing.T) {
	empty := t.TempDir()
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, capture.CaptureFile), []byte("{\"version\": 1, \"snapshots\": [}"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(bad, capture.CaptureFile)
	for _, tt := range []struct {
		name string
		args []string
		want string
		code int
	}{
		{"no dir", []string{"report"}, "report takes one DIR", 2},
		{"two dirs", []string{"report", empty, bad}, "report takes one DIR", 2},
		{"missing", []string{"report", filepath.Join(empty, "nope")}, "does not exist; give the directory httptop capture wrote", 1},
		{"a file", []string{"report", file}, "is not a directory", 1},
		{"not a capture", []string{"report", empty}, "has no capture.json: is it a directory written by httptop capture?", 1},
		{"invalid", []string{"report", bad}, "is not a valid capture", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			m := NewMain(strings.NewReader(""), &out, &errb)
			err := m.Run(context.Background(), tt.args)
			if err == nil {
				t.Fatal("httptop report succeeded")
			}
			if code := m.ExitCode(err); code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			msg := errb.String()
			if !strings.Contains(msg, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", msg, tt.want)
			}
			if strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr = %q, want one line", msg)
			}
		})
	}
}

// hugeCaptureDir writes a capture of one host whose pool limit is n and
// whose demand is about rps Erlangs (1 s per request).
func hugeCaptureDir(t *testing.T, n int, rps float64) string {
	t.Helper()
	start := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	c := capture.NewCapture(start)
	for k := range 3 {
		now := start.Add(time.Duration(k) * time.Second)
		c.AddSnapshot(&snapshot.Snapshot{
			Version: snapshot.Version, Time: now, PID: 7, Program: "prog",
			Hosts: []snapshot.Host{{
				Client: "default", Scheme: "https", Host: "api.test:443", Open: 3, Active: 3, RPS: rps,
				Latency:         snapshot.Percentiles{Count: 10, P50: 1000, P95: 1000, P99: 1000, Max: 1000},
				MaxConnsPerHost: n, LimitsKnown: true,
				Series: []snapshot.Point{{Time: now.Unix(), Requests: int64(rps), LatencyAvgMs: 1000, AvgInFlight: rps}},
			}},
		})
	}
	c.End = start.Add(3 * time.Second)
	dir := t.TempDir()
	if err := capture.Write(dir, c); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestReportHugePool renders the report of captures whose pool limit is
// MaxInt64 or MaxInt32 and whose demand is 10⁹ to 10¹² Erlangs: sizing
// such a pool must not take time in proportion to it. The deadline is
// generous; the figures take microseconds.
func TestReportHugePool(t *testing.T) {
	for _, n := range []int{math.MaxInt64, math.MaxInt32} {
		for _, rps := range []float64{1e9, 1e12} {
			dir := hugeCaptureDir(t, n, rps)
			done := make(chan error, 1)
			go func() {
				var out, errb bytes.Buffer
				done <- NewMain(strings.NewReader(""), &out, &errb).Run(t.Context(), []string{"report", dir})
			}()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("N=%d, %g req/s: %v", n, rps, err)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("N=%d, %g req/s: httptop report did not finish within 30 s", n, rps)
			}
		}
	}
}

// TestReportCommandCanceled: Ctrl-C stops httptop report.
func TestReportCommandCanceled(t *testing.T) {
	dir := writeCaptureDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	err := NewMain(strings.NewReader(""), &out, &errb).Run(ctx, []string{"report", dir})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("httptop report with Ctrl-C = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(filepath.Join(dir, capture.HTMLFile)); err == nil {
		t.Error("report.html written after Ctrl-C")
	}
}

// TestReportContextAfterInterrupt: when Ctrl-C ended the capture window,
// the report is still built, and the next Ctrl-C stops it.
func TestReportContextAfterInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rctx, stop := reportContext(ctx)
	defer stop()
	if rctx.Err() != nil {
		t.Fatal("the report's context is done before a second Ctrl-C")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a second Ctrl-C did not end the report's context")
	}
	live, stopLive := reportContext(context.Background())
	defer stopLive()
	if live != context.Background() {
		t.Error("a capture not interrupted does not build its report under its own context")
	}
}
