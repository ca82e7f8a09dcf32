package poolstats

import "time"

// base anchors the monotonic clock every timestamp of this package is
// measured on.
var base = time.Now()

// Now returns the current time as nanoseconds on the process's monotonic
// clock. It is what every recording method expects: reading only the
// monotonic clock costs about half of time.Now.
func Now() int64 { return int64(time.Since(base)) }

// wallTime converts a monotonic timestamp from Now to wall-clock time.
func wallTime(mono int64) time.Time { return base.Add(time.Duration(mono)) }
