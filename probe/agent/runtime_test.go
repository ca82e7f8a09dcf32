package agent

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

func TestHistQuantile(t *testing.T) {
	buckets := []float64{0, 1, 2, 4, math.Inf(1)}
	tests := []struct {
		name         string
		counts, prev []uint64
		q, want      float64
	}{
		{"empty", []uint64{0, 0, 0, 0}, nil, 0.99, 0},
		{"all in the first bucket", []uint64{10, 0, 0, 0}, nil, 0.99, 1},
		{"p99 in the third", []uint64{50, 40, 10, 0}, nil, 0.99, 4},
		{"p50 in the first", []uint64{50, 40, 10, 0}, nil, 0.5, 1},
		{"unbounded last bucket", []uint64{0, 0, 0, 5}, nil, 0.99, 4},
		{"only what was added", []uint64{100, 0, 5, 0}, []uint64{100, 0, 0, 0}, 0.99, 4},
		{"nothing added", []uint64{7, 1, 0, 0}, []uint64{7, 1, 0, 0}, 0.99, 0},
	}
	for _, tt := range tests {
		if got := histQuantile(tt.counts, tt.prev, buckets, tt.q); got != tt.want {
			t.Errorf("%s: histQuantile = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRuntimeMutexWait: four goroutines that each hold one lock for 2 ms
// at a time keep three waiting at any moment: 3 s of waiting per second.
func TestRuntimeMutexWait(t *testing.T) {
	r := newRuntimeReader()
	var p snapshot.Process
	r.read(&p, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				time.Sleep(2 * time.Millisecond)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.read(&p, time.Now())
	if p.MutexWaitPerSecond < 2.4 || p.MutexWaitPerSecond > 3.3 {
		t.Errorf("mutex wait = %.2f s/s, want about 3 (three of four goroutines waiting)", p.MutexWaitPerSecond)
	}
}

// TestRuntimeGCShare: a loop that only allocates, with the GC target at
// 10%, spends a large share of the runtime's CPU in the GC; once no cycle
// has ended for a while, the share is 0.
func TestRuntimeGCShare(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	r := newRuntimeReader()
	var p snapshot.Process
	r.read(&p, time.Now())
	var keep [][]byte
	for deadline := time.Now().Add(400 * time.Millisecond); time.Now().Before(deadline); {
		keep = append(keep, make([]byte, 64<<10))
		if len(keep) > 64 {
			keep = keep[:0]
		}
	}
	runtime.GC() // end the cycle in progress, so its CPU is counted
	now := time.Now()
	p = snapshot.Process{}
	r.read(&p, now)
	t.Logf("GC share while allocating: %.1f%%", p.GCCPUPercent)
	// About 15-20% here; the race detector slows allocation down and
	// halves it.
	if p.GCCPUPercent < 5 {
		t.Errorf("GC share while only allocating = %.1f%%, want well above 5%%", p.GCCPUPercent)
	}
	// No cycle ends from here (GC off, nothing allocated that matters):
	// the share holds for a while, then drops to 0.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	held := snapshot.Process{}
	r.read(&held, now.Add(time.Second))
	if held.GCCPUPercent != p.GCCPUPercent {
		t.Errorf("a second after the cycle, the share is %.1f%%, want the last %.1f%%", held.GCCPUPercent, p.GCCPUPercent)
	}
	idle := snapshot.Process{}
	r.read(&idle, now.Add(time.Minute))
	if idle.GCCPUPercent != 0 {
		t.Errorf("a minute without a GC cycle, the share is %.1f%%, want 0", idle.GCCPUPercent)
	}
}

// TestRuntimeScheduler: four runnable goroutines per processor, all
// computing, wait for each other's 10 ms time slices: several goroutines
// are runnable at any time and the p99 scheduling latency is
// milliseconds.
func TestRuntimeScheduler(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	r := newRuntimeReader()
	var p snapshot.Process
	r.read(&p, time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 * procs {
		wg.Go(func() {
			x := 1.0
			for ctx.Err() == nil {
				for range 10000 {
					x = math.Sqrt(x + 1)
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond) // the span measured, not a wait for an event
	r.read(&p, time.Now())
	cancel()
	wg.Wait()
	t.Logf("%d processors: %d runnable, p99 scheduling latency %.2f ms", procs, p.RunnableGoroutines, p.SchedLatencyP99Ms)
	if p.RunnableGoroutines < procs {
		t.Errorf("runnable goroutines = %d, want about %d", p.RunnableGoroutines, 3*procs)
	}
	if p.SchedLatencyP99Ms < 5 {
		t.Errorf("p99 scheduling latency = %.2f ms, want several time slices of 10 ms", p.SchedLatencyP99Ms)
	}
}
