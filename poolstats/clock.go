package poolstats

import (
	"time"
	_ "unsafe" // for go:linkname
)

// nanotime is the runtime's monotonic clock, which time.Now and time.Since
// read too. Reading it directly spares every timestamp of the hot path
// the calls around it in time.Since (a request takes four), each more
// code for the instruction cache to miss between the transport's work.
// The runtime keeps it for packages that link to it: "Do not remove or
// change the type signature" (runtime/time_nofake.go, go.dev/issue/67401).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// base anchors the monotonic clock every timestamp of this package is
// measured on, and baseNano is its reading of nanotime.
var (
	base     = time.Now()
	baseNano = nanoAt(base)
)

// nanoAt returns nanotime's reading at t, a time read with its monotonic
// clock: time.Since(t) between two readings of nanotime, the closest pair
// of a few tries (the first calls can take microseconds), puts it within
// a few nanoseconds.
func nanoAt(t time.Time) int64 {
	best, at := int64(-1), int64(0)
	for range 8 {
		n1 := nanotime()
		d := int64(time.Since(t))
		n2 := nanotime()
		if best < 0 || n2-n1 < best {
			best, at = n2-n1, n1+(n2-n1)/2-d
		}
	}
	return at
}

// Now returns the current time as nanoseconds on the process's monotonic
// clock. It is what every recording method expects: reading only the
// monotonic clock costs about half of time.Now.
func Now() int64 { return nanotime() - baseNano }

// wallTime converts a monotonic timestamp from Now to wall-clock time.
func wallTime(mono int64) time.Time { return base.Add(time.Duration(mono)) }
