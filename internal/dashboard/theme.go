package dashboard

import (
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// theme is the dashboard's styles. The colour theme keeps the terminal's
// own background and foreground and adds a few accents; the no-colour
// theme (NO_COLOR) uses no colour at all, only bold and reverse video.
type theme struct {
	color bool
	roles [roleCrit + 1]tcell.Style
	// border is the style of pane borders, title of their titles.
	border, title tcell.Style
	// header is a table's column titles; selected the row under the
	// cursor.
	header, selected tcell.Style
	// input is the filter field.
	input tcell.Style
}

// newTheme returns the colour theme, or the no-colour one.
func newTheme(color bool) *theme {
	base := tcell.StyleDefault
	t := &theme{color: color}
	if !color {
		t.roles = [...]tcell.Style{
			roleNormal: base,
			roleDim:    base,
			roleBold:   base.Bold(true),
			roleKey:    base.Bold(true),
			roleOK:     base,
			roleWarn:   base.Bold(true),
			roleCrit:   base.Bold(true),
		}
		t.border, t.title = base, base.Bold(true)
		t.header = base.Bold(true)
		t.selected = base.Reverse(true)
		t.input = base.Underline(true)
		return t
	}
	t.roles = [...]tcell.Style{
		roleNormal: base,
		roleDim:    base.Foreground(tcell.ColorGray),
		roleBold:   base.Bold(true),
		roleKey:    base.Foreground(tcell.ColorAqua).Bold(true),
		roleOK:     base.Foreground(tcell.ColorGreen),
		roleWarn:   base.Foreground(tcell.ColorYellow),
		roleCrit:   base.Foreground(tcell.ColorRed).Bold(true),
	}
	t.border = base.Foreground(tcell.ColorGray)
	t.title = base.Foreground(tcell.ColorAqua).Bold(true)
	t.header = base.Foreground(tcell.ColorYellow).Bold(true)
	t.selected = base.Background(tcell.ColorNavy).Foreground(tcell.ColorWhite)
	t.input = base.Background(tcell.ColorNavy).Foreground(tcell.ColorWhite)
	return t
}

// style returns the style of r.
func (t *theme) style(r role) tcell.Style { return t.roles[r] }

// box styles a bordered pane.
func (t *theme) box(b *tview.Box, title string) {
	b.SetBorder(true).
		SetBackgroundColor(tcell.ColorDefault).
		SetBorderStyle(t.border).
		SetTitleAlign(tview.AlignLeft)
	fg, _, _ := t.title.Decompose()
	b.SetTitleColor(fg)
	b.SetTitle(" " + tview.Escape(title) + " ")
}

// tagged converts a line into tview's style-tag markup, escaping the text,
// for widgets that parse tags (TextView).
func (t *theme) tagged(l line) string {
	var b strings.Builder
	for _, s := range l {
		b.WriteString(t.tag(s.role))
		b.WriteString(escape(s.text))
	}
	b.WriteString("[-:-:-]")
	return b.String()
}

// tag returns the style tag of role r.
func (t *theme) tag(r role) string {
	fg, _, attr := t.roles[r].Decompose()
	var b strings.Builder
	b.WriteByte('[')
	if fg == tcell.ColorDefault {
		b.WriteByte('-')
	} else {
		b.WriteString(fg.String())
	}
	b.WriteString(":-:")
	switch {
	case attr&tcell.AttrBold != 0:
		b.WriteByte('b')
	default:
		b.WriteByte('-')
	}
	b.WriteByte(']')
	return b.String()
}

// escape escapes s for widgets that parse style tags, without allocating
// when there is nothing to escape.
func escape(s string) string {
	if strings.IndexByte(s, '[') < 0 {
		return s
	}
	return tview.Escape(s)
}

// drawBorderMark draws mark in role at the right end of the bottom border
// of a box whose inner rectangle is (x, y, w, h), cut to w cells.
func (t *theme) drawBorderMark(screen tcell.Screen, x, y, w, h int, mark string, r role) {
	n := utf8.RuneCountInString(mark)
	t.drawLine(screen, x+max(w-n, 0), y+h, min(w, n), line{seg{mark, r}})
}

// drawLine draws l at (x, y) in at most w cells, styled by the theme, with
// no tag parsing. It returns the cells drawn.
func (t *theme) drawLine(screen tcell.Screen, x, y, w int, l line) int {
	n := 0
	for _, s := range l {
		st := t.roles[s.role]
		for _, r := range s.text {
			if n >= w {
				return n
			}
			screen.SetContent(x+n, y, r, nil, st)
			n++
		}
	}
	return n
}
