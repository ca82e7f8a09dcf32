package flame

import (
	"strconv"

	"github.com/google/pprof/profile"
)

// symtab turns a profile's locations into frame names. Each location
// expands to one frame per Line, outermost caller first (pprof lists a
// location's lines innermost first: the last Line is the function the others
// were inlined into). Names are interned: a frame is an int32 id into names.
//
// Expansions are cached per location, indexed by Location.ID when the IDs
// are dense (the usual case for parsed profiles) so that the inner loop of
// tree building does no hashing, and by pointer otherwise (hand-built
// profiles may leave IDs zero).
type symtab struct {
	clean  func(string) string
	names  []string
	byName map[string]int32
	byFunc map[*profile.Function]int32

	byID   []locSlot
	byPtr  map[*profile.Location]span
	frames []int32 // arena holding every location's expansion
}

// locSlot caches one location's expansion; loc guards against a sample
// pointing at a location that is not the one with that ID in p.Location.
type locSlot struct {
	loc *profile.Location
	span
}

// span is a range of symtab.frames.
type span struct{ off, n int32 }

// newSymtab prepares a symtab for p. clean, when not nil, rewrites every
// function name before it is interned (Folded uses it to make names safe for
// its format).
func newSymtab(p *profile.Profile, clean func(string) string) *symtab {
	s := &symtab{
		clean:  clean,
		byName: make(map[string]int32, len(p.Function)),
		byFunc: make(map[*profile.Function]int32, len(p.Function)),
	}
	var maxID uint64
	for _, l := range p.Location {
		if l != nil && l.ID > maxID {
			maxID = l.ID
		}
	}
	if maxID > 0 && maxID <= uint64(2*len(p.Location)+64) {
		s.byID = make([]locSlot, maxID+1)
	}
	return s
}

// locFrames returns l's frame names, outermost first. The slice aliases the
// arena and is valid until the next call.
func (s *symtab) locFrames(l *profile.Location) []int32 {
	if id := l.ID; id > 0 && id < uint64(len(s.byID)) {
		slot := &s.byID[id]
		if slot.loc == l {
			return s.frames[slot.off : slot.off+slot.n]
		}
		if slot.loc == nil {
			slot.loc = l
			slot.span = s.expand(l)
			return s.frames[slot.off : slot.off+slot.n]
		}
	}
	sp, ok := s.byPtr[l]
	if !ok {
		if s.byPtr == nil {
			s.byPtr = make(map[*profile.Location]span)
		}
		sp = s.expand(l)
		s.byPtr[l] = sp
	}
	return s.frames[sp.off : sp.off+sp.n]
}

// expand appends l's frames to the arena.
func (s *symtab) expand(l *profile.Location) span {
	off := int32(len(s.frames))
	if len(l.Line) == 0 {
		s.frames = append(s.frames, s.intern(addrName(l)))
		return span{off, 1}
	}
	for i := len(l.Line) - 1; i >= 0; i-- {
		s.frames = append(s.frames, s.funcName(l, l.Line[i].Function))
	}
	return span{off, int32(len(l.Line))}
}

// funcName returns the id of f's name, falling back to its system name and
// then to the location's address when the profile is not symbolized.
func (s *symtab) funcName(l *profile.Location, f *profile.Function) int32 {
	if f == nil {
		return s.intern(addrName(l))
	}
	if id, ok := s.byFunc[f]; ok {
		return id
	}
	name := f.Name
	if name == "" {
		name = f.SystemName
	}
	if name == "" {
		name = addrName(l)
	}
	id := s.intern(name)
	s.byFunc[f] = id
	return id
}

// intern returns the id of name after cleaning.
func (s *symtab) intern(name string) int32 {
	if s.clean != nil {
		name = s.clean(name)
	}
	if id, ok := s.byName[name]; ok {
		return id
	}
	id := int32(len(s.names))
	s.names = append(s.names, name)
	s.byName[name] = id
	return id
}

// addrName names an unsymbolized frame by its address, as pprof does.
func addrName(l *profile.Location) string {
	return "0x" + strconv.FormatUint(l.Address, 16)
}
