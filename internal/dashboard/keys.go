package dashboard

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// onKey handles the dashboard's keys before the focused widget sees them
// (tview's input capture, on the UI goroutine). Keys it does not handle
// (arrows, page keys) go on to the focused table or text.
func (u *ui) onKey(ev *tcell.EventKey) *tcell.EventKey {
	m := u.m
	if ev.Key() == tcell.KeyCtrlC {
		u.quit() // rather than tview's own stop: see ui.run
		return nil
	}
	if m.filtering {
		return ev // the filter input has the keys until enter or esc
	}
	if m.helpOpen || m.detailOpen {
		u.onOverlayKey(ev)
		return nil
	}
	m.message = ""
	handled := true
	switch ev.Key() {
	case tcell.KeyTab:
		m.cycleFocus(false)
	case tcell.KeyBacktab:
		m.cycleFocus(true)
	case tcell.KeyEnter:
		handled = u.onEnter()
	case tcell.KeyEscape:
		u.onEscape()
	case tcell.KeyRune:
		handled = u.onRune(ev.Rune())
	default:
		handled = false
	}
	if !handled {
		return ev
	}
	u.applyFocus()
	return nil
}

// onOverlayKey handles a key while the help or the diagnoses in full are
// shown: the keys that close them close them; in the diagnoses, the
// others scroll.
func (u *ui) onOverlayKey(ev *tcell.EventKey) {
	m := u.m
	if m.helpOpen {
		switch {
		case ev.Key() == tcell.KeyEscape, ev.Key() == tcell.KeyEnter,
			ev.Key() == tcell.KeyRune && (ev.Rune() == 'h' || ev.Rune() == '?' || ev.Rune() == 'q'):
			m.helpOpen = false
		}
		return
	}
	switch {
	case ev.Key() == tcell.KeyEscape, ev.Key() == tcell.KeyEnter, ev.Key() == tcell.KeyRune && ev.Rune() == 'q':
		m.detailOpen = false
	default:
		// Arrows and page keys scroll the diagnoses.
		if h := u.detail.InputHandler(); h != nil {
			h(ev, func(tview.Primitive) {})
		}
	}
}

// onEnter drills into the selected host, or shows the diagnoses in
// full, as the focused pane says; it reports false when enter means
// nothing there.
func (u *ui) onEnter() bool {
	m := u.m
	switch m.focus {
	case paneHosts:
		row, _ := u.hosts.GetSelection()
		m.drillInto(row - 1)
		u.syncSelection()
	case paneDiag:
		// The diagnoses in full: the pane cuts long ones off.
		if len(m.diagView) > 0 {
			m.detailOpen = true
			u.setDetail()
		}
	default:
		return false
	}
	return true
}

// onEscape goes back from a drill-down to all connections, or else
// clears the filter.
func (u *ui) onEscape() {
	m := u.m
	switch {
	case m.drill != nil:
		m.drillOut()
	case m.filter != "":
		m.setFilter("")
		u.filter.SetText("")
		m.message = "filter cleared"
	}
	u.syncSelection()
}

// onRune handles the letter keys (see keys); it reports false for a
// letter that means nothing.
func (u *ui) onRune(r rune) bool {
	m := u.m
	switch r {
	case 'q':
		u.quit()
	case 'h', '?':
		m.helpOpen = true
	case 's':
		m.cycleSort()
		u.syncSelection()
	case 'S':
		m.reverseSort()
		u.syncSelection()
	case '/':
		m.filtering = true
		u.filterPrev = m.filter
		u.filter.SetText(m.filter)
	case 'p':
		m.setPaused(!m.paused)
		u.syncSelection()
	case 'w':
		m.toggleProfileKind()
	case 'v':
		m.cycleHotView()
	case 'c':
		u.startCapture()
	default:
		return false
	}
	return true
}

// filterDone ends filter input: enter (or tab) keeps the filter, esc
// restores the one before. The hosts table gets the focus, so enter can
// drill into what the filter found.
func (u *ui) filterDone(key tcell.Key) {
	if key == tcell.KeyEscape {
		u.m.setFilter(u.filterPrev)
	}
	u.m.filtering = false
	u.m.setFocus(paneHosts)
	u.syncSelection()
	u.applyFocus()
}
