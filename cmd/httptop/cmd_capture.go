package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/diff"
	"github.com/httptop/httptop/internal/termtext"
)

// captureCommand records profiles and snapshots of a program over a window
// and writes the flame graphs and the pool-vs-latency report.
var captureCommand = command{
	name:    "capture",
	args:    "[TARGET] [-d 30s] [-o DIR] [--baseline DIR]",
	summary: "record flame graphs (CPU, wall-clock) and a pool-vs-latency report; Ctrl-C ends early and keeps what was gathered",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		d := fs.Duration("d", capture.DefaultDuration, "length of the capture window (1s to 10m)")
		out := fs.String("o", "", "directory to write (default httptop-PROGRAM-PID-DATE-TIME in the current directory)")
		interval := fs.Duration("i", capture.DefaultInterval, "time between snapshots (100ms to 1s)")
		baseline := fs.String("baseline", "", "a capture to compare this one with: writes the diff (diff.html, ...) beside the report, which links to it")
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) > 1 {
				return usageErrorf("capture takes at most one TARGET, got %d arguments", len(args))
			}
			if *d < time.Second || *d > 10*time.Minute {
				return usageErrorf("-d %v: the capture window must be between 1s and 10m", *d)
			}
			if *interval < 100*time.Millisecond || *interval > capture.MaxInterval {
				return usageErrorf("-i %v: the snapshot interval must be between 100ms and %v", *interval, capture.MaxInterval)
			}
			var target string
			if len(args) == 1 {
				target = args[0]
			}
			return m.runCapture(ctx, target, *out, *d, *interval, *baseline)
		}
	},
}

// runCapture dials the agent at target, records a capture of length d into
// dir (a new, named directory when empty), compares it with the capture in
// baseline when one is named, and says what it wrote.
func (m *Main) runCapture(ctx context.Context, target, dir string, d, interval time.Duration, baseline string) error {
	// The baseline is read first: a capture is too long to wait for
	// before learning that its baseline is not a capture.
	var base *diff.Input
	if baseline != "" {
		b, err := loadCapture("baseline", baseline)
		if err != nil {
			return err
		}
		base = &b
	}
	c, err := agentclient.Dial(ctx, target)
	if err != nil {
		return err
	}
	defer c.Close()
	info := c.Info()
	if dir == "" {
		dir = capture.DefaultDir(info.Program, info.PID, time.Now())
	}
	fmt.Fprintf(m.Stderr, "capturing %s (pid %d) for %v into %s; Ctrl-C ends early and keeps what was gathered\n",
		termtext.Clean(info.Program), info.PID, d, dir)
	bar := newProgressBar(m.Stderr)
	cp, df, err := recordCapture(ctx, c, capture.Options{
		Duration: d,
		Interval: interval,
		Dir:      dir,
		Target:   cmp.Or(target, fmt.Sprintf("pid %d", info.PID)),
		Progress: bar.update,
		Modules:  modulesOf(info),
	}, base)
	bar.finish()
	if cp == nil {
		return err
	}
	m.writeCaptureSummary(cp, dir)
	if df != nil {
		fmt.Fprintf(m.Stdout, "against the baseline ")
		df.WriteSummary(m.Stdout)
	}
	// A canceled capture is still a success: the user asked it to stop.
	return err
}

// writeCaptureSummary says what a capture recorded and where the files
// are, the report first.
func (m *Main) writeCaptureSummary(c *capture.Capture, dir string) {
	w := m.Stdout
	how := "captured"
	if c.Canceled {
		how = "stopped early, captured"
	}
	fmt.Fprintf(w, "%s %.1f s of %s (pid %d): %d snapshots, profiles: %s\n",
		how, c.End.Sub(c.Start).Seconds(), termtext.Clean(c.Program), c.PID, len(c.Snapshots), profileList(c))
	for _, e := range c.Errors {
		times := ""
		if e.Count > 1 {
			times = fmt.Sprintf(" (%d×)", e.Count)
		}
		fmt.Fprintf(w, "  problem: %s: %s%s\n", termtext.Clean(e.Op), termtext.Clean(e.Message), times)
	}
	for _, name := range []string{capture.HTMLFile, capture.MarkdownFile, capture.JSONFile,
		"cpu.svg", "wall.svg", "cpu.folded", "wall.folded", "cpu.pb.gz", "wall.pb.gz", "heap.pb.gz",
		capture.MutexProfile, capture.BlockProfile, capture.CaptureFile,
		capture.DiffHTMLFile, capture.DiffMarkdownFile, capture.DiffJSONFile, capture.DiffCPUFlame, capture.DiffWallFlame,
		capture.CPUBefore, capture.CPUAfter, capture.WallBefore, capture.WallAfter} {
		if exists(filepath.Join(dir, name)) {
			fmt.Fprintf(w, "  wrote %s\n", filepath.Join(dir, name))
		}
	}
	// Name only files that were written.
	var next []string
	if exists(filepath.Join(dir, capture.HTMLFile)) {
		next = append(next, "open "+filepath.Join(dir, capture.HTMLFile)+" in a browser")
	}
	for _, name := range []string{"cpu.pb.gz", "wall.pb.gz", "heap.pb.gz"} {
		if p := filepath.Join(dir, name); exists(p) {
			next = append(next, "'go tool pprof -http=: "+p+"' explores a profile")
			break
		}
	}
	if len(next) > 0 {
		fmt.Fprintln(w, strings.Join(next, "; "))
	}
}

// exists reports whether path names a file.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// profileList names the profiles a capture holds, e.g. "cpu 30.0s, wall
// 30.0s, heap".
func profileList(c *capture.Capture) string {
	var parts []string
	for _, p := range c.Profiles {
		if p.File == "" {
			continue
		}
		if p.Seconds > 0 {
			parts = append(parts, fmt.Sprintf("%s %.1fs", p.Kind, p.Seconds))
		} else {
			parts = append(parts, string(p.Kind))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// progressBar draws a capture's progress on a terminal as one line that
// it rewrites, and elsewhere (a log, a pipe) as a line every 10%.
type progressBar struct {
	w        io.Writer
	terminal bool
	lastStep int // the last 10% step printed when not a terminal
	drawn    bool
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	return &progressBar{w: w, terminal: ok && term.IsTerminal(int(f.Fd())), lastStep: -1}
}

// update shows done out of total.
func (b *progressBar) update(done, total time.Duration) {
	if total <= 0 {
		return
	}
	frac := min(float64(done)/float64(total), 1)
	left := max(total-done, 0).Round(time.Second)
	if !b.terminal {
		if step := int(frac * 10); step > b.lastStep {
			b.lastStep = step
			fmt.Fprintf(b.w, "%3.0f%%  %v left\n", frac*100, left)
		}
		return
	}
	b.drawn = true
	fmt.Fprintf(b.w, "\r%s", progressLine(frac, done, total))
}

// progressLine is one frame of the bar: [#####.....]  12s / 30s  18s left.
func progressLine(frac float64, done, total time.Duration) string {
	const width = 30
	n := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%%  %v / %v  %v left ",
		strings.Repeat("#", n), strings.Repeat(".", width-n), frac*100,
		done.Round(time.Second), total.Round(time.Second), max(total-done, 0).Round(time.Second))
}

// finish ends the bar's line.
func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
