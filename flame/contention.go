package flame

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/google/pprof/profile"
)

// Site is one place in the program where goroutines waited on each other,
// from a block or mutex profile (see Contention).
type Site struct {
	// Func is the innermost function of the program's code on the
	// stacks (the call site of the lock or channel operation), or, when
	// the stacks hold none, the innermost function above the waiting
	// primitive; Program says which. File and Line locate the call in
	// Func.
	Func    string `json:"func"`
	Module  string `json:"module,omitempty"`
	Program bool   `json:"program"`
	File    string `json:"file,omitempty"`
	Line    int64  `json:"line,omitempty"`
	// On is the primitive waited on, the outermost frame of the
	// runtime or package sync at the leaf: sync.(*Mutex).Lock,
	// runtime.chanrecv1, runtime.selectgo, sync.(*WaitGroup).Wait, or,
	// in a mutex profile, sync.(*Mutex).Unlock (the mutex profile records
	// where a contended lock was released).
	On string `json:"on"`
	// In is the function that called On, when it is not Func: the
	// library or standard function the program's code waited inside
	// (net/http.(*Transport).getConn for a request waiting for a pooled
	// connection).
	In string `json:"in,omitempty"`
	// Delay is the time waited (nanoseconds when the profile's unit is)
	// and Pct its share of the profile's total; Count the number of
	// waits, when the profile has a count type.
	Delay int64   `json:"delay"`
	Pct   float64 `json:"pct"`
	Count int64   `json:"count"`
}

// Contention returns the call sites of a block or mutex profile
// (runtime/pprof's "contentions" and "delay" sample types), the longest
// delay first, and the total delay they share: httptop's own waits (its
// agent's, its profilers') are left out of both. mods is the program's
// module list, as for Attribute. n <= 0 returns every site.
func Contention(p *profile.Profile, mods Modules, n int) ([]Site, int64, error) {
	if p == nil {
		return nil, 0, fmt.Errorf("flame: contention: %w", ErrNilProfile)
	}
	delayIdx, err := SampleIndex(p, "delay")
	if err != nil {
		delayIdx, err = resolveIndex(p, -1)
		if err != nil {
			return nil, 0, fmt.Errorf("flame: contention: %w", err)
		}
	}
	countIdx, cerr := SampleIndex(p, "contentions")
	c := newClassifier(p, mods)
	type key struct {
		fn, on, in int32
		line       int64
	}
	type acc struct {
		delay, count int64
		file         string
	}
	sites := map[key]*acc{}
	var total int64
	var buf []int32
	for _, s := range p.Sample {
		if s == nil || delayIdx >= len(s.Value) || s.Value[delayIdx] == 0 {
			continue
		}
		d := s.Value[delayIdx]
		buf = c.stack(s, buf)
		sc := c.classifySample(s, buf)
		if sc.httptop {
			continue
		}
		total += d
		// The primitive: the outermost of the runtime and sync frames
		// at the leaf.
		on, i := int32(-1), 0
		for ; i < len(buf); i++ {
			if !waitPrimitive(c.st.names[buf[i]]) {
				break
			}
			on = buf[i]
		}
		fn := sc.owner
		if fn < 0 && i < len(buf) {
			fn = buf[i]
		}
		if fn < 0 {
			continue
		}
		k := key{fn: fn, on: on, in: -1}
		if i < len(buf) && buf[i] != fn {
			k.in = buf[i]
		}
		var file string
		k.line, file = lineOf(s, c, fn)
		a := sites[k]
		if a == nil {
			a = &acc{file: file}
			sites[k] = a
		}
		a.delay += d
		if cerr == nil && countIdx < len(s.Value) {
			a.count += s.Value[countIdx]
		}
	}
	out := make([]Site, 0, len(sites))
	for k, a := range sites {
		fi := c.info(k.fn)
		st := Site{
			Func: c.st.names[k.fn], Module: fi.module, Program: fi.kind.code(),
			File: a.file, Line: k.line,
			Delay: a.delay, Pct: percent(a.delay, total), Count: a.count,
		}
		if k.on >= 0 {
			st.On = c.st.names[k.on]
		}
		if k.in >= 0 {
			st.In = c.st.names[k.in]
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b Site) int {
		return cmp.Or(cmp.Compare(b.Delay, a.Delay), strings.Compare(a.Func, b.Func), cmp.Compare(a.Line, b.Line),
			strings.Compare(a.On, b.On), strings.Compare(a.In, b.In))
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out, total, nil
}

// waitPrimitive reports whether a frame is part of the runtime's or
// package sync's machinery for waiting.
func waitPrimitive(name string) bool {
	return strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "sync.") ||
		strings.HasPrefix(name, "internal/sync.") || strings.HasPrefix(name, "sync/atomic.")
}

// lineOf returns the line and file of the frame of function fn in s.
func lineOf(s *profile.Sample, c *classifier, fn int32) (int64, string) {
	for _, l := range s.Location {
		if l == nil {
			continue
		}
		fr := c.st.locFrames(l)
		for i, id := range fr {
			if id != fn {
				continue
			}
			// fr is outermost first; Line is innermost first.
			if j := len(l.Line) - 1 - i; j >= 0 && j < len(l.Line) {
				ln := l.Line[j]
				file := ""
				if ln.Function != nil {
					file = ln.Function.Filename
				}
				return ln.Line, file
			}
			return 0, ""
		}
	}
	return 0, ""
}
