package diff

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/report"
)

// WriteJSON writes the diff as indented JSON (diff.json).
func (d *Diff) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("diff: write json: %w", err)
	}
	return nil
}

// Write renders d into dir, which is created if needed (mode 0700):
// diff.json, diff.md and diff.html, and for each profile compared the
// differential flame graph (diff-cpu.svg, diff-wall.svg) and the two
// profiles scaled per request (cpu-before.pb.gz and cpu-after.pb.gz, ...)
// that go tool pprof -diff_base compares. Each file is replaced
// atomically; an error names the file that failed, and the others are
// still written.
func Write(dir string, d *Diff) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("diff: create output directory: %w", err)
	}
	errs := []error{capture.WriteRenderings(dir,
		capture.Rendering{Name: capture.DiffJSONFile, Write: d.WriteJSON},
		capture.Rendering{Name: capture.DiffMarkdownFile, Write: d.WriteMarkdown},
		capture.Rendering{Name: capture.DiffHTMLFile, Write: d.WriteHTML},
	)}
	for _, cd := range []*CodeDiff{d.CPU, d.Wall} {
		if cd != nil {
			errs = append(errs, writeCode(dir, cd))
		}
	}
	return errors.Join(errs...)
}

// writeCode writes a code comparison's flame graph and pprof pair.
func writeCode(dir string, cd *CodeDiff) error {
	errs := []error{capture.WriteRenderings(dir, capture.Rendering{
		Name:  cd.FlameGraph,
		Write: func(w io.Writer) error { return flame.DiffSVG(w, cd.before, cd.after, flameOptions(cd)) },
	})}
	for _, s := range []struct {
		name  string
		side  *CodeSide
		p     *profile.Profile
		idx   int
		scale float64
	}{
		{cd.ProfileBefore, &cd.Before, cd.before, cd.beforeIdx, cd.beforeScale},
		{cd.ProfileAfter, &cd.After, cd.after, cd.afterIdx, cd.afterScale},
	} {
		comment := fmt.Sprintf("httptop diff: %s %s per %s", cd.SampleType, cd.Unit, cd.Per)
		if cd.Per == PerRequest {
			comment += fmt.Sprintf(" (the values divided by the %s requests completed while the profile ran, rounded to whole %s)",
				report.FormatNum(s.side.Requests), cd.Unit)
		}
		q := scaledProfile(s.p, s.idx, s.scale, comment)
		if err := flame.WriteFile(filepath.Join(dir, s.name), q); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// flameOptions returns the options of a code comparison's differential
// flame graph: the after profile's width, costs per request.
func flameOptions(cd *CodeDiff) flame.DiffSVGOptions {
	opts := flame.DiffSVGOptions{
		SVGOptions:  flame.DefaultSVGOptions(),
		BeforeScale: cd.beforeScale,
		AfterScale:  cd.afterScale,
		Per:         cd.Per,
	}
	opts.SampleType = cd.SampleType
	opts.Title = cd.heading() + ": after against before"
	return opts
}
