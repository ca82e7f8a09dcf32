package flame

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// ErrNoSampleType is returned, wrapped, when a profile has no sample type of
// the requested name or index.
var ErrNoSampleType = errors.New("no such sample type")

// SampleIndex returns the index in p.SampleType (and so in every
// Sample.Value) of the sample type called name: "samples" or "cpu" in a CPU
// profile, "samples" or "time" in a wall-clock one, "inuse_space",
// "alloc_objects" and so on in a heap profile. A decimal index is accepted
// too. An empty name picks the profile's own default: DefaultSampleType
// when it names one of the types, else the last type, which is what go tool
// pprof shows first (cpu for CPU profiles, time for fgprof's).
func SampleIndex(p *profile.Profile, name string) (int, error) {
	if p == nil || len(p.SampleType) == 0 {
		return 0, fmt.Errorf("flame: sample type %q: %w: the profile has no sample types", name, ErrNoSampleType)
	}
	if name == "" {
		if d := p.DefaultSampleType; d != "" {
			for i, st := range p.SampleType {
				if st.Type == d {
					return i, nil
				}
			}
		}
		return len(p.SampleType) - 1, nil
	}
	for i, st := range p.SampleType {
		if st.Type == name {
			return i, nil
		}
	}
	if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(p.SampleType) {
		return i, nil
	}
	return 0, fmt.Errorf("flame: sample type %q: %w (the profile has %s)", name, ErrNoSampleType, sampleTypeNames(p))
}

// resolveIndex turns the sampleIndex argument of Folded and Top into a valid
// index: negative picks the default, anything else must be in range.
func resolveIndex(p *profile.Profile, i int) (int, error) {
	if p == nil {
		return 0, errors.New("nil profile")
	}
	if i < 0 {
		return SampleIndex(p, "")
	}
	if i >= len(p.SampleType) {
		return 0, fmt.Errorf("sample index %d: %w (the profile has %s)", i, ErrNoSampleType, sampleTypeNames(p))
	}
	return i, nil
}

// sampleTypeNames lists p's sample types for error messages.
func sampleTypeNames(p *profile.Profile) string {
	if len(p.SampleType) == 0 {
		return "none"
	}
	names := make([]string, len(p.SampleType))
	for i, st := range p.SampleType {
		names[i] = strconv.Itoa(i) + "=" + st.Type
	}
	return strings.Join(names, ", ")
}
