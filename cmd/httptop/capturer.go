package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
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
	src    capture.Source
	info   func() agentclient.Info // the program's, when the capture starts
	length time.Duration
}

var _ dashboard.Capturer = capturer{}

func newCapturer(src capture.Source, info func() agentclient.Info, length time.Duration) dashboard.Capturer {
	return capturer{src: src, info: info, length: length}
}

// Capture records a capture into a new directory under the current one
// and returns its path.
func (c capturer) Capture(ctx context.Context, progress func(done, total time.Duration)) (string, error) {
	info := c.info()
	dir := capture.DefaultDir(info.Program, info.PID, time.Now())
	_, err := recordCapture(ctx, c.src, capture.Options{
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
// built, so that a report that fails, or that Ctrl-C stops, leaves the
// capture to render again with httptop report. It returns the capture, or
// nil when nothing could be recorded at all, and every error met.
func recordCapture(ctx context.Context, src capture.Source, opts capture.Options) (*capture.Capture, error) {
	c, profs, err := capture.Run(ctx, src, opts)
	if c == nil {
		return nil, err
	}
	rctx, stop := reportContext(ctx)
	defer stop()
	r, rerr := report.BuildContext(rctx, c, profs)
	if rerr == nil {
		rerr = report.Write(opts.Dir, r)
	} else {
		// Not wrapped: an interrupted report is worth a message.
		rerr = fmt.Errorf("report not written (%v): %s is saved; 'httptop report %s' writes it", rerr, capture.CaptureFile, opts.Dir)
	}
	return c, errors.Join(err, rerr)
}

// reportContext returns the context a capture's report is built under:
// ctx, unless Ctrl-C (or SIGTERM) already ended the capture window, which
// asks for the report of what was gathered; then a context that the next
// Ctrl-C ends.
func reportContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx.Err() == nil {
		return ctx, func() {}
	}
	return signal.NotifyContext(context.WithoutCancel(ctx), os.Interrupt, syscall.SIGTERM)
}
