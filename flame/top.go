package flame

import (
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// Func is one function's share of a profile, as in go tool pprof's top.
type Func struct {
	// Name is the function's name as the profile records it.
	Name string
	// Flat is the value of the samples in which the function is the leaf:
	// time or memory spent in its own code.
	Flat int64
	// Cum is the value of the samples in which the function appears
	// anywhere on the stack: its own cost plus that of everything it
	// calls. A recursive function is counted once per sample.
	Cum int64
	// FlatPct is Flat as a percentage of the profile's total.
	FlatPct float64
	// CumPct is Cum as a percentage of the profile's total.
	CumPct float64
}

// Top returns the n functions with the largest flat value in p, measured by
// Sample.Value[sampleIndex], sorted by flat value (largest first) and then by
// name. Inlined functions count as functions of their own. n <= 0 returns
// every function with a non-zero flat or cum value. A negative sampleIndex
// picks the profile's default sample type (see SampleIndex); an index out of
// range, or a nil profile, returns nil.
//
// Percentages are of the sum of all samples' values, so the FlatPct of all
// functions sum to 100 (less the samples with no stack).
func Top(p *profile.Profile, sampleIndex, n int) []Func {
	return TopGrouped(p, sampleIndex, n, nil)
}

// TopGrouped is Top with every frame's function name mapped through group
// first (nil leaves names as they are), so that frames with the same
// group count as one: grouping by package, for example, gives each
// package's flat value (the samples whose leaf function is in it) and cum
// value (the samples with any of its functions on the stack, counted
// once per sample).
func TopGrouped(p *profile.Profile, sampleIndex, n int, group func(name string) string) []Func {
	idx, err := resolveIndex(p, sampleIndex)
	if err != nil {
		return nil
	}
	st := newSymtab(p, group)
	var (
		flat, cum []int64
		stamp     []int32 // stamp[name] is 1+ the last sample that counted name's cum
		total     int64
	)
	for si, s := range p.Sample {
		if s == nil || idx >= len(s.Value) || s.Value[idx] == 0 {
			continue
		}
		v := s.Value[idx]
		total = addSat(total, v)
		for li, l := range s.Location {
			if l == nil {
				continue
			}
			frames := st.locFrames(l)
			if grow := len(st.names) - len(flat); grow > 0 {
				flat = append(flat, make([]int64, grow)...)
				cum = append(cum, make([]int64, grow)...)
				stamp = append(stamp, make([]int32, grow)...)
			}
			if li == 0 && len(frames) > 0 {
				leaf := frames[len(frames)-1]
				flat[leaf] = addSat(flat[leaf], v)
			}
			for _, id := range frames {
				if stamp[id] != int32(si+1) {
					stamp[id] = int32(si + 1)
					cum[id] = addSat(cum[id], v)
				}
			}
		}
	}

	funcs := make([]Func, 0, len(flat))
	for id, name := range st.names {
		if flat[id] == 0 && cum[id] == 0 {
			continue
		}
		funcs = append(funcs, Func{
			Name:    name,
			Flat:    flat[id],
			Cum:     cum[id],
			FlatPct: percent(flat[id], total),
			CumPct:  percent(cum[id], total),
		})
	}
	slices.SortFunc(funcs, func(a, b Func) int {
		if a.Flat != b.Flat {
			if a.Flat > b.Flat {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	if n > 0 && len(funcs) > n {
		funcs = funcs[:n]
	}
	return funcs
}

// percent returns part as a percentage of total, or 0 when total is 0.
func percent(part, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(part) / float64(total)
}
