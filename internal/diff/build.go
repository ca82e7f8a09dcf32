package diff

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/report"
	"github.com/httptop/httptop/snapshot"
)

// Input is one side of a diff: a capture, its profiles and its report.
type Input struct {
	// Dir is the capture's directory as the user named it, shown in the
	// diff and linked to; empty for a capture that is not on disk.
	Dir      string
	Capture  *capture.Capture
	Profiles capture.Profiles
	// Report is the capture's report; Build computes it (report.Build)
	// when nil.
	Report *report.Report
}

// Load reads the capture in dir (capture.Load) and builds its report.
// Profiles that cannot be read are left out and noted in the capture's
// errors, as for httptop report; a directory that is not a capture, or a
// capture this httptop cannot read, is an error.
func Load(dir string) (Input, error) {
	c, p, err := capture.Load(dir)
	if err != nil {
		return Input{}, err
	}
	return Input{Dir: dir, Capture: c, Profiles: p, Report: report.Build(c, p)}, nil
}

// profile returns the side's profile of a kind, or nil.
func (in Input) profile(kind snapshot.ProfileKind) *profile.Profile {
	switch kind {
	case snapshot.ProfileCPU:
		return in.Profiles.CPU
	case snapshot.ProfileWall:
		return in.Profiles.Wall
	}
	return nil
}

// Options configures Build. The zero value is valid.
type Options struct {
	// Match pairs hosts whose address changed between the captures
	// (--match old=new).
	Match []HostMatch
	// Views are the code tables; nil means DefaultViews.
	Views []View
	// OutDir is the directory the diff is written to, from which it links
	// to each capture's report.html; empty for no links.
	OutDir string
}

// Build compares two captures of a program, before and after a change.
// It modifies neither. Captures of different programs are compared with a
// warning; a capture without profiles leaves the code comparison out, with
// a warning, and the rest stands.
func Build(before, after Input, opts Options) (*Diff, error) {
	if before.Capture == nil || after.Capture == nil {
		return nil, errors.New("diff: missing capture")
	}
	if before.Report == nil {
		before.Report = report.Build(before.Capture, before.Profiles)
	}
	if after.Report == nil {
		after.Report = report.Build(after.Capture, after.Profiles)
	}
	views := opts.Views
	if views == nil {
		views = DefaultViews()
	}
	d := &Diff{
		Version: Version,
		Before:  side(before, opts.OutDir),
		After:   side(after, opts.OutDir),
		Noise:   Noise{Method: "welch_t", Alpha: Alpha, MinRelativeChange: MinRelativeChange, Text: noiseText},
		Hosts:   []HostDiff{},
	}
	if b, a := d.Before.Program, d.After.Program; b != a {
		d.warn("the captures are of different programs (before: %s, after: %s); compared anyway", orUnknown(b), orUnknown(a))
	}
	for _, s := range []struct {
		name string
		in   Input
	}{{"before", before}, {"after", after}} {
		for _, e := range s.in.Capture.Errors {
			if strings.HasPrefix(e.Op, "read ") {
				d.warn("the %s capture: %s: %s", s.name, e.Op, e.Message)
			}
		}
		if s.in.Capture.Canceled {
			d.warn("the %s capture was ended early (%s of %s)", s.name,
				report.FormatSeconds(s.in.Capture.End.Sub(s.in.Capture.Start).Seconds()), report.FormatSeconds(s.in.Capture.RequestedSeconds))
		}
	}

	pb, pa := processOf(before.Capture), processOf(after.Capture)
	if pb != nil || pa != nil {
		d.Process = &ProcessDiff{}
		if pb != nil {
			d.Process.Before = *pb
		}
		if pa != nil {
			d.Process.After = *pa
		}
	}

	pairs, warnings := matchHosts(before.Report.Hosts, after.Report.Hosts, opts.Match)
	for _, w := range warnings {
		d.warn("%s", w)
	}
	for _, p := range pairs {
		d.Hosts = append(d.Hosts, compareHost(p))
	}
	d.OtherDiagnoses = compareFindings(before.Report.OtherDiagnoses, after.Report.OtherDiagnoses,
		before.Report.Snapshots, after.Report.Snapshots,
		func(f *report.Finding) string { return string(f.Kind) + "\x00" + f.Client + "\x00" + f.Host })
	if len(d.OtherDiagnoses) == 0 {
		d.OtherDiagnoses = nil
	}

	var w string
	if d.CPU, w = compareCode(snapshot.ProfileCPU, before, after, views); w != "" {
		d.warn("%s", w)
	}
	if d.Wall, w = compareCode(snapshot.ProfileWall, before, after, views); w != "" {
		d.warn("%s", w)
	}
	return d, nil
}

// warn adds a warning.
func (d *Diff) warn(format string, args ...any) {
	d.Warnings = append(d.Warnings, fmt.Sprintf(format, args...))
}

// side describes one capture; its report link is relative to outDir.
func side(in Input, outDir string) Side {
	c := in.Capture
	s := Side{
		Dir: in.Dir, Program: c.Program, PID: c.PID, Target: c.Target, Start: c.Start,
		Seconds: round3(c.End.Sub(c.Start).Seconds()), Snapshots: len(c.Snapshots),
		Canceled: c.Canceled, ProfileMode: c.ProfileMode,
	}
	if in.Dir != "" && outDir != "" {
		// The report of a capture diffed as it is recorded (httptop
		// capture --baseline) is written after the diff, beside it.
		page := filepath.Join(in.Dir, capture.HTMLFile)
		rel, err := relPath(outDir, page)
		fi, serr := os.Stat(page)
		if err == nil && (rel == capture.HTMLFile || serr == nil && fi.Mode().IsRegular()) {
			s.Report = filepath.ToSlash(rel)
		}
	}
	return s
}

// relPath returns target relative to dir, both made absolute first.
func relPath(dir, target string) (string, error) {
	ad, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	at, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	return filepath.Rel(ad, at)
}

// processOf averages the process figures of a capture's snapshots, nil
// when none has them.
func processOf(c *capture.Capture) *ProcessSide {
	var p ProcessSide
	n := 0
	for i := range c.Snapshots {
		if pr := c.Snapshots[i].Process; pr != nil {
			p.CPUPercent += pr.CPUPercent
			p.RSSBytes += float64(pr.RSSBytes)
			p.Goroutines += float64(pr.Goroutines)
			n++
		}
	}
	if n == 0 {
		return nil
	}
	k := float64(n)
	return &ProcessSide{CPUPercent: round3(p.CPUPercent / k), RSSBytes: round3(p.RSSBytes / k), Goroutines: round3(p.Goroutines / k)}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
