package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/dashboard"
)

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
	f := newFollower(target, c)
	defer f.Close()
	return runDashboard(ctx, f, interval, "", f.Title)
}

// runDashboard runs the dashboard on the agent f follows until the user
// quits or ctx is done; title, or titleFunc when not nil, names the
// target in the header.
func runDashboard(ctx context.Context, f *follower, interval time.Duration, title string, titleFunc func() string) error {
	return dashboard.Run(ctx, dashboard.Options{
		Source:    f,
		Interval:  interval,
		Title:     title,
		TitleFunc: titleFunc,
		Capturer:  newCapturer(f, defaultCaptureDuration),
		Modules:   modulesOf(f.client().Info()),
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
