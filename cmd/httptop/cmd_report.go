package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/report"
	"github.com/httptop/httptop/internal/termtext"
)

// reportCommand renders a capture's report again from its capture.json, so
// a capture taken with an older httptop (or whose report files were lost)
// gets the current report.
var reportCommand = command{
	name:    "report",
	args:    "DIR",
	summary: "render a capture's report again (report.html, report.md, report.json) from DIR/capture.json",
	flags: func(_ *flag.FlagSet) func(ctx context.Context, m *Main, args []string) error {
		return func(ctx context.Context, m *Main, args []string) error {
			if len(args) != 1 {
				return usageErrorf("report takes one DIR, the directory httptop capture wrote, got %d arguments", len(args))
			}
			return m.runReport(ctx, args[0])
		}
	},
}

// checkCaptureDir says, after prefix, what is wrong when dir is not a
// directory, in words that tell the user which directory to give.
func checkCaptureDir(prefix, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %s does not exist; give the directory httptop capture wrote", prefix, dir)
	case err != nil:
		return fmt.Errorf("%s: %w", prefix, err)
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is not a directory; give the directory httptop capture wrote, not a file in it", prefix, dir)
	}
	return nil
}

// runReport renders the report of the capture in dir and says where it
// went.
func (m *Main) runReport(ctx context.Context, dir string) error {
	if err := checkCaptureDir("report", dir); err != nil {
		return err
	}
	r, err := report.Regenerate(ctx, dir)
	if err != nil {
		return err
	}
	diagnoses := len(r.OtherDiagnoses)
	for _, h := range r.Hosts {
		diagnoses += len(h.Diagnoses)
	}
	fmt.Fprintf(m.Stdout, "%s (pid %d): %s, %s over %.0f s\n", termtext.Clean(r.Program), r.PID,
		count(len(r.Hosts), "host", "hosts"), count(diagnoses, "diagnosis", "diagnoses"), r.Seconds)
	for _, name := range []string{capture.HTMLFile, capture.MarkdownFile, capture.JSONFile} {
		fmt.Fprintf(m.Stdout, "  wrote %s\n", filepath.Join(dir, name))
	}
	return nil
}

// count says n things, in the singular when n is 1: "1 diagnosis",
// "3 diagnoses".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
