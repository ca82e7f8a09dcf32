package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/dashboard"
	"github.com/httptop/httptop/snapshot"
)

// dashboardSource is the agent as the dashboard's source: its rolling
// profiles give way to captures (see agentclient.Client.RollingProfile).
// When its stream breaks, it reads the discovery directory again
// (agentclient.Redial): a program that restarted at the same address
// (a new agent, a new token) is followed, and one whose process is gone
// is reported with dashboard.ErrExited, so that the dashboard stops
// retrying.
type dashboardSource struct {
	c atomic.Pointer[agentclient.Client]
}

var (
	_ dashboard.Source = (*dashboardSource)(nil)
	_ capture.Source   = captureSource{}
)

func newDashboardSource(c *agentclient.Client) *dashboardSource {
	s := new(dashboardSource)
	s.c.Store(c)
	return s
}

// client returns the client of the agent the dashboard shows now.
func (s *dashboardSource) client() *agentclient.Client { return s.c.Load() }

// Stream streams snapshots from the agent; see dashboardSource.
func (s *dashboardSource) Stream(ctx context.Context, interval time.Duration, fn func(*snapshot.Snapshot) error) error {
	c := s.client()
	err := c.Stream(ctx, interval, fn)
	if err == nil || ctx.Err() != nil {
		return err
	}
	next, rerr := agentclient.Redial(ctx, c)
	switch {
	case errors.Is(rerr, agentclient.ErrExited):
		return fmt.Errorf("%w: %v", dashboard.ErrExited, rerr)
	case rerr != nil || next == nil:
		return err
	}
	if s.c.CompareAndSwap(c, next) {
		c.Close()
	} else {
		next.Close()
	}
	return fmt.Errorf("%v; the program restarted (pid %d): reconnecting", err, next.Info().PID)
}

// Profile takes a profile that gives way to a capture.
func (s *dashboardSource) Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	return s.client().RollingProfile(ctx, kind, d)
}

// captureSource is the agent the dashboard shows now, as the source of a
// capture (whose profiles do not give way).
type captureSource struct{ s *dashboardSource }

func (c captureSource) Snapshot(ctx context.Context) (*snapshot.Snapshot, error) {
	return c.s.client().Snapshot(ctx)
}

func (c captureSource) Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	return c.s.client().Profile(ctx, kind, d)
}

// attachCommand opens the live dashboard on a program.
var attachCommand = command{
	name:    "attach",
	args:    "[TARGET] [-i 1s]",
	summary: "open the live dashboard on a running program",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		interval := fs.Duration("i", time.Second, "refresh interval (100ms to 60s)")
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 1 {
				return usageErrorf("attach takes at most one TARGET, got %d arguments", len(args))
			}
			var target string
			if len(args) == 1 {
				target = args[0]
			}
			return runAttach(ctx, m, target, *interval)
		}
	},
}

// runAttach dials the agent at target and runs the dashboard on it until
// the user quits or ctx is done.
func runAttach(ctx context.Context, m *Main, target string, interval time.Duration) error {
	if err := checkInterval(interval); err != nil {
		return err
	}
	if err := needTerminal(m, "httptop snapshot"); err != nil {
		return err
	}
	c, err := agentclient.Dial(ctx, target)
	if err != nil {
		return err
	}
	defer c.Close()
	return runDashboard(ctx, c, interval, c.Info().Addr)
}

// runDashboard runs the dashboard on the agent c until the user quits or
// ctx is done; title names the target in the header.
func runDashboard(ctx context.Context, c *agentclient.Client, interval time.Duration, title string) error {
	src := newDashboardSource(c)
	defer func() { src.client().Close() }()
	return dashboard.Run(ctx, dashboard.Options{
		Source:   src,
		Interval: interval,
		Title:    title,
		Capturer: newCapturer(captureSource{src}, func() agentclient.Info { return src.client().Info() }, defaultCaptureDuration),
	})
}

func checkInterval(d time.Duration) error {
	if d < 100*time.Millisecond || d > time.Minute {
		return usageErrorf("-i %v: the refresh interval must be between 100ms and 60s", d)
	}
	return nil
}

// needTerminal returns an error naming alternative when the dashboard
// cannot draw: standard input and output must be a terminal.
func needTerminal(m *Main, alternative string) error {
	in, inOK := m.Stdin.(*os.File)
	out, outOK := m.Stdout.(*os.File)
	if inOK && outOK && term.IsTerminal(int(in.Fd())) && term.IsTerminal(int(out.Fd())) {
		return nil
	}
	return errors.New("the dashboard needs a terminal; for plain output use '" + alternative + "'")
}
