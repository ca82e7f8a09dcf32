package poolstats

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestBodyRegistry(t *testing.T) {
	s, h := testHost(t)
	after := int64(s.opts.LeakAfter)
	var reads [3]atomic.Int64
	bodies := make([]*Body, 3)
	for i := range bodies {
		bodies[i] = &Body{Host: h, Opened: 1e9, Reads: &reads[i]}
		s.OpenBody(bodies[i])
	}
	reads[1].Add(5) // being read
	if got := s.leaks(1e9 + after - 1); len(got) != 0 {
		t.Errorf("leaks before LeakAfter: %v", got)
	}
	got := s.leaks(1e9 + after)
	if got[h] == nil || got[h].count != 2 {
		t.Fatalf("leaks at LeakAfter = %+v, want 2 (the unread ones)", got[h])
	}
	// The body that was read once then stopped becomes a leak LeakAfter
	// after the snapshot that first saw it idle.
	if got := s.leaks(1e9 + 2*after); got[h].count != 3 {
		t.Errorf("leaks later = %d, want 3", got[h].count)
	}
	s.CloseBody(bodies[0])
	s.CloseBody(bodies[0]) // twice is harmless
	s.CloseBody(bodies[2])
	if got := s.leaks(1e9 + 3*after); got[h].count != 1 {
		t.Errorf("leaks after closing two = %d, want 1", got[h].count)
	}
}

func TestBodyRegistryConcurrent(t *testing.T) {
	s, h := testHost(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				b := &Body{Host: h, Opened: 1}
				s.OpenBody(b)
				s.CloseBody(b)
			}
		})
	}
	wg.Wait()
	for i := range s.bodies.shards {
		sh := &s.bodies.shards[i]
		for j, b := range sh.slots {
			if b != nil {
				t.Fatalf("shard %d slot %d still holds a body", i, j)
			}
		}
		if len(sh.free) != len(sh.slots) {
			t.Fatalf("shard %d: %d free of %d slots", i, len(sh.free), len(sh.slots))
		}
	}
}

//go:noinline
func captureHere(pcs []uintptr) int { return runtime.Callers(1, pcs) }

func TestCallSite(t *testing.T) {
	var pcs [CallerDepth]uintptr
	n := captureHere(pcs[:])
	site := CallSite(pcs[:n])
	// captureHere lives in a _test.go file of poolstats: it plays the
	// program, so it is the site.
	if !strings.HasSuffix(site.Function, "poolstats.captureHere") || !strings.HasSuffix(site.File, "bodies_test.go") {
		t.Errorf("site = %+v, want captureHere in bodies_test.go", site)
	}
	if got := CallSite(nil); got.Function != "unknown" {
		t.Errorf("empty stack: %+v", got)
	}
}

func TestInternalFrame(t *testing.T) {
	cases := []struct {
		fn, file string
		internal bool
	}{
		{"net/http.(*Client).Do", "/go/src/net/http/client.go", true},
		{"runtime.goexit", "asm.s", true},
		{"github.com/httptop/httptop/tracer.(*Tracer).RoundTrip", "/x/tracer/span.go", true},
		{"github.com/httptop/httptop/probe.(*transport).RoundTrip", "/x/probe/wrap.go", true},
		{"github.com/httptop/httptop/probe.TestLeak", "/x/probe/scenario_test.go", false},
		{"github.com/httptop/httptop/fixtures.Leak", "/x/fixtures/leak.go", false},
		{"main.fetch", "/app/main.go", false},
	}
	for _, c := range cases {
		if got := internalFrame(runtime.Frame{Function: c.fn, File: c.file}); got != c.internal {
			t.Errorf("internalFrame(%s) = %v, want %v", c.fn, got, c.internal)
		}
	}
}

// Kept records report leaks like registered ones, and the registry
// forgets them once their owners are collected.
func TestKeptBodies(t *testing.T) {
	s, h := testHost(t)
	var reads atomic.Int64
	keep := &Body{}
	s.KeepBody(keep)
	keep.Lock()
	keep.Host, keep.Opened, keep.Reads = h, 1, &reads
	keep.SetOpen(true)
	keep.Unlock()
	after := int64(s.opts.LeakAfter)
	if got := s.leaks(1 + after)[h]; got == nil || got.count != 1 {
		t.Fatalf("leaks of an open kept record = %+v, want 1", got)
	}
	keep.Lock()
	keep.SetOpen(false)
	keep.Unlock()
	if got := s.leaks(1 + after)[h]; got != nil {
		t.Fatalf("leaks of a closed kept record = %+v, want none", got)
	}
	// Records whose owners are gone leave the list as it grows: it stays
	// within twice the records alive at the last pruning (here at most
	// 1001, some collected late), plus 64.
	for range 10 {
		for range 1000 {
			s.KeepBody(&Body{})
		}
		runtime.GC()
	}
	if n := len(s.bodies.kept); n > 2*1001+64 {
		t.Errorf("%d kept records listed after 10,000 were registered and dropped, want at most %d", n, 2*1001+64)
	}
	runtime.KeepAlive(keep)
}
