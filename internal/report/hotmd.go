package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/httptop/httptop/flame"
)

// Texts that say what the hot tables mean; report.md and report.html
// both show them.
const (
	codeNote = "Each CPU sample is charged to the innermost function of the program's own code or of a library it uses: " +
		"the standard library, runtime and system calls below it are its cost. Samples with no such function " +
		"(GC workers, a connection's read loop) are charged to their kind of work, in brackets. " +
		"cum is the share of the samples with the function anywhere on the stack, as go tool pprof's cum."
	packagesNote   = "Each package's share of the samples it is on the stack of, counted once per sample."
	categoriesNote = "Every CPU sample once, by what its innermost frame with a kind does " +
		"(generic frames such as memmove, reflect or bufio take their caller's)."
	waitsNote = "From the wall-clock profile, only the goroutines inside an HTTP client call or running the code that issues them " +
		"(server connections, idle workers and the transport's own loops are left out). goroutines is how many were in each state on average. " +
		"A request waiting for its new connection waits in the same place as one waiting for a busy pool: " +
		"the time the transport spent dialing is counted as dialing, the rest as waiting for a connection."
	blockNote = "Where goroutines waited on locks, channels, select or WaitGroups (block profile)."
	mutexNote = "Where contended locks were released: the end of the critical section others waited on (mutex profile)."
)

// writeHotMarkdown writes the hot functions sections of report.md.
func (r *Report) writeHotMarkdown(w io.Writer) {
	h := r.Hot
	fmt.Fprintf(w, "## Hot functions\n\n")
	if h == nil {
		fmt.Fprintf(w, "No CPU, wall-clock or contention profile was captured.\n\n")
		r.writeRuntimeMarkdown(w)
		return
	}
	if h.CPU != nil {
		writeHotCPUMarkdown(w, h.CPU)
	}
	if h.Waits != nil {
		writeWaitsMarkdown(w, h.Waits)
	}
	for _, ct := range h.Contention {
		writeContentionMarkdown(w, ct)
	}
	r.writeRuntimeMarkdown(w)
}

// writeHotCPUMarkdown writes the CPU profile's tables: the program's own
// code, packages and kinds of work.
func writeHotCPUMarkdown(w io.Writer, c *HotCPU) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("CPU profile, %s: httptop itself took %s of it (its agent and its probe's bookkeeping), left out of the code and package tables.\n\n",
		fmtSeconds(c.Seconds), fmtPctValue(c.HttptopPct))
	p("### Your code (CPU)\n\n%s\n\n", mdText(codeNote))
	if len(c.Code) == 0 {
		p("The profile holds no samples.\n\n")
	} else {
		p("| # | function | share | cum | module |\n|--:|:--|--:|--:|:--|\n")
		for i, e := range c.Code {
			p("| %d | %s | %s | %s | %s |\n", i+1, entryName(e), fmtPctValue(e.Pct), cumCell(e), mdText(e.Module))
		}
		p("\n")
	}
	p("### Packages (CPU)\n\n%s\n\n", mdText(packagesNote))
	if len(c.Packages) > 0 {
		p("| # | package | cum | module |\n|--:|:--|--:|:--|\n")
		for i, e := range c.Packages {
			p("| %d | %s | %s | %s |\n", i+1, mdCode(e.Name), fmtPctValue(e.Pct), mdText(e.Module))
		}
		p("\n")
	}
	p("### Kinds of work (CPU)\n\n%s\n\n", mdText(categoriesNote))
	if len(c.Categories) > 0 {
		p("| kind | share | CPU |\n|:--|--:|--:|\n")
		for _, e := range c.Categories {
			p("| %s | %s | %s |\n", mdText(e.Name), fmtPctValue(e.Pct), fmtValue(e.Value, c.Unit))
		}
		p("\n")
	}
}

// writeWaitsMarkdown writes where the requests' goroutines waited, from
// the wall-clock profile.
func writeWaitsMarkdown(w io.Writer, wt *HotWaits) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("### Where requests wait (wall-clock)\n\n%s\n\n", mdText(waitsNote))
	p("Over %s, the requests' goroutines took %s of all goroutine time.\n\n", fmtSeconds(wt.Seconds), fmtPctValue(wt.RequestsPct))
	if wt.Requests == 0 {
		p("No goroutine was inside an HTTP client call.\n\n")
		return
	}
	p("| where | share | goroutines | charged to |\n|:--|--:|--:|:--|\n")
	for _, b := range wt.Buckets {
		p("| %s | %s | %s | %s |\n", mdText(b.Title), fmtPctValue(b.Pct), fmtNum(b.Goroutines), waitFuncs(b.Funcs, mdCode))
	}
	p("\n")
}

// writeContentionMarkdown writes the top call sites of a block or mutex
// profile.
func writeContentionMarkdown(w io.Writer, ct ContentionTable) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	title, note := "Contention: blocking", blockNote
	if ct.Kind == "mutex" {
		title, note = "Contention: mutexes", mutexNote
	}
	p("### %s\n\n%s Over %s, %s of waiting in all, httptop's own left out.\n\n", title, mdText(note), fmtSeconds(ct.Seconds), fmtValue(ct.Total, "nanoseconds"))
	if len(ct.Sites) == 0 {
		p("No contention outside httptop.\n\n")
		return
	}
	p("| # | call site | waits on | delay | share | waits |\n|--:|:--|:--|--:|--:|--:|\n")
	for i, s := range ct.Sites {
		p("| %d | %s | %s | %s | %s | %d |\n", i+1, mdCode(siteName(s)), waitsOn(s, mdCode), fmtValue(s.Delay, "nanoseconds"), fmtPctValue(s.Pct), s.Count)
	}
	p("\n")
}

// writeRuntimeMarkdown writes the Go runtime's figures.
func (r *Report) writeRuntimeMarkdown(w io.Writer) {
	rt := r.Runtime
	if rt == nil {
		return
	}
	fmt.Fprintf(w, "### Go runtime\n\nOver the %d snapshots (runtime/metrics, each over the time since the one before):\n\n", rt.Snapshots)
	fmt.Fprintf(w, "| figure | median | max |\n|:--|--:|--:|\n")
	for _, row := range runtimeRows(rt) {
		fmt.Fprintf(w, "| %s | %s | %s |\n", row[0], row[1], row[2])
	}
	fmt.Fprintln(w)
}

// runtimeRows formats the runtime figures: name, median, max.
func runtimeRows(rt *Runtime) [][3]string {
	return [][3]string{
		{"GC share of the runtime's CPU", fmtPctValue(rt.GCCPUPercent.Median), fmtPctValue(rt.GCCPUPercent.Max)},
		{"scheduler latency p99", fmtMs(rt.SchedLatencyP99Ms.Median), fmtMs(rt.SchedLatencyP99Ms.Max)},
		{"mutex wait per second", strconv.FormatFloat(rt.MutexWaitPerSecond.Median, 'f', 2, 64) + " s/s", strconv.FormatFloat(rt.MutexWaitPerSecond.Max, 'f', 2, 64) + " s/s"},
		{"runnable goroutines", fmtNum(rt.RunnableGoroutines.Median), fmtNum(rt.RunnableGoroutines.Max)},
	}
}

// entryName formats a code view entry: a function as code, a category in
// brackets.
func entryName(e flame.Entry) string {
	if e.IsCategory() {
		return "[" + mdText(e.Name) + "]"
	}
	return mdCode(e.Name)
}

// cumCell is an entry's cum share, or – for a category.
func cumCell(e flame.Entry) string {
	if e.IsCategory() {
		return "–"
	}
	return fmtPctValue(e.CumPct)
}

// waitFuncs lists a kind of wait's first functions with their shares.
func waitFuncs(es []flame.Entry, code func(string) string) string {
	if len(es) == 0 {
		return "–"
	}
	parts := make([]string, 0, 3)
	for _, e := range es[:min(3, len(es))] {
		parts = append(parts, code(e.Name)+" "+fmtPctValue(e.Pct))
	}
	return strings.Join(parts, ", ")
}

// siteName is a contention site's function and line.
func siteName(s flame.Site) string {
	name := s.Func
	if s.Line > 0 {
		name += ":" + strconv.FormatInt(s.Line, 10)
	}
	return name
}

// waitsOn says what a contention site waited on: the primitive, and the
// function it waited inside when that is not the site's.
func waitsOn(s flame.Site, code func(string) string) string {
	if s.In == "" {
		return code(s.On)
	}
	return code(s.On) + " in " + code(s.In)
}
