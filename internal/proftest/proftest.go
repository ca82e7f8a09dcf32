// Package proftest builds small pprof profiles from stacks of function
// names, for tests of the code that reads profiles (report, diff). Only
// tests import it.
package proftest

import (
	"time"

	"github.com/google/pprof/profile"
)

// Sample types of the profiles Build makes: a count of samples and their
// value in nanoseconds, as runtime/pprof's CPU profile and fgprof's
// wall-clock profile have.
var (
	CPUTypes  = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}}
	WallTypes = []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "time", Unit: "nanoseconds"}}
)

// Period is what one sample is worth: 10 ms, as at 100 Hz.
const Period = 10e6

// Stack is one sample of a profile: function names from the root to the
// leaf, and how many samples of Period it stands for.
type Stack struct {
	Frames []string
	Count  int64
}

// Build builds a valid profile of two sample types (CPUTypes or
// WallTypes) taken at start for seconds. Each function gets one location
// of its own.
func Build(types []*profile.ValueType, start time.Time, seconds float64, stacks []Stack) *profile.Profile {
	m := &profile.Mapping{ID: 1, HasFunctions: true}
	p := &profile.Profile{
		SampleType:    types,
		PeriodType:    types[len(types)-1],
		Period:        Period,
		DurationNanos: int64(seconds * 1e9),
		TimeNanos:     start.UnixNano(),
		Mapping:       []*profile.Mapping{m},
	}
	locs := map[string]*profile.Location{}
	for _, st := range stacks {
		s := &profile.Sample{Value: []int64{st.Count, st.Count * Period}}
		for i := len(st.Frames) - 1; i >= 0; i-- {
			name := st.Frames[i]
			loc := locs[name]
			if loc == nil {
				f := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name, Filename: "x.go"}
				p.Function = append(p.Function, f)
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Mapping: m, Address: uint64(0x1000 + len(p.Location)),
					Line: []profile.Line{{Function: f, Line: 10}}}
				locs[name] = loc
				p.Location = append(p.Location, loc)
			}
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}
