package diff

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/internal/report"
	"github.com/httptop/httptop/snapshot"
)

// codeRows is how many rows a code table keeps.
const codeRows = 15

// Per-unit names of CodeDiff.Per.
const (
	PerRequest = "request"
	PerSecond  = "second"
)

// Orders of a code table (View.Order): the rows with the largest change
// of flat or of cumulative cost first.
const (
	OrderFlat = "flat"
	OrderCum  = "cum"
)

// A View charges a profile's samples to named parts of a program, for
// the code tables of a diff: functions, packages, or the finer
// attribution package flame gives (the program's own code, categories of
// work) where it is available. Build compares each part's cost per
// request across the two captures.
type View interface {
	// Name names the view in diff.json ("package"); Title heads its
	// table ("By package").
	Name() string
	Title() string
	// Order says which change ranks the rows: OrderFlat or OrderCum.
	Order() string
	// Charge returns every part of p with a non-zero share of the values
	// at sampleIndex: Flat, the samples whose leaf frame belongs to the
	// part, and Cum, the samples in which any of its frames appears, each
	// sample counted once per part. Percentages are not used.
	Charge(p *profile.Profile, sampleIndex int) []flame.Func
}

// GroupView is a View that counts frames by a mapping of their function
// names (flame.TopGrouped): by function when Group is nil, by package
// with PackageOf.
type GroupView struct {
	ViewName, ViewTitle string
	// Group maps a function name to its group; nil keeps functions.
	Group func(function string) string
	// RankBy is the view's Order.
	RankBy string
}

var _ View = GroupView{}

// Name returns ViewName.
func (v GroupView) Name() string { return v.ViewName }

// Title returns ViewTitle.
func (v GroupView) Title() string { return v.ViewTitle }

// Order returns RankBy.
func (v GroupView) Order() string { return v.RankBy }

// Charge returns the flat and cumulative values of every group.
func (v GroupView) Charge(p *profile.Profile, sampleIndex int) []flame.Func {
	return flame.TopGrouped(p, sampleIndex, 0, v.Group)
}

// The views of DefaultViews.
var (
	// ByPackage charges samples to the package of each frame's
	// function (encoding/json, net/http, main) and ranks packages by
	// their cumulative cost: what decoding JSON costs, whatever
	// encoding/json calls (reflect, allocation) or is interrupted by.
	ByPackage = GroupView{ViewName: "package", ViewTitle: "By package", Group: PackageOf, RankBy: OrderCum}
	// ByFunction charges samples to each frame's function and ranks
	// functions by their flat cost, as go tool pprof -top does.
	ByFunction = GroupView{ViewName: "function", ViewTitle: "By function", RankBy: OrderFlat}
)

// DefaultViews returns the views Build uses when Options.Views is nil: by
// package, then by function. The attribution views of package flame (the
// program's own code, categories), once there, belong here too.
func DefaultViews() []View { return []View{ByPackage, ByFunction} }

// PackageOf returns the package path of a Go function name as profiles
// record it: encoding/json for "encoding/json.(*decodeState).object",
// main for "main.main", gopkg.in/yaml.v3 for "gopkg.in/yaml.v3.Unmarshal".
// A name without a package (an address, "[unknown]") is its own package.
func PackageOf(function string) string {
	slash := strings.LastIndexByte(function, '/') + 1
	rest := function[slash:]
	dot := strings.IndexByte(rest, '.')
	if dot <= 0 {
		return function
	}
	// A last path element with a major version (yaml.v3) keeps it.
	if after := rest[dot+1:]; len(after) > 2 && after[0] == 'v' && after[1] >= '0' && after[1] <= '9' {
		if end := strings.IndexFunc(after[1:], func(r rune) bool { return r < '0' || r > '9' }); end > 0 && after[1+end] == '.' {
			dot += 2 + end
		}
	}
	return function[:slash+dot]
}

// compareCode compares the profiles of one kind of the two captures per
// request, or returns nil and a warning saying why it cannot.
func compareCode(kind snapshot.ProfileKind, before, after Input, views []View) (*CodeDiff, string) {
	name := strings.ToLower(report.KindName(kind))
	pb, pa := before.profile(kind), after.profile(kind)
	switch {
	case pb == nil && pa == nil:
		return nil, fmt.Sprintf("neither capture has a %s profile: no %s comparison", name, name)
	case pb == nil:
		return nil, fmt.Sprintf("the before capture has no %s profile: no %s comparison", name, name)
	case pa == nil:
		return nil, fmt.Sprintf("the after capture has no %s profile: no %s comparison", name, name)
	}
	ia, err := flame.SampleIndex(pa, "")
	if err != nil {
		return nil, fmt.Sprintf("the after %s profile: %v", name, err)
	}
	st := pa.SampleType[ia]
	ib, err := flame.SampleIndex(pb, st.Type)
	if err != nil {
		return nil, fmt.Sprintf("the %s profiles cannot be compared: %v", name, err)
	}
	cd := &CodeDiff{
		Kind: kind, SampleType: st.Type, Unit: st.Unit, Per: PerRequest,
		Before: codeSide(before.Capture, kind, pb, ib),
		After:  codeSide(after.Capture, kind, pa, ia),
		before: pb, after: pa, beforeIdx: ib, afterIdx: ia,
	}
	if cd.Before.Requests < 1 || cd.After.Requests < 1 {
		cd.Per = PerSecond
	}
	cd.beforeScale, cd.afterScale = cd.Before.scale(cd.Per), cd.After.scale(cd.Per)
	cd.Before.PerUnit = round3(float64(cd.Before.Total) * cd.beforeScale)
	cd.After.PerUnit = round3(float64(cd.After.Total) * cd.afterScale)
	cd.Change = round3(cd.After.PerUnit - cd.Before.PerUnit)
	if cd.Before.PerUnit != 0 {
		rel := round3(cd.Change / cd.Before.PerUnit)
		cd.RelChange = &rel
	}
	cd.FlameGraph, cd.ProfileBefore, cd.ProfileAfter = capture.DiffCPUFlame, capture.CPUBefore, capture.CPUAfter
	if kind == snapshot.ProfileWall {
		cd.FlameGraph, cd.ProfileBefore, cd.ProfileAfter = capture.DiffWallFlame, capture.WallBefore, capture.WallAfter
	}
	cd.Views = make([]CodeView, 0, len(views))
	for _, v := range views {
		cd.Views = append(cd.Views, compareView(v, cd))
	}
	return cd, ""
}

// codeSide describes one capture's profile: its total and the requests
// completed while it ran.
func codeSide(c *capture.Capture, kind snapshot.ProfileKind, p *profile.Profile, idx int) CodeSide {
	s := CodeSide{Seconds: round3(float64(p.DurationNanos) / 1e9)}
	info := c.Profile(kind)
	if info != nil {
		s.Profile = info.File
		if info.Seconds > 0 {
			s.Seconds = info.Seconds
		}
	}
	for _, smp := range p.Sample {
		if idx < len(smp.Value) {
			s.Total += smp.Value[idx]
		}
	}
	s.Requests = round3(c.RequestsDuring(info))
	return s
}

// scale returns what turns a value of the side's profile into a cost per
// request (or per second of profile).
func (s CodeSide) scale(per string) float64 {
	if per == PerRequest && s.Requests > 0 {
		return 1 / s.Requests
	}
	if s.Seconds > 0 {
		return 1 / s.Seconds
	}
	return 1
}

// compareView compares two profiles' costs per part of the program, by
// one view.
func compareView(v View, cd *CodeDiff) CodeView {
	cv := CodeView{Name: v.Name(), Title: v.Title(), Order: v.Order(), Rows: []CodeRow{}}
	cum := cv.Order == OrderCum
	rows := map[string]*CodeRow{}
	row := func(name string) *CodeRow {
		r := rows[name]
		if r == nil {
			r = &CodeRow{Name: name}
			rows[name] = r
		}
		return r
	}
	for _, f := range v.Charge(cd.before, cd.beforeIdx) {
		r := row(f.Name)
		r.FlatBefore, r.CumBefore = round3(float64(f.Flat)*cd.beforeScale), round3(float64(f.Cum)*cd.beforeScale)
	}
	for _, f := range v.Charge(cd.after, cd.afterIdx) {
		r := row(f.Name)
		r.FlatAfter, r.CumAfter = round3(float64(f.Flat)*cd.afterScale), round3(float64(f.Cum)*cd.afterScale)
	}
	for _, r := range rows {
		r.FlatChange, r.CumChange = round3(r.FlatAfter-r.FlatBefore), round3(r.CumAfter-r.CumBefore)
		if before, change := r.ranked(cum); before != 0 {
			rel := round3(change / before)
			r.RelChange = &rel
		}
		if r.FlatChange != 0 || r.CumChange != 0 {
			cv.Rows = append(cv.Rows, *r)
		}
	}
	slices.SortFunc(cv.Rows, func(a, b CodeRow) int {
		_, ca := a.ranked(cum)
		_, cb := b.ranked(cum)
		_, oa := a.ranked(!cum)
		_, ob := b.ranked(!cum)
		return cmp.Or(
			cmp.Compare(math.Abs(cb), math.Abs(ca)),
			cmp.Compare(math.Abs(ob), math.Abs(oa)),
			strings.Compare(a.Name, b.Name),
		)
	})
	cv.Rows = cv.Rows[:min(len(cv.Rows), codeRows)]
	return cv
}

// ranked returns the before value and the change of the cost a table is
// ranked by: the cumulative one when cum is true, else the flat one.
func (r *CodeRow) ranked(cum bool) (before, change float64) {
	if cum {
		return r.CumBefore, r.CumChange
	}
	return r.FlatBefore, r.FlatChange
}

// scaledProfile returns a copy of p holding only the values at idx, each
// multiplied by scale and rounded, with a comment saying so: the profile
// per request that go tool pprof -diff_base compares.
func scaledProfile(p *profile.Profile, idx int, scale float64, comment string) *profile.Profile {
	q := p.Copy()
	st := q.SampleType[idx]
	q.SampleType = []*profile.ValueType{st}
	q.DefaultSampleType = st.Type
	kept := q.Sample[:0]
	for _, s := range q.Sample {
		if idx >= len(s.Value) {
			continue
		}
		v := int64(math.Round(float64(s.Value[idx]) * scale))
		if v == 0 {
			continue
		}
		s.Value = []int64{v}
		kept = append(kept, s)
	}
	q.Sample = kept
	q.Comments = append(q.Comments, comment)
	return q
}
