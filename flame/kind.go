package flame

import (
	"errors"
	"fmt"
)

// Kind names a profile the running program can produce. Its values are the
// lower-case words used on the agent's wire and on the command line, so a
// Kind can be sent as text and read back with [ParseKind].
type Kind string

// The kinds of profile this package can capture.
const (
	// CPU is the on-CPU profile of runtime/pprof, sampled at 100 Hz. Only
	// one CPU profile can run in a process at a time, so starting one while
	// another runs (for example through net/http/pprof) fails with
	// ErrCPUProfileBusy.
	CPU Kind = "cpu"
	// Wall is fgprof's wall-clock profile: every goroutine, running or
	// blocked, sampled at 99 Hz, so time spent waiting on the network shows
	// up next to time spent computing. Several can run at once.
	Wall Kind = "wall"
	// Heap is runtime/pprof's heap profile: live and allocated memory by
	// allocation site, as of the most recent garbage collection.
	Heap Kind = "heap"
	// Goroutine is runtime/pprof's goroutine profile: the stacks of all
	// current goroutines.
	Goroutine Kind = "goroutine"
)

// ErrUnsupportedKind is returned, wrapped, when a Kind is unknown or does not
// fit the call: Start and Capture need a continuous kind (CPU or Wall) and
// Snapshot a point-in-time one (Heap or Goroutine).
var ErrUnsupportedKind = errors.New("unsupported profile kind")

// kinds lists every Kind in the order ParseKind reports them.
var kinds = []Kind{CPU, Wall, Heap, Goroutine}

// ParseKind returns the Kind named s ("cpu", "wall", "heap" or "goroutine").
// It exists so the agent and the CLI validate user input the same way.
func ParseKind(s string) (Kind, error) {
	for _, k := range kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("flame: parse kind %q: %w (want one of cpu, wall, heap, goroutine)", s, ErrUnsupportedKind)
}

// Continuous reports whether k is gathered over a span of time (CPU and
// Wall, used with Start and Capture) rather than read at one instant (Heap
// and Goroutine, used with Snapshot).
func (k Kind) Continuous() bool {
	return k == CPU || k == Wall
}

// String returns the kind's wire name.
func (k Kind) String() string {
	return string(k)
}
