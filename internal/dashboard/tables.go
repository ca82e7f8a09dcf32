package dashboard

import (
	"github.com/rivo/tview"
)

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
