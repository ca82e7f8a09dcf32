package flame

import (
	"bytes"
	"fmt"
	"runtime/pprof"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/snapshot"
)

// Snapshot reads a point-in-time profile (Heap or Goroutine) of the running
// program from runtime/pprof and returns it parsed. The heap profile is as of
// the most recent garbage collection, as runtime/pprof reports it; Snapshot
// does not force one, so that asking for a profile does not disturb the
// program being diagnosed. For CPU and Wall, which need a duration, it
// returns ErrUnsupportedKind; use Capture.
func Snapshot(kind snapshot.ProfileKind) (*profile.Profile, error) {
	switch kind {
	case snapshot.ProfileHeap, snapshot.ProfileGoroutine:
	case snapshot.ProfileCPU, snapshot.ProfileWall, snapshot.ProfileMutex, snapshot.ProfileBlock:
		return nil, fmt.Errorf("flame: snapshot %s profile: %w: it needs a duration, use Capture", kind, ErrUnsupportedKind)
	default:
		return nil, fmt.Errorf("flame: snapshot %q profile: %w", string(kind), ErrUnsupportedKind)
	}
	pr := pprof.Lookup(string(kind))
	if pr == nil {
		return nil, fmt.Errorf("flame: snapshot %s profile: runtime/pprof has no such profile", kind)
	}
	var buf bytes.Buffer
	if err := pr.WriteTo(&buf, 0); err != nil {
		return nil, fmt.Errorf("flame: snapshot %s profile: %w", kind, err)
	}
	p, err := profile.ParseData(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("flame: parse %s profile: %w", kind, err)
	}
	return p, nil
}
