package main

import (
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/termtext"
	"github.com/httptop/httptop/internal/units"
	"github.com/httptop/httptop/snapshot"
)

// snapshotCommand prints one snapshot of a program.
var snapshotCommand = command{
	name:    "snapshot",
	args:    "[TARGET] [--json]",
	summary: "print a program's HTTP clients now: a summary with diagnoses, or the v1 JSON",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		asJSON := fs.Bool("json", false, "print the snapshot as JSON (snapshot format v1)")
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 1 {
				return usageErrorf("snapshot takes at most one TARGET, got %d arguments", len(args))
			}
			var target string
			if len(args) == 1 {
				target = args[0]
			}
			c, err := agentclient.Dial(ctx, target)
			if err != nil {
				return err
			}
			defer c.Close()
			s, err := c.Snapshot(ctx)
			if err != nil {
				return err
			}
			if *asJSON {
				enc := json.NewEncoder(m.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			writeSummary(m.Stdout, s)
			return nil
		}
	},
}

// writeSummary renders a snapshot for people: the process, one line per
// client and host, then the diagnoses with their advice.
func writeSummary(w io.Writer, s *snapshot.Snapshot) {
	writeProcessSummary(w, s)
	fmt.Fprintln(w)
	writeHostsSummary(w, s.Hosts)
	fmt.Fprintln(w)
	writeDiagnosesSummary(w, s.Diagnoses)
}

// writeProcessSummary writes the snapshot's first lines: the program, its
// process's figures (load, TCP, CPU per request) when the snapshot has
// them, and the probe's own errors.
func writeProcessSummary(w io.Writer, s *snapshot.Snapshot) {
	clean := termtext.Clean
	fmt.Fprintf(w, "%s (pid %d)", clean(s.Program), s.PID)
	if p := s.Process; p != nil {
		fmt.Fprintf(w, " · up %s · cpu %.1f%% · rss %s · %d goroutines · %d threads · %d fds\n",
			formatUptime(time.Duration(p.UptimeSeconds*float64(time.Second))), p.CPUPercent,
			formatBytes(p.RSSBytes), p.Goroutines, p.Threads, p.FDs)
		t := p.TCP
		fmt.Fprintf(w, "tcp: %d established · %d time_wait · %d close_wait · %d fin_wait · %d syn_sent · %d listen",
			t.Established, t.TimeWait, t.CloseWait, t.FinWait, t.SynSent, t.Listen)
		if t.AgeSeconds >= 2 {
			fmt.Fprintf(w, " (read %.0f s ago)", t.AgeSeconds)
		}
		fmt.Fprintln(w)
		if p.CPUPerRequestMs > 0 {
			fmt.Fprintf(w, "cpu: %.2f of %g cores used (GOMAXPROCS %d) over %.0f s · %s per request at %.1f req/s · ceiling ~%.0f req/s · sched p99 %s · gc %.1f%%\n",
				p.WindowCPUPercent/100, p.Cores, p.GOMAXPROCS, p.CPUWindowSeconds, units.Ms(p.CPUPerRequestMs), p.RequestsPerSecond,
				p.CeilingRPS, units.Ms(p.WindowSchedLatencyP99Ms), p.WindowGCCPUPercent)
		}
	} else {
		fmt.Fprintln(w)
	}
	if s.ProbeErrors > 0 {
		fmt.Fprintf(w, "httptop recovered from %d errors of its own (last: %s); please report it\n", s.ProbeErrors, clean(s.LastProbeError))
	}
}

// writeHostsSummary writes a table of the hosts, by client and host, or
// why there are none; a dial-only host's unknown figures are "?".
func writeHostsSummary(w io.Writer, hosts []snapshot.Host) {
	if len(hosts) == 0 {
		fmt.Fprintln(w, "no HTTP traffic seen yet: is the client wrapped with probe.Wrap, or does it use http.DefaultClient with the probe/attach import?")
		return
	}
	clean := termtext.Clean
	hosts = slices.Clone(hosts)
	slices.SortFunc(hosts, func(a, b snapshot.Host) int {
		return cmp.Or(cmp.Compare(a.Client, b.Client), cmp.Compare(a.Host, b.Host))
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tHOST\tOPEN\tACTIVE\tIDLE\tHANDSHAKING\tWAITING\tREQ/S\tP50\tP95\tP99\tWAIT P95\tNEW/S\tERRORS")
	dialOnly := false
	for _, h := range hosts {
		if h.DialOnly {
			// Its requests are not seen: their figures are
			// unknown, not zero.
			dialOnly = true
			rps := "?"
			if h.RequestsStarted > 0 {
				rps = fmt.Sprintf("~%.1f", h.StartsPerSecond)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t?\t%s\t?\t?\t?\t?\t?\t?\n",
				clean(h.Client), clean(h.Origin())+" (dial only)", h.Open, h.Active, h.Idle, h.Handshaking, rps)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s\t%.1f\t%d\n",
			clean(h.Client), clean(h.Origin()), h.Open, h.Active, h.Idle, h.Handshaking, h.Waiting, h.RPS,
			formatMs(h.Latency.Count, h.Latency.P50), formatMs(h.Latency.Count, h.Latency.P95),
			formatMs(h.Latency.Count, h.Latency.P99), formatMs(h.ConnWait.Count, h.ConnWait.P95),
			h.NewConnsPerSecond, h.Errors)
	}
	tw.Flush()
	if dialOnly {
		fmt.Fprintln(w, "dial only: httptop sees these connections (dialed through a hook the transport inherited by cloning, or shared), not their requests; "+
			"? is unknown, ~ counts requests starting, active and idle are read from the traffic. Wrap the transport with probe.Wrap to see the rest.")
	}
}

// writeDiagnosesSummary writes the diagnoses with their summary, advice
// and call sites, or that there are none.
func writeDiagnosesSummary(w io.Writer, ds []snapshot.Diagnosis) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "no problems diagnosed")
		return
	}
	clean := termtext.Clean
	fmt.Fprintln(w, "diagnoses:")
	for _, d := range ds {
		where := clean(d.Client) + " " + clean(d.Host)
		if d.Process() {
			where = "(the process)"
		}
		fmt.Fprintf(w, "  %s  %s  %s\n", clean(strings.ToUpper(string(d.Severity))), clean(string(d.Kind)), where)
		fmt.Fprintf(w, "    %s\n", clean(d.Summary))
		if d.Advice != "" {
			fmt.Fprintf(w, "    advice: %s\n", clean(d.Advice))
		}
		for _, site := range d.Sites {
			fmt.Fprintf(w, "    at %s (%d×)\n", clean(site.String()), site.Count)
		}
	}
}

// formatMs renders a duration in milliseconds as everything httptop
// shows does (units.Ms), or "-" when nothing was measured.
func formatMs(n int64, ms float64) string {
	if n == 0 {
		return "-"
	}
	return units.Ms(ms)
}

// formatBytes renders a size in binary units.
func formatBytes(b uint64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	div, exp := uint64(unit), 0
	for n := b / unit; n >= unit && exp < 4; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTP"[exp])
}
