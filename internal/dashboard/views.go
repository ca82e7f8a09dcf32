package dashboard

import (
	"context"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/httptop/httptop/snapshot"
	"github.com/rivo/tview"
)

// layoutMode is how the panes share the terminal.
type layoutMode int

const (
	// modeSmall shows only a "terminal too small" notice.
	modeSmall layoutMode = iota
	// modeCompact (80x24 and up) stacks the hosts over one lower pane:
	// connections, hot functions or diagnoses, the one tab last focused.
	modeCompact
	// modeWide shows every pane at once.
	modeWide
)

// Thresholds of the wide layout.
const (
	wideWidth  = 120
	wideHeight = 30
)

// layoutFor picks the layout for a w x h terminal.
func layoutFor(w, h int) layoutMode {
	switch {
	case w < minWidth || h < minHeight:
		return modeSmall
	case w >= wideWidth && h >= wideHeight:
		return modeWide
	}
	return modeCompact
}

// ui is the dashboard's views: tview widgets that read the model when they
// draw, the application that runs them, and the background loops that feed
// it.
type ui struct {
	opts Options
	th   *theme
	m    *model
	app  *tview.Application

	root      *rootView
	main      *tview.Flex // the panes, rebuilt when the layout changes
	middle    *tview.Flex // connections beside hot functions (wide layout)
	header    *tview.Box
	hosts     *fitTable
	conns     *fitTable
	hotBox    *markedFlex
	hotStatus *tview.TextView
	hot       *fitTable
	diag      *moreText
	footer    *tview.Box
	filter    *tview.InputField
	help      *tview.TextView
	detail    *tview.TextView // the diagnoses in full (enter in their pane)

	// What main was last built for.
	built struct {
		ok        bool
		mode      layoutMode
		lower     pane
		filtering bool
	}
	mode layoutMode
	// What the text views show, to set them only when it changes.
	diagSet       bool
	diagGen       uint64   // the model generation diag shows
	diagText      []string // diag's lines without styles, for sizing
	hotStatusText string
	filterPrev    string // the filter before / was pressed, for esc

	// ctx is Run's context, cancelled by quit when the dashboard ends.
	ctx  context.Context
	quit context.CancelFunc
	mb   mailbox
	prof profControl
	// wall gathers the latest wall-clock profiles; the profiler's
	// goroutine alone uses it.
	wall wallWindow
	// loops are the background goroutines that feed the model (stream,
	// profiler, capture); once loopsClosed, no more start.
	loops       sync.WaitGroup
	loopsMu     sync.Mutex
	loopsClosed bool
	// started is closed when the application first draws.
	started   chan struct{}
	startOnce sync.Once

	// onFrame, when set, is called on the UI goroutine after every frame
	// is drawn (before it is shown); tests read the screen there.
	onFrame func(tcell.Screen)
}

// newUI builds the widgets over a new model.
func newUI(opts Options) *ui {
	opts = opts.withDefaults()
	u := &ui{
		opts: opts,
		th:   newTheme(!opts.NoColor),
		m:    newModel(),
		app:  tview.NewApplication(),
	}
	u.prof.wake = make(chan struct{}, 1)
	u.mb.ready = make(chan struct{}, 1)
	u.started = make(chan struct{})
	u.quit = func() {}

	u.newBars()
	u.newTables()
	u.newHotPane()
	u.newDiagPane()
	u.newFilter()
	u.newOverlays()
	u.main = tview.NewFlex().SetDirection(tview.FlexRow)
	u.middle = tview.NewFlex().SetDirection(tview.FlexColumn)
	u.root = &rootView{Box: tview.NewBox(), u: u}

	u.app.SetRoot(u.root, true).
		SetFocus(u.hosts).
		SetInputCapture(u.onKey).
		SetAfterDrawFunc(func(screen tcell.Screen) {
			if u.onFrame != nil {
				u.onFrame(screen)
			}
		})
	return u
}

// newBars builds the header and the footer, which draw headerLines and
// footerLine.
func (u *ui) newBars() {
	th, m, opts := u.th, u.m, u.opts
	u.header = tview.NewBox().SetBackgroundColor(tcell.ColorDefault)
	u.header.SetDrawFunc(func(screen tcell.Screen, x, y, w, h int) (int, int, int, int) {
		title := opts.Title
		if opts.TitleFunc != nil {
			title = opts.TitleFunc()
		}
		l1, l2 := headerLines(m, title, w)
		th.drawLine(screen, x, y, w, l1)
		if h > 1 {
			th.drawLine(screen, x, y+1, w, l2)
		}
		return x, y, w, h
	})
	u.footer = tview.NewBox().SetBackgroundColor(tcell.ColorDefault)
	u.footer.SetDrawFunc(func(screen tcell.Screen, x, y, w, h int) (int, int, int, int) {
		th.drawLine(screen, x, y, w, footerLine(m, w))
		return x, y, w, h
	})
}

// newTables builds the hosts and connections tables, which remember the
// row the cursor is on.
func (u *ui) newTables() {
	th, m := u.th, u.m
	u.hosts = u.newTable(&tableContent[*hostRow]{
		th: th, cols: hostColumns,
		rows:  func() int { return len(m.hostView) },
		row:   m.host,
		sort:  func() sortState { return m.hostSort },
		fixed: 2,
	}, 2)
	u.hosts.SetSelectionChangedFunc(func(row, _ int) {
		if row >= 1 && row-1 < len(m.hostView) {
			m.selHost = m.host(row - 1).key
		}
	})
	u.conns = u.newTable(&tableContent[*snapshot.Conn]{
		th: th, cols: connColumns,
		rows:  func() int { return len(m.connView) },
		row:   m.conn,
		sort:  func() sortState { return m.connSort },
		fixed: 1,
		dim:   connClosed,
	}, 1)
	u.conns.SetSelectionChangedFunc(func(row, _ int) {
		if row >= 1 && row-1 < len(m.connView) {
			m.selConn = m.conn(row - 1).ID
		}
	})
}

// newHotPane builds the hot functions pane: a status line over the
// table, in one box.
func (u *ui) newHotPane() {
	th := u.th
	u.hot = u.newTable(&hotContent{th: th, m: u.m}, 0)
	u.hot.SetBorder(false)
	u.hotStatus = tview.NewTextView().SetWrap(true).SetWordWrap(true)
	u.hotStatus.SetBackgroundColor(tcell.ColorDefault)
	u.hotStatus.SetTextStyle(th.style(roleDim))
	u.hotBox = &markedFlex{Flex: tview.NewFlex().SetDirection(tview.FlexRow).
		AddItem(u.hotStatus, 0, 1, false).
		AddItem(u.hot, 0, 0, true), th: th, mark: func() string { return wallResolution(&u.m.hot) }}
	th.box(u.hotBox.Box, hotTitle(u.m))
}

// newDiagPane builds the diagnoses pane.
func (u *ui) newDiagPane() {
	u.diag = &moreText{TextView: tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true).SetScrollable(true), th: u.th}
	u.diag.SetBackgroundColor(tcell.ColorDefault)
	u.diag.SetTextStyle(tcell.StyleDefault)
	u.th.box(u.diag.Box, diagTitle(u.m))
}

// newFilter builds the filter input (/), which filters as it is typed.
func (u *ui) newFilter() {
	u.filter = tview.NewInputField().SetLabel("filter hosts: ")
	u.filter.SetBackgroundColor(tcell.ColorDefault)
	u.filter.SetLabelStyle(u.th.style(roleKey))
	u.filter.SetFieldStyle(u.th.input)
	u.filter.SetChangedFunc(func(text string) {
		u.m.setFilter(text)
		u.syncSelection()
	})
	u.filter.SetDoneFunc(u.filterDone)
}

// newOverlays builds the views shown over the panes: the help, and the
// diagnoses in full.
func (u *ui) newOverlays() {
	th := u.th
	u.help = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true)
	u.help.SetBackgroundColor(tcell.ColorDefault)
	u.help.SetTextStyle(tcell.StyleDefault)
	th.box(u.help.Box, "Help")
	var help []string
	for _, l := range helpLines() {
		help = append(help, th.tagged(l))
	}
	u.help.SetText(strings.Join(help, "\n"))

	u.detail = tview.NewTextView().SetDynamicColors(true).SetWrap(true).SetWordWrap(true).SetScrollable(true)
	u.detail.SetBackgroundColor(tcell.ColorDefault)
	u.detail.SetTextStyle(tcell.StyleDefault)
	th.box(u.detail.Box, "Diagnoses in full · ↑↓ scroll · esc close")
}

// newTable returns a bordered, row-selectable table over content whose
// first fixedCols columns stay put when it scrolls sideways.
func (u *ui) newTable(content tview.TableContent, fixedCols int) *fitTable {
	t := tview.NewTable().SetContent(content).
		SetSelectable(true, false).
		SetFixed(1, fixedCols)
	t.SetBackgroundColor(tcell.ColorDefault)
	t.SetBordersColor(tcell.ColorDefault)
	t.SetSelectedStyle(u.th.selected)
	u.th.box(t.Box, "")
	return &fitTable{Table: t, content: content}
}

// paneWidget returns the widget that takes the focus for p.
func (u *ui) paneWidget(p pane) tview.Primitive {
	switch p {
	case paneConns:
		return u.conns
	case paneHot:
		return u.hot
	case paneDiag:
		return u.diag
	}
	return u.hosts
}

// paneBox returns the bordered widget that shows p.
func (u *ui) paneBox(p pane) tview.Primitive {
	if p == paneHot {
		return u.hotBox
	}
	return u.paneWidget(p)
}

// applyFocus gives the focus to the model's focused pane (or the filter
// input). It must not run while the application draws.
func (u *ui) applyFocus() {
	if u.m.filtering {
		u.app.SetFocus(u.filter)
		return
	}
	u.app.SetFocus(u.paneWidget(u.m.focus))
}

// syncSelection keeps each table's cursor on the same host or connection
// after the rows were re-sorted, filtered or replaced, or in range when
// that row is gone.
func (u *ui) syncSelection() {
	m := u.m
	row, _ := u.hosts.GetSelection()
	if i := m.hostIndex(m.selHost); i >= 0 {
		row = i + 1
	}
	row = min(max(row, 1), max(len(m.hostView), 1))
	u.hosts.Select(row, 0)

	crow, _ := u.conns.GetSelection()
	if i := m.connIndex(m.selConn); i >= 0 {
		crow = i + 1
	}
	u.conns.Select(min(max(crow, 1), max(len(m.connView), 1)), 0)
}

// layout fits the panes to a w x h screen and refreshes what the widgets
// do not read from the model themselves (titles, texts, sizes). It runs
// at the start of every draw.
func (u *ui) layout(w, h int) {
	m := u.m
	u.mode = layoutFor(w, h)
	u.updateProfiling()
	if u.mode == modeSmall {
		return
	}
	if u.mode == modeWide {
		m.setHostWidth(hostWidthWide)
	} else {
		m.setHostWidth(hostWidthCompact)
	}
	if !u.built.ok || u.built.mode != u.mode || u.built.lower != m.lower || u.built.filtering != m.filtering {
		u.rebuild()
	}
	u.setTitles()
	u.anchorTables()
	u.setTexts(w)
	u.sizePanes(w, h)
}

// setTitles sets the panes' titles; in the compact layout the lower
// panes' titles are tabs.
func (u *ui) setTitles() {
	m, th := u.m, u.th
	compact := u.mode == modeCompact
	title := func(p pane, t string) string {
		if compact && p != paneHosts {
			return lowerTabs(m, t)
		}
		return t
	}
	th.box(u.hosts.Box, hostsTitle(m))
	th.box(u.conns.Box, title(paneConns, connsTitle(m)))
	hot := hotTitle(m)
	if _, _, w, _ := u.hotBox.GetRect(); !compact && w > 0 {
		// Beside the connections the pane may be narrow: the border,
		// its corners and the spaces around the title take 4 cells.
		hot = fitHotTitle(hot, w-4)
	}
	th.box(u.hotBox.Box, title(paneHot, hot))
	th.box(u.diag.Box, title(paneDiag, diagTitle(m)))
}

// anchorTables keeps each table where the cursor and the user put it,
// and shows its cursor in full only where the focus is.
func (u *ui) anchorTables() {
	for _, t := range []*fitTable{u.hosts, u.conns, u.hot} {
		// A table whose rows all fit "tracks its end" and, once rows
		// arrive, would show the last ones instead of the first; keep
		// tables anchored where the cursor and the user put them.
		t.SetOffset(t.GetOffset())
		if t.HasFocus() {
			t.SetSelectedStyle(u.th.selected)
		} else {
			t.SetSelectedStyle(tcell.StyleDefault.Underline(true))
		}
	}
}

// setTexts sets the diagnoses and the hot functions' status, only when
// they change (a TextView re-parses its text after every SetText), and
// gives the status the lines it takes on a screen w cells wide.
func (u *ui) setTexts(w int) {
	m := u.m
	if !u.diagSet || u.diagGen != m.gen {
		u.diagSet, u.diagGen = true, m.gen
		u.diagText = u.diagText[:0]
		var tagged []string
		for _, l := range diagLines(m) {
			tagged = append(tagged, u.th.tagged(l))
			u.diagText = append(u.diagText, l.String())
		}
		u.diag.setLines(tagged)
	}
	status := hotStatus(m, u.opts.ProfileDuration)
	if status != u.hotStatusText {
		u.hotStatusText = status
		u.hotStatus.SetText(status)
	}
	hotW := w - 2
	if u.mode == modeWide {
		hotW = w*2/5 - 2
	}
	switch {
	case len(m.hot.rows) == 0:
		u.hotBox.ResizeItem(u.hotStatus, 0, 1).ResizeItem(u.hot, 0, 0)
	case status != "":
		u.hotBox.ResizeItem(u.hotStatus, min(wrappedLines(status, hotW), 3), 0).ResizeItem(u.hot, 0, 1)
	default:
		u.hotBox.ResizeItem(u.hotStatus, 0, 0).ResizeItem(u.hot, 0, 1)
	}
}

// sizePanes sizes the panes of a w x h screen: the hosts table takes
// what its rows need, up to a share of the screen; the wide layout's
// diagnoses likewise.
func (u *ui) sizePanes(w, h int) {
	m := u.m
	avail := h - 3 // header and footer
	if u.mode == modeWide {
		hostsH := min(max(len(m.hostView)+3, 5), avail*2/5)
		diagH := 2
		for _, l := range u.diagText {
			diagH += wrappedLines(l, w-2)
		}
		diagH = min(max(diagH, 3), avail/4)
		u.main.ResizeItem(u.hosts, hostsH, 0)
		u.main.ResizeItem(u.diag, diagH, 0)
	} else {
		hostsH := min(max(len(m.hostView)+3, 5), avail/2)
		u.main.ResizeItem(u.hosts, hostsH, 0)
	}
}

// moreText is a scrolling TextView that marks its bottom border when
// text goes on below: "▼ more: enter" (the dashboard's enter shows the
// diagnoses whole).
type moreText struct {
	*tview.TextView
	th    *theme
	lines []string // the text, by line, with its style tags
}

// moreMark is the mark moreText draws.
const moreMark = " ▼ more: enter "

// setLines sets the text, one string per line.
func (t *moreText) setLines(lines []string) {
	t.lines = lines
	t.SetText(strings.Join(lines, "\n"))
}

// Draw draws the text, then the mark when lines are cut off below.
func (t *moreText) Draw(screen tcell.Screen) {
	t.TextView.Draw(screen)
	x, y, w, h := t.GetInnerRect()
	if h <= 0 || w <= 0 {
		return
	}
	n := 0 // the lines the text takes wrapped at w, as the TextView wraps it
	for _, l := range t.lines {
		n += max(len(tview.WordWrap(l, w)), 1)
	}
	if row, _ := t.GetScrollOffset(); row+h >= n {
		return
	}
	t.th.drawBorderMark(screen, x, y, w, h, moreMark, roleWarn)
}

// markedFlex is a bordered Flex that writes a mark into its bottom
// border, at the right: the hot functions pane's wall-clock resolution
// ("22 samples over 8s"), which the pane's title and column headers,
// narrow beside the connections, would cut off.
type markedFlex struct {
	*tview.Flex
	th   *theme
	mark func() string
}

// Draw draws the Flex, then the mark, when there is one and room for it.
func (f *markedFlex) Draw(screen tcell.Screen) {
	f.Flex.Draw(screen)
	mark := f.mark()
	x, y, w, h := f.GetInnerRect()
	if mark == "" || w <= 0 || h < 0 {
		return
	}
	mark = " " + mark + " "
	if utf8.RuneCountInString(mark) > w {
		return
	}
	f.th.drawBorderMark(screen, x, y, w, h, mark, roleDim)
}

// setDetail fills the full view of the diagnoses (enter in their pane):
// each with its summary, advice, evidence and call sites, unwrapped by
// any pane.
func (u *ui) setDetail() {
	var b strings.Builder
	for i, l := range detailLines(u.m) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(u.th.tagged(l))
	}
	u.detail.SetText(b.String()).ScrollToBeginning()
}

// wrappedLines estimates the lines s takes wrapped at w cells.
func wrappedLines(s string, w int) int {
	if w <= 0 {
		return 1
	}
	n := utf8.RuneCountInString(s)
	return max((n+w-1)/w, 1)
}

// rebuild arranges the panes for the current layout.
func (u *ui) rebuild() {
	m := u.m
	u.built.ok, u.built.mode, u.built.lower, u.built.filtering = true, u.mode, m.lower, m.filtering
	bottom := tview.Primitive(u.footer)
	if m.filtering {
		bottom = u.filter
	}
	u.main.Clear()
	u.main.AddItem(u.header, 2, 0, false)
	u.main.AddItem(u.hosts, 5, 0, true)
	switch u.mode {
	case modeWide:
		u.middle.Clear()
		u.middle.AddItem(u.conns, 0, 3, false)
		u.middle.AddItem(u.hotBox, 0, 2, false)
		u.main.AddItem(u.middle, 0, 1, false)
		u.main.AddItem(u.diag, 3, 0, false)
	default:
		u.main.AddItem(u.paneBox(m.lower), 0, 1, false)
	}
	u.main.AddItem(bottom, 1, 0, false)
}

// hotVisible reports whether the hot functions pane is on screen.
func (u *ui) hotVisible() bool {
	return u.mode == modeWide || (u.mode == modeCompact && u.m.lower == paneHot)
}

// updateProfiling tells the profiler whether anyone watches the hot
// functions pane.
func (u *ui) updateProfiling() {
	m := u.m
	u.prof.set(profWant{
		on: u.hotVisible() && !m.paused && m.state == stateLive,
	})
}

// rootView is the application's root: it lays the panes out for the
// screen's size at every draw, shows a notice instead when the terminal is
// too small, and draws the help over the panes.
type rootView struct {
	*tview.Box
	u *ui
}

// Draw draws the dashboard.
func (r *rootView) Draw(screen tcell.Screen) {
	u := r.u
	u.startOnce.Do(func() { close(u.started) })
	x, y, w, h := r.GetRect()
	u.layout(w, h)
	if u.mode == modeSmall {
		for row, s := range tooSmall(w, h) {
			if row >= h {
				break
			}
			tview.Print(screen, escape(s), x, y+(h-3)/2+row, w, tview.AlignCenter, tcell.ColorDefault)
		}
		return
	}
	u.main.SetRect(x, y, w, h)
	u.main.Draw(screen)
	if u.m.helpOpen {
		hw := min(w-4, 96)
		hh := min(h-2, len(helpLines())+2)
		u.help.SetRect(x+(w-hw)/2, y+(h-hh)/2, hw, hh)
		u.help.Draw(screen)
	}
	if u.m.detailOpen {
		dw := min(w-4, 120)
		u.detail.SetRect(x+(w-dw)/2, y+1, dw, h-2)
		u.detail.Draw(screen)
	}
}

// Focus passes the focus to the focused pane.
func (r *rootView) Focus(delegate func(p tview.Primitive)) {
	if r.u.m.filtering {
		delegate(r.u.filter)
		return
	}
	delegate(r.u.paneWidget(r.u.m.focus))
}

// HasFocus reports whether a pane has the focus.
func (r *rootView) HasFocus() bool { return r.u.main.HasFocus() }

// InputHandler passes keys the dashboard does not handle itself (arrows,
// page keys) to the focused pane.
func (r *rootView) InputHandler() func(*tcell.EventKey, func(tview.Primitive)) {
	return r.WrapInputHandler(func(ev *tcell.EventKey, setFocus func(tview.Primitive)) {
		if h := r.u.main.InputHandler(); h != nil {
			h(ev, setFocus)
		}
	})
}
