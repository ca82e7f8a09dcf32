package poolstats

import (
	"sync"
	"testing"
	"unsafe"
)

// Every response submitted is recorded exactly once, from many
// goroutines at once, whether it waited in the queue, was recorded in a
// batch, or found the queue full (here, with the drainer held off) and
// was recorded at once; Fill sees them all.
func TestPendingExact(t *testing.T) {
	for _, blocked := range []bool{false, true} {
		s, h := testHost(t)
		c := h.client
		if blocked {
			// No batch can be recorded while the test holds the
			// queue's lock: the ring fills, and the rest is
			// recorded at once.
			c.pending.mu.Lock()
		}
		now := Now()
		const goroutines, each = 8, 1000
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					c.Submit(h, now, int64(1000*(1+(g+i)%5)), 0, 200+(i%2)*300, Got{At: now, Wait: -1, Reused: i%4 != 0})
				}
			})
		}
		wg.Wait()
		if blocked {
			if queued := c.pending.head.Load() - c.pending.tail; queued != pendingSlots {
				t.Errorf("blocked drainer: %d responses queued, want a full ring (%d)", queued, pendingSlots)
			}
			c.pending.mu.Unlock()
		}
		s.Flush()
		total := int64(goroutines * each)
		if got := h.requests.Load(); got != total {
			t.Errorf("blocked %v: %d requests recorded, want %d", blocked, got, total)
		}
		if got, want := h.status5xx.Load(), total/2; got != want {
			t.Errorf("blocked %v: %d 5xx, want %d", blocked, got, want)
		}
		if got, want := h.reused.Load()+h.newConns.Load(), total; got != want {
			t.Errorf("blocked %v: %d connections handed out, want %d", blocked, got, want)
		}
		if p := h.latency.percentiles(now); p.Count != total {
			t.Errorf("blocked %v: latency histogram counts %d, want %d", blocked, p.Count, total)
		}
		if got := h.secs.recent(now, h.created).c[cRequests]; got != total {
			t.Errorf("blocked %v: per-second requests %d, want %d", blocked, got, total)
		}
	}
}

// A response recorded long after it arrived stays out of the histogram
// windows and per-second slots that no longer hold its time, and counts
// in the totals.
func TestPendingLate(t *testing.T) {
	_, h := testHost(t)
	at := int64(1000) * windowPeriod
	now := at + 3*windowPeriod + 70e9
	h.record(&Response{Host: h, At: at, Latency: 5e6, Status: 200, Got: Got{At: at, Wait: 1e6}}, now)
	if h.requests.Load() != 1 || h.newConns.Load() != 1 {
		t.Errorf("totals: %d requests, %d new connections; want 1 and 1", h.requests.Load(), h.newConns.Load())
	}
	if p := h.latency.percentiles(now); p.Count != 0 {
		t.Errorf("latency window holds %d values, want none (the value is from long ago)", p.Count)
	}
	if p := h.wait.percentiles(now); p.Count != 0 {
		t.Errorf("wait window holds %d values, want none", p.Count)
	}
	if s := h.secs.slot(at / 1e9); s != nil {
		t.Errorf("the per-second slot of a second %d s ago was written", (now-at)/1e9)
	}
}

// A queued response takes one cache line: the slots are 64 bytes each and
// the first starts on a line.
func TestPendingLayout(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the layout is for 64-bit platforms")
	}
	var c Client
	if size := unsafe.Sizeof(c.pending.slots[0]); size != 64 {
		t.Errorf("a slot takes %d bytes, want 64", size)
	}
	for range 100 {
		c := New(Options{}).Client("x")
		if p := uintptr(unsafe.Pointer(&c.pending.slots[0])); p%64 != 0 {
			t.Fatalf("a Client's queue at %#x (offset %d), not on a cache line", p, p-uintptr(unsafe.Pointer(c)))
		}
	}
}
