package dashboard

import (
	"context"
	"errors"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// Source feeds the dashboard with snapshots and profiles of one program.
// The agent client (*agentclient.Client) implements it; tests use a fake.
// Its methods are called from goroutines other than the UI's, possibly
// concurrently with each other.
type Source interface {
	// Stream calls fn with a snapshot at every interval until ctx is done
	// or fn returns an error, whose error Stream then returns. When the
	// program goes away Stream returns an error saying so; the dashboard
	// then shows "disconnected", keeps the last data on screen and calls
	// Stream again after a backoff, unless the error wraps ErrExited.
	Stream(ctx context.Context, interval time.Duration, fn func(*snapshot.Snapshot) error) error
	// Profile returns a gzipped pprof profile (.pb.gz) of kind
	// snapshot.ProfileCPU (runtime/pprof) or snapshot.ProfileWall
	// (fgprof) covering d. Its error says why
	// profiling is unavailable (busy, the program runs its own CPU
	// profile, ...); the dashboard shows it in the hot functions pane.
	Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error)
}

// ErrExited is what a Source's Stream wraps when the program it watches
// has exited (its process is gone, and no agent took its place): the
// dashboard says "process exited", keeps the last data on screen and
// stops reconnecting.
var ErrExited = errors.New("the program exited")

// Capturer records a capture (profiles and snapshots over a span of time,
// written to a directory), for the dashboard's c key. It is optional: with
// no Capturer the key says capture is unavailable.
type Capturer interface {
	// Capture records until done or ctx is cancelled and returns the
	// directory it wrote. It calls progress from time to time (from any
	// goroutine) with the time recorded so far and the total.
	Capture(ctx context.Context, progress func(done, total time.Duration)) (dir string, err error)
}
