package dashboard

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// fitter is a table content that can limit its columns to those that fit
// whole in the table's width.
type fitter interface {
	fit(t *tview.Table, width, height int)
}

// fitTable is a tview.Table that, before drawing, tells its content which
// columns fit whole: tview would draw the first column that does not fit
// cut to the width left, and a cut number misreads ("3.5m…" for 33.5ms).
// Scrolling sideways (←→) brings the others in.
type fitTable struct {
	*tview.Table
	content tview.TableContent
}

// Draw fits the columns to the table's width, then draws the table.
func (t *fitTable) Draw(screen tcell.Screen) {
	if f, ok := t.content.(fitter); ok {
		_, _, w, h := t.GetInnerRect()
		f.fit(t.Table, w, h)
	}
	t.Table.Draw(screen)
}

// tableContent is a tview.TableContent over the model's sorted rows: the
// table asks for the cells it draws, so its cost depends on the rows on
// screen, not on the rows in the model. Row 0 holds the column titles.
type tableContent[R any] struct {
	tview.TableContentReadOnly
	th   *theme
	cols []column[R]
	// rows returns the number of rows; row returns the i-th (0-based);
	// sort returns the current sort, whose column is marked.
	rows func() int
	row  func(i int) R
	sort func() sortState
	// fixed is the number of columns that stay put when the table
	// scrolls sideways; shown, when not 0, the number of columns to
	// offer the table (see fit).
	fixed, shown int
}

var _ fitter = (*tableContent[int])(nil)

// fit limits the columns the table sees to those that fit whole in width
// cells from its column offset on: the fixed columns, then the others
// while their widest cell on or near the screen fits. When not even one
// fits whole, one is shown anyway, cut.
func (t *tableContent[R]) fit(tbl *tview.Table, width, height int) {
	t.shown = 0
	rowOff, colOff := tbl.GetOffset()
	sel, _ := tbl.GetSelection()
	// The rows tview will measure: those on screen once it has scrolled
	// the selection into view.
	lo := max(min(rowOff, sel-1-height), 0)
	hi := min(max(rowOff, sel)+height, t.rows())
	colWidth := func(c int) int {
		w := 0
		for r := -1; r < hi; r++ {
			if r >= 0 && r < lo {
				r = lo
			}
			cell := t.GetCell(r+1, c)
			if cell == nil {
				continue
			}
			cw := tview.TaggedStringWidth(cell.Text)
			if cell.MaxWidth > 0 {
				cw = min(cw, cell.MaxWidth)
			}
			w = max(w, cw)
		}
		return w
	}
	used, shown := 0, 0
	for c := 0; c < min(t.fixed, len(t.cols)); c++ {
		used += colWidth(c) + 1
		shown = c + 1
	}
	for c := t.fixed + colOff; c < len(t.cols); c++ {
		w := colWidth(c)
		if used+w > width {
			if shown <= t.fixed+colOff {
				shown = c + 1 // not even one fits: show it cut
			}
			break
		}
		used += w + 1
		shown = c + 1
	}
	t.shown = shown
}

// GetRowCount returns the rows plus the title row.
func (t *tableContent[R]) GetRowCount() int { return 1 + t.rows() }

// GetColumnCount returns the number of columns, or of those that fit (see
// fit).
func (t *tableContent[R]) GetColumnCount() int {
	if t.shown > 0 {
		return min(t.shown, len(t.cols))
	}
	return len(t.cols)
}

// GetCell renders one cell from the model.
func (t *tableContent[R]) GetCell(row, col int) *tview.TableCell {
	if col < 0 || col >= len(t.cols) || row < 0 || row > t.rows() {
		return nil
	}
	c := &t.cols[col]
	cell := &tview.TableCell{MaxWidth: c.maxWidth}
	if c.align == alignRight {
		cell.Align = tview.AlignRight
	}
	if row == 0 {
		cell.Text = c.title
		if s := t.sort(); s.col == col {
			cell.Text += sortMark(s.desc)
		}
		cell.Style = t.th.header
		cell.NotSelectable = true
		return cell
	}
	r := t.row(row - 1)
	cell.Text = escape(c.text(r))
	if c.role != nil {
		cell.Style = t.th.style(c.role(r))
	}
	return cell
}

// hotContent is a tview.TableContent over the model's hot functions, in
// the order of its hotView.
type hotContent struct {
	tview.TableContentReadOnly
	th *theme
	m  *model
}

// GetRowCount returns the functions plus the title row; none while there
// are no functions.
func (h *hotContent) GetRowCount() int {
	if len(h.m.hot.funcs) == 0 {
		return 0
	}
	return 1 + len(h.m.hotView)
}

// GetColumnCount returns the number of columns.
func (h *hotContent) GetColumnCount() int { return len(hotColumns) }

// GetCell renders one cell from the model.
func (h *hotContent) GetCell(row, col int) *tview.TableCell {
	if col < 0 || col >= len(hotColumns) || row < 0 || row > len(h.m.hotView) {
		return nil
	}
	c := &hotColumns[col]
	cell := &tview.TableCell{}
	if c.align == alignRight {
		cell.Align = tview.AlignRight
	}
	if row == 0 {
		cell.Text = c.title
		if h.m.hotSort.col == col {
			cell.Text += sortMark(h.m.hotSort.desc)
		}
		cell.Style = h.th.header
		cell.NotSelectable = true
		return cell
	}
	cell.Text = escape(c.text(h.m.hotFunc(row - 1)))
	if col == len(hotColumns)-1 {
		cell.Expansion = 1
	}
	return cell
}
