package dashboard

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// fitter is a table content that knows its columns' widths.
type fitter interface {
	// cut returns where, in cells from the table's left edge, the last
	// column drawn whole ends, when the table (drawn with its offsets)
	// cuts a column at width, and ok false when every column drawn fits.
	cut(t *tview.Table, width, height int) (end int, ok bool)
}

// fitTable is a tview.Table that does not show a column cut at its right
// edge: tview draws the first column that does not fit cut to the width
// left, and a cut number misreads ("3.5m…" for 33.5ms). The cut column is
// blanked; scrolling sideways (←→) brings it in whole.
type fitTable struct {
	*tview.Table
	content tview.TableContent
}

// Draw draws the table, then blanks a column cut at its right edge.
func (t *fitTable) Draw(screen tcell.Screen) {
	t.Table.Draw(screen)
	f, ok := t.content.(fitter)
	if !ok {
		return
	}
	x, y, w, h := t.GetInnerRect()
	end, cut := f.cut(t.Table, w, h)
	if !cut {
		return
	}
	for row := y; row < y+h; row++ {
		for col := x + end; col < x+w; col++ {
			screen.SetContent(col, row, ' ', nil, tcell.StyleDefault)
		}
	}
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
	// scrolls sideways.
	fixed int
	// dim, when set, says which rows are drawn dimmed whole (closed
	// connections).
	dim func(R) bool
}

var _ fitter = (*tableContent[int])(nil)

// cut finds the column tview cut at width, with the offsets it drew with:
// the fixed columns, then those from the column offset on, each as wide
// as its widest cell among the rows on screen, one cell apart.
func (t *tableContent[R]) cut(tbl *tview.Table, width, height int) (end int, ok bool) {
	rowOff, colOff := tbl.GetOffset()
	rows := []int{0}
	for r := rowOff + 1; r < rowOff+height && r <= t.rows(); r++ {
		rows = append(rows, r)
	}
	colWidth := func(c int) int {
		w := 0
		for _, r := range rows {
			cell := t.GetCell(r, c)
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
	used := 0
	for c := 0; c < min(t.fixed, len(t.cols)); c++ {
		used += colWidth(c) + 1
	}
	for c := t.fixed + colOff; c < len(t.cols); c++ {
		if used >= width {
			return 0, false // nothing of this column is drawn
		}
		w := colWidth(c)
		if used+w > width {
			if c == t.fixed+colOff {
				return 0, false // the only one: shown cut rather than not at all
			}
			return used, true
		}
		used += w + 1
	}
	return 0, false
}

// GetRowCount returns the rows plus the title row.
func (t *tableContent[R]) GetRowCount() int { return 1 + t.rows() }

// GetColumnCount returns the number of columns.
func (t *tableContent[R]) GetColumnCount() int { return len(t.cols) }

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
	if t.dim != nil && t.dim(r) {
		cell.Style = t.th.style(roleDim)
	}
	return cell
}

// hotContent is a tview.TableContent over the model's hot functions
// rows (see model.deriveHot): two figures and a name, under the view's
// column titles.
type hotContent struct {
	tview.TableContentReadOnly
	th *theme
	m  *model
}

// GetRowCount returns the rows plus the title row; none while there are
// no rows.
func (h *hotContent) GetRowCount() int {
	if len(h.m.hot.rows) == 0 {
		return 0
	}
	return 1 + len(h.m.hot.rows)
}

// GetColumnCount returns the number of columns.
func (h *hotContent) GetColumnCount() int { return 3 }

// GetCell renders one cell from the model.
func (h *hotContent) GetCell(row, col int) *tview.TableCell {
	rows := h.m.hot.rows
	if col < 0 || col >= 3 || row < 0 || row > len(rows) {
		return nil
	}
	cell := &tview.TableCell{}
	if col < 2 {
		cell.Align = tview.AlignRight
	}
	if row == 0 {
		cell.Text = h.m.hot.header[col]
		if h.m.hotSort.col == col && cell.Text != "" {
			cell.Text += sortMark(h.m.hotSort.desc)
		}
		cell.Style = h.th.header
		cell.NotSelectable = true
		return cell
	}
	r := &rows[row-1]
	switch col {
	case 0:
		cell.Text = r.a
	case 1:
		cell.Text = r.b
	default:
		cell.Text = escape(r.name)
		cell.Style = h.th.style(r.role)
		cell.Expansion = 1
	}
	return cell
}
