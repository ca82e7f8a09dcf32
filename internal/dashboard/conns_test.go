package dashboard

import (
	"fmt"
	"slices"
	"testing"

	"github.com/httptop/httptop/snapshot"
)

// churnSnapshot is a client whose server recycles connections: many
// recently closed connections with low ids, two live ones with high ids.
func churnSnapshot() *snapshot.Snapshot {
	s := testSnapshot(1)
	s.Conns = nil
	for id := range uint64(20) {
		s.Conns = append(s.Conns, snapshot.Conn{ID: id + 1, Client: "api", Host: "api.stripe.test:443", Proto: "HTTP/1.1", State: snapshot.ConnClosed})
	}
	s.Conns = append(s.Conns,
		snapshot.Conn{ID: 40, Client: "api", Host: "api.stripe.test:443", Proto: "HTTP/1.1", State: snapshot.ConnIdle},
		snapshot.Conn{ID: 41, Client: "api", Host: "api.stripe.test:443", Proto: "HTTP/1.1", State: snapshot.ConnActive})
	return s
}

// TestConnsLiveFirst: whatever the sort, live connections come before
// the recently closed ones, and those are drawn dimmed.
func TestConnsLiveFirst(t *testing.T) {
	m := newModel()
	m.ingest(churnSnapshot())
	var ids []uint64
	for i := range m.connView {
		ids = append(ids, m.conn(i).ID)
	}
	if want := []uint64{40, 41, 1, 2}; !slices.Equal(ids[:4], want) {
		t.Errorf("connections by id: %v…, want the live ones (40, 41) first", ids[:4])
	}
	m.connSort = sortState{col: colIndex(connColumns, "REQS"), desc: true}
	m.deriveConns()
	for i := range m.connView {
		if live := m.conn(i).State != snapshot.ConnClosed; live != (i < 2) {
			t.Errorf("sorted by REQS, row %d is %s", i, m.conn(i).State)
		}
	}

	th := newTheme(true)
	tc := &tableContent[*snapshot.Conn]{th: th, cols: connColumns, rows: func() int { return len(m.connView) },
		row: m.conn, sort: func() sortState { return m.connSort }, dim: connClosed}
	dim := th.style(roleDim)
	for row := 1; row <= len(m.connView); row++ {
		closed := m.conn(row-1).State == snapshot.ConnClosed
		for col := range connColumns {
			if got := tc.GetCell(row, col).Style == dim; got != closed {
				t.Errorf("row %d (%s) column %s dimmed: %v", row, m.conn(row-1).State, connColumns[col].title, got)
				break
			}
		}
	}
}

// TestProcessExited: when the source says the program exited, the
// dashboard says so and stops reconnecting.
func TestProcessExited(t *testing.T) {
	hs := start(t, 80, 24)
	hs.send(testSnapshot(1))
	hs.src.fail <- fmt.Errorf("%w: pid 4242 is gone", ErrExited)
	f := hs.waitFrame("exited", func(f frame) bool { return f.state == stateExited })
	if !f.contains("✕ process exited") {
		t.Errorf("status line: %q", f.lines[0])
	}
	hs.clk.fire() // no backoff is running: nothing happens
	select {
	case n := <-hs.src.streams:
		t.Errorf("Stream called again (call %d) after the program exited", n)
	default:
	}
}
