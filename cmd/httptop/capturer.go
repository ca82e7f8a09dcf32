package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/httptop/httptop/flame"
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
	src    capture.Source
	info   agentclient.Info
	length time.Duration
}

var _ dashboard.Capturer = capturer{}

func newCapturer(src capture.Source, info agentclient.Info, length time.Duration) dashboard.Capturer {
	return capturer{src: src, info: info, length: length}
}

// Capture records a capture into a new directory under the current one
// and returns its path.
func (c capturer) Capture(ctx context.Context, progress func(done, total time.Duration)) (string, error) {
	dir := capture.DefaultDir(c.info.Program, c.info.PID, time.Now())
	_, err := recordCapture(ctx, c.src, capture.Options{
		Duration: c.length,
		Dir:      dir,
		Target:   fmt.Sprintf("pid %d (%s)", c.info.PID, c.info.Addr),
		Progress: progress,
		Modules:  modulesOf(c.info),
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

// modulesOf is the module list an agent sent, for attributing profiles.
func modulesOf(info agentclient.Info) flame.Modules {
	return flame.Modules{Main: info.MainModule, Deps: info.Modules}
}
