package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/demo"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/probe/agent"
)

// demoCommand runs the built-in workload and shows it.
var demoCommand = command{
	name:    "demo",
	args:    "[--scenario NAME] [--headless [-d 10s]]",
	summary: "run a built-in workload showing every pathology, and open the dashboard on it (no setup)",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		var o demoOptions
		fs.StringVar(&o.scenario, "scenario", "", "run one pathology of the tour ("+strings.Join(demo.Pathologies(), ", ")+
			") or one benchmark scenario ("+strings.Join(demo.Scenarios(), ", ")+") instead of the whole tour")
		fs.BoolVar(&o.headless, "headless", false, "no dashboard: run for -d, then print the final snapshot summary")
		fs.DurationVar(&o.duration, "d", 10*time.Second, "with --headless: how long to run the workload")
		fs.DurationVar(&o.interval, "i", time.Second, "dashboard refresh interval (100ms to 60s)")
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("demo takes no arguments, got %q", args)
			}
			return runDemo(ctx, m, o)
		}
	},
}

type demoOptions struct {
	scenario string
	headless bool
	duration time.Duration
	interval time.Duration
}

// runDemo starts the fixture servers, the instrumented workload and an
// agent serving it, then attaches to that agent as `httptop attach` would.
func runDemo(ctx context.Context, m *Main, o demoOptions) error {
	if o.headless && o.duration <= 0 {
		return usageErrorf("-d %v: the duration must be positive", o.duration)
	}
	if err := checkInterval(o.interval); err != nil {
		return err
	}
	if err := demo.CheckScenario(o.scenario); err != nil {
		return usageError{err}
	}
	if !o.headless {
		if err := needTerminal(m, "httptop demo --headless"); err != nil {
			return err
		}
	}
	var log io.Writer = io.Discard // it would garble the dashboard
	if o.headless {
		log = m.Stderr
	}
	col := probe.NewCollector(probe.CollectorOptions{})
	d, err := demo.Start(demo.Options{Collector: col, Scenario: o.scenario, Log: log})
	if err != nil {
		return usageError{err}
	}
	defer d.Close()
	ag, err := agent.Start(agent.Options{Collector: col, Logger: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		return fmt.Errorf("demo: start the agent: %w", err)
	}
	defer ag.Close()
	c, err := agentclient.Dial(ctx, ag.Addr())
	if err != nil {
		return fmt.Errorf("demo: attach to its own agent: %w", err)
	}
	defer c.Close()
	info := c.Info()
	if o.headless {
		return runHeadless(ctx, m, c, info, o.duration)
	}
	return runDashboard(ctx, newFollower(ag.Addr(), c), o.interval, "demo  "+info.Addr, nil)
}

// runHeadless lets the workload run for d (or until ctx is done), then
// prints the summary of a last snapshot.
func runHeadless(ctx context.Context, m *Main, c *agentclient.Client, info agentclient.Info, d time.Duration) error {
	fmt.Fprintf(m.Stderr, "httptop demo: running for %v; meanwhile its agent (pid %d, %s) answers 'httptop ps' and 'httptop snapshot %d'\n",
		d, info.PID, info.Addr, info.PID)
	select {
	case <-ctx.Done():
		// Interrupted: still show what was gathered.
	case <-time.After(d):
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	s, err := c.Snapshot(sctx)
	if err != nil {
		return err
	}
	writeSummary(m.Stdout, s)
	return nil
}
