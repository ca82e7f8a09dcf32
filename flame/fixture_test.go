package flame

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/google/pprof/profile"
)

// fstack is one sample of a hand-built profile: its locations from the root
// to the leaf, each a list of function names from the outermost (the real
// function) to the innermost (what was inlined into it), and its values.
type fstack struct {
	locs   [][]string
	values []int64
}

// st builds an fstack from frames written root first; a frame "a|b" is one
// location where b was inlined into a.
func st(frames []string, values ...int64) fstack {
	locs := make([][]string, len(frames))
	for i, f := range frames {
		locs[i] = strings.Split(f, "|")
	}
	return fstack{locs: locs, values: values}
}

// newProfile builds a valid profile from stacks. Every frame gets a
// Location of its own (with its own line number), so rendering must merge
// locations by function name; functions are shared by name.
func newProfile(types []*profile.ValueType, stacks []fstack) *profile.Profile {
	m := &profile.Mapping{ID: 1, HasFunctions: true}
	p := &profile.Profile{
		SampleType: types,
		PeriodType: types[len(types)-1],
		Period:     1,
		Mapping:    []*profile.Mapping{m},
	}
	funcs := map[string]*profile.Function{}
	fn := func(name string) *profile.Function {
		if f, ok := funcs[name]; ok {
			return f
		}
		f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: "x.go"}
		funcs[name] = f
		p.Function = append(p.Function, f)
		return f
	}
	for _, s := range stacks {
		sample := &profile.Sample{Value: s.values}
		for i := len(s.locs) - 1; i >= 0; i-- { // pprof lists the leaf first
			names := s.locs[i]
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: uint64(0x1000 + len(p.Location))}
			for j := len(names) - 1; j >= 0; j-- { // and the inlined function first
				loc.Line = append(loc.Line, profile.Line{Function: fn(names[j]), Line: int64(len(p.Location) + 10)})
			}
			p.Location = append(p.Location, loc)
			sample.Location = append(sample.Location, loc)
		}
		p.Sample = append(p.Sample, sample)
	}
	return p
}

var cpuTypes = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}

// fixtureNames are the functions of fixtureProfile, chosen to break naive
// folded and SVG writers: generics, XML specials, ';' and spaces, non-ASCII.
var fixtureNames = []string{
	"main.main",
	"main.(*Server).handle",
	"runtime.inl",
	"pkg.Map[go.shape.int,go.shape.string]",
	"weird;name with space",
	`a<b>&"q"'`,
	"unicode.Ωmega",
	"runtime.goexit",
	"runtime.gcBgMarkWorker",
	"main.work",
	"main.tiny",
}

// fixtureProfile is a small CPU-like profile (samples/count, cpu/nanoseconds)
// with inlining, repeated stacks in different locations and awkward names.
func fixtureProfile() *profile.Profile {
	const ms = 1e6
	return newProfile(cpuTypes, []fstack{
		st([]string{"main.main", "main.(*Server).handle|runtime.inl", "pkg.Map[go.shape.int,go.shape.string]"}, 3, 30*ms),
		st([]string{"main.main", "main.(*Server).handle"}, 1, 10*ms),
		st([]string{"main.main", "weird;name with space", `a<b>&"q"'`}, 2, 20*ms),
		st([]string{"main.main", "unicode.Ωmega"}, 4, 40*ms),
		st([]string{"runtime.goexit", "runtime.gcBgMarkWorker"}, 5, 50*ms),
		st([]string{"main.main", "main.(*Server).handle|runtime.inl"}, 1, 10*ms),
		st([]string{"main.main", "main.(*Server).handle|runtime.inl", "pkg.Map[go.shape.int,go.shape.string]"}, 2, 20*ms),
		st([]string{"main.main", "main.work"}, 100, 1000*ms),
		st([]string{"main.main", "main.work", "main.tiny"}, 1, 1*ms),
	})
}

// recursiveProfile has recursion (a calls b calls a) and inlining (d inlined
// into c), with known flat and cum values.
func recursiveProfile() *profile.Profile {
	return newProfile([]*profile.ValueType{{Type: "samples", Unit: "count"}}, []fstack{
		st([]string{"main", "a", "b", "a"}, 10),
		st([]string{"main", "a", "b"}, 5),
		st([]string{"main", "c"}, 3),
		st([]string{"main"}, 2),
		st([]string{"main", "c|d"}, 4),
	})
}

// genProfile builds a large CPU-like profile for benchmarks: n samples,
// stacks 32 to 64 frames deep over a few thousand functions. Each stack
// shares a long prefix with an earlier one and then wanders off, as real
// stacks do (same main loop, different leaves), so the merged tree holds
// about n*16 nodes. The same n always gives the same profile.
func genProfile(n int) *profile.Profile {
	const (
		nFuncs   = 3000
		maxDepth = 64
	)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	m := &profile.Mapping{ID: 1, HasFunctions: true}
	p := &profile.Profile{SampleType: cpuTypes, PeriodType: cpuTypes[1], Period: 10e6, Mapping: []*profile.Mapping{m}}
	for i := range nFuncs {
		name := fmt.Sprintf("github.com/example/svc/pkg%02d.(*Type%03d).Method%04d", i%50, i%300, i)
		p.Function = append(p.Function, &profile.Function{ID: uint64(i + 1), Name: name, SystemName: name, Filename: "x.go"})
	}
	// A few locations per function, some with an inlined callee.
	for i := range 3 * nFuncs {
		loc := &profile.Location{ID: uint64(i + 1), Mapping: m, Address: uint64(0x400000 + 16*i)}
		f := p.Function[i%nFuncs]
		if i%7 == 0 {
			loc.Line = append(loc.Line, profile.Line{Function: p.Function[(i*31+17)%nFuncs], Line: 3})
		}
		loc.Line = append(loc.Line, profile.Line{Function: f, Line: int64(10 + i/nFuncs)})
		p.Location = append(p.Location, loc)
	}
	var stacks [][]*profile.Location // root first
	for range n {
		var s []*profile.Location
		depth := 32 + rng.IntN(maxDepth-32+1)
		if len(stacks) > 0 {
			prev := stacks[rng.IntN(len(stacks))]
			keep := min(len(prev), depth) - rng.IntN(16) - 1
			s = append(s, prev[:max(keep, 0)]...)
		}
		for len(s) < depth {
			s = append(s, p.Location[rng.IntN(len(p.Location))])
		}
		stacks = append(stacks, s)
		sample := &profile.Sample{Location: make([]*profile.Location, len(s))}
		for i, l := range s {
			sample.Location[len(s)-1-i] = l
		}
		c := int64(1 + rng.IntN(3))
		sample.Value = []int64{c, c * 10e6}
		p.Sample = append(p.Sample, sample)
	}
	return p
}
