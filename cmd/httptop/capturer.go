package main

import (
	"context"
	"fmt"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/dashboard"
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
	_, err := capture.Run(ctx, c.src, capture.Options{
		Duration: c.length,
		Dir:      dir,
		Target:   fmt.Sprintf("pid %d (%s)", c.info.PID, c.info.Addr),
		Progress: progress,
	})
	return dir, err
}
