package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/diff"
)

// diffCommand compares two captures, before and after a change.
var diffCommand = command{
	name: "diff",
	args: "BEFORE AFTER [-o DIR] [--match old=new]...",
	summary: "compare two captures, before and after a change (hosts with a noise test, diagnoses, CPU and wall-clock per request): " +
		"diff.html, diff.md, diff.json, differential flame graphs",
	flags: func(fs *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		out := fs.String("o", "", "directory to write (default httptop-diff-DATE-TIME in the current directory)")
		var rules matchFlag
		fs.Var(&rules, "match", "for a host whose address changed, `old=new` pairs the before capture's host old with the after capture's host new (host:port, scheme://host:port, or a host with any port); repeatable")
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) != 2 {
				return usageErrorf("diff takes two capture directories, BEFORE and AFTER, got %d arguments", len(args))
			}
			dir := *out
			if dir == "" {
				dir = "httptop-diff-" + time.Now().Format("20060102-150405")
			}
			return m.runDiff(args[0], args[1], dir, rules)
		}
	},
}

// matchFlag collects --match rules.
type matchFlag []diff.HostMatch

func (f *matchFlag) String() string {
	parts := make([]string, len(*f))
	for i, r := range *f {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (f *matchFlag) Set(s string) error {
	r, err := diff.ParseMatch(s)
	if err != nil {
		return err
	}
	*f = append(*f, r)
	return nil
}

// runDiff compares the captures in before and after, writes the diff to
// out and prints its summary.
func (m *Main) runDiff(before, after, out string, rules []diff.HostMatch) error {
	b, err := loadCapture("before", before)
	if err != nil {
		return err
	}
	a, err := loadCapture("after", after)
	if err != nil {
		return err
	}
	d, err := diff.Build(b, a, diff.Options{Match: rules, OutDir: out})
	if err != nil {
		return err
	}
	if err := diff.Write(out, d); err != nil {
		return err
	}
	if err := d.WriteSummary(m.Stdout); err != nil {
		return err
	}
	m.writeDiffFiles(out, d)
	return nil
}

// writeDiffFiles lists the files a diff wrote, the page first.
func (m *Main) writeDiffFiles(dir string, d *diff.Diff) {
	names := []string{capture.DiffHTMLFile, capture.DiffMarkdownFile, capture.DiffJSONFile}
	for _, cd := range []*diff.CodeDiff{d.CPU, d.Wall} {
		if cd != nil {
			names = append(names, cd.FlameGraph, cd.ProfileBefore, cd.ProfileAfter)
		}
	}
	for _, name := range names {
		fmt.Fprintf(m.Stdout, "  wrote %s\n", filepath.Join(dir, name))
	}
	if d.CPU != nil {
		fmt.Fprintf(m.Stdout, "'cd %s && go tool pprof -top -diff_base %s %s' compares CPU per request function by function\n",
			dir, d.CPU.ProfileBefore, d.CPU.ProfileAfter)
	}
}

// loadCapture reads one capture of a diff, which names it (before,
// after, baseline) in its errors.
func loadCapture(which, dir string) (diff.Input, error) {
	if err := checkCaptureDir("diff: "+which, dir); err != nil {
		return diff.Input{}, err
	}
	in, err := diff.Load(dir)
	if err != nil {
		return diff.Input{}, fmt.Errorf("diff: %s: %w", which, err)
	}
	return in, nil
}
