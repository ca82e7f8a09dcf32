package flame

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// diffProfiles are the before and after of TestDiffSVG, CPU in ms:
//
//	before (10 requests):  main;handle;parse 100, main;handle;render 100, main;gc 50
//	after  (20 requests):  main;handle;parse 300, main;handle;log 100,   main;gc 100
//
// Per request, parse grew from 10 to 15 ms, render is gone, log is new,
// gc stayed at 5 ms, handle went from 20 to 20 ms.
func diffProfiles() (before, after *profile.Profile) {
	const ms = 1e6
	before = newProfile(cpuTypes, []fstack{
		st([]string{"main.main", "main.handle", "main.parse"}, 10, 100*ms),
		st([]string{"main.main", "main.handle", "main.render"}, 10, 100*ms),
		st([]string{"main.main", "runtime.gc"}, 5, 50*ms),
	})
	after = newProfile(cpuTypes, []fstack{
		st([]string{"main.main", "main.handle", "main.parse"}, 30, 300*ms),
		st([]string{"main.main", "main.handle", "main.log"}, 10, 100*ms),
		st([]string{"main.main", "runtime.gc"}, 10, 100*ms),
	})
	return before, after
}

// fillRGB reads an "rgb(r,g,b)" fill.
func fillRGB(t *testing.T, doc []byte, name string) (r, g, b int) {
	t.Helper()
	re := regexp.MustCompile(`<title>` + regexp.QuoteMeta(name) + ` \([^<]*\)</title><rect [^>]*fill="rgb\((\d+),(\d+),(\d+)\)"`)
	m := re.FindSubmatch(doc)
	if m == nil {
		t.Fatalf("no frame %s with an rgb fill", name)
	}
	r, _ = strconv.Atoi(string(m[1]))
	g, _ = strconv.Atoi(string(m[2]))
	b, _ = strconv.Atoi(string(m[3]))
	return r, g, b
}

func TestDiffSVG(t *testing.T) {
	before, after := diffProfiles()
	var buf bytes.Buffer
	opts := DiffSVGOptions{SVGOptions: SVGOptions{Title: "CPU per request"}, BeforeScale: 1.0 / 10, AfterScale: 1.0 / 20, Per: "request"}
	if err := DiffSVG(&buf, before, after, opts); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	doc := parseSVG(t, data)

	// The frames are the after profile's, as wide as its values.
	names := map[string]svgFrame{}
	for _, f := range doc.frames {
		names[f.name] = f
	}
	for _, want := range []string{"all", "main.main", "main.handle", "main.parse", "main.log", "runtime.gc"} {
		if _, ok := names[want]; !ok {
			t.Errorf("no frame %s", want)
		}
	}
	if _, ok := names["main.render"]; ok {
		t.Error("main.render, gone from after, is drawn")
	}
	if f := names["main.parse"]; f.v != 300e6 {
		t.Errorf("main.parse is %d wide, want its after value 300e6", f.v)
	}
	checkNesting(t, doc.frames, float64(names["all"].py))

	// Titles give both costs per request and the change.
	for name, want := range map[string]string{
		"main.parse":  "main.parse (after 15.00 ms per request, before 10.00 ms, +50.0%)",
		"main.handle": "main.handle (after 20.00 ms per request, before 20.00 ms, +0.0%)",
		"main.log":    "main.log (after 5.00 ms per request, before none, new)",
	} {
		if got := names[name].title; got != want {
			t.Errorf("title %q, want %q", got, want)
		}
	}
	if sub := doc.texts["subtitle"]; !strings.Contains(sub, "after 25.00 ms per request, before 25.00 ms, +0.0%") ||
		!strings.Contains(sub, "red grew, blue shrank") {
		t.Errorf("subtitle %q lacks the totals or the legend", sub)
	}

	// Colours: against the largest change (parse and log, +5 ms each),
	// grown red, same grey.
	same := [3]int{236, 236, 236}
	for name, want := range map[string][3]int{
		"main.log":    {224, 52, 44}, // +5 ms: all the way to diffGrew
		"main.parse":  {224, 52, 44},
		"main.handle": same,
		"runtime.gc":  same,
	} {
		r, g, b := fillRGB(t, data, name)
		if [3]int{r, g, b} != want {
			t.Errorf("%s is rgb(%d,%d,%d), want rgb%v", name, r, g, b, want)
		}
	}
	// With other scales everything shrank but log: per request, main
	// went from 50 to 12.5 ms, the largest change, parse from 20 to 7.5,
	// gc from 10 to 2.5, and log is new at 2.5.
	buf.Reset()
	opts.BeforeScale, opts.AfterScale = 1.0/5, 1.0/40
	if err := DiffSVG(&buf, before, after, opts); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][3]int{
		"main.main":  {44, 104, 224},  // −37.5: all the way to diffShrank
		"main.parse": {172, 192, 232}, // −12.5 ÷ 37.5: a third of the way
		"runtime.gc": {198, 210, 234}, // −7.5 ÷ 37.5
		"main.log":   {235, 224, 223}, // +2.5 ÷ 37.5: barely red
	} {
		r, g, b := fillRGB(t, buf.Bytes(), name)
		if [3]int{r, g, b} != want {
			t.Errorf("%s is rgb(%d,%d,%d), want rgb%v", name, r, g, b, want)
		}
	}
}

func TestDiffSVGErrors(t *testing.T) {
	before, after := diffProfiles()
	wall := newProfile([]*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "time", Unit: "nanoseconds"}}, nil)
	for _, tt := range []struct {
		name          string
		before, after *profile.Profile
		want          string
	}{
		{"nil before", nil, after, "nil profile"},
		{"nil after", before, nil, "nil profile"},
		{"other sample type", wall, after, `before: flame: sample type "cpu"`},
	} {
		err := DiffSVG(&bytes.Buffer{}, tt.before, tt.after, DiffSVGOptions{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestAppendDiffColor(t *testing.T) {
	for _, tt := range []struct {
		rel  float64
		want string
	}{
		{0, "rgb(236,236,236)"},
		{1, "rgb(224,52,44)"},
		{-1, "rgb(44,104,224)"},
		{-0.5, "rgb(140,170,230)"},
		{0.5, "rgb(230,144,140)"},
		{3, "rgb(224,52,44)"},
	} {
		if got := string(appendDiffColor(nil, tt.rel)); got != tt.want {
			t.Errorf("appendDiffColor(%v) = %s, want %s", tt.rel, got, tt.want)
		}
	}
}

func TestTopGrouped(t *testing.T) {
	const ms = 1e6
	p := newProfile(cpuTypes, []fstack{
		st([]string{"main.main", "encoding/json.Unmarshal", "encoding/json.(*decodeState).object", "runtime.mallocgc"}, 1, 10*ms),
		st([]string{"main.main", "encoding/json.Unmarshal", "encoding/json.(*decodeState).object"}, 2, 20*ms),
		st([]string{"main.main", "runtime.gc"}, 3, 30*ms),
	})
	pkg := func(name string) string { name, _, _ = strings.Cut(name, "."); return name }
	got := map[string]Func{}
	for _, f := range TopGrouped(p, 1, 0, pkg) {
		got[f.Name] = f
	}
	for name, want := range map[string][2]int64{
		// encoding/json: flat only where its own function is the leaf,
		// cum once per sample though two of its frames are on the stack.
		"encoding/json": {20 * ms, 30 * ms},
		"runtime":       {40 * ms, 40 * ms},
		"main":          {0, 60 * ms},
	} {
		if f := got[name]; f.Flat != want[0] || f.Cum != want[1] {
			t.Errorf("%s: flat %d cum %d, want %d and %d", name, f.Flat, f.Cum, want[0], want[1])
		}
	}
	if len(got) != 3 {
		t.Errorf("groups %v, want 3", got)
	}
}
