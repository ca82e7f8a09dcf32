package flame

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/google/pprof/profile"
)

// DefaultMinWidthPercent is the MinWidthPercent of DefaultSVGOptions: frames
// narrower than 0.1% of the total are left out. At the default width that
// is about a pixel, too thin to see or click, and leaving them out keeps the
// SVG of a large profile to a few hundred kilobytes.
const DefaultMinWidthPercent = 0.1

// SVGOptions controls how SVG draws a flame graph. The zero value is valid:
// it draws the default sample type, 1200 pixels wide, with every frame kept.
type SVGOptions struct {
	// Title is the heading drawn at the top. Empty means "Flame Graph".
	Title string
	// SampleType selects the value to draw, by name or index, as
	// SampleIndex reads it. Empty means the profile's default.
	SampleType string
	// Width is the image width in pixels. Zero or less means 1200.
	Width int
	// MinWidthPercent leaves out frames (and so everything above them)
	// whose value is less than this percentage of the total. Zero keeps
	// every frame, which is exact but can make the SVG of a large profile
	// very big; DefaultSVGOptions uses DefaultMinWidthPercent.
	MinWidthPercent float64
	// Inverted draws an icicle graph, the root at the top, instead of a
	// flame graph with the root at the bottom.
	Inverted bool
}

// DefaultSVGOptions returns the options the httptop CLI uses: 1200 pixels
// wide, frames under DefaultMinWidthPercent left out.
func DefaultSVGOptions() SVGOptions {
	return SVGOptions{Width: defaultSVGWidth, MinWidthPercent: DefaultMinWidthPercent}
}

// Layout of the drawing, in pixels.
const (
	defaultSVGWidth = 1200
	minSVGWidth     = 200
	xPad            = 10 // left and right margins
	headerHeight    = 64 // title, subtitle and buttons
	footerHeight    = 36 // details and matched lines
	frameHeight     = 16 // one stack level, including a 1px gap
	fontSize        = 12
	charWidth       = 0.59 * fontSize // average glyph width, as flamegraph.pl assumes
	textPad         = 3               // between a frame's edge and its text
	matchFill       = "rgb(230,0,230)"
	rootFill        = "rgb(190,190,190)"
)

// SVG writes an interactive flame graph of p to w: a self-contained SVG
// document (inline style and script, no external resources) that a browser
// opens directly. Each frame is a rectangle labelled with its function
// name, elided to fit. Hovering a frame shows its function, value and share
// of the total; clicking zooms into it and "Reset Zoom" (or Escape) zooms
// out; "Search" (or Ctrl-F) highlights the frames whose names match a
// regular expression and shows the share of the total they cover. A ?s=
// query parameter in the SVG's URL searches on load.
//
// Frames are coloured from a hash of the function name, in warm colours, so
// a function has the same colour in every graph. Children are ordered by
// name. Samples with negative values (difference profiles) are not drawn.
func SVG(w io.Writer, p *profile.Profile, opts SVGOptions) error {
	if p == nil {
		return fmt.Errorf("flame: svg: nil profile")
	}
	idx, err := SampleIndex(p, opts.SampleType)
	if err != nil {
		return fmt.Errorf("flame: svg: %w", err)
	}
	r := newSVGRenderer(buildTree(p, idx, nil), p, idx, opts)
	bw := bufio.NewWriterSize(w, 64<<10)
	r.write(bw)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("flame: write svg: %w", err)
	}
	return nil
}

// svgRenderer holds what writing one SVG needs.
type svgRenderer struct {
	t        *tree
	opts     SVGOptions
	typ      string // sample type, XML-escaped
	unit     string // sample unit, XML-escaped
	duration int64
	total    int64
	width    int
	height   int
	scale    float64 // pixels per unit of value
	rootY    int     // y of the root frame
	dir      int     // +1 when deeper frames are lower on the page
	maxDepth int
	names    []nameInfo
	buf      []byte
	// diff, when set, draws a differential flame graph (DiffSVG).
	diff *diffFrames
}

// nameInfo caches per-name output, computed on first use.
type nameInfo struct {
	done  bool
	runes int
	esc   string // XML-escaped name
	fill  string
}

// newSVGRenderer works out the layout of t: its size, scale and the depth of
// the deepest frame drawn.
func newSVGRenderer(t *tree, p *profile.Profile, idx int, opts SVGOptions) *svgRenderer {
	r := &svgRenderer{
		t:        t,
		opts:     opts,
		typ:      string(appendXML(nil, p.SampleType[idx].Type)),
		unit:     string(appendXML(nil, p.SampleType[idx].Unit)),
		duration: p.DurationNanos,
		total:    t.nodes[0].total,
		width:    opts.Width,
		names:    make([]nameInfo, len(t.names)),
	}
	if r.width <= 0 {
		r.width = defaultSVGWidth
	}
	r.width = max(r.width, minSVGWidth)
	if r.opts.Title == "" {
		r.opts.Title = "Flame Graph"
	}
	if r.total > 0 {
		r.scale = float64(r.width-2*xPad) / float64(r.total)
		for i := 1; i < len(t.nodes); {
			n := &t.nodes[i]
			if !r.keep(n) {
				i = int(n.end)
				continue
			}
			r.maxDepth = max(r.maxDepth, int(n.depth))
			i++
		}
	}
	r.height = headerHeight + (r.maxDepth+1)*frameHeight + footerHeight
	if opts.Inverted {
		r.rootY, r.dir = headerHeight, 1
	} else {
		r.rootY, r.dir = r.height-footerHeight-frameHeight, -1
	}
	return r
}

// keep reports whether n is drawn.
func (r *svgRenderer) keep(n *node) bool {
	if n.total <= 0 {
		return false
	}
	return r.opts.MinWidthPercent <= 0 || float64(n.total)*100 >= r.opts.MinWidthPercent*float64(r.total)
}

// write writes the whole document to bw; bw keeps the first write error.
func (r *svgRenderer) write(bw *bufio.Writer) {
	b := r.buf[:0]
	w, h := strconv.Itoa(r.width), strconv.Itoa(r.height)
	b = append(b, `<?xml version="1.0" encoding="UTF-8" standalone="no"?>`+"\n"...)
	b = append(b, `<svg version="1.1" xmlns="http://www.w3.org/2000/svg" width="`...)
	b = append(b, w...)
	b = append(b, `" height="`...)
	b = append(b, h...)
	b = append(b, `" viewBox="0 0 `...)
	b = append(b, w...)
	b = append(b, ' ')
	b = append(b, h...)
	b = append(b, "\">\n<style><![CDATA["...)
	b = append(b, svgStyle...)
	b = append(b, "]]></style>\n"...)
	b = append(b, `<rect class="bg" x="0" y="0" width="100%" height="100%"/>`+"\n"...)

	b = append(b, `<text id="title" x="`...)
	b = strconv.AppendInt(b, int64(r.width/2), 10)
	b = append(b, `" y="24">`...)
	b = appendXML(b, r.opts.Title)
	b = append(b, "</text>\n"...)

	b = append(b, `<text id="subtitle" x="`...)
	b = strconv.AppendInt(b, int64(r.width/2), 10)
	b = append(b, `" y="44">`...)
	b = r.appendSubtitle(b)
	b = append(b, "</text>\n"...)

	b = append(b, `<text id="unzoom" class="btn hide" x="10" y="24">Reset Zoom</text>`+"\n"...)
	b = append(b, `<text id="search" class="btn" x="`...)
	b = strconv.AppendInt(b, int64(r.width-xPad), 10)
	b = append(b, `" y="24">Search</text>`+"\n"...)
	b = append(b, `<text id="details" x="10" y="`...)
	b = strconv.AppendInt(b, int64(r.height-14), 10)
	b = append(b, "\"> </text>\n"...)
	b = append(b, `<text id="matched" x="`...)
	b = strconv.AppendInt(b, int64(r.width-xPad), 10)
	b = append(b, `" y="`...)
	b = strconv.AppendInt(b, int64(r.height-14), 10)
	b = append(b, "\"> </text>\n"...)

	b = append(b, "<g id=\"frames\">\n"...)
	bw.Write(b)
	r.buf = b
	if r.total > 0 {
		r.writeFrames(bw)
	}

	b = r.buf[:0]
	b = append(b, "</g>\n<script type=\"text/ecmascript\"><![CDATA[\nvar cfg = {xpad: "...)
	b = strconv.AppendInt(b, xPad, 10)
	b = append(b, ", width: "...)
	b = strconv.AppendInt(b, int64(r.width-2*xPad), 10)
	b = append(b, ", total: "...)
	b = strconv.AppendInt(b, r.total, 10)
	b = append(b, ", frameH: "...)
	b = strconv.AppendInt(b, frameHeight, 10)
	b = append(b, ", rootY: "...)
	b = strconv.AppendInt(b, int64(r.rootY), 10)
	b = append(b, ", dir: "...)
	b = strconv.AppendInt(b, int64(r.dir), 10)
	b = append(b, ", charW: "...)
	b = strconv.AppendFloat(b, charWidth, 'f', 2, 64)
	b = append(b, ", pad: "...)
	b = strconv.AppendInt(b, textPad, 10)
	b = append(b, `, matchFill: "`+matchFill+`"};`...)
	b = append(b, svgScript...)
	b = append(b, "]]></script>\n</svg>\n"...)
	bw.Write(b)
	r.buf = b
}

// appendSubtitle appends the line under the title: what is measured, the
// total, and how long the profile ran.
func (r *svgRenderer) appendSubtitle(b []byte) []byte {
	if r.diff != nil {
		return r.diff.appendSubtitle(b, r.total, r.typ, r.unit)
	}
	b = append(b, r.typ...)
	if r.unit != "" {
		b = append(b, " ("...)
		b = append(b, r.unit...)
		b = append(b, ')')
	}
	b = append(b, " · total "...)
	b = appendValue(b, r.total, r.typ, r.unit)
	if r.duration > 0 {
		b = append(b, " · profile of "...)
		b = appendValue(b, r.duration, "", "nanoseconds")
	}
	if r.total <= 0 {
		b = append(b, " · no samples"...)
	}
	return b
}

// writeFrames writes one <g> per drawn node, in pre-order. A node starts
// where its previous sibling ended (cursor[depth]) and its children start
// where it starts.
func (r *svgRenderer) writeFrames(bw *bufio.Writer) {
	nodes := r.t.nodes
	cursor := make([]int64, r.maxDepth+2)
	b := r.buf[:0]
	for i := 0; i < len(nodes); {
		n := &nodes[i]
		if i > 0 && !r.keep(n) {
			if n.total > 0 {
				cursor[n.depth] = addSat(cursor[n.depth], n.total)
			}
			i = int(n.end)
			continue
		}
		d := n.depth
		x := cursor[d]
		cursor[d] = addSat(cursor[d], n.total)
		cursor[d+1] = x
		b = r.appendFrame(b, i, x)
		if len(b) >= 32<<10 {
			bw.Write(b)
			b = b[:0]
		}
		i++
	}
	bw.Write(b)
	r.buf = b
}

// appendFrame appends node i, which starts at value offset x.
func (r *svgRenderer) appendFrame(b []byte, i int, x int64) []byte {
	n := &r.t.nodes[i]
	var ni *nameInfo
	name := "all"
	if n.name >= 0 {
		ni = r.info(n.name)
		name = r.t.names[n.name]
	}
	px := xPad + float64(x)*r.scale
	pw := float64(n.total) * r.scale
	y := r.rootY + r.dir*int(n.depth)*frameHeight

	b = append(b, `<g class="f" data-x="`...)
	b = strconv.AppendInt(b, x, 10)
	b = append(b, `" data-v="`...)
	b = strconv.AppendInt(b, n.total, 10)
	b = append(b, `"><title>`...)
	if ni != nil {
		b = append(b, ni.esc...)
	} else {
		b = append(b, name...)
	}
	b = append(b, " ("...)
	if r.diff != nil {
		b = r.diff.appendDetails(b, i, n.total, r.typ, r.unit)
	} else {
		b = appendValue(b, n.total, r.typ, r.unit)
		b = append(b, ", "...)
		b = appendPercent(b, n.total, r.total)
	}
	b = append(b, `)</title><rect x="`...)
	b = strconv.AppendFloat(b, px, 'f', 2, 64)
	b = append(b, `" y="`...)
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, `" width="`...)
	b = strconv.AppendFloat(b, pw, 'f', 2, 64)
	b = append(b, `" height="`...)
	b = strconv.AppendInt(b, frameHeight-1, 10)
	b = append(b, `" rx="2" fill="`...)
	if r.diff != nil {
		b = r.diff.appendFill(b, i, n.total)
	} else if ni != nil {
		b = append(b, ni.fill...)
	} else {
		b = append(b, rootFill...)
	}
	b = append(b, `"/><text x="`...)
	b = strconv.AppendFloat(b, px+textPad, 'f', 2, 64)
	b = append(b, `" y="`...)
	b = strconv.AppendInt(b, int64(y+fontSize), 10)
	b = append(b, `">`...)
	b = r.appendLabel(b, name, ni, pw)
	b = append(b, "</text></g>\n"...)
	return b
}

// appendLabel appends name escaped and elided with ".." to fit width pixels;
// nothing when not even three characters fit.
func (r *svgRenderer) appendLabel(b []byte, name string, ni *nameInfo, width float64) []byte {
	fit := int((width - 2*textPad) / charWidth)
	if fit < 3 {
		return b
	}
	runes := utf8.RuneCountInString(name)
	if ni != nil {
		runes = ni.runes
	}
	if runes <= fit {
		if ni != nil {
			return append(b, ni.esc...)
		}
		return appendXML(b, name)
	}
	end := 0
	for k := 0; k < fit-2; k++ {
		_, size := utf8.DecodeRuneInString(name[end:])
		end += size
	}
	return append(appendXML(b, name[:end]), ".."...)
}

// info returns the cached output for name id, computing it on first use.
func (r *svgRenderer) info(id int32) *nameInfo {
	ni := &r.names[id]
	if !ni.done {
		name := r.t.names[id]
		ni.done = true
		ni.runes = utf8.RuneCountInString(name)
		ni.esc = string(appendXML(nil, name))
		ni.fill = warmColor(name)
	}
	return ni
}

// warmColor picks a colour in flamegraph.pl's "hot" palette (reds, oranges,
// yellows) from a hash of name, so a function keeps its colour across
// graphs and neighbouring frames usually differ.
func warmColor(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	v := h.Sum32()
	red := 205 + 50*(v>>16&0xff)/255
	green := 230 * (v & 0xff) / 255
	blue := 55 * (v >> 8 & 0xff) / 255
	b := make([]byte, 0, 18)
	b = append(b, "rgb("...)
	b = strconv.AppendUint(b, uint64(red), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(green), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(blue), 10)
	b = append(b, ')')
	return string(b)
}
