package flame

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// TestValuesPastInt64 renders a profile whose sample values sum past
// math.MaxInt64 (a hostile or corrupt profile): the totals saturate
// rather than wrap negative, so the flame graph does not say "no samples"
// and the top functions have shares between 0 and 100%.
func TestValuesPastInt64(t *testing.T) {
	types := []*profile.ValueType{{Type: "samples", Unit: "count"}}
	huge := int64(math.MaxInt64/2 + 1)
	p := newProfile(types, []fstack{
		st([]string{"main.main", "main.a"}, huge),
		st([]string{"main.main", "main.b"}, huge),
		st([]string{"main.main", "main.c"}, huge),
	})
	var svg bytes.Buffer
	if err := SVG(&svg, p, DefaultSVGOptions()); err != nil {
		t.Fatal(err)
	}
	if s := svg.String(); strings.Contains(s, "no samples") || strings.Contains(s, "total: -") {
		t.Error("the flame graph of a profile summing past MaxInt64 says it has no samples, or a negative total")
	}
	funcs := Top(p, 0, 0)
	if len(funcs) == 0 {
		t.Fatal("no top functions")
	}
	for _, f := range funcs {
		if f.Flat < 0 || f.Cum < 0 || f.FlatPct < 0 || f.FlatPct > 100 || f.CumPct < 0 || f.CumPct > 100 {
			t.Errorf("%s: flat %d (%.1f%%), cum %d (%.1f%%)", f.Name, f.Flat, f.FlatPct, f.Cum, f.CumPct)
		}
	}
}
