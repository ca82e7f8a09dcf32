package diff

import (
	"bufio"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/httptop/httptop/internal/report"
)

// summaryRows is how many code changes the terminal summary names.
const summaryRows = 3

// WriteSummary writes a few lines for the terminal: per host the figures
// whose change is beyond noise and the diagnoses that appeared or went,
// and the code's cost per request with its largest changes.
func (d *Diff) WriteSummary(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("%s: %s → %s; %d changes beyond noise (Welch's t-test on per-second values, p < %g, change ≥ %s)\n",
		d.title(), orDash(d.Before.Dir), orDash(d.After.Dir), d.beyond(), Alpha, report.FormatPct(MinRelativeChange))
	for _, wn := range d.Warnings {
		p("  warning: %s\n", wn)
	}
	if d.Process != nil {
		p("  %s\n", d.Process.text())
	}
	for i := range d.Hosts {
		hd := &d.Hosts[i]
		if hd.Before == nil || hd.After == nil {
			p("%s: %s\n", hd.Label, hd.matchText())
			continue
		}
		p("%s", hd.Label)
		if hd.Match != MatchSame {
			p(" [%s]", hd.matchText())
		}
		p("\n")
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		shown := 0
		for j := range hd.Metrics {
			m := &hd.Metrics[j]
			if !m.BeyondNoise {
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s → %s\t%s\t%s\n", m.Name, hd.figure(m, m.Before, false), hd.figure(m, m.After, true), m.changeText(), m.Verdict)
			shown++
		}
		tw.Flush()
		if shown == 0 {
			p("  nothing beyond noise (%d figures compared)\n", len(hd.Metrics))
		}
		for j := range hd.Diagnoses {
			if dd := &hd.Diagnoses[j]; dd.Status != StatusStayed || dd.BeyondNoise {
				p("  %s\n", dd.line())
			}
		}
	}
	for i := range d.OtherDiagnoses {
		if dd := &d.OtherDiagnoses[i]; dd.Status != StatusStayed {
			p("%s → %s: %s\n", dd.Client, dd.Host, dd.line())
		}
	}
	for _, cd := range []*CodeDiff{d.CPU, d.Wall} {
		if cd == nil {
			continue
		}
		p("%s: %s → %s, %s", cd.heading(), costText(cd.Before.PerUnit, cd.Unit), costText(cd.After.PerUnit, cd.Unit),
			costChange(cd.Change, cd.RelChange, cd.Unit))
		if len(cd.Views) > 0 && len(cd.Views[0].Rows) > 0 {
			v := &cd.Views[0]
			p("; by %s (%s):", v.Name, v.Order)
			for k, r := range v.Rows[:min(len(v.Rows), summaryRows)] {
				if k > 0 {
					p(",")
				}
				p(" %s %s", r.Name, costChange(r.rankedChange(v.Order), r.RelChange, cd.Unit))
			}
		}
		p("\n")
	}
	return bw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
