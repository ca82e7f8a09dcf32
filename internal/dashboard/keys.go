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
	if m.helpOpen {
		switch {
		case ev.Key() == tcell.KeyEscape, ev.Key() == tcell.KeyEnter,
			ev.Key() == tcell.KeyRune && (ev.Rune() == 'h' || ev.Rune() == '?' || ev.Rune() == 'q'):
			m.helpOpen = false
		}
		return nil
	}
	if m.detailOpen {
		switch {
		case ev.Key() == tcell.KeyEscape, ev.Key() == tcell.KeyEnter, ev.Key() == tcell.KeyRune && ev.Rune() == 'q':
			m.detailOpen = false
		default:
			// Arrows and page keys scroll the diagnoses.
			if h := u.detail.InputHandler(); h != nil {
				h(ev, func(tview.Primitive) {})
			}
		}
		return nil
	}
	m.message = ""
	switch ev.Key() {
	case tcell.KeyTab:
		m.cycleFocus(false)
	case tcell.KeyBacktab:
		m.cycleFocus(true)
	case tcell.KeyEnter:
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
			return ev
		}
	case tcell.KeyEscape:
		switch {
		case m.drill != nil:
			m.drillOut()
		case m.filter != "":
			m.setFilter("")
			u.filter.SetText("")
			m.message = "filter cleared"
		}
		u.syncSelection()
	case tcell.KeyRune:
		switch ev.Rune() {
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
			return ev
		}
	default:
		return ev
	}
	u.applyFocus()
	return nil
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
