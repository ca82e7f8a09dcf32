package poolstats

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/httptop/httptop/snapshot"
)

// CallerDepth is how many return addresses a Body keeps of the code that
// issued its request.
const CallerDepth = 16

// Body is the record of one open response body, from the response until
// the body reaches EOF or is closed. The tracer keeps it in its per-request
// span, so that opening a body costs no allocation of its own.
type Body struct {
	// Host, Opened (monotonic ns), Reads and Callers are set by the
	// tracer before OpenBody and not changed until CloseBody. (A kept
	// record's Callers and NumPCs may also be written by its owner
	// while it is closed, without its lock: nothing reads a kept
	// record's fields while it is closed, and opening it publishes
	// them.)
	Host    *Host
	Opened  int64
	Callers [CallerDepth]uintptr
	NumPCs  int
	// Reads counts the Read calls on the body. Reads tell an open body
	// that is being consumed slowly (a stream) from a leaked one.
	Reads *atomic.Int64

	// hint picks the body's shard; set at its first OpenBody and kept,
	// so that a record reused for request after request (the tracer
	// recycles its spans) keeps its shard.
	hint uint32

	// Guarded by the shard's mutex (OpenBody), or by mu (a kept record,
	// see KeepBody).
	shard     *bodyShard
	slot      int32
	seenReads int64 // reads at the last snapshot that saw a change
	seenAt    int64 // when that snapshot ran

	// A kept record is open between Open and Close, and its fields
	// (those above too) are guarded by mu.
	mu   sync.Mutex
	open bool
}

// bodyShards spreads open bodies over this many registries so that
// requests on different goroutines rarely contend for one lock.
const bodyShards = 32

// bodyShard holds open bodies in slots: opening or closing a body touches
// the shard alone, never another body's record.
type bodyShard struct {
	mu    sync.Mutex
	slots []*Body
	free  []int32 // indices of empty slots
	_     [8]byte // keep shards on separate cache lines
}

type bodyRegistry struct {
	shards [bodyShards]bodyShard

	// kept holds the records of KeepBody, weakly: a record lives as long
	// as its owner (a pooled span), and leaves the list once collected.
	keptMu   sync.Mutex
	kept     []weak.Pointer[Body]
	keptLive int // entries alive at the last pruning
}

// KeepBody registers b for good: a record that its owner opens and closes
// request after request (Body.SetOpen) without the registry's locks,
// under the record's own (Body.Lock). The registry holds it weakly, so
// that b's owner may be garbage collected; it is dropped then.
func (s *Stats) KeepBody(b *Body) {
	r := &s.bodies
	r.keptMu.Lock()
	defer r.keptMu.Unlock()
	if len(r.kept) >= 2*r.keptLive+64 {
		// Prune the collected ones, as often as the list doubles.
		r.kept = slices.DeleteFunc(r.kept, func(w weak.Pointer[Body]) bool { return w.Value() == nil })
		r.keptLive = len(r.kept)
	}
	r.kept = append(r.kept, weak.Make(b))
}

// Lock and Unlock guard a kept record (see KeepBody): its owner sets
// Host, Opened and Reads, and opens or closes it, holding the lock (and
// Callers, holding it or while the record is closed); a snapshot reads
// it holding it.
func (b *Body) Lock()   { b.mu.Lock() }
func (b *Body) Unlock() { b.mu.Unlock() }

// SetOpen opens or closes a kept record; its lock must be held.
func (b *Body) SetOpen(open bool) {
	b.open = open
	if !open {
		b.seenReads, b.seenAt = 0, 0
	}
}

// CloseKept closes a kept record (see KeepBody) and lets go of its host
// and read count until it opens again.
func (b *Body) CloseKept() {
	b.mu.Lock()
	b.SetOpen(false)
	b.Host, b.Reads = nil, nil
	b.mu.Unlock()
}

// OpenBody starts tracking an open response body.
func (s *Stats) OpenBody(b *Body) {
	if b.hint == 0 {
		b.hint = rand.Uint32() | 1
	}
	sh := &s.bodies.shards[b.hint%bodyShards]
	sh.mu.Lock()
	var i int32
	if n := len(sh.free); n > 0 {
		i = sh.free[n-1]
		sh.free = sh.free[:n-1]
	} else {
		i = int32(len(sh.slots))
		sh.slots = append(sh.slots, nil)
	}
	sh.slots[i] = b
	b.shard, b.slot = sh, i
	sh.mu.Unlock()
}

// CloseBody stops tracking a body that reached EOF or was closed.
func (s *Stats) CloseBody(b *Body) {
	sh := b.shard
	if sh == nil {
		return
	}
	sh.mu.Lock()
	sh.slots[b.slot] = nil
	sh.free = append(sh.free, b.slot)
	b.shard, b.seenReads, b.seenAt = nil, 0, 0
	sh.mu.Unlock()
}

// leakReport is what a snapshot learns about one host's leaked bodies.
type leakReport struct {
	count int
	sites map[[CallerDepth]uintptr]int
}

// leaks walks the open bodies at time now and returns, per host, those
// that count as leaked: open for at least their client's LeakAfter, and
// either never read or not read since a snapshot at least LeakAfter ago.
func (s *Stats) leaks(now int64) map[*Host]*leakReport {
	out := make(map[*Host]*leakReport)
	for i := range s.bodies.shards {
		sh := &s.bodies.shards[i]
		sh.mu.Lock()
		for _, b := range sh.slots {
			if b != nil {
				b.checkLeak(now, out)
			}
		}
		sh.mu.Unlock()
	}
	r := &s.bodies
	r.keptMu.Lock()
	live := 0
	for _, w := range r.kept {
		b := w.Value()
		if b == nil {
			continue
		}
		live++
		b.mu.Lock()
		if b.open {
			b.checkLeak(now, out)
		}
		b.mu.Unlock()
	}
	r.keptLive = live
	r.keptMu.Unlock()
	return out
}

// checkLeak adds b to out if it counts as leaked at now: open for at
// least its client's LeakAfter, and either never read or not read since a
// snapshot at least LeakAfter ago. b's guard is held.
func (b *Body) checkLeak(now int64, out map[*Host]*leakReport) {
	after := b.Host.client.leakAfterNs()
	if now-b.Opened < after {
		return
	}
	var reads int64
	if b.Reads != nil {
		reads = b.Reads.Load()
	}
	leaked := reads == 0
	if !leaked {
		if reads != b.seenReads || b.seenAt == 0 {
			b.seenReads, b.seenAt = reads, now
		} else {
			leaked = now-b.seenAt >= after
		}
	}
	if !leaked {
		return
	}
	r := out[b.Host]
	if r == nil {
		r = &leakReport{sites: make(map[[CallerDepth]uintptr]int)}
		out[b.Host] = r
	}
	r.count++
	r.sites[b.Callers]++
}

// siteCache remembers the call site each captured stack resolves to, so
// that a leak reported by every snapshot is symbolised once.
type siteCache struct {
	mu sync.Mutex
	m  map[[CallerDepth]uintptr]snapshot.Site
}

// siteCacheMax bounds the cache; past it, the cache starts over.
const siteCacheMax = 4096

func (c *siteCache) site(pcs [CallerDepth]uintptr) snapshot.Site {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[pcs]; ok {
		return s
	}
	if c.m == nil || len(c.m) >= siteCacheMax {
		c.m = make(map[[CallerDepth]uintptr]snapshot.Site)
	}
	s := CallSite(pcs[:])
	c.m[pcs] = s
	return s
}

// CallSite returns the first frame of a captured stack that belongs to the
// program rather than to net/http or httptop: the code that issued the
// request. When every frame belongs to those, it returns the outermost one.
// pcs are return addresses, as from runtime.Callers.
func CallSite(pcs []uintptr) snapshot.Site {
	n := len(pcs)
	for n > 0 && pcs[n-1] == 0 {
		n--
	}
	if n == 0 {
		return snapshot.Site{Function: "unknown"}
	}
	frames := runtime.CallersFrames(pcs[:n])
	var last runtime.Frame
	for {
		f, more := frames.Next()
		if f.Function != "" {
			last = f
			if !internalFrame(f) {
				return siteOf(f)
			}
		}
		if !more {
			break
		}
	}
	return siteOf(last)
}

func siteOf(f runtime.Frame) snapshot.Site {
	return snapshot.Site{Function: f.Function, File: f.File, Line: f.Line}
}

// internalFrame reports whether a frame belongs to the machinery between
// the program and the network: the standard HTTP client, the runtime, and
// httptop's probe packages (but not their tests, which play the program).
func internalFrame(f runtime.Frame) bool {
	fn := f.Function
	if strings.HasPrefix(fn, "net/http.") || strings.HasPrefix(fn, "net/http/") ||
		strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "testing.") {
		return true
	}
	for _, p := range probePackages {
		if strings.HasPrefix(fn, p) {
			return !strings.HasSuffix(f.File, "_test.go")
		}
	}
	return false
}

// probePackages are the function-name prefixes of httptop's probe
// machinery.
var probePackages = []string{
	"github.com/httptop/httptop/probe.",
	"github.com/httptop/httptop/probe/",
	"github.com/httptop/httptop/tracer.",
	"github.com/httptop/httptop/poolstats.",
}
