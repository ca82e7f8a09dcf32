package dashboard

// Frame and ingest cost with 1,000 hosts and 10,000 connections.
//
//	go test -run XXX -bench . -benchmem -count 5 ./internal/dashboard/
//
// Results on the shared 2-core VM (AMD Turin, Go 1.26), which was busy
// (load average 5 to 9), so times are noisy: best of the runs, then the
// median of five under the heaviest load. Allocations are exact.
//
//	Frame (draw + simulation Show)          best     median   B/op    allocs/op
//	  hosts=10/conns=100/200x50             5.8 ms   10.7 ms  988k    48,390
//	  hosts=1000/conns=10000/200x50         5.2 ms    9.2 ms  1.03M   49,578
//	  hosts=1000/conns=10000/80x24          1.5 ms    3.2 ms  312k    13,002
//	  render-only 1000/10000/200x50         4.5 ms    9.2 ms  783k    29,302
//	  1000/10000/200x50, cursor at conn 5000 6.3 ms  11.7 ms  1.04M   50,546
//	Ingest (derive, history, sort)
//	  hosts=10/conns=100                    1.3 µs    2.4 µs  0       0
//	  hosts=1000/conns=10000 (conns by age) 1.3 ms    2.3 ms  0       0
//	  same, filtered and drilled in         0.3 ms    0.5 ms  0       0
//
// A frame costs the same with 100 connections as with 10,000: tables ask
// the model only for the rows on screen. Most of a frame is tview's text
// shaping (uniseg) and the simulation screen's per-cell copies (Show
// allocates ~20,000 of the 49,578). Ingesting a 1,000-host, 10,000-conn
// snapshot allocates nothing once the model's slices have grown.

import (
	"fmt"
	"testing"

	"github.com/gdamore/tcell/v2"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// benchUI returns a dashboard over s drawn on a w x h simulation screen,
// without running the application: the benchmark draws frames itself.
func benchUI(b *testing.B, hosts, conns, w, h int) (*ui, tcell.SimulationScreen) {
	b.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	if err := scr.Init(); err != nil {
		b.Fatal(err)
	}
	scr.SetSize(w, h)
	u := newUI(Options{Source: newFakeSource(), Screen: scr, clock: &fakeClock{}})
	u.m.ingest(bigSnapshot(hosts, conns))
	u.m.setProfile(snapshot.ProfileCPU, summarise(snapshot.ProfileCPU, testProfile(), flame.Modules{}))
	u.syncSelection()
	return u, scr
}

// drawFrame draws one frame the way tview's Application does.
func drawFrame(u *ui, scr tcell.Screen) {
	renderFrame(u, scr)
	scr.Show()
}

// renderFrame draws one frame into the screen's buffer, without showing
// it: the dashboard's own cost.
func renderFrame(u *ui, scr tcell.Screen) {
	w, h := scr.Size()
	scr.Clear()
	u.root.SetRect(0, 0, w, h)
	u.root.Draw(scr)
}

// BenchmarkFrame measures drawing one frame: layout, every pane, and the
// simulation screen's Show.
func BenchmarkFrame(b *testing.B) {
	for _, sz := range []struct{ hosts, conns, w, h int }{
		{10, 100, 200, 50},
		{1000, 10000, 200, 50},
		{1000, 10000, 80, 24},
	} {
		b.Run(fmt.Sprintf("hosts=%d/conns=%d/%dx%d", sz.hosts, sz.conns, sz.w, sz.h), func(b *testing.B) {
			u, scr := benchUI(b, sz.hosts, sz.conns, sz.w, sz.h)
			drawFrame(u, scr)
			b.ReportAllocs()
			for b.Loop() {
				drawFrame(u, scr)
			}
		})
	}
	// Without the simulation screen's Show, which allocates for every
	// cell it copies: what the dashboard itself costs.
	b.Run("render-only/hosts=1000/conns=10000/200x50", func(b *testing.B) {
		u, scr := benchUI(b, 1000, 10000, 200, 50)
		renderFrame(u, scr)
		b.ReportAllocs()
		for b.Loop() {
			renderFrame(u, scr)
		}
	})
	// The cursor deep in the connections: tables draw only the rows on
	// screen wherever they are.
	b.Run("hosts=1000/conns=10000/200x50/conn-cursor-at-5000", func(b *testing.B) {
		u, scr := benchUI(b, 1000, 10000, 200, 50)
		u.app.SetFocus(u.conns)
		u.conns.Select(5000, 0)
		drawFrame(u, scr)
		b.ReportAllocs()
		for b.Loop() {
			drawFrame(u, scr)
		}
	})
}

// BenchmarkIngest measures taking one snapshot into the model: rows,
// history, filter, both sorts, diagnoses.
func BenchmarkIngest(b *testing.B) {
	for _, sz := range []struct{ hosts, conns int }{{10, 100}, {1000, 10000}} {
		b.Run(fmt.Sprintf("hosts=%d/conns=%d", sz.hosts, sz.conns), func(b *testing.B) {
			s := bigSnapshot(sz.hosts, sz.conns)
			m := newModel()
			// Sort connections by age: the snapshot lists them by id, so
			// each ingest really sorts.
			m.connSort = sortState{col: colIndex(connColumns, "AGE"), desc: true}
			m.ingest(s)
			b.ReportAllocs()
			for b.Loop() {
				m.ingest(s)
			}
		})
	}
	b.Run("hosts=1000/conns=10000/filtered-drilled", func(b *testing.B) {
		s := bigSnapshot(1000, 10000)
		m := newModel()
		m.ingest(s)
		m.setFilter("example")
		m.drillInto(0)
		b.ReportAllocs()
		for b.Loop() {
			m.ingest(s)
		}
	})
}
