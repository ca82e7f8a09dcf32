package flame

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/google/pprof/profile"
)

// DiffSVGOptions controls how DiffSVG draws a differential flame graph.
// The zero value is valid: values are compared as they are.
type DiffSVGOptions struct {
	// SVGOptions are the options of the flame graph of the after
	// profile. SampleType names the value of both profiles; the before
	// profile must have a sample type of the same name.
	SVGOptions
	// BeforeScale and AfterScale multiply each profile's values before
	// they are compared and shown, for example 1 ÷ requests to compare
	// the cost per request of two profiles taken under different load.
	// Zero means 1.
	BeforeScale, AfterScale float64
	// Per names what scaled values are per ("request"), for the labels;
	// empty when they are not scaled.
	Per string
}

// DiffSVG writes a differential flame graph of two profiles to w, a
// self-contained SVG like SVG's with the same interaction (hover, click
// to zoom, search). The frames are those of after, as SVG draws them: a
// frame's width is its value in after. Each is coloured by how its value
// (scaled by AfterScale) changed from the same frame of before (the same
// stack of function names from the root, scaled by BeforeScale): red
// where it grew, blue where it shrank, light grey where it stayed the
// same. As in flamegraph.pl's differential graphs, the depth of the
// colour is the frame's change against the largest change of any frame,
// so that the few samples of a small frame new in after do not glare like
// the shift that matters. Frames only in before take no width in after and
// are not drawn; the subtitle gives both totals. Hovering a frame shows
// both values and the change.
func DiffSVG(w io.Writer, before, after *profile.Profile, opts DiffSVGOptions) error {
	if before == nil || after == nil {
		return fmt.Errorf("flame: diff svg: nil profile")
	}
	idx, err := SampleIndex(after, opts.SampleType)
	if err != nil {
		return fmt.Errorf("flame: diff svg: after: %w", err)
	}
	bidx, err := SampleIndex(before, after.SampleType[idx].Type)
	if err != nil {
		return fmt.Errorf("flame: diff svg: before: %w", err)
	}
	if opts.Title == "" {
		opts.Title = "Differential Flame Graph"
	}
	at, bt := buildTree(after, idx, nil), buildTree(before, bidx, nil)
	d := &diffFrames{
		before:      matchTree(at, bt),
		beforeTotal: bt.nodes[0].total,
		beforeScale: scaleOr1(opts.BeforeScale),
		afterScale:  scaleOr1(opts.AfterScale),
		per:         opts.Per,
	}
	for i := range at.nodes {
		d.maxChange = max(d.maxChange, math.Abs(d.change(i, at.nodes[i].total)))
	}
	r := newSVGRenderer(at, after, idx, opts.SVGOptions)
	r.diff = d
	bw := bufio.NewWriterSize(w, 64<<10)
	r.write(bw)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("flame: write diff svg: %w", err)
	}
	return nil
}

func scaleOr1(s float64) float64 {
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return 1
	}
	return s
}

// matchTree returns, for every node of a, the total of the node of b with
// the same path of names from the root, or 0 when b has none.
func matchTree(a, b *tree) []int64 {
	type key struct {
		parent int32
		name   string
	}
	children := make(map[key]int32, len(b.nodes))
	for j := 1; j < len(b.nodes); j++ {
		n := &b.nodes[j]
		children[key{n.parent, b.names[n.name]}] = int32(j)
	}
	match := make([]int32, len(a.nodes)) // a's node → b's, or -1
	out := make([]int64, len(a.nodes))
	out[0] = b.nodes[0].total
	for i := 1; i < len(a.nodes); i++ {
		n := &a.nodes[i]
		match[i] = -1
		if pm := match[n.parent]; pm >= 0 {
			if j, ok := children[key{pm, a.names[n.name]}]; ok {
				match[i] = j
				out[i] = b.nodes[j].total
			}
		}
	}
	return out
}

// diffFrames is what a differential flame graph adds to a flame graph:
// the before value of every frame of the after tree.
type diffFrames struct {
	before                  []int64 // by node of the after tree
	beforeTotal             int64
	beforeScale, afterScale float64
	per                     string
	// maxChange is the largest change of any frame, scaled.
	maxChange float64
}

// change returns the scaled change of node i, whose after value is total.
func (d *diffFrames) change(i int, total int64) float64 {
	return float64(total)*d.afterScale - float64(d.before[i])*d.beforeScale
}

// appendFill appends the colour of node i, whose after value is total.
func (d *diffFrames) appendFill(b []byte, i int, total int64) []byte {
	rel := 0.0
	if d.maxChange > 0 {
		rel = d.change(i, total) / d.maxChange
	}
	return appendDiffColor(b, rel)
}

// appendDetails appends what hovering node i shows after its name:
// "after 1.20 ms per request, before 2.40 ms, -50.0%". It must not hold
// " (", which the script takes for the end of the name.
func (d *diffFrames) appendDetails(b []byte, i int, total int64, typ, unit string) []byte {
	return d.appendPair(b, float64(d.before[i])*d.beforeScale, float64(total)*d.afterScale, typ, unit)
}

// appendPair appends "after A per X, before B, ±C%".
func (d *diffFrames) appendPair(b []byte, before, after float64, typ, unit string) []byte {
	b = append(b, "after "...)
	b = appendScaled(b, after, typ, unit)
	if d.per != "" {
		b = append(b, " per "...)
		b = appendXML(b, d.per)
	}
	b = append(b, ", before "...)
	if before == 0 {
		return append(b, "none, new"...)
	}
	b = appendScaled(b, before, typ, unit)
	b = append(b, ", "...)
	ch := 100 * (after - before) / before
	if ch >= 0 {
		b = append(b, '+')
	}
	b = strconv.AppendFloat(b, ch, 'f', 1, 64)
	return append(b, '%')
}

// appendSubtitle appends the line under the title of a differential flame
// graph: both totals and how to read the colours.
func (d *diffFrames) appendSubtitle(b []byte, total int64, typ, unit string) []byte {
	b = append(b, typ...)
	if unit != "" {
		b = append(b, " ("...)
		b = append(b, unit...)
		b = append(b, ')')
	}
	b = append(b, ": "...)
	b = d.appendPair(b, float64(d.beforeTotal)*d.beforeScale, float64(total)*d.afterScale, typ, unit)
	b = append(b, " · width: after · red grew, blue shrank"...)
	if total <= 0 {
		b = append(b, " · no samples after"...)
	}
	return b
}

// appendScaled appends a scaled value in the profile's unit.
func appendScaled(b []byte, v float64, typ, unit string) []byte {
	switch unit {
	case "nanoseconds", "bytes":
		return appendValue(b, int64(math.Round(v)), typ, unit)
	}
	b = strconv.AppendFloat(b, v, 'g', 3, 64)
	if typ != "" {
		b = append(append(b, ' '), typ...)
	}
	return b
}

// Colours of a differential flame graph: a frame that did not change is
// diffSame; one that grew moves towards diffGrew, one that shrank towards
// diffShrank, in proportion to the change.
var (
	diffSame   = [3]float64{236, 236, 236}
	diffGrew   = [3]float64{224, 52, 44}
	diffShrank = [3]float64{44, 104, 224}
)

// appendDiffColor appends the fill of a frame whose change is rel, from
// −1 (the largest fall) to +1 (the largest rise): diffSame mixed towards
// diffShrank or diffGrew in proportion.
func appendDiffColor(b []byte, rel float64) []byte {
	rel = max(-1, min(1, rel))
	to := diffGrew
	if rel < 0 {
		to, rel = diffShrank, -rel
	}
	b = append(b, "rgb("...)
	for k := range 3 {
		if k > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(math.Round(diffSame[k]+(to[k]-diffSame[k])*rel)), 10)
	}
	return append(b, ')')
}
