package dashboard

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	// Line 1: identity on the left, status on the right. When they do
	// not fit, the target, the time and the uptime go first, in that
	// order, and the program's name is cut last.
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
	l1 = append(l1, right...)

	// Line 2: load and traffic, with labels shortened and then items
	// dropped from the end until it fits.
	if s == nil {
		return l1, line{seg{"waiting for the first snapshot…", roleDim}}
	}
	type item struct {
		long, short string
		value       string
		role        role
	}
	var items []item
	if p := s.Process; p != nil {
		items = append(items,
			item{"CPU ", "cpu ", fmtPct1(p.CPUPercent), roleNormal},
			item{"RSS ", "rss ", fmtBytes(int64(p.RSSBytes)), roleNormal},
			item{"goroutines ", "gor ", strconv.Itoa(p.Goroutines), roleNormal},
			item{"threads ", "thr ", strconv.Itoa(p.Threads), roleNormal},
			item{"fds ", "fd ", strconv.Itoa(p.FDs), roleNormal},
			item{"TCP estab ", "est ", strconv.Itoa(p.TCP.Established), roleNormal},
			item{"time_wait ", "tw ", strconv.Itoa(p.TCP.TimeWait), twRole(p.TCP.TimeWait)},
		)
	}
	errRole := roleNormal
	if m.totalEPS > 0 {
		errRole = roleCrit
	}
	items = append(items,
		item{"req/s ", "req/s ", fmtRate(m.totalRPS), roleBold},
		item{"err/s ", "err/s ", fmtRate(m.totalEPS), errRole},
	)
	// The traffic totals matter most: drop process figures first.
	for _, short := range []bool{false, true} {
		for drop := 0; drop <= len(items)-2; drop++ {
			var l line
			sep := "   "
			if short {
				sep = "  "
			}
			kept := append(append([]item(nil), items[:len(items)-2-drop]...), items[len(items)-2:]...)
			for i, it := range kept {
				if i > 0 {
					l = append(l, seg{sep, roleNormal})
				}
				label := it.long
				if short {
					label = it.short
				}
				l = append(l, seg{label, roleDim}, seg{it.value, it.role})
			}
			if l.width() <= w {
				return l1, l
			}
			if !short {
				break // try short labels before dropping anything
			}
		}
	}
	last := items[len(items)-2:]
	l := line{seg{last[0].short, roleDim}, seg{last[0].value, last[0].role}, seg{" ", roleNormal},
		seg{last[1].short, roleDim}, seg{last[1].value, last[1].role}}
	return l1, l.clip(w)
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
	{"enter", "drill", "on a host: show only its connections"},
	{"esc", "back", "back to all connections; close help or the filter"},
	{"s", "sort", "sort the focused table by its next column"},
	{"S", "reverse", "reverse the sort"},
	{"/", "filter", "show only hosts whose client or host contains the text"},
	{"p", "pause", "pause: freeze the view (p again shows the latest data)"},
	{"w", "wall/cpu", "hot functions: CPU or wall-clock (fgprof) profile"},
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
	out := make([]line, 0, len(m.diags))
	for _, d := range m.diags {
		sev, r := "INFO", roleNormal
		switch d.Severity {
		case snapshot.SeverityCritical:
			sev, r = "CRIT", roleCrit
		case snapshot.SeverityWarning:
			sev, r = "WARN", roleWarn
		}
		where := d.Host
		if d.Client != "" {
			where = d.Client + " " + d.Host
		}
		out = append(out, line{
			seg{sev, r}, seg{" " + where, roleBold}, seg{" " + string(d.Kind) + ": ", roleDim},
			seg{d.Summary, roleNormal}, seg{" → " + d.Advice, roleDim},
		})
	}
	return out
}

// hotTitle names the hot functions pane's profile.
func hotTitle(m *model) string {
	if m.hot.kind == snapshot.ProfileWall {
		return "Hot functions · wall-clock"
	}
	return "Hot functions · CPU"
}

// hotStatus is the hot functions pane's notice: why profiling is
// unavailable, or that a profile is on its way; "" when the table says it
// all.
func hotStatus(m *model, d time.Duration) string {
	switch {
	case m.hot.err != "":
		s := "profiling unavailable: " + m.hot.err
		if m.hot.kind == snapshot.ProfileCPU {
			s += " (w: try wall-clock)"
		}
		return s
	case m.hot.funcs == nil && m.paused:
		return "paused"
	case m.hot.funcs == nil:
		kind := "CPU"
		if m.hot.kind == snapshot.ProfileWall {
			kind = "wall-clock"
		}
		return "taking a " + fmtSeconds(int64(d/time.Second)) + " " + kind + " profile…"
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
	return t
}

// connsTitle is the connections pane's title: whose, how many, sort.
func connsTitle(m *model) string {
	t := "Connections"
	if m.drill != nil {
		t += " of " + m.drill.host
		if m.drill.client != "" {
			t += " (" + m.drill.client + ")"
		}
	}
	t += " " + strconv.Itoa(len(m.connView)) + " · sort " + connColumns[m.connSort.col].title + " " + sortMark(m.connSort.desc)
	if m.drill != nil {
		t += " · esc: all"
	}
	return t
}

// diagTitle is the diagnoses pane's title.
func diagTitle(m *model) string {
	return "Diagnoses " + strconv.Itoa(len(m.diags))
}

// lowerTabs is the compact layout's lower pane title: the pane on show,
// then the others tab reaches.
func lowerTabs(m *model, title string) string {
	names := map[pane]string{paneConns: "conns", paneHot: "hot", paneDiag: "diag " + strconv.Itoa(len(m.diags))}
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
