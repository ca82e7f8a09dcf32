package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/termtext"
	"github.com/httptop/httptop/snapshot"
)

// modelText explains the pool sizing figures; report.md and report.html
// both show it.
var modelText = []string{
	"λ (req/s) is the request rate over the whole seconds of the capture and W the mean time a request holds a connection: " +
		"each request's latency minus its own wait for a connection, averaged over the per-second series (the dashboard's pool_saturated advice uses the same W). " +
		"By Little's law λ·W is the mean number of connections busy; λ ÷ N × W is the pool's utilisation.",
	"Sizing treats the pool as an M/M/N queue (Poisson arrivals at λ, exponential holding times of mean W, N connections) " +
		"and reports Erlang's C formula: the probability that a request waits, and the mean wait C·W ÷ (N − λ·W). " +
		"The recommended N is the smallest with P(wait) < " + fmtPct(TargetWaitProbability) + ". " +
		"Erlang's formulas are computed exactly up to 100,000 Erlangs; above, from the normal approximation of the Poisson distribution " +
		"(with its skewness term), within 0.023 ÷ λ·W of the exact value, so the recommended N may be one off there.",
	"When the pool is saturated, λ is capped at N ÷ W and understates demand, so sizing uses the mean number of requests in flight instead. " +
		"Requests issued by a fixed set of workers never exceed that set, so the recommendation is capped at the peak number in flight.",
	"W ends when response headers arrive; reading the body also holds the connection, so for large bodies the real load is higher. " +
		"For HTTP/2 one connection carries many requests and the model does not apply.",
}

// WriteMarkdown writes the report as Markdown: tables a user can paste
// into an issue, in the shape of benchmark write-ups.
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }

	p("# httptop capture: %s\n\n", mdText(r.title()))
	p("%s\n\n", mdText(r.subtitle()))
	if line := r.profileLine(); line != "" {
		p("%s\n\n", line)
	}
	if b := r.Baseline; b != nil {
		p("Compared with the baseline %s: [before and after](%s).\n\n", mdText(b.Dir), b.Diff)
	}

	p("## Hosts\n\n")
	if len(r.Hosts) == 0 {
		p("No instrumented HTTP client made requests during the capture.\n\n")
	} else {
		p("| host | req/s | p50 | p95 | p99 | conn-wait p95 | pool | waiting | new conns/s |\n")
		p("|:--|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for i := range r.Hosts {
			h := &r.Hosts[i]
			p("| %s | %s |\n", mdCell(h.Label()), strings.Join(hostCells(h), " | "))
		}
		p("\n%s\n\n", r.tableNote())

		p("## Pool sizing (Little's law)\n\n")
		p("| host | λ req/s | W | λ·W | N | λ·W vs N | waiting | P(wait) at N | recommended N | CPU limit |\n")
		p("|:--|--:|--:|--:|--:|:--|--:|--:|--:|:--|\n")
		for i := range r.Hosts {
			h := &r.Hosts[i]
			lt := &h.Little
			if why := notSizedText(lt); why != "" {
				p("| %s | – | – | – | – | %s | – | – | – | %s |\n", mdCell(h.Label()), why, cpuLimitCell(lt))
				continue
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", mdCell(h.Label()), fmtNum(lt.Lambda), fmtMs(lt.Service),
				fmtRate(lt.Load), fmtN(lt.N, h.Pool.LimitsKnown), relationText(lt), fmtNum(h.Pool.MeanWaiting), pWaitText(lt), lt.Recommended, cpuLimitCell(lt))
		}
		p("\n")
		for i := range r.Hosts {
			h := &r.Hosts[i]
			p("**%s** — %s\n\n", mdText(h.Label()), mdText(h.Little.Verdict))
		}
		if r.CPU != nil {
			p("CPU limit: the most requests per second the host can reach with the CPU the process may use, its other traffic as during the capture; *binds* when it is below what the recommended pool carries.\n\n")
		}
		p("<details><summary>The model</summary>\n\n")
		for _, t := range modelText {
			p("%s\n\n", mdText(t))
		}
		p("</details>\n\n")

		r.writeCPUMarkdown(bw)

		p("## Connection churn and handshakes\n\n")
		p("| host | new conns/s | reused/s | new | closed | conns seen | dial p50 | TLS handshake p50 | TLS p95 | resumed | handshaking | set-up time/s |\n")
		p("|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for i := range r.Hosts {
			h := &r.Hosts[i]
			c, hs := &h.Churn, &h.Handshakes
			newRate, reusedRate, newPct, setup := fmtRate(c.NewPerSecond), fmtNum(c.ReusedPerSecond), fmtPct(c.NewFraction), fmtMs(hs.SetupPerSecond)
			if h.DialOnly {
				newRate, reusedRate, newPct, setup = "?", "?", "?", "?"
			}
			p("| %s | %s | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s |\n", mdCell(h.Label()),
				newRate, reusedRate, newPct, c.ClosedConns, hs.Conns,
				distCell(hs.Dial, hs.Dial.P50), distCell(hs.TLS, hs.TLS.P50), distCell(hs.TLS, hs.TLS.P95),
				resumedCell(hs), fmtNum(h.Pool.MeanHandshaking), setup)
		}
		p("\nnew: share of requests that got a new connection. Dial (DNS + TCP) and TLS handshake times are those of the connections the snapshots showed (conns seen); handshaking: connections still in their TLS handshake, neither active nor idle, averaged over the snapshots; set-up time/s is new conns/s × (mean dial + mean TLS handshake).\n\n")
	}

	p("## Diagnoses\n\n")
	n := 0
	if len(r.ProcessDiagnoses) > 0 {
		p("### The process\n\n")
		for _, f := range r.ProcessDiagnoses {
			r.writeFinding(bw, f)
			n++
		}
	}
	for i := range r.Hosts {
		h := &r.Hosts[i]
		if len(h.Diagnoses) == 0 {
			continue
		}
		p("### %s\n\n", mdText(h.Label()))
		for _, f := range h.Diagnoses {
			r.writeFinding(bw, f)
			n++
		}
	}
	if len(r.OtherDiagnoses) > 0 {
		p("### Other hosts\n\n")
		for _, f := range r.OtherDiagnoses {
			r.writeFinding(bw, f)
			n++
		}
	}
	if n == 0 {
		p("No diagnoses: httptop saw nothing to change.\n\n")
	}

	r.writeHotMarkdown(bw)

	p("## Top functions (flat, as go tool pprof -top)\n\n")
	for _, t := range []*TopTable{r.TopCPU, r.TopWall} {
		if t == nil {
			continue
		}
		p("### %s\n\n", mdText(t.heading()))
		if len(t.Funcs) == 0 {
			p("The profile holds no samples.\n\n")
			continue
		}
		p("| # | function | flat | flat %% | cum | cum %% |\n")
		p("|--:|:--|--:|--:|--:|--:|\n")
		for i, f := range t.Funcs {
			p("| %d | %s | %s | %s | %s | %s |\n", i+1, mdCode(f.Name), fmtValue(f.Flat, t.Unit),
				fmtPctValue(f.FlatPct), fmtValue(f.Cum, t.Unit), fmtPctValue(f.CumPct))
		}
		p("\n")
	}
	if r.TopCPU == nil && r.TopWall == nil {
		p("No CPU or wall-clock profile was captured.\n\n")
	}

	if len(r.Errors) > 0 {
		p("## Capture problems\n\n")
		for _, e := range r.Errors {
			p("- %s: %s", mdText(e.Op), mdText(e.Message))
			if e.Count > 1 {
				p(" (%d times)", e.Count)
			}
			p("\n")
		}
		p("\n")
	}
	p("_Generated by httptop from %s; `httptop report DIR` renders it again._\n", capture.CaptureFile)
	return bw.Flush()
}

// writeFinding writes one diagnosis as a list item.
func (r *Report) writeFinding(w io.Writer, f Finding) {
	fmt.Fprintf(w, "- **%s · %s** — %s  \n", mdText(string(f.Severity)), mdCode(string(f.Kind)), mdText(f.Summary))
	fmt.Fprintf(w, "  Seen in %s.  \n", seenText(f, r.Snapshots))
	if f.Advice != "" {
		fmt.Fprintf(w, "  **Advice:** %s  \n", mdText(f.Advice))
	}
	if len(f.Evidence) > 0 {
		var parts []string
		for _, k := range sortedKeys(f.Evidence) {
			parts = append(parts, mdCode(k+"="+fmtEvidence(f.Evidence[k])))
		}
		fmt.Fprintf(w, "  Evidence: %s  \n", strings.Join(parts, ", "))
	}
	for _, s := range f.Sites {
		fmt.Fprintf(w, "  Site: %s × %d  \n", mdCode(s.String()), s.Count)
	}
	if len(f.Allocations) > 0 {
		fmt.Fprintf(w, "  Allocates the most (heap profile, alloc_space since the program started): %s  \n", allocText(f.Allocations, mdCode))
	}
	fmt.Fprintln(w)
}

// title is the report's heading.
func (r *Report) title() string {
	name := r.Program
	if name == "" {
		name = "unknown program"
	}
	if r.PID > 0 {
		name += " (pid " + strconv.Itoa(r.PID) + ")"
	}
	return name
}

// subtitle says when and how the capture was taken.
func (r *Report) subtitle() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Captured %s for %s", r.Start.UTC().Format(time.RFC3339), fmtSeconds(r.Seconds))
	if r.Canceled {
		fmt.Fprintf(&b, " (ended early; %s requested)", fmtSeconds(r.RequestedSeconds))
	}
	fmt.Fprintf(&b, ", %d snapshots every %s", r.Snapshots, fmtSeconds(r.IntervalSeconds))
	if r.Target != "" {
		fmt.Fprintf(&b, ", target %s", r.Target)
	}
	b.WriteString(".")
	return b.String()
}

// profileLine lists the profiles with Markdown links to their files;
// the HTML report draws its own list.
func (r *Report) profileLine() string {
	var parts []string
	for _, pi := range r.Profiles {
		s := kindName(pi.Kind)
		if pi.File == "" {
			s += ": missing"
			if pi.Error != "" {
				s += " (" + pi.Error + ")"
			}
			parts = append(parts, mdText(s))
			continue
		}
		if pi.Kind != snapshot.ProfileHeap {
			s += " " + fmtSeconds(pi.Seconds)
		}
		var links []string
		for _, l := range []struct{ label, file string }{{"flame graph", pi.FlameGraph}, {"pprof", pi.File}, {"folded", pi.Folded}} {
			if capture.IsFileName(l.file) { // a file of the capture, never a URL
				links = append(links, "["+l.label+"]("+l.file+")")
			}
		}
		s = mdText(s) + " (" + strings.Join(links, ", ") + ")"
		if pi.Error != "" {
			s += " — " + mdText(pi.Error)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return ""
	}
	line := "Profiles: " + strings.Join(parts, " · ")
	if r.ProfileMode != "" && r.ProfileMode != capture.ModeNone {
		line += " · CPU and wall-clock " + modeText(r.ProfileMode)
	}
	return line + "."
}

// tableNote says what the hosts table's columns are.
func (r *Report) tableNote() string {
	window := "rolling"
	if len(r.Hosts) > 0 && r.Hosts[0].WindowSeconds > 0 {
		ws := r.Hosts[0].WindowSeconds
		same := true
		for i := range r.Hosts {
			same = same && r.Hosts[i].WindowSeconds == ws
		}
		if same {
			window = "rolling " + fmtSeconds(ws)
		}
	}
	secs := 0
	for i := range r.Hosts {
		secs = max(secs, r.Hosts[i].Seconds)
	}
	note := fmt.Sprintf("p50, p95, p99 and conn-wait p95 are the median, over the %d snapshots, of each snapshot's percentiles over a %s window. "+
		"req/s, waiting (requests waiting for a connection, time-averaged) and new conns/s are averaged over the whole seconds of each host's per-second series in the capture (up to %d). "+
		"pool is the most connections open / MaxConnsPerHost (∞: no limit, ?: unknown). A dial-only host's requests are not seen: ? is unknown, ~ counts requests seen starting.", r.Snapshots, window, secs)
	if r.HostsOmitted > 0 {
		note += fmt.Sprintf(" The report details the %d busiest of %d hosts (the most severe diagnoses first, then the highest request rate; at most %d): "+
			"%d more, and their diagnoses, are in %s.", len(r.Hosts), len(r.Hosts)+r.HostsOmitted, MaxHosts, r.HostsOmitted, capture.CaptureFile)
	}
	if sn := r.CPU.schedNote(); sn != "" {
		note += " " + sn
	}
	return note
}

// heading names a top table.
func (t *TopTable) heading() string {
	return kindName(t.Kind) + ": " + fmtSeconds(t.Seconds) + " profiled, " + fmtValue(t.Total, t.Unit) + " of " + t.SampleType + ", sorted by " + t.Order
}

// kindName names a profile kind for people.
func kindName(kind snapshot.ProfileKind) string {
	switch kind {
	case snapshot.ProfileCPU:
		return "CPU"
	case snapshot.ProfileWall:
		return "Wall-clock"
	case snapshot.ProfileHeap:
		return "Heap"
	}
	return string(kind)
}

// modeText says how the CPU and wall-clock profiles shared the window.
func modeText(mode capture.ProfileMode) string {
	switch mode {
	case capture.ModeConcurrent:
		return "profiles ran concurrently over the whole window"
	case capture.ModeAlternating:
		return "profiles took turns (the agent runs one at a time), each covering about half of the window"
	case capture.ModeSingle:
		return "profiles: only one could be taken"
	}
	return "profiles: " + string(mode)
}

// seenText says when a finding was seen.
func seenText(f Finding, snapshots int) string {
	s := fmt.Sprintf("%d of %d snapshots", f.Snapshots, snapshots)
	if f.FirstSeen == f.LastSeen {
		return s + ", at " + fmtSeconds(f.FirstSeen)
	}
	return s + ", from " + fmtSeconds(f.FirstSeen) + " to " + fmtSeconds(f.LastSeen)
}

// fmtN formats a pool size: the limit, ∞ or ?.
func fmtN(n int, known bool) string {
	switch {
	case !known:
		return "?"
	case n <= 0:
		return "∞"
	}
	return strconv.Itoa(n)
}

// relationText compares λ·W with N.
func relationText(lt *Little) string {
	switch lt.Relation {
	case "unlimited":
		return "no limit"
	case "at":
		return "= N (" + fmtPct(lt.Utilisation) + ")"
	case "above":
		return "> N (" + fmtPct(lt.Utilisation) + ")"
	}
	return "< N (" + fmtPct(lt.Utilisation) + ")"
}

// pWaitText is the probability of waiting at the current pool size.
func pWaitText(lt *Little) string {
	switch {
	case lt.N <= 0:
		return "–"
	case !lt.Stable && lt.Demand > 0:
		return "100% (unstable)"
	}
	return fmtPct(lt.PWait)
}

// distCell formats one figure of a distribution, or – when it is empty.
func distCell(d Dist, v float64) string {
	if d.N == 0 {
		return "–"
	}
	return fmtMs(v)
}

// resumedCell says how many TLS sessions were resumed.
func resumedCell(hs *Handshakes) string {
	if hs.TLS.N == 0 {
		return "–"
	}
	return strconv.Itoa(hs.Resumed) + "/" + strconv.Itoa(hs.TLS.N)
}

// fmtPctValue formats a percentage (already × 100).
func fmtPctValue(p float64) string {
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// mdText escapes text for a Markdown paragraph or table cell, where it
// never starts a line: control characters go (termtext.Clean; a line
// break would let what follows start a heading, a list or a block of
// HTML), and characters that would start emphasis, strikethrough, a
// link, an entity, an HTML tag or end a table cell are backslash-escaped.
// What the text names stays text: report.md links only files of the
// capture.
func mdText(s string) string {
	s = termtext.Clean(s)
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '*', '_', '`', '[', ']', '|', '~':
			b.WriteByte('\\')
		case '&':
			// Only the start of a character reference (&amp; &#38;).
			if next := s[i+1:]; next != "" && (isLetter(next[0]) || next[0] == '#') {
				b.WriteByte('\\')
			}
		case '<':
			// Only the start of a tag, an autolink or a comment.
			if next := s[i+1:]; next != "" && (isLetter(next[0]) || strings.ContainsRune("/!?", rune(next[0]))) {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string { return mdText(s) }

// mdCode writes s as inline code, safe inside a table cell: on one line
// (termtext.Clean), pipes escaped, between enough backticks.
func mdCode(s string) string {
	s = strings.ReplaceAll(termtext.Clean(s), "|", "\\|")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
