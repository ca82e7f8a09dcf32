package poolstats

import (
	"fmt"
	"sync"
	"testing"
	"unsafe"
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

// What a request touches of its host is on two cache lines (see Host).
func TestHostLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is for 64-bit platforms")
	}
	var h Host
	fields := []struct {
		name      string
		off, size uintptr
	}{
		{"client", unsafe.Offsetof(h.client), unsafe.Sizeof(h.client)},
		{"raw", unsafe.Offsetof(h.raw), unsafe.Sizeof(h.raw)},
		{"scheme", unsafe.Offsetof(h.scheme), unsafe.Sizeof(h.scheme)},
		{"addrNoted", unsafe.Offsetof(h.addrNoted), unsafe.Sizeof(h.addrNoted)},
		{"transportScheme", unsafe.Offsetof(h.transportScheme), unsafe.Sizeof(h.transportScheme)},
		{"peakHint", unsafe.Offsetof(h.peakHint), unsafe.Sizeof(h.peakHint)},
		{"inFlight", unsafe.Offsetof(h.inFlight), unsafe.Sizeof(h.inFlight)},
		{"waiting", unsafe.Offsetof(h.waiting), unsafe.Sizeof(h.waiting)},
		{"firstResponse", unsafe.Offsetof(h.firstResponse), unsafe.Sizeof(h.firstResponse)},
	}
	s := New(Options{})
	c := s.Client("")
	for i := range 100 {
		p := uintptr(unsafe.Pointer(c.Host("http", fmt.Sprintf("h%d.example", i))))
		lines := map[uintptr][]string{}
		for _, f := range fields {
			for l := (p + f.off) / 64; l <= (p+f.off+f.size-1)/64; l++ {
				lines[l] = append(lines[l], f.name)
			}
		}
		if len(lines) > 2 {
			t.Fatalf("a request touches %d cache lines of a Host at %#x: %v", len(lines), p, lines)
		}
	}
}
