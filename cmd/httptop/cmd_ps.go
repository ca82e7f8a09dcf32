package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/internal/termtext"
)

// psCommand lists the agents running on this machine.
var psCommand = command{
	name:    "ps",
	summary: "list the httptop agents running on this machine",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 0 {
				return usageErrorf("ps takes no arguments")
			}
			agents, err := agentclient.List()
			if err != nil {
				return err
			}
			m.printAgents(ctx, agents)
			return nil
		}
	},
}

// psTimeout bounds how long ps waits for one agent's snapshot.
const psTimeout = 3 * time.Second

// agentRow is one line of the agent table.
type agentRow struct {
	info  agentclient.Info
	hosts int
	rps   float64
	err   error // the agent could not be asked for a snapshot
}

// printAgents writes the table of agents, asking each (concurrently) for
// a snapshot to count its hosts and requests per second. Agents that do
// not answer are listed with a note on Stderr saying why.
func (m *Main) printAgents(ctx context.Context, agents []agentclient.Info) {
	if len(agents) == 0 {
		dir, _ := discovery.Dir()
		fmt.Fprintf(m.Stdout, "no httptop agents are running (none in %s): start a program built with the probe/attach import (go build -tags debug, when the import is in a debug-only file) or calling agent.Start\n", dir)
		return
	}
	rows := make([]agentRow, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		rows[i].info = a
		wg.Go(func() { rows[i].fill(ctx) })
	}
	wg.Wait()
	writeAgentTable(m.Stdout, rows, time.Now())
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(m.Stderr, "httptop: pid %d: %v\n", r.info.PID, r.err)
		}
	}
}

// fill asks the row's agent for a snapshot.
func (r *agentRow) fill(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, psTimeout)
	defer cancel()
	c, err := agentclient.Dial(ctx, strconv.Itoa(r.info.PID))
	if err != nil {
		r.err = err
		return
	}
	defer c.Close()
	s, err := c.Snapshot(ctx)
	if err != nil {
		r.err = err
		return
	}
	r.info = c.Info()
	r.hosts = len(s.Hosts)
	for _, h := range s.Hosts {
		r.rps += h.RPS
		if h.DialOnly {
			r.rps += h.StartsPerSecond // its requests seen starting, as the dashboard counts them
		}
	}
}

// writeAgentTable renders rows as the ps table.
func writeAgentTable(w io.Writer, rows []agentRow, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tPROGRAM\tADDRESS\tUPTIME\tHOSTS\tREQ/S")
	for _, r := range rows {
		hosts, rps, uptime := "-", "-", "-"
		if r.err == nil {
			hosts, rps = strconv.Itoa(r.hosts), fmt.Sprintf("%.1f", r.rps)
		}
		if !r.info.Started.IsZero() { // a record may lack it
			uptime = formatUptime(now.Sub(r.info.Started))
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n",
			r.info.PID, termtext.Clean(r.info.Program), termtext.Clean(r.info.Addr), uptime, hosts, rps)
	}
	tw.Flush()
}

// formatUptime renders a duration the way uptimes are read: 42s, 3m12s,
// 2h05m, 3d04h.
func formatUptime(d time.Duration) string {
	switch {
	case d < 0:
		return "-"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}
