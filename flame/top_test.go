package flame

import (
	"math"
	"testing"
)

func TestTop(t *testing.T) {
	all := []Func{
		{Name: "a", Flat: 10, Cum: 15},
		{Name: "b", Flat: 5, Cum: 15},
		{Name: "d", Flat: 4, Cum: 4},
		{Name: "c", Flat: 3, Cum: 7},
		{Name: "main", Flat: 2, Cum: 24},
	}
	const total = 24
	tests := []struct {
		name string
		idx  int
		n    int
		want []Func
	}{
		{"all", 0, 0, all},
		{"default index", -1, 0, all},
		{"top 2", 0, 2, all[:2]},
		{"more than there are", 0, 10, all},
		{"index out of range", 1, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Top(recursiveProfile(), tt.idx, tt.n)
			if len(got) != len(tt.want) {
				t.Fatalf("Top returned %d functions, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				g := got[i]
				if g.Name != w.Name || g.Flat != w.Flat || g.Cum != w.Cum {
					t.Errorf("Top[%d] = %s flat %d cum %d, want %s flat %d cum %d", i, g.Name, g.Flat, g.Cum, w.Name, w.Flat, w.Cum)
				}
				if wp := 100 * float64(w.Flat) / total; math.Abs(g.FlatPct-wp) > 1e-9 {
					t.Errorf("Top[%d] %s FlatPct = %v, want %v", i, g.Name, g.FlatPct, wp)
				}
				if wp := 100 * float64(w.Cum) / total; math.Abs(g.CumPct-wp) > 1e-9 {
					t.Errorf("Top[%d] %s CumPct = %v, want %v", i, g.Name, g.CumPct, wp)
				}
			}
		})
	}
}

func TestTopFixture(t *testing.T) {
	got := Top(fixtureProfile(), 1, 3)
	want := []struct {
		name      string
		flat, cum int64
	}{
		{"main.work", 1000e6, 1001e6},
		{"pkg.Map[go.shape.int,go.shape.string]", 50e6, 50e6}, // ties sort by name
		{"runtime.gcBgMarkWorker", 50e6, 50e6},
	}
	if len(got) != len(want) {
		t.Fatalf("Top returned %d functions, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Flat != w.flat || got[i].Cum != w.cum {
			t.Errorf("Top[%d] = %+v, want %s flat %d cum %d", i, got[i], w.name, w.flat, w.cum)
		}
	}
}

func TestTopFlatSumsToTotal(t *testing.T) {
	p := genProfile(3000)
	var total int64
	for _, s := range p.Sample {
		total += s.Value[1]
	}
	var flat int64
	var pct float64
	for _, f := range Top(p, 1, 0) {
		flat += f.Flat
		pct += f.FlatPct
		if f.Cum < f.Flat || f.Cum > total {
			t.Errorf("%s: cum %d outside [flat %d, total %d]", f.Name, f.Cum, f.Flat, total)
		}
	}
	if flat != total {
		t.Errorf("sum of flat = %d, want total %d", flat, total)
	}
	if math.Abs(pct-100) > 1e-6 {
		t.Errorf("sum of FlatPct = %v, want 100", pct)
	}
}
