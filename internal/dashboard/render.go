package dashboard

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/httptop/httptop/internal/bottleneck"
	"github.com/httptop/httptop/snapshot"
)

// role is what a piece of text means on screen; the theme maps roles to
// styles (and, without colour, to plain text).
type role int

const (
	roleNormal role = iota
	roleDim         // labels, secondary text
	roleBold        // names, column titles
	roleKey         // a key in the footer or help
	roleOK          // live, healthy
	roleWarn        // paused, warnings, queued requests
	roleCrit        // disconnected, errors, critical diagnoses
)

// seg is a run of text in one role. Render functions return lines of
// segments; views draw them with the theme's styles.
type seg struct {
	text string
	role role
}

// line is one line of segments.
type line []seg

// width is the line's width in cells (every rune the dashboard draws is
// one cell wide).
func (l line) width() int {
	n := 0
	for _, s := range l {
		n += utf8.RuneCountInString(s.text)
	}
	return n
}

// String returns the line's text without roles.
func (l line) String() string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(s.text)
	}
	return b.String()
}

// clip cuts l to at most w cells, ending with "…" when it cuts.
func (l line) clip(w int) line {
	if l.width() <= w {
		return l
	}
	var out line
	left := w
	for _, s := range l {
		n := utf8.RuneCountInString(s.text)
		if n < left {
			out = append(out, s)
			left -= n
			continue
		}
		out = append(out, seg{truncate(s.text, left), s.role})
		break
	}
	return out
}

// Minimum terminal size: below it the dashboard shows a notice instead of
// panes too small to read.
const (
	minWidth  = 60
	minHeight = 15
)

// tooSmall is the notice for a terminal below the minimum size.
func tooSmall(w, h int) []string {
	return []string{
		"terminal too small",
		strconv.Itoa(w) + "x" + strconv.Itoa(h) + ", need " + strconv.Itoa(minWidth) + "x" + strconv.Itoa(minHeight),
		"enlarge it, or q to quit",
	}
}

// headerLines renders the two header lines for a terminal w cells wide:
// the program and the link's status, then the process's load and the
// total traffic.
func headerLines(m *model, title string, w int) (line, line) {
	l1 := identityLine(m, title, w)
	if m.snap == nil {
		return l1, line{seg{"waiting for the first snapshot…", roleDim}}
	}
	return l1, fitItems(loadItems(m), w)
}

// identityLine renders the header's first line, w cells wide: identity
// on the left, status on the right. When they do not fit, the target,
// the time and the uptime go first, in that order, and the program's
// name is cut last.
func identityLine(m *model, title string, w int) line {
	s := m.snap
	parts := []line{{seg{"httptop", roleBold}}}
	if s != nil {
		parts[0] = append(parts[0], seg{"  " + s.Program, roleBold}, seg{" pid " + strconv.Itoa(s.PID), roleNormal})
		if s.Process != nil {
			parts = append(parts, line{seg{"  up ", roleDim}, seg{fmtAge(s.Process.UptimeSeconds), roleNormal}})
		}
		if !s.Time.IsZero() {
			parts = append(parts, line{seg{"  at ", roleDim}, seg{s.Time.Format("15:04:05"), roleNormal}})
		}
	}
	if title != "" {
		parts = append(parts, line{seg{"  " + title, roleDim}})
	}
	right := statusLine(m)
	if s != nil && s.ProbeErrors > 0 {
		right = append(line{seg{"probe errors " + strconv.FormatInt(s.ProbeErrors, 10) + "  ", roleCrit}}, right...)
	}
	rw := right.width()
	if rw > w {
		right = right.clip(w)
		rw = w
	}
	room := max(w-rw-1, 0)
	var left line
	for n := len(parts); n > 0; n-- {
		left = left[:0]
		for _, p := range parts[:n] {
			left = append(left, p...)
		}
		if left.width() <= room {
			break
		}
	}
	left = left.clip(room)
	l1 := append(left, seg{strings.Repeat(" ", max(w-rw-left.width(), 0)), roleNormal})
	return append(l1, right...)
}

// headerItem is one figure of the header's second line.
type headerItem struct {
	long, short string // labels
	value       string
	role        role
	// keep ranks what stays when the line is narrow: items go in
	// order of keep, lowest first; the traffic totals never go.
	keep int
}

// loadItems lists the figures of the header's second line: the
// process's load, when the snapshot has it, then the total traffic.
func loadItems(m *model) []headerItem {
	var items []headerItem
	if p := m.snap.Process; p != nil {
		items = processItems(p)
	}
	errRole := roleNormal
	if m.totalEPS > 0 {
		errRole = roleCrit
	}
	return append(items,
		headerItem{"req/s ", "req/s ", fmtRate(m.totalRPS), roleBold, 99},
		headerItem{"err/s ", "err/s ", fmtRate(m.totalEPS), errRole, 99},
	)
}

// processItems lists the process's figures for the header: CPU, what a
// request costs of it and the ceiling that sets, memory, goroutines,
// threads, descriptors, TCP, GC, scheduling and lock waits.
func processItems(p *snapshot.Process) []headerItem {
	tw := strconv.Itoa(p.TCP.TimeWait)
	if p.TCP.AgeSeconds >= tcpStale {
		// The table is read again only when that is cheap enough.
		tw += " (" + fmtAge(p.TCP.AgeSeconds) + " old)"
	}
	items := []headerItem{
		{"CPU ", "cpu ", fmtPct1(p.CPUPercent), roleNormal, 12},
	}
	if p.CPUPerRequestMs > 0 {
		// What a request costs of the CPU, and the most requests
		// per second the cores the process may use allow at that
		// cost; highlighted when the process is at that limit.
		role := roleNormal
		if bottleneck.CPUBound(p.WindowCPUPercent/100, p.Cores) {
			role = roleWarn
		}
		items = append(items,
			headerItem{"CPU/req ", "c/r ", fmtMs(p.CPUPerRequestMs), roleNormal, 9},
			headerItem{"ceiling ", "max ", fmtRate(p.CeilingRPS) + "/s", role, 11},
		)
	}
	return append(items,
		headerItem{"RSS ", "rss ", fmtBytes(int64(p.RSSBytes)), roleNormal, 10},
		headerItem{"goroutines ", "gor ", strconv.Itoa(p.Goroutines), roleNormal, 6},
		headerItem{"threads ", "thr ", strconv.Itoa(p.Threads), roleNormal, 2},
		headerItem{"fds ", "fd ", strconv.Itoa(p.FDs), roleNormal, 4},
		headerItem{"TCP estab ", "est ", strconv.Itoa(p.TCP.Established), roleNormal, 8},
		// TIME_WAIT piling up is how churn shows: it goes last.
		headerItem{"time_wait ", "tw ", tw, twRole(p.TCP.TimeWait), 13},
		headerItem{"GC ", "gc ", fmtPct1(p.GCCPUPercent), roleNormal, 7},
		headerItem{"sched p99 ", "sch ", fmtMs(p.SchedLatencyP99Ms), schedRole(p.WindowSchedLatencyP99Ms), 5},
		headerItem{"lock wait ", "lkw ", strconv.FormatFloat(p.MutexWaitPerSecond, 'f', 2, 64) + "/s", lockRole(p.MutexWaitPerSecond), 3},
		headerItem{"runnable ", "run ", strconv.Itoa(p.RunnableGoroutines), roleNormal, 1},
	)
}

// longDrop is the keep below which long labels may lose their least
// useful figures rather than all turn short.
const longDrop = 3

// fitItems renders items in w cells: with long labels, dropping the
// items of keep below longDrop lowest first while that makes them fit;
// else with short labels, dropping the items with the lowest keep one
// by one until the line fits (the last two stay, cut to w).
func fitItems(items []headerItem, w int) line {
	long := items
	for {
		if l := renderItems(long, false); l.width() <= w {
			return l
		}
		low := -1
		for i, it := range long {
			if it.keep < longDrop && (low < 0 || it.keep < long[low].keep) {
				low = i
			}
		}
		if low < 0 {
			break
		}
		long = append(long[:low:low], long[low+1:]...)
	}
	kept := items
	for {
		if l := renderItems(kept, true); l.width() <= w || len(kept) <= 2 {
			return l.clip(w)
		}
		low := 0
		for i, it := range kept {
			if it.keep < kept[low].keep {
				low = i
			}
		}
		kept = append(kept[:low:low], kept[low+1:]...)
	}
}

// renderItems renders items with their long or short labels.
func renderItems(items []headerItem, short bool) line {
	var l line
	sep := "   "
	if short {
		sep = "  "
	}
	for i, it := range items {
		if i > 0 {
			l = append(l, seg{sep, roleNormal})
		}
		label := it.long
		if short {
			label = it.short
		}
		l = append(l, seg{label, roleDim}, seg{it.value, it.role})
	}
	return l
}

// tcpStale is the age from which the TCP counts say how old they are.
const tcpStale = 2.0

// schedRole highlights a scheduling latency that inflates every latency
// figure (scheduler_latency's threshold).
func schedRole(p99Ms float64) role {
	if bottleneck.InflatesLatency(p99Ms) {
		return roleWarn
	}
	return roleNormal
}

// lockRole highlights lock contention: half a goroutine or more waiting
// for a lock on average.
func lockRole(perSecond float64) role {
	if perSecond >= 0.5 {
		return roleWarn
	}
	return roleNormal
}

// twRole highlights a TIME_WAIT pile-up, the outside sign of connection
// churn.
func twRole(n int) role {
	if n >= 100 {
		return roleWarn
	}
	return roleNormal
}

// statusLine renders the link's status: live, paused, connecting or
// disconnected with the time to the next attempt.
func statusLine(m *model) line {
	var l line
	switch m.state {
	case stateLive:
		l = line{seg{"● live", roleOK}}
	case stateConnecting:
		l = line{seg{"○ connecting…", roleWarn}}
	case stateExited:
		l = line{seg{"✕ process exited", roleCrit}}
	case stateDisconnected:
		l = line{seg{"✕ disconnected", roleCrit}}
		if m.retryIn > 0 {
			l = append(l, seg{", reconnecting in " + fmtSeconds(int64((m.retryIn+time.Second-1)/time.Second)), roleCrit})
		} else {
			l = append(l, seg{", reconnecting…", roleCrit})
		}
	}
	if m.paused {
		l = append(line{seg{"❚❚ paused", roleWarn}, seg{"  ", roleNormal}}, l...)
	}
	return l
}

// keyHelp is one key and what it does, for the footer and the help.
type keyHelp struct {
	key, short, long string
}

// keys lists the dashboard's keys, most useful first (the footer drops
// from the end when narrow).
var keys = []keyHelp{
	{"q", "quit", "quit"},
	{"h", "help", "this help (also ?)"},
	{"tab", "pane", "next pane, shift-tab previous (narrow: switches the lower pane)"},
	{"enter", "drill", "on a host: only its connections; on the diagnoses: all in full"},
	{"esc", "back", "all connections again, or clear the filter; close a view"},
	{"s", "sort", "sort the focused pane by its next column"},
	{"S", "reverse", "reverse the focused pane's sort"},
	{"/", "filter", "show only what contains the text, in every pane"},
	{"p", "pause", "pause: freeze the view (p again shows the latest data)"},
	{"w", "wall/cpu", "hot functions: CPU or wall-clock (fgprof) profile; both are taken, w switches at once"},
	{"v", "view", "hot functions: CPU by your code, packages, kinds of work or flat; wall-clock by where requests wait or flat"},
	{"c", "capture", "capture profiles and snapshots to a directory"},
}

// footerLine renders the footer for a terminal w cells wide: a capture's
// progress, then the notice of the last action, or why the source is
// unreachable, or as many keys as fit.
func footerLine(m *model, w int) line {
	var l line
	if m.capture.running {
		l = append(l, seg{"capturing ", roleWarn}, seg{progressBar(m.capture.done, m.capture.total, 20), roleWarn}, seg{"  ", roleNormal})
	}
	switch {
	case m.message != "":
		l = append(l, seg{m.message, roleBold})
		return l.clip(w)
	case (m.state == stateDisconnected || m.state == stateExited) && m.connErr != "":
		l = append(l, seg{m.connErr, roleCrit}, seg{"  h help", roleDim})
		return l.clip(w)
	}
	wall := "wall"
	if m.hot.kind == snapshot.ProfileWall {
		wall = "cpu"
	}
	items := [][2]string{
		{"q", "quit"}, {"h", "help"}, {"tab", "pane"}, {"enter", "drill"}, {"s/S", "sort"},
		{"/", "filter"}, {"p", "pause"}, {"w", wall}, {"c", "capture"},
	}
	if m.paused {
		items[6][1] = "resume"
	}
	if m.drill != nil {
		items[3] = [2]string{"esc", "all conns"}
	}
	if m.focus == paneHot {
		items[3] = [2]string{"v", "view"} // enter does nothing there
	}
	for _, sep := range []string{"  ", " "} {
		k := l
		for i, it := range items {
			part := line{seg{it[0], roleKey}, seg{" " + it[1], roleDim}}
			if i > 0 {
				part = append(line{seg{sep, roleNormal}}, part...)
			}
			if k.width()+part.width() > w {
				if sep == " " {
					return k
				}
				k = nil
				break
			}
			k = append(k, part...)
		}
		if k != nil {
			return k
		}
	}
	return l
}

// progressBar renders done out of total as a bar width cells wide plus
// the figures: "[█████░░░░░] 12s/30s".
func progressBar(done, total time.Duration, width int) string {
	frac := 0.0
	if total > 0 {
		frac = min(max(float64(done)/float64(total), 0), 1)
	}
	full := int(frac * float64(width))
	return "[" + strings.Repeat("█", full) + strings.Repeat("░", width-full) + "] " +
		fmtSeconds(int64(done/time.Second)) + "/" + fmtSeconds(int64(total/time.Second))
}

// helpLines renders the help: every key and what it does.
func helpLines() []line {
	out := []line{
		{seg{"httptop dashboard keys", roleBold}},
		{},
	}
	for _, k := range keys {
		out = append(out, line{seg{padRight(k.key, 10), roleKey}, seg{k.long, roleNormal}})
	}
	out = append(out,
		line{seg{padRight("↑↓ ←→", 10), roleKey}, seg{"move the cursor; ←→ scroll the columns", roleNormal}},
		line{seg{padRight("pgup/pgdn", 10), roleKey}, seg{"page up/down; g/G: first/last row", roleNormal}},
		line{},
		line{seg{"press esc, h or ? to close", roleDim}},
	)
	return out
}

// padRight pads s with spaces to n cells.
func padRight(s string, n int) string {
	if w := utf8.RuneCountInString(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// diagLines renders one line per diagnosis, most severe first: severity,
// where, what and what to change.
func diagLines(m *model) []line {
	if m.snap == nil {
		return nil
	}
	if len(m.diags) == 0 {
		return []line{{seg{"no problems found", roleOK}}}
	}
	if len(m.diagView) == 0 {
		return []line{{seg{"no diagnosis matches \"" + m.filter + "\"", roleDim}}}
	}
	out := make([]line, 0, len(m.diagView))
	for _, d := range m.diagView {
		sev, r := severityLabel(d.Severity)
		where := diagWhere(d)
		out = append(out, line{
			seg{sev, r}, seg{" " + where, roleBold}, seg{" " + string(d.Kind) + ": ", roleDim},
			seg{d.Summary, roleNormal}, seg{" → " + d.Advice, roleDim},
		})
	}
	return out
}

// detailLines renders the diagnoses in full: severity, where and what,
// then the summary, the advice, the evidence and the call sites, each on
// lines of their own.
func detailLines(m *model) []line {
	var out []line
	for i, d := range m.diagView {
		if i > 0 {
			out = append(out, line{})
		}
		sev, r := severityLabel(d.Severity)
		where := diagWhere(d)
		out = append(out,
			line{seg{sev, r}, seg{" " + where, roleBold}, seg{" " + string(d.Kind), roleDim}},
			line{seg{d.Summary, roleNormal}},
		)
		if d.Advice != "" {
			out = append(out, line{seg{"→ ", roleDim}, seg{d.Advice, roleNormal}})
		}
		if len(d.Evidence) > 0 {
			names := make([]string, 0, len(d.Evidence))
			for k := range d.Evidence {
				names = append(names, k)
			}
			slices.Sort(names)
			var ev strings.Builder
			for j, k := range names {
				if j > 0 {
					ev.WriteString("  ")
				}
				ev.WriteString(k + "=" + strconv.FormatFloat(d.Evidence[k], 'f', -1, 64))
			}
			out = append(out, line{seg{"evidence: ", roleDim}, seg{ev.String(), roleNormal}})
		}
		for _, site := range d.Sites {
			out = append(out, line{seg{"at ", roleDim}, seg{site.String() + " ×" + strconv.Itoa(site.Count), roleNormal}})
		}
	}
	return out
}

// diagWhere names what a diagnosis concerns: "client host", the host, or
// "process" for a diagnosis of the whole process.
func diagWhere(d *snapshot.Diagnosis) string {
	switch {
	case d.Process():
		return "process"
	case d.Client != "":
		return d.Client + " " + d.Host
	}
	return d.Host
}

// severityLabel is a severity's four-letter label and role.
func severityLabel(s snapshot.Severity) (string, role) {
	switch s {
	case snapshot.SeverityCritical:
		return "CRIT", roleCrit
	case snapshot.SeverityWarning:
		return "WARN", roleWarn
	}
	return "INFO", roleNormal
}

// hotTitle names the hot functions pane's profile and view, says what
// httptop itself took of it, and what the filter leaves.
func hotTitle(m *model) string {
	t := "Hot functions · CPU"
	if m.hot.kind == snapshot.ProfileWall {
		t = "Hot functions · wall-clock"
	}
	t += " · " + hotViewNames[m.hot.view()]
	if a := m.hot.profile().attr; a != nil && m.hot.kind == snapshot.ProfileCPU {
		t += " · httptop " + fmtPct1(a.HttptopPct)
	}
	if m.filter != "" && m.hot.total > 0 {
		t += " · " + strconv.Itoa(m.hot.matched) + "/" + strconv.Itoa(m.hot.total) + " matching \"" + m.filter + "\""
	}
	return t
}

// fitHotTitle shortens the hot functions pane's title to room cells when
// it is longer: "wall-clock" becomes "wall", then "Hot functions" "Hot".
// What is still too long the border cuts.
func fitHotTitle(t string, room int) string {
	for _, r := range [...][2]string{{"wall-clock", "wall"}, {"Hot functions", "Hot"}} {
		if utf8.RuneCountInString(t) <= room {
			break
		}
		t = strings.Replace(t, r[0], r[1], 1)
	}
	return t
}

// hotStatus is the hot functions pane's notice: why profiling is
// unavailable, or that profiles are on their way; "" when the table says
// it all.
func hotStatus(m *model, d time.Duration) string {
	hp := m.hot.profile()
	switch {
	case hp.err != "":
		s := "profiling unavailable: " + hp.err
		if m.hot.kind == snapshot.ProfileCPU {
			s += " (w: try wall-clock)"
		}
		return s
	case hp.attr == nil && m.paused:
		return "paused"
	case hp.attr == nil:
		return "taking " + fmtSeconds(int64(d/time.Second)) + " CPU and wall-clock profiles…"
	case m.hot.kind == snapshot.ProfileWall && hp.samples == 0:
		// See wallWindow.
		return "no wall-clock sample yet: the agent samples the goroutines of a large program seldom, to bound what it costs"
	case m.hot.view() == viewWaits && (hp.waits == nil || hp.waits.Requests == 0):
		return "no goroutine was inside an HTTP client call during the last profile"
	}
	return ""
}

// sortMark is the arrow after a sorted column's title.
func sortMark(desc bool) string {
	if desc {
		return "▼"
	}
	return "▲"
}

// hostsTitle is the hosts pane's title: counts, sort and filter.
func hostsTitle(m *model) string {
	t := "Hosts " + strconv.Itoa(len(m.hostView))
	if m.filter != "" {
		t += "/" + strconv.Itoa(len(m.hosts)) + " matching \"" + m.filter + "\""
	}
	t += " · sort " + hostColumns[m.hostSort.col].title + " " + sortMark(m.hostSort.desc)
	for i := range m.hosts {
		if m.hosts[i].h.DialOnly {
			t += " · ? not seen: dial only"
			break
		}
	}
	if m.snap != nil && m.snap.Process != nil {
		// Every latency figure includes the wait for a thread.
		if p99 := m.snap.Process.WindowSchedLatencyP99Ms; bottleneck.InflatesLatency(p99) {
			t += " · latencies include up to " + fmtMs(p99) + " of waiting for a thread"
		}
	}
	return t
}

// connsTitle is the connections pane's title: whose, how many, sort.
func connsTitle(m *model) string {
	t := "Connections"
	if m.drill != nil {
		t += " of " + m.drill.host
		switch c := m.drill.client; {
		case strings.HasPrefix(c, "("): // (unwrapped) is in parentheses already
			t += " " + c
		case c != "":
			t += " (" + c + ")"
		}
	}
	t += " " + strconv.Itoa(len(m.connView))
	if m.filter != "" && m.drill == nil {
		t += " matching \"" + m.filter + "\""
	}
	t += " · sort " + connColumns[m.connSort.col].title + " " + sortMark(m.connSort.desc)
	if m.drill != nil {
		t += " · esc: all"
	}
	return t
}

// diagTitle is the diagnoses pane's title: counts, sort and filter.
func diagTitle(m *model) string {
	t := "Diagnoses " + strconv.Itoa(len(m.diagView))
	if m.filter != "" {
		t += "/" + strconv.Itoa(len(m.diags)) + " matching \"" + m.filter + "\""
	}
	if len(m.diags) > 1 {
		t += " · sort " + strings.ToLower(diagColumns[m.diagSort.col].title) + " " + sortMark(m.diagSort.desc)
	}
	return t
}

// lowerTabs is the compact layout's lower pane title: the pane on show,
// then the others tab reaches.
func lowerTabs(m *model, title string) string {
	names := map[pane]string{paneConns: "conns", paneHot: "hot", paneDiag: "diag " + strconv.Itoa(len(m.diagView))}
	t := title + "  ["
	first := true
	for _, p := range []pane{paneConns, paneHot, paneDiag} {
		if p == m.lower {
			continue
		}
		if !first {
			t += ", "
		}
		t += names[p]
		first = false
	}
	return t + ": tab]"
}
