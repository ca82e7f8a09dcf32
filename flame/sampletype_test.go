package flame

import (
	"errors"
	"testing"

	"github.com/google/pprof/profile"
)

func TestSampleIndex(t *testing.T) {
	heap := []*profile.ValueType{
		{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
		{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"},
	}
	tests := []struct {
		name    string
		types   []*profile.ValueType
		def     string
		in      string
		want    int
		wantErr bool
	}{
		{"cpu default is last", cpuTypes, "", "", 1, false},
		{"cpu by name", cpuTypes, "", "samples", 0, false},
		{"cpu", cpuTypes, "", "cpu", 1, false},
		{"by index", cpuTypes, "", "0", 0, false},
		{"DefaultSampleType wins", heap, "alloc_space", "", 1, false},
		{"unknown DefaultSampleType falls back to last", heap, "bogus", "", 3, false},
		{"heap by name", heap, "", "inuse_objects", 2, false},
		{"missing", cpuTypes, "", "inuse_space", 0, true},
		{"index out of range", cpuTypes, "", "2", 0, true},
		{"no types", nil, "", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &profile.Profile{SampleType: tt.types, DefaultSampleType: tt.def}
			got, err := SampleIndex(p, tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrNoSampleType) {
					t.Errorf("SampleIndex(%q) = %d, %v; want ErrNoSampleType", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("SampleIndex(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
	if _, err := SampleIndex(nil, ""); !errors.Is(err, ErrNoSampleType) {
		t.Errorf("SampleIndex(nil) err = %v, want ErrNoSampleType", err)
	}
}
