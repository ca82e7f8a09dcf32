package flame

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// View names one way of summing a profile up (see Attribution).
type View string

// The views.
const (
	// ViewCode charges each sample to the program's code that caused it.
	ViewCode View = "code"
	// ViewPackages gives each package its cumulative share.
	ViewPackages View = "packages"
	// ViewCategories sorts samples into kinds of work.
	ViewCategories View = "categories"
	// ViewFlat is go tool pprof's top: the leaf functions.
	ViewFlat View = "flat"
)

// Views lists the views, in the order the dashboard cycles through them.
var Views = []View{ViewCode, ViewPackages, ViewCategories, ViewFlat}

// Attribution is a profile summed up in the program's terms, by Attribute.
// Values are in the profile's unit for the chosen sample type; shares are
// percentages of Total, the value of every sample, so that what httptop
// costs (Httptop) and what the program costs add up to 100%.
type Attribution struct {
	// SampleType and Unit describe the values ("cpu", "nanoseconds").
	SampleType string `json:"sample_type"`
	Unit       string `json:"unit"`
	// Total is the value of all samples.
	Total int64 `json:"total"`
	// Httptop is the value of the samples that are httptop's own work
	// (see CategoryHttptop), and HttptopPct its share of Total. Views
	// other than Categories and Flat leave these samples out.
	Httptop    int64   `json:"httptop"`
	HttptopPct float64 `json:"httptop_pct"`
	// Code charges every other sample to the innermost frame of the
	// program's code on its stack, the program's own module or a
	// third-party one: the standard library, runtime and syscall frames
	// below it are its cost. A sample with no such frame (a GC worker, a
	// connection's read loop) is charged to its category, as an entry
	// with Category set and no Module. Largest Value first.
	Code []Entry `json:"code"`
	// Packages gives every package on the stacks of those samples their
	// value, once per sample however many of its frames the stack holds
	// (go tool pprof's cum, by package). Largest Value first.
	Packages []Entry `json:"packages"`
	// Categories sorts every sample, httptop's included, into exactly one
	// Category, so they sum to Total: httptop's own work is
	// CategoryHttptop; any other sample takes the category of its
	// innermost frame that has one (categoryRules). Largest Value first.
	Categories []Entry `json:"categories"`
	// Flat is go tool pprof's top: every function's flat and cum value,
	// httptop's frames included, largest flat first.
	Flat []Func `json:"-"`
}

// Entry is one line of a view.
type Entry struct {
	// Name is a function (Code), a package path (Packages) or a
	// category's title (Categories, and Code entries for samples with no
	// frame of the program's code).
	Name string `json:"name"`
	// Module is the module of a function or package outside the
	// standard library; "" otherwise.
	Module string `json:"module,omitempty"`
	// Category is set on category entries.
	Category Category `json:"category,omitempty"`
	// Value is what the view gives the entry: charged (Code),
	// cumulative (Packages) or exclusive (Categories); Pct is its share
	// of the total.
	Value int64   `json:"value"`
	Pct   float64 `json:"pct"`
	// Cum, for a function of Code, is the value of the samples (not
	// httptop's) with the function anywhere on their stack, as go tool
	// pprof's cum, and CumPct its share.
	Cum    int64   `json:"cum,omitempty"`
	CumPct float64 `json:"cum_pct,omitempty"`
}

// IsCategory reports whether the entry stands for a category rather than
// a function or package.
func (e *Entry) IsCategory() bool { return e.Category != "" }

// ErrNilProfile is returned, wrapped, for a nil profile.
var ErrNilProfile = errors.New("nil profile")

// Attribute sums p up in the program's terms (see Attribution), measured
// by Sample.Value[sampleIndex]; a negative sampleIndex picks the profile's
// default sample type (see SampleIndex). mods is the program's module
// list (the zero Modules works, see Modules).
//
// A sample is httptop's own work when it carries the pprof label LabelKey
// (the agent runs under it), when its stack holds a frame of httptop's
// agent, profiler or exporters (wall-clock profiles carry no labels), or
// when its innermost frame outside the standard library is httptop's probe
// doing its own bookkeeping rather than passing the program's request on
// to net/http.
func Attribute(p *profile.Profile, sampleIndex int, mods Modules) (*Attribution, error) {
	if p == nil {
		return nil, fmt.Errorf("flame: attribute: %w", ErrNilProfile)
	}
	idx, err := resolveIndex(p, sampleIndex)
	if err != nil {
		return nil, fmt.Errorf("flame: attribute: %w", err)
	}
	a := &Attribution{SampleType: p.SampleType[idx].Type, Unit: p.SampleType[idx].Unit}
	c := newClassifier(p, mods)

	var (
		charged, cum []int64 // by name id
		stamp        []int32 // by name id: 1+ the last sample that counted its cum
		pkgVal       = map[string]int64{}
		pkgStamp     = map[string]int32{}
		catVal       = map[Category]int64{}
		codeCat      = map[Category]int64{} // samples with no code frame, by category
		buf          []int32
	)
	grow := func() {
		if n := len(c.st.names); len(charged) < n {
			charged = append(charged, make([]int64, n-len(charged))...)
			cum = append(cum, make([]int64, n-len(cum))...)
			stamp = append(stamp, make([]int32, n-len(stamp))...)
		}
	}
	for si, s := range p.Sample {
		if s == nil || idx >= len(s.Value) || s.Value[idx] == 0 {
			continue
		}
		v := s.Value[idx]
		a.Total += v
		buf = c.stack(s, buf)
		grow()
		sc := c.classifySample(s, buf)
		catVal[sc.cat] += v
		if sc.httptop {
			a.Httptop += v
			continue
		}
		if sc.owner >= 0 {
			charged[sc.owner] += v
		} else {
			codeCat[sc.cat] += v
		}
		mark := int32(si + 1)
		for _, id := range buf {
			fi := c.info(id)
			if fi.kind.code() && stamp[id] != mark {
				stamp[id] = mark
				cum[id] += v
			}
			if fi.pkg != "" && pkgStamp[fi.pkg] != mark {
				pkgStamp[fi.pkg] = mark
				pkgVal[fi.pkg] += v
			}
		}
	}
	a.HttptopPct = percent(a.Httptop, a.Total)

	for id, v := range charged {
		if v == 0 {
			continue
		}
		fi := c.info(int32(id))
		a.Code = append(a.Code, Entry{
			Name: c.st.names[id], Module: fi.module,
			Value: v, Pct: percent(v, a.Total),
			Cum: cum[id], CumPct: percent(cum[id], a.Total),
		})
	}
	for cat, v := range codeCat {
		a.Code = append(a.Code, categoryEntry(cat, v, a.Total))
	}
	sortEntries(a.Code)

	pkgModule := map[string]string{}
	for i := range c.infos {
		if c.known[i] && c.infos[i].pkg != "" && c.infos[i].module != "" {
			pkgModule[c.infos[i].pkg] = c.infos[i].module
		}
	}
	for pkg, v := range pkgVal {
		a.Packages = append(a.Packages, Entry{Name: pkg, Module: pkgModule[pkg], Value: v, Pct: percent(v, a.Total)})
	}
	sortEntries(a.Packages)

	for cat, v := range catVal {
		a.Categories = append(a.Categories, categoryEntry(cat, v, a.Total))
	}
	sortEntries(a.Categories)

	a.Flat = Top(p, idx, 0)
	return a, nil
}

// categoryEntry is the entry of a category worth v out of total.
func categoryEntry(cat Category, v, total int64) Entry {
	return Entry{Name: cat.Title(), Category: cat, Value: v, Pct: percent(v, total)}
}

// sortEntries orders entries by value, largest first, then by name.
func sortEntries(es []Entry) {
	slices.SortFunc(es, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(b.Value, a.Value), strings.Compare(a.Name, b.Name))
	})
}

// Trim returns a copy of a with each view cut to its first n entries (all
// of them when n <= 0): what a screen or a report shows.
func (a *Attribution) Trim(n int) *Attribution {
	if a == nil {
		return nil
	}
	cut := func(es []Entry) []Entry {
		if n > 0 && len(es) > n {
			es = es[:n]
		}
		return slices.Clone(es)
	}
	t := *a
	t.Code, t.Packages, t.Categories = cut(a.Code), cut(a.Packages), cut(a.Categories)
	if n > 0 && len(a.Flat) > n {
		t.Flat = slices.Clone(a.Flat[:n])
	} else {
		t.Flat = slices.Clone(a.Flat)
	}
	return &t
}
