package report

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Chart size, in points; the page scales charts to its column width.
const (
	chartWidth  = vg.Length(540) // points
	chartHeight = vg.Length(230)
	// maxLinePoints is the most points a line chart draws; longer series
	// are cut into this many buckets. A 30-minute capture at one snapshot
	// a second has 1800 points, more than a chart has pixels.
	maxLinePoints = 400
	// maxScatterPoints is the most points a scatter draws.
	maxScatterPoints = 600
)

// The report's colours, shared by the charts and their HTML legends.
var (
	colP50     = rgb(0x25, 0x63, 0xeb)
	colP95     = rgb(0xf5, 0x9e, 0x0b)
	colP99     = rgb(0xdc, 0x26, 0x26)
	colOpen    = rgb(0x64, 0x74, 0x8b)
	colActive  = rgb(0x16, 0xa3, 0x4a)
	colIdle    = rgb(0x38, 0xbd, 0xf8)
	colWaiting = rgb(0xdc, 0x26, 0x26)
	colNew     = rgb(0xea, 0x58, 0x0c)
	colReused  = rgb(0x16, 0xa3, 0x4a)
	colScatter = rgb(0x7c, 0x3a, 0xed)
	colLimit   = rgb(0x94, 0xa3, 0xb8)
	colGrid    = rgb(0xe2, 0xe8, 0xf0)
)

func rgb(r, g, b uint8) color.RGBA { return color.RGBA{R: r, G: g, B: b, A: 0xff} }

// css returns c as a CSS colour.
func css(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// Chart is one figure of the HTML report: an inline SVG with its title,
// caption and legend (drawn in HTML, so that it reads at any size).
type Chart struct {
	Title   string
	Caption string
	Legend  []LegendItem
	SVG     template.HTML // empty when there was nothing to draw
	Empty   string        // why there is no chart
}

// LegendItem is one entry of a chart's HTML legend: a CSS colour.
type LegendItem struct {
	Label string
	Color string
	Dot   bool // a dot (scatter) rather than a line
}

// series is one line or scatter of a chart.
type series struct {
	label string
	color color.RGBA
	xys   plotter.XYs
	dot   bool
	dash  bool
}

// hostCharts draws the four charts of a host.
func hostCharts(h *HostReport) []Chart {
	return []Chart{latencyChart(h), poolChart(h), utilisationChart(h), churnChart(h)}
}

// latencyChart draws the rolling-window latency percentiles over time.
func latencyChart(h *HostReport) Chart {
	c := Chart{Title: "Latency over time"}
	if h.WindowSeconds > 0 {
		c.Title += " (rolling " + fmtSeconds(h.WindowSeconds) + " window)"
	}
	sm := &h.Samples
	var t, p50, p95, p99 []float64
	for i, n := range sm.LatencyN {
		if n == 0 {
			continue
		}
		t = append(t, sm.T[i])
		p50, p95, p99 = append(p50, sm.LatencyP50[i]), append(p95, sm.LatencyP95[i]), append(p99, sm.LatencyP99[i])
	}
	c.Caption = "Each snapshot's latency percentiles over the requests of its rolling window: a point summarises the window before it, not one instant."
	ss := []series{
		{label: "p50", color: colP50, xys: xy(t, p50, false)},
		{label: "p95", color: colP95, xys: xy(t, p95, true)},
		{label: "p99", color: colP99, xys: xy(t, p99, true)},
	}
	c.draw("seconds since capture start", "latency, ms", ss, nil)
	if len(t) > maxLinePoints {
		c.Caption += " Points are bucketed: p50 is the mean, p95 and p99 the maximum of each bucket."
	}
	return c
}

// poolChart draws the pool's occupancy over time.
func poolChart(h *HostReport) Chart {
	c := Chart{Title: "Pool over time: open, active, idle, waiting"}
	sm := &h.Samples
	n := sm.Len()
	t, open, active, idle, waiting := sm.T, floats(sm.Open), floats(sm.Active), floats(sm.Idle), floats(sm.Waiting)
	c.Caption = "Connections open, active (serving a request) and idle, and requests waiting for a connection, at each snapshot."
	ss := []series{
		{label: "open", color: colOpen, xys: xy(t, open, false)},
		{label: "active", color: colActive, xys: xy(t, active, false)},
		{label: "idle", color: colIdle, xys: xy(t, idle, false)},
		{label: "waiting", color: colWaiting, xys: xy(t, waiting, true)},
	}
	var limit *series
	if h.Pool.knownLimit() > 0 && n > 0 {
		limit = &series{label: fmt.Sprintf("MaxConnsPerHost = %d", h.Pool.Limit), color: colLimit, dash: true,
			xys: plotter.XYs{{X: t[0], Y: float64(h.Pool.Limit)}, {X: t[n-1], Y: float64(h.Pool.Limit)}}}
	}
	c.draw("seconds since capture start", "connections / requests", ss, limit)
	if n > maxLinePoints {
		c.Caption += " Points are bucketed: means, and the maximum for waiting."
	}
	return c
}

// utilisationChart draws latency against pool utilisation, one point per
// second.
func utilisationChart(h *HostReport) Chart {
	c := Chart{Title: "Latency vs pool utilisation"}
	limited := h.Pool.knownLimit() > 0
	xlabel := "requests in flight (the pool has no limit)"
	if limited {
		xlabel = fmt.Sprintf("in flight ÷ MaxConnsPerHost (N = %d)", h.Pool.Limit)
	} else if !h.Pool.LimitsKnown {
		xlabel = "requests in flight (pool limit unknown)"
	}
	var pts plotter.XYs
	if ps := &h.PerSecond; ps.Len() > 0 {
		c.Caption = "One point per second: mean requests in flight (waiting or holding a connection)"
		if limited {
			c.Caption += " ÷ pool limit"
		}
		c.Caption += ", against the mean latency of the requests that completed in that second. Above 1, requests queue for a connection."
		for i := range ps.T {
			if ps.Requests[i]-ps.Errors[i] > 0 {
				pts = append(pts, plotter.XY{X: ps.Utilisation[i], Y: ps.LatencyAvg[i]})
			}
		}
	} else {
		c.Caption = "One point per snapshot: requests in flight at that instant"
		if limited {
			c.Caption += " ÷ pool limit"
		}
		c.Caption += ", against the p50 latency of its rolling window (the capture has no per-second series)."
		sm := &h.Samples
		for i, n := range sm.LatencyN {
			if n == 0 {
				continue
			}
			x := float64(sm.InFlight[i])
			if limited {
				x /= float64(h.Pool.Limit)
			}
			pts = append(pts, plotter.XY{X: x, Y: sm.LatencyP50[i]})
		}
	}
	if len(pts) > maxScatterPoints {
		step := int(math.Ceil(float64(len(pts)) / maxScatterPoints))
		var kept plotter.XYs
		for i := 0; i < len(pts); i += step {
			kept = append(kept, pts[i])
		}
		pts = kept
		c.Caption += fmt.Sprintf(" Every %d%s point is drawn.", step, ordinalSuffix(step))
	}
	ss := []series{{label: "mean latency", color: colScatter, xys: pts, dot: true}}
	var limit *series
	if limited && len(pts) > 0 {
		ymax := 0.0
		for _, p := range pts {
			ymax = max(ymax, p.Y)
		}
		limit = &series{label: "pool full (1.0)", color: colLimit, dash: true, xys: plotter.XYs{{X: 1, Y: 0}, {X: 1, Y: ymax}}}
	}
	c.draw(xlabel, "latency, ms", ss, limit)
	return c
}

// churnChart draws new and reused connections per second.
func churnChart(h *HostReport) Chart {
	c := Chart{Title: "Connections per second: new vs reused"}
	ps := &h.PerSecond
	n := ps.Len()
	t, nw, ru := ps.T, floats(ps.NewConns), floats(ps.ReusedConns)
	c.Caption = "Requests per second that got a new connection (dialed, with a TLS handshake for https) and a pooled one."
	ss := []series{
		{label: "reused", color: colReused, xys: xy(t, ru, false)},
		{label: "new", color: colNew, xys: xy(t, nw, false)},
	}
	c.draw("seconds since capture start", "connections per second", ss, nil)
	if c.SVG == "" {
		c.Empty = "No per-second series: the capture was shorter than a second."
	}
	if n > maxLinePoints {
		c.Caption += " Points are bucketed means."
	}
	return c
}

// Line is one line of a LineChart: the points (X[i], Y[i]) in a colour,
// dashed when Dash is set.
type Line struct {
	Label string
	Color color.RGBA
	X, Y  []float64
	Dash  bool
}

// LineChart draws lines in the report's style, for other pages that show
// figures over time (package diff). Lines longer than the report draws
// are bucketed into means, as the report's are; a chart without a point
// has no SVG and says so in Empty.
func LineChart(title, caption, xlabel, ylabel string, lines []Line) Chart {
	c := Chart{Title: title, Caption: caption}
	ss := make([]series, len(lines))
	for i, l := range lines {
		ss[i] = series{label: l.Label, color: l.Color, xys: xy(l.X, l.Y, false), dash: l.Dash}
	}
	c.draw(xlabel, ylabel, ss, nil)
	return c
}

// floats converts integers to float64s for plotting.
func floats[T int | int64](vs []T) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = float64(v)
	}
	return out
}

// xy pairs xs and ys, bucketing them into maxLinePoints points when there
// are more: x and y are the bucket's means, or y its maximum when peak is
// true.
func xy(xs, ys []float64, peak bool) plotter.XYs {
	n := len(xs)
	if n <= maxLinePoints {
		out := make(plotter.XYs, n)
		for i := range xs {
			out[i] = plotter.XY{X: xs[i], Y: ys[i]}
		}
		return out
	}
	out := make(plotter.XYs, 0, maxLinePoints)
	for b := range maxLinePoints {
		lo, hi := b*n/maxLinePoints, (b+1)*n/maxLinePoints
		if lo == hi {
			continue
		}
		var sx, sy, my float64
		my = math.Inf(-1)
		for i := lo; i < hi; i++ {
			sx += xs[i]
			sy += ys[i]
			my = max(my, ys[i])
		}
		k := float64(hi - lo)
		y := sy / k
		if peak {
			y = my
		}
		out = append(out, plotter.XY{X: sx / k, Y: y})
	}
	return out
}

// draw plots ss (and a reference line, if any) into c.SVG and fills in c's
// legend. It leaves c.SVG empty, with c.Empty saying so, when no series has
// a point.
func (c *Chart) draw(xlabel, ylabel string, ss []series, ref *series) {
	points, scatter := 0, false
	for _, s := range ss {
		points += len(s.xys)
		scatter = scatter || s.dot
	}
	if points == 0 {
		c.Empty = "No data: the host had no requests in the snapshots' windows."
		return
	}
	p := plot.New()
	sans(p)
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.X.Padding, p.Y.Padding = vg.Points(2), vg.Points(2)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = colGrid, colGrid
	p.Add(grid)
	all := ss
	if ref != nil {
		all = append(append([]series{}, ss...), *ref)
	}
	for _, s := range all {
		if len(s.xys) == 0 {
			continue
		}
		if s.dot {
			sc, err := plotter.NewScatter(s.xys)
			if err != nil {
				c.Empty = "Cannot draw: " + err.Error()
				return
			}
			sc.GlyphStyle.Color = withAlpha(s.color, 0xb0)
			sc.GlyphStyle.Radius = vg.Points(2.2)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
		} else {
			l, err := plotter.NewLine(s.xys)
			if err != nil {
				c.Empty = "Cannot draw: " + err.Error()
				return
			}
			l.LineStyle.Color = s.color
			l.LineStyle.Width = vg.Points(1.6)
			if s.dash {
				l.LineStyle.Width = vg.Points(1)
				l.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(noGlyphBoxes{l})
		}
		c.Legend = append(c.Legend, LegendItem{Label: s.label, Color: css(s.color), Dot: s.dot})
	}
	p.Y.Min = 0
	if p.Y.Max <= 0 {
		p.Y.Max = 1
	}
	p.X.Min = min(p.X.Min, 0)
	if scatter {
		// Dots at the edge would be cut in half.
		p.X.Max += (p.X.Max - p.X.Min) * 0.04
		p.Y.Max *= 1.06
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{}, niceTicks{}
	cv := vgsvg.New(chartWidth, chartHeight)
	p.Draw(draw.New(cv))
	var buf bytes.Buffer
	if _, err := cv.WriteTo(&buf); err != nil {
		c.Empty = "Cannot draw: " + err.Error()
		return
	}
	c.SVG = template.HTML(inlineSVG(buf.String(), c.Title))
}

// inlineSVG turns a standalone SVG document from vgsvg into an element to
// embed in HTML: the XML prolog goes, and a class, an accessible role and a
// <title> come in.
func inlineSVG(doc, title string) string {
	i := strings.Index(doc, "<svg")
	if i < 0 {
		return ""
	}
	doc = doc[i:]
	end := strings.IndexByte(doc, '>')
	if end < 0 {
		return ""
	}
	return `<svg class="chart" role="img" aria-label="` + html.EscapeString(title) + `"` + doc[len("<svg"):end+1] +
		"<title>" + html.EscapeString(title) + "</title>" + doc[end+1:]
}

// sans sets every text of p in the sans-serif Liberation face, which
// browsers replace with Arial or Helvetica (same metrics) when it is not
// installed.
func sans(p *plot.Plot) {
	for _, f := range []*font.Font{
		&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font,
	} {
		f.Variant = "Sans"
	}
	p.X.Label.TextStyle.Font.Size = vg.Points(10)
	p.Y.Label.TextStyle.Font.Size = vg.Points(10)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
}

// noGlyphBoxes draws a line without reporting a glyph box per point: the
// boxes only pad the plot by half the line's width, and computing them for
// every point of every line dominated the time to draw a long capture.
type noGlyphBoxes struct{ l *plotter.Line }

func (n noGlyphBoxes) Plot(c draw.Canvas, p *plot.Plot) { n.l.Plot(c, p) }

func (n noGlyphBoxes) DataRange() (xmin, xmax, ymin, ymax float64) { return n.l.DataRange() }

// maxTicks bounds the ticks of an axis, labelled or not: about five
// labels and a tick between them need a dozen.
const maxTicks = 64

// niceTicks marks an axis every 1, 2 or 5 × 10ⁿ units, about five labels
// in all, with a minor tick between labels, and labels numbers without
// trailing zeros.
type niceTicks struct{}

func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: tickLabel(lo, 1)}}
	}
	raw := (hi - lo) / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var ticks []plot.Tick
	// Counted, not stepped in floating point: far from zero, adding 1 to
	// i may not change it (an axis from −10¹⁸ spanning 200), and the loop
	// would never end.
	first := math.Ceil(lo / step * 2)
	for k := range maxTicks {
		i := first + float64(k)
		v := i / 2 * step
		if v > hi+step*1e-9 {
			break
		}
		if math.Mod(i, 2) == 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: tickLabel(v, step)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// tickLabel formats v with as many decimals as step needs.
func tickLabel(v, step float64) string {
	dec := 0
	if step < 1 {
		dec = int(math.Ceil(-math.Log10(step) - 1e-9))
	}
	if math.Abs(v) < step*1e-9 {
		v = 0
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

// withAlpha returns c with alpha a, premultiplied as color.RGBA wants.
func withAlpha(c color.RGBA, a uint8) color.RGBA {
	f := float64(a) / 255
	return color.RGBA{R: uint8(float64(c.R) * f), G: uint8(float64(c.G) * f), B: uint8(float64(c.B) * f), A: a}
}

// ordinalSuffix returns the English ordinal suffix of n (st, nd, rd, th).
func ordinalSuffix(n int) string {
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}
