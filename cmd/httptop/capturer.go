package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/dashboard"
	"github.com/httptop/httptop/internal/diff"
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
	_, _, err := recordCapture(ctx, src, capture.Options{
		Duration: c.length,
		Dir:      dir,
		Target:   fmt.Sprintf("pid %d (%s)", info.PID, info.Addr),
		Progress: progress,
		Modules:  modulesOf(info),
	}, nil)
	return dir, err
}

// recordCapture records a capture from src into opts.Dir (capture.Run),
// then builds its report and writes report.json, report.md and
// report.html beside it. capture.json is written before the report is
// built, so that a report that fails, or that Ctrl-C stops, leaves the
// capture to render again with httptop report. With a baseline, it also
// compares the capture with it and writes the diff beside the report,
// which links to it (see writeBaselineDiff). It returns the capture, or
// nil when nothing could be recorded at all, the diff when there is one,
// and every error met.
func recordCapture(ctx context.Context, src capture.Source, opts capture.Options, baseline *diff.Input) (*capture.Capture, *diff.Diff, error) {
	c, profs, err := capture.Run(ctx, src, opts)
	if c == nil {
		return nil, nil, err
	}
	rctx, stop := reportContext(ctx)
	defer stop()
	r, rerr := report.BuildContext(rctx, c, profs)
	if rerr != nil {
		// Not wrapped: an interrupted report is worth a message.
		return c, nil, errors.Join(err, fmt.Errorf("report not written (%v): %s is saved; 'httptop report %s' writes it", rerr, capture.CaptureFile, opts.Dir))
	}
	var d *diff.Diff
	if baseline != nil {
		var derr error
		d, derr = writeBaselineDiff(opts.Dir, *baseline, c, profs, r)
		err = errors.Join(err, derr)
		r.Baseline = c.Baseline
	}
	return c, d, errors.Join(err, report.Write(opts.Dir, r))
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

// writeBaselineDiff compares the capture c just recorded in dir (with its
// report r) against the baseline, writes the diff into dir and records
// the baseline in capture.json, so that the report, and any report
// rendered again from the capture, links to the diff.
func writeBaselineDiff(dir string, base diff.Input, c *capture.Capture, profs capture.Profiles, r *report.Report) (*diff.Diff, error) {
	d, err := diff.Build(base, diff.Input{Dir: dir, Capture: c, Profiles: profs, Report: r}, diff.Options{OutDir: dir})
	if err != nil {
		return nil, err
	}
	if err := diff.Write(dir, d); err != nil {
		return d, err
	}
	c.Baseline = &capture.Baseline{Dir: base.Dir, Diff: capture.DiffHTMLFile}
	return d, capture.Write(dir, c)
}

// modulesOf is the module list an agent sent, for attributing profiles.
func modulesOf(info agentclient.Info) flame.Modules {
	return flame.Modules{Main: info.MainModule, Deps: info.Modules}
}
