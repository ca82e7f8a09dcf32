package diff

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/httptop/httptop/internal/report"
)

// figure formats a value of metric m of host hd; after says which
// capture's host the value belongs to (for the pool limit, which may be
// unknown on one side).
func (hd *HostDiff) figure(m *Metric, v float64, after bool) string {
	if m.Key == "pool_limit" {
		h := hd.before
		if after {
			h = hd.after
		}
		return report.FormatN(int(v), h != nil && h.Pool.LimitsKnown)
	}
	return formatUnit(m.Unit, v)
}

// formatUnit formats v in a metric's unit, as the reports do.
func formatUnit(unit string, v float64) string {
	switch unit {
	case "ms":
		return report.FormatMs(v)
	case "/s":
		return report.FormatRate(v)
	case "fraction":
		return report.FormatPct(v)
	case "bytes":
		return report.FormatBytes(int64(math.Round(v)))
	case "conns":
		return report.FormatEvidence(v)
	}
	return report.FormatNum(v)
}

// changeText formats a metric's change: "+560 (+700%)", "−349 ms (−87%)".
func (m *Metric) changeText() string {
	if m.Change == 0 {
		return "0"
	}
	s := signed(m.Change, formatUnit(m.Unit, math.Abs(m.Change)))
	if m.Unit == "fraction" {
		s = signed(m.Change, strconv.FormatFloat(math.Abs(m.Change)*100, 'f', 1, 64)+" points")
	}
	if m.RelChange != nil {
		s += " (" + relText(*m.RelChange) + ")"
	}
	return s
}

// signed puts the sign of v in front of s, the magnitude of v formatted.
func signed(v float64, s string) string {
	if v < 0 {
		return "−" + s
	}
	return "+" + s
}

// relText formats a relative change: +700%, −87%.
func relText(rel float64) string {
	return signed(rel, report.FormatPct(math.Abs(rel)))
}

// verdictText says in a few words what became of a metric.
func (m *Metric) verdictText() string {
	switch m.Verdict {
	case VerdictBetter, VerdictWorse, VerdictChanged:
		if m.Setting {
			return "changed (setting)"
		}
		return m.Verdict + ", beyond noise"
	}
	return m.Verdict
}

// testText describes the test behind a metric, or why there was none.
func (m *Metric) testText() string {
	t := m.Test
	if t == nil {
		if m.Setting && m.Verdict != VerdictSame {
			return "a setting: exact"
		}
		return ""
	}
	vals := fmt.Sprintf("%s: %s ± %s over %d → %s ± %s over %d", t.Basis,
		report.FormatNum(t.MeanBefore), report.FormatNum(t.SDBefore), t.NBefore,
		report.FormatNum(t.MeanAfter), report.FormatNum(t.SDAfter), t.NAfter)
	if m.Verdict == VerdictUntested {
		return t.Note + " (" + vals + ")"
	}
	s := pText(t.P) + "; " + vals
	if t.Note != "" {
		s += "; " + t.Note
	}
	return s
}

// pText formats a p-value.
func pText(p float64) string {
	if p < 0.0001 {
		return "p < 0.0001"
	}
	return "p = " + strconv.FormatFloat(p, 'g', 2, 64)
}

// costText formats a cost per request (or second) in a profile's unit.
func costText(v float64, unit string) string {
	switch unit {
	case "nanoseconds":
		a := math.Abs(v)
		switch {
		case a == 0:
			return "0"
		case a < 1e3:
			return strconv.FormatFloat(v, 'f', 0, 64) + " ns"
		case a < 1e6:
			return strconv.FormatFloat(v/1e3, 'f', 1, 64) + " µs"
		}
		return report.FormatMs(v / 1e6)
	case "bytes":
		return report.FormatBytes(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// costChange formats a change of cost: "−120.0 µs (−48%)".
func costChange(change float64, rel *float64, unit string) string {
	if change == 0 {
		return "0"
	}
	s := signed(change, costText(math.Abs(change), unit))
	if rel != nil {
		s += " (" + relText(*rel) + ")"
	}
	return s
}

// changes formats a row's flat and cumulative changes, the one its table
// is ranked by with its relative change.
func (r *CodeRow) changes(order, unit string) (flat, cum string) {
	var fr, cr *float64
	if order == OrderCum {
		cr = r.RelChange
	} else {
		fr = r.RelChange
	}
	return costChange(r.FlatChange, fr, unit), costChange(r.CumChange, cr, unit)
}

// rankedChange is the change a row's table is ranked by.
func (r *CodeRow) rankedChange(order string) float64 {
	_, c := r.ranked(order == OrderCum)
	return c
}

// orderNote says what a code table's columns are and how it is ranked.
func orderNote(order string) string {
	return "flat: samples whose innermost frame is in it; cum: samples with it anywhere on the stack, each counted once. " +
		"Largest change of " + order + " cost first."
}

// heading is a code comparison's heading: "CPU per request".
func (cd *CodeDiff) heading() string {
	return report.KindName(cd.Kind) + " per " + cd.Per
}

// perNote says what the costs are divided by.
func (cd *CodeDiff) perNote() string {
	if cd.Per == PerRequest {
		return fmt.Sprintf("Costs are %s %s divided by the requests all instrumented clients completed while the profile ran: %s requests in %s before, %s in %s after.",
			cd.SampleType, cd.Unit, report.FormatNum(cd.Before.Requests), report.FormatSeconds(cd.Before.Seconds),
			report.FormatNum(cd.After.Requests), report.FormatSeconds(cd.After.Seconds))
	}
	return fmt.Sprintf("A capture completed no request while its profile ran, so costs are %s %s per second of profile (%s before, %s after), not per request.",
		cd.SampleType, cd.Unit, report.FormatSeconds(cd.Before.Seconds), report.FormatSeconds(cd.After.Seconds))
}

// pprofCommand is the go tool pprof command that compares the pair.
func (cd *CodeDiff) pprofCommand() string {
	return "go tool pprof -top -diff_base " + cd.ProfileBefore + " " + cd.ProfileAfter
}

// line says what became of a diagnosis in a few words.
func (dd *DiagnosisDiff) line() string {
	f := dd.After
	if f == nil {
		f = dd.Before
	}
	s := fmt.Sprintf("%s %s (%s): %s of snapshots before, %s after", string(dd.Kind), dd.Status, f.Severity,
		report.FormatPct(dd.ShareBefore), report.FormatPct(dd.ShareAfter))
	if dd.BeyondNoise {
		s += ", beyond noise"
	}
	return s
}

// text describes a capture in a sentence fragment.
func (s *Side) text() string {
	var b strings.Builder
	b.WriteString(orUnknown(s.Program))
	if s.PID > 0 {
		fmt.Fprintf(&b, " (pid %d)", s.PID)
	}
	fmt.Fprintf(&b, ", captured %s for %s, %d snapshots", s.Start.UTC().Format("2006-01-02 15:04:05 MST"), report.FormatSeconds(s.Seconds), s.Snapshots)
	if s.Canceled {
		b.WriteString(" (ended early)")
	}
	return b.String()
}

// text describes the program's load before and after in a line.
func (p *ProcessDiff) text() string {
	b, a := &p.Before, &p.After
	return fmt.Sprintf("process CPU %s → %s of a core, RSS %s → %s, goroutines %s → %s (means over the snapshots; context, not tested)",
		report.FormatPct(b.CPUPercent/100), report.FormatPct(a.CPUPercent/100),
		report.FormatBytes(int64(b.RSSBytes)), report.FormatBytes(int64(a.RSSBytes)),
		report.FormatNum(b.Goroutines), report.FormatNum(a.Goroutines))
}

// title names the diff: the program, or both programs.
func (d *Diff) title() string {
	if d.Before.Program == d.After.Program {
		return orUnknown(d.After.Program)
	}
	return orUnknown(d.Before.Program) + " → " + orUnknown(d.After.Program)
}

// beyond counts the changes beyond noise: metrics and diagnoses.
func (d *Diff) beyond() int {
	n := 0
	for i := range d.Hosts {
		n += d.Hosts[i].BeyondNoise
		for _, dd := range d.Hosts[i].Diagnoses {
			if dd.BeyondNoise {
				n++
			}
		}
	}
	for _, dd := range d.OtherDiagnoses {
		if dd.BeyondNoise {
			n++
		}
	}
	return n
}

// matchText says how a host was matched.
func (hd *HostDiff) matchText() string {
	switch hd.Match {
	case MatchSame:
		return "same host in both captures"
	case MatchRule:
		return "matched by --match"
	case MatchAuto:
		return "matched automatically: the client's only other host in each capture"
	case MatchBeforeOnly:
		return "only in the before capture"
	case MatchAfterOnly:
		return "only in the after capture"
	}
	return hd.Match
}

// littleSide is one capture's host for the pool sizing rows; h is nil on
// the side that lacks the host.
type littleSide struct{ h *report.HostReport }

// littleSide returns the before or after side of the host's pool sizing.
func (hd *HostDiff) littleSide(after bool) *littleSide {
	if after {
		return &littleSide{hd.after}
	}
	return &littleSide{hd.before}
}

// littleRows are the pool sizing figures diff.md and diff.html show side
// by side, formatted as the reports format them.
var littleRows = []struct {
	name  string
	value func(s *littleSide) string
}{
	{"λ (req/s)", func(s *littleSide) string {
		return s.show(func(h *report.HostReport) string { return report.FormatNum(h.Little.Lambda) })
	}},
	{"W (holding a connection)", func(s *littleSide) string {
		return s.show(func(h *report.HostReport) string { return report.FormatMs(h.Little.Service) })
	}},
	{"λ·W (busy connections)", func(s *littleSide) string {
		return s.show(func(h *report.HostReport) string { return report.FormatRate(h.Little.Load) })
	}},
	{"N (MaxConnsPerHost)", func(s *littleSide) string {
		return s.show(func(h *report.HostReport) string { return report.FormatN(h.Little.N, h.Pool.LimitsKnown) })
	}},
	{"λ·W vs N", func(s *littleSide) string {
		return s.show(func(h *report.HostReport) string { return report.RelationText(&h.Little) })
	}},
	{"P(wait) at N", func(s *littleSide) string {
		return s.show(func(h *report.HostReport) string { return report.PWaitText(&h.Little) })
	}},
	{"recommended N", func(s *littleSide) string {
		return s.show(func(h *report.HostReport) string { return strconv.Itoa(h.Little.Recommended) })
	}},
}

// show formats the side's host with f, or "–" without one.
func (s *littleSide) show(f func(h *report.HostReport) string) string {
	if s.h == nil {
		return "–"
	}
	return f(s.h)
}
