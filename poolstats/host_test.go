package poolstats

import (
	"sync"
	"testing"
)

// The peak in flight a host reports is the largest count any request
// started with, in the current window or the previous one, whatever the
// hint that spares most requests a look at the window says.
func TestPeakInFlight(t *testing.T) {
	_, h := testHost(t)
	t0 := (int64(100) * windowPeriod) + 1
	start := func(now int64, n int) {
		for range n {
			h.RequestStarted(now)
		}
	}
	end := func(n int) {
		for range n {
			h.RequestEnded()
		}
	}
	start(t0, 5) // peak 5
	end(3)       // 2 in flight
	start(t0+1, 2)
	if got := h.latency.peak(t0 + 2); got != 5 {
		t.Errorf("peak = %d, want 5", got)
	}
	end(4) // 0 in flight
	// The next period starts with 1 in flight: its window's peak is 1,
	// and the previous window's 5 still counts.
	t1 := t0 + windowPeriod
	start(t1, 1)
	if got := h.latency.peak(t1); got != 5 {
		t.Errorf("peak in the next period = %d, want 5 from the previous window", got)
	}
	// Two periods on, only the new window counts.
	t2 := t0 + 2*windowPeriod
	start(t2, 2) // 3 in flight
	if got := h.latency.peak(t2); got != 3 {
		t.Errorf("peak two periods on = %d, want 3", got)
	}
	end(3)
	// Concurrent starts: the peak is what one of them saw last.
	t3 := t0 + 4*windowPeriod
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { start(t3, 100) })
	}
	wg.Wait()
	if got := h.latency.peak(t3); got != 800 {
		t.Errorf("peak after 800 concurrent starts = %d, want 800", got)
	}
}
