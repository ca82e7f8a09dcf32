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
	// dim, when set, says which rows are drawn dimmed whole (closed
	// connections).
	dim func(R) bool
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

// hotColumns are the hot functions table's columns.
var hotColumns = []string{"FLAT", "CUM", "FUNCTION"}

// hotContent is a tview.TableContent over the model's hot functions.
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
	return 1 + len(h.m.hot.funcs)
}

// GetColumnCount returns the number of columns.
func (h *hotContent) GetColumnCount() int { return len(hotColumns) }

// GetCell renders one cell from the model.
func (h *hotContent) GetCell(row, col int) *tview.TableCell {
	funcs := h.m.hot.funcs
	if col < 0 || col >= len(hotColumns) || row < 0 || row > len(funcs) {
		return nil
	}
	cell := &tview.TableCell{}
	if col < 2 {
		cell.Align = tview.AlignRight
	}
	if row == 0 {
		cell.Text = hotColumns[col]
		cell.Style = h.th.header
		cell.NotSelectable = true
		return cell
	}
	f := &funcs[row-1]
	switch col {
	case 0:
		cell.Text = fmtPct1(f.FlatPct)
	case 1:
		cell.Text = fmtPct1(f.CumPct)
	default:
		cell.Text = escape(shortFuncName(f.Name))
		cell.Expansion = 1
	}
	return cell
}
