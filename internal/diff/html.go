package diff

import (
	_ "embed"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"strconv"

	"github.com/httptop/httptop/internal/report"
)

//go:embed diff.html.tmpl
var htmlSource string

// htmlTemplate is the page; it draws what htmlView holds, formatted.
var htmlTemplate = template.Must(template.New("diff").Parse(htmlSource))

// Colours of the before and after lines of the charts.
var (
	colBefore = color.RGBA{R: 0x94, G: 0xa3, B: 0xb8, A: 0xff}
	colAfter  = color.RGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}
)

// htmlView is what the template draws.
type htmlView struct {
	Style    template.CSS
	Title    string
	Sides    []sideView
	Beyond   int
	Process  string
	Warnings []string
	Hosts    []hostView
	Other    []diagView
	Code     []codeView
	Noise    []string
}

type sideView struct {
	Name, Text, Dir, Report string
}

// hostView is one host's section.
type hostView struct {
	ID, Label, Match string
	Beyond           int
	Rows             []metricRow
	Charts           []report.Chart
	Diagnoses        []diagView
	Little           []littleRow
	Verdicts         []string
}

type metricRow struct {
	Name, Before, After, Change, Verdict, Test string
	// Class colours the verdict: better, worse, changed or none.
	Class string
}

type littleRow struct{ Name, Before, After string }

type diagView struct {
	Label, Status, Severity, Kind, Shares string
	Beyond                                bool
	Before, After, Advice                 string
	Evidence                              []evidenceRow
}

type evidenceRow struct{ Name, Before, After string }

type codeView struct {
	ID, Heading, Before, After, Change, Class, Note  string
	FlameGraph, ProfileBefore, ProfileAfter, Command string
	Tables                                           []codeTable
}

type codeTable struct {
	Title, Name, Note string
	Rows              []codeRowView
}

type codeRowView struct {
	Name, FlatBefore, FlatAfter, FlatChange, CumBefore, CumAfter, CumChange string
	// FlatClass and CumClass colour the changes: better (less), worse
	// (more) or none; the change the table is not ranked by stays none.
	FlatClass, CumClass string
}

// WriteHTML writes the diff as one self-contained HTML page (diff.html):
// the report's stylesheet, charts as inline SVG, no scripts, nothing
// fetched from the network; it links to the two reports and the diff's
// own files.
func (d *Diff) WriteHTML(w io.Writer) error {
	v := htmlView{
		Style: report.Stylesheet(), Title: d.title(), Beyond: d.beyond(), Warnings: d.Warnings, Noise: d.Noise.Text,
		Sides: []sideView{
			{Name: "Before", Text: d.Before.text(), Dir: d.Before.Dir, Report: d.Before.Report},
			{Name: "After", Text: d.After.text(), Dir: d.After.Dir, Report: d.After.Report},
		},
	}
	if d.Process != nil {
		v.Process = d.Process.text()
	}
	for i := range d.Hosts {
		v.Hosts = append(v.Hosts, hostHTML(&d.Hosts[i], "host-"+strconv.Itoa(i+1)))
	}
	for i := range d.OtherDiagnoses {
		dd := &d.OtherDiagnoses[i]
		dv := diagHTML(dd)
		dv.Label = dd.Client + " → " + dd.Host
		v.Other = append(v.Other, dv)
	}
	for _, cd := range []*CodeDiff{d.CPU, d.Wall} {
		if cd != nil {
			v.Code = append(v.Code, codeHTML(cd))
		}
	}
	if err := htmlTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("diff: write html: %w", err)
	}
	return nil
}

// hostHTML prepares one host's section.
func hostHTML(hd *HostDiff, id string) hostView {
	hv := hostView{ID: id, Label: hd.Label, Match: hd.matchText(), Beyond: hd.BeyondNoise}
	for j := range hd.Metrics {
		m := &hd.Metrics[j]
		row := metricRow{Name: m.Name, Before: hd.figure(m, m.Before, false), After: hd.figure(m, m.After, true),
			Change: m.changeText(), Verdict: m.verdictText(), Test: m.testText(), Class: "none"}
		if m.BeyondNoise {
			row.Class = m.Verdict
		}
		hv.Rows = append(hv.Rows, row)
	}
	for j := range hd.Diagnoses {
		hv.Diagnoses = append(hv.Diagnoses, diagHTML(&hd.Diagnoses[j]))
	}
	if hd.Little.Before != nil || hd.Little.After != nil {
		for _, r := range littleRows {
			hv.Little = append(hv.Little, littleRow{Name: r.name, Before: r.value(hd.littleSide(false)), After: r.value(hd.littleSide(true))})
		}
		if hd.Little.Before != nil {
			hv.Verdicts = append(hv.Verdicts, "Before: "+hd.Little.Before.Verdict)
		}
		if hd.Little.After != nil {
			hv.Verdicts = append(hv.Verdicts, "After: "+hd.Little.After.Verdict)
		}
	}
	hv.Charts = hostCharts(hd)
	return hv
}

// hostCharts draws a host's per-second series of both captures on one
// time axis: latency, waiting, requests.
func hostCharts(hd *HostDiff) []report.Chart {
	type pick func(ps *report.Seconds, i int) (float64, bool)
	lines := func(f pick) []report.Line {
		var out []report.Line
		for _, s := range []struct {
			label string
			col   color.RGBA
			h     *report.HostReport
		}{{"before", colBefore, hd.before}, {"after", colAfter, hd.after}} {
			if s.h == nil {
				continue
			}
			ps := &s.h.PerSecond
			l := report.Line{Label: s.label, Color: s.col}
			for i := range ps.Len() {
				if y, ok := f(ps, i); ok {
					l.X, l.Y = append(l.X, ps.T[i]), append(l.Y, y)
				}
			}
			out = append(out, l)
		}
		return out
	}
	const x = "seconds since capture start"
	return []report.Chart{
		report.LineChart("Mean latency per second", "The mean latency of the requests that completed in each second, before and after.",
			x, "latency, ms", lines(func(ps *report.Seconds, i int) (float64, bool) { return ps.LatencyAvg[i], completed(ps, i) })),
		report.LineChart("Requests waiting for a connection", "The mean number of requests waiting for a connection in each second.",
			x, "requests waiting", lines(func(ps *report.Seconds, i int) (float64, bool) { return ps.AvgWaiting[i], true })),
		report.LineChart("Requests per second", "Requests completed in each second.",
			x, "req/s", lines(func(ps *report.Seconds, i int) (float64, bool) { return float64(ps.Requests[i]), true })),
	}
}

// diagHTML prepares one diagnosis.
func diagHTML(dd *DiagnosisDiff) diagView {
	f := dd.After
	if f == nil {
		f = dd.Before
	}
	dv := diagView{
		Status: dd.Status, Severity: string(f.Severity), Kind: string(dd.Kind), Beyond: dd.BeyondNoise,
		Shares: "made in " + report.FormatPct(dd.ShareBefore) + " of the snapshots before, " + report.FormatPct(dd.ShareAfter) + " after",
	}
	if dd.Before != nil {
		dv.Before = dd.Before.Summary
	}
	if dd.After != nil {
		dv.After, dv.Advice = dd.After.Summary, dd.After.Advice
	}
	for _, e := range dd.Evidence {
		dv.Evidence = append(dv.Evidence, evidenceRow{Name: e.Name, Before: evidenceCell(e.Before), After: evidenceCell(e.After)})
	}
	return dv
}

// codeHTML prepares one code comparison.
func codeHTML(cd *CodeDiff) codeView {
	cv := codeView{
		ID: "code-" + string(cd.Kind), Heading: cd.heading(),
		Before: costText(cd.Before.PerUnit, cd.Unit), After: costText(cd.After.PerUnit, cd.Unit),
		Change: costChange(cd.Change, cd.RelChange, cd.Unit), Class: changeClass(cd.Change),
		Note: cd.perNote(), FlameGraph: cd.FlameGraph, ProfileBefore: cd.ProfileBefore, ProfileAfter: cd.ProfileAfter,
		Command: cd.pprofCommand(),
	}
	for _, v := range cd.Views {
		t := codeTable{Title: v.Title, Name: v.Name, Note: orderNote(v.Order)}
		for _, r := range v.Rows {
			flat, cum := r.changes(v.Order, cd.Unit)
			row := codeRowView{
				Name: r.Name, FlatBefore: costText(r.FlatBefore, cd.Unit), FlatAfter: costText(r.FlatAfter, cd.Unit), FlatChange: flat,
				CumBefore: costText(r.CumBefore, cd.Unit), CumAfter: costText(r.CumAfter, cd.Unit), CumChange: cum,
				FlatClass: "none", CumClass: "none",
			}
			if v.Order == OrderCum {
				row.CumClass = changeClass(r.CumChange)
			} else {
				row.FlatClass = changeClass(r.FlatChange)
			}
			t.Rows = append(t.Rows, row)
		}
		cv.Tables = append(cv.Tables, t)
	}
	return cv
}

// changeClass colours a change of cost: more is worse.
func changeClass(change float64) string {
	switch {
	case change > 0:
		return VerdictWorse
	case change < 0:
		return VerdictBetter
	}
	return "none"
}
