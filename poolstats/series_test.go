package poolstats

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

func TestSeriesRates(t *testing.T) {
	var r series
	created := int64(100e9)
	// 20 requests per second for 15 seconds, 2 of them new connections.
	for sec := int64(100); sec < 115; sec++ {
		for i := range 20 {
			s := r.at(sec*1e9 + int64(i)*1e6)
			s.add(cRequests, 1)
			if i < 2 {
				s.add(cNew, 1)
			} else {
				s.add(cReused, 1)
			}
			s.add(cWaitUs, 50_000) // 50 ms each: 1 waiting on average
		}
	}
	now := int64(115e9) // the start of second 115: 10 s window back to 105
	got := r.recent(now, created)
	if got.seconds != 10 {
		t.Errorf("window = %v s, want 10", got.seconds)
	}
	if rps := got.per(cRequests); rps != 20 {
		t.Errorf("rps = %v, want 20", rps)
	}
	if f := got.reusedFraction(); f != 0.9 {
		t.Errorf("reused fraction = %v, want 0.9", f)
	}
	if w := got.per(cWaitUs) / 1e6; w != 1 {
		t.Errorf("avg waiting = %v, want 1", w)
	}

	// A host younger than a second is not extrapolated.
	var young series
	young.at(200e9+1e6).add(cRequests, 10)
	if rps := young.recent(200e9+2e6, 200e9).per(cRequests); rps != 10 {
		t.Errorf("young host rps = %v, want 10 (10 requests over at least 1 s)", rps)
	}
}

func TestSeriesPoints(t *testing.T) {
	var r series
	created := int64(50e9)
	r.at(50e9).add(cRequests, 3)
	r.at(50e9).add(cLatSumUs, 3000)
	r.at(52e9).add(cRequests, 1)
	pts := r.points(53e9+5e8, created)
	if len(pts) != 3 {
		t.Fatalf("points = %d, want 3 (seconds 50, 51, 52; 53 in progress)", len(pts))
	}
	if pts[0].Requests != 3 || pts[0].LatencyAvgMs != 1 || pts[1].Requests != 0 || pts[2].Requests != 1 {
		t.Errorf("points = %+v", pts)
	}
	if pts[1].Time != pts[0].Time+1 || pts[2].Time != pts[1].Time+1 {
		t.Errorf("points are not consecutive seconds: %d %d %d", pts[0].Time, pts[1].Time, pts[2].Time)
	}
	// Slots older than the ring are gone, not reported as stale data.
	r.at((50+seriesSlots)*1e9).add(cRequests, 9)
	if s := r.slot(50); s != nil {
		t.Errorf("slot 50 survived being overwritten")
	}
}

// The latency and wait sums since the start hold every duration added,
// across slot reuse, and never go down while seconds are recycled
// concurrently.
func TestSeriesTotalSums(t *testing.T) {
	var r series
	const writers, per = 4, 20000
	var clock atomic.Int64
	clock.Store(3e9)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for i := range per {
				now := clock.Load()
				if i%100 == 0 {
					now = clock.Add(7e8) // a slot is reused every 64 s
				}
				s := r.at(now)
				s.add(cLatSumUs, 3)
				s.add(cWaitUs, 1)
			}
		})
	}
	done := make(chan struct{})
	var readErr error
	var rw sync.WaitGroup
	rw.Go(func() {
		var prevLat, prevWait int64
		for {
			select {
			case <-done:
				return
			default:
			}
			lat, wait := r.totalSums()
			if lat < prevLat || wait < prevWait {
				readErr = fmt.Errorf("sums went down: latency %d → %d, wait %d → %d", prevLat, lat, prevWait, wait)
				return
			}
			prevLat, prevWait = lat, wait
		}
	})
	wg.Wait()
	close(done)
	rw.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	if clock.Load() < 64*1e9*2 {
		t.Fatalf("clock moved %d s only: slots were not reused", clock.Load()/1e9)
	}
	lat, wait := r.totalSums()
	if lat != 3*writers*per || wait != writers*per {
		t.Errorf("sums = %d µs latency, %d µs wait, want %d and %d", lat, wait, 3*writers*per, writers*per)
	}
}
