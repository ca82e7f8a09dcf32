package poolstats

import (
	"testing"
	"time"
)

// Now reads the clock time.Since(base) reads, directly: the two agree to
// within the time between the readings.
func TestNowIsTimeSince(t *testing.T) {
	for range 100 {
		before := int64(time.Since(base))
		now := Now()
		after := int64(time.Since(base))
		if slack := int64(200); now < before-slack || now > after+slack {
			t.Fatalf("Now() = %d, not between time.Since(base) = %d and %d", now, before, after)
		}
	}
}
