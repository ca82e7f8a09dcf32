package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/httptop/httptop/internal/capture"
)

//go:embed report.html.tmpl
var htmlSource string

//go:embed report.css
var styleSource string

// Stylesheet returns the report page's CSS, for other pages drawn in the
// same style (diff.html): cards, tables, tiles, badges, charts.
func Stylesheet() template.CSS { return template.CSS(styleSource) }

// htmlTemplate is the page; its functions format figures the way report.md
// does.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"ms":       fmtMs,
	"num":      fmtNum,
	"rate":     fmtRate,
	"pct":      fmtPct,
	"pctv":     fmtPctValue,
	"pool":     fmtPool,
	"n":        fmtN,
	"relation": relationText,
	"pwait":    pWaitText,
	"dist":     distCell,
	"resumed":  resumedCell,
	"value":    fmtValue,
	"evidence": fmtEvidence,
	"seconds":  fmtSeconds,
	"kind":     kindName,
	"sorted":   sortedKeys,
	"inc":      func(i int) int { return i + 1 },
	"bytes":    func(v float64) string { return fmtBytes(int64(math.Round(v))) },
	"site":     siteName,
	"cpulimit": cpuLimitCell,
	"perreq":   func(pct, ms float64) float64 { return pct / 100 * ms },
}).Parse(htmlSource))

// hotNotes are the texts that say what the hot tables mean.
type hotNotes struct {
	Code, Packages, Categories, Waits, Block, Mutex string
}

// htmlView is what the template draws.
type htmlView struct {
	R        *Report
	Style    template.CSS
	Title    string
	Subtitle string
	ModeText string
	Note     string
	Hosts    []hostView
	Top      []topView
	Model    []string
	Notes    hotNotes
	// RuntimeRows are the Go runtime's figures: name, median, max.
	RuntimeRows [][3]string
	// CPULines are the sentences of the CPU section.
	CPULines []string
}

// hostView is one host's section.
type hostView struct {
	H     *HostReport
	ID    string
	Label string
	// Cells are the hosts table's figures (hostCells), and Sizing its
	// λ·W vs N and recommended N cells.
	Cells  []string
	Sizing [2]string
	Worst  string // the most severe diagnosis' severity, or "ok"
	Tiles  []tile
	Charts []Chart
}

// tile is one headline figure.
type tile struct {
	Label, Value, Hint string
	Alert              bool // drawn in red
	Wide               bool // two columns wide
}

// topView is one top-functions table.
type topView struct {
	T       *TopTable
	Heading string
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS,
// charts as inline SVG, no scripts and nothing fetched from the network.
func (r *Report) WriteHTML(w io.Writer) error {
	v := htmlView{R: r, Style: Stylesheet(), Title: r.title(), Subtitle: r.subtitle(), Note: r.tableNote(), Model: modelText,
		Notes: hotNotes{codeNote, packagesNote, categoriesNote, waitsNote, blockNote, mutexNote}}
	if r.Runtime != nil {
		v.RuntimeRows = runtimeRows(r.Runtime)
	}
	if r.CPU != nil {
		v.CPULines = r.CPU.lines()
	}
	if r.ProfileMode != "" && r.ProfileMode != capture.ModeNone {
		v.ModeText = "CPU and wall-clock " + modeText(r.ProfileMode) + "."
	}
	for i := range r.Hosts {
		v.Hosts = append(v.Hosts, newHostView(i, &r.Hosts[i]))
	}
	for _, t := range []*TopTable{r.TopCPU, r.TopWall} {
		if t != nil {
			v.Top = append(v.Top, topView{T: t, Heading: t.heading()})
		}
	}
	if err := htmlTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

// newHostView returns the section of h, the i-th host of the report.
func newHostView(i int, h *HostReport) hostView {
	hv := hostView{H: h, ID: "host-" + strconv.Itoa(i+1), Label: h.Label(), Worst: "ok", Charts: hostCharts(h)}
	if len(h.Diagnoses) > 0 {
		hv.Worst = string(h.Diagnoses[0].Severity)
	}
	lt := &h.Little
	hv.Cells = hostCells(h)
	hv.Sizing = [2]string{fmtRate(lt.Load) + " " + relationText(lt), strconv.Itoa(lt.Recommended)}
	if why := notSizedText(lt); why != "" {
		hv.Sizing = [2]string{why, "–"}
	}
	hv.Tiles = hostTiles(h)
	return hv
}

// hostTiles are the headline figures of h: what a dial-only host shows
// of its requests and pool, else its rate, latency, waits, pool, sizing
// and churn.
func hostTiles(h *HostReport) []tile {
	if h.DialOnly {
		started := "?"
		if h.RequestsStarted > 0 {
			started = "~" + fmtNum(h.StartsPerSecond)
		}
		return []tile{
			{Label: "requests started/s", Value: started, Hint: fmt.Sprintf("%d seen starting; dial only: not seen completing", h.RequestsStarted)},
			{Label: "latency, conn wait, errors", Value: "?", Hint: "unknown: the requests are not seen", Wide: true},
			{Label: "pool (peak open / limit)", Value: fmtPool(h.Pool), Hint: "mean active " + fmtNum(h.Pool.MeanActive) + ", idle " + fmtNum(h.Pool.MeanIdle) + ", by their traffic"},
		}
	}
	return []tile{
		{Label: "req/s", Value: fmtNum(h.RPS), Hint: fmt.Sprintf("%d requests, %d errors", h.Requests, h.Errors)},
		{Label: "latency p50 / p95 / p99", Value: fmtMs(h.Latency.P50) + " / " + fmtMs(h.Latency.P95) + " / " + fmtMs(h.Latency.P99),
			Hint: "worst p99 " + fmtMs(h.Latency.WorstP99) + ", max " + fmtMs(h.Latency.Max), Wide: true},
		{Label: "conn-wait p95", Value: fmtMs(h.ConnWait.P95), Hint: "mean " + fmtMs(h.Little.MeanConnWait), Alert: h.Pool.MeanWaiting >= 0.5},
		{Label: "pool (peak open / limit)", Value: fmtPool(h.Pool), Hint: "mean active " + fmtNum(h.Pool.MeanActive) + ", idle " + fmtNum(h.Pool.MeanIdle)},
		{Label: "waiting", Value: fmtNum(h.Pool.MeanWaiting), Hint: "peak " + strconv.Itoa(h.Pool.PeakWaiting) + "; in flight " + fmtNum(h.Pool.MeanInFlight), Alert: h.Pool.MeanWaiting >= 0.5},
		sizingTile(h),
		{Label: "new conns/s", Value: fmtRate(h.Churn.NewPerSecond), Hint: fmtPct(h.Churn.NewFraction) + " of requests", Alert: h.Churn.NewFraction >= 0.25},
	}
}

// sizingTile is the λ·W vs N headline of a host, or why it has none.
func sizingTile(h *HostReport) tile {
	lt := &h.Little
	if why := notSizedText(lt); why != "" {
		return tile{Label: "λ·W", Value: fmtRate(lt.Load), Hint: why}
	}
	return tile{Label: "λ·W vs N", Value: fmtRate(lt.Load) + " vs " + fmtN(lt.N, h.Pool.LimitsKnown), Hint: "recommended N = " + strconv.Itoa(lt.Recommended), Alert: lt.Saturated}
}

// sortedKeys returns the evidence names in order.
func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
