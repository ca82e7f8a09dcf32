package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/dashboard"
	"github.com/httptop/httptop/internal/report"
)

var _ capture.Source = (*agentclient.Client)(nil)

// defaultCaptureDuration is the capture the dashboard's c key takes.
const defaultCaptureDuration = 30 * time.Second

// capturer lets the dashboard record a capture of the program it shows.
type capturer struct {
	f      *follower
	length time.Duration
}

var _ dashboard.Capturer = capturer{}

func newCapturer(f *follower, length time.Duration) dashboard.Capturer {
	return capturer{f: f, length: length}
}

// Capture records a capture of the agent followed now into a new
// directory under the current one and returns its path.
func (c capturer) Capture(ctx context.Context, progress func(done, total time.Duration)) (string, error) {
	src := c.f.client()
	info := src.Info()
	dir := capture.DefaultDir(info.Program, info.PID, time.Now())
	_, err := recordCapture(ctx, src, capture.Options{
		Duration: c.length,
		Dir:      dir,
		Target:   fmt.Sprintf("pid %d (%s)", info.PID, info.Addr),
		Progress: progress,
	})
	return dir, err
}

// recordCapture records a capture from src into opts.Dir (capture.Run),
// then builds its report and writes report.json, report.md and
// report.html beside it. capture.json is written before the report is
// built, so that a report that fails leaves the capture to render again
// with httptop report. It returns the capture, or nil when nothing could
// be recorded at all, and every error met.
func recordCapture(ctx context.Context, src capture.Source, opts capture.Options) (*capture.Capture, error) {
	c, profs, err := capture.Run(ctx, src, opts)
	if c == nil {
		return nil, err
	}
	r := report.Build(c, profs)
	return c, errors.Join(err, report.Write(opts.Dir, r))
}
