package flame_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/snapshot"
)

// exampleProfile builds a tiny CPU profile by hand: main.main spends 30ms in
// main.parse, 10ms of it in strconv.Atoi, and 20ms of its own.
func exampleProfile() *profile.Profile {
	fn := func(id uint64, name string) *profile.Function {
		return &profile.Function{ID: id, Name: name}
	}
	mainFn, parse, atoi := fn(1, "main.main"), fn(2, "main.parse"), fn(3, "strconv.Atoi")
	loc := func(id uint64, f *profile.Function) *profile.Location {
		return &profile.Location{ID: id, Line: []profile.Line{{Function: f}}}
	}
	lMain, lParse, lAtoi := loc(1, mainFn), loc(2, parse), loc(3, atoi)
	return &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Function:   []*profile.Function{mainFn, parse, atoi},
		Location:   []*profile.Location{lMain, lParse, lAtoi},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{lParse, lMain}, Value: []int64{2, 20e6}},
			{Location: []*profile.Location{lAtoi, lParse, lMain}, Value: []int64{1, 10e6}},
			{Location: []*profile.Location{lMain}, Value: []int64{2, 20e6}},
		},
	}
}

func ExampleFolded() {
	p := exampleProfile()
	idx, err := flame.SampleIndex(p, "cpu")
	if err != nil {
		log.Fatal(err)
	}
	if err := flame.Folded(os.Stdout, p, idx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// main.main 20000000
	// main.main;main.parse 20000000
	// main.main;main.parse;strconv.Atoi 10000000
}

func ExampleTop() {
	for _, f := range flame.Top(exampleProfile(), -1, 2) {
		fmt.Printf("%-12s flat %4.1f%%  cum %5.1f%%\n", f.Name, f.FlatPct, f.CumPct)
	}
	// Output:
	// main.main    flat 40.0%  cum 100.0%
	// main.parse   flat 40.0%  cum  60.0%
}

func ExampleSVG() {
	f, err := os.CreateTemp("", "cpu-*.svg")
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(f.Name())
	opts := flame.DefaultSVGOptions()
	opts.Title = "CPU: example"
	if err := flame.SVG(f, exampleProfile(), opts); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote an interactive flame graph")
	// Output: wrote an interactive flame graph
}

func ExampleCapture() {
	// A wall-clock profile of every goroutine for 20ms; CPU works the same
	// way. An agent would pass the request's context so that a client
	// hanging up ends the capture early.
	p, err := flame.Capture(context.Background(), snapshot.ProfileWall, 20*time.Millisecond)
	if err != nil {
		log.Fatal(err)
	}
	idx, err := flame.SampleIndex(p, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.SampleType[idx].Type, p.SampleType[idx].Unit)
	// Output: time nanoseconds
}
