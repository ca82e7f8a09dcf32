package poolstats

import (
	"sync"
	"sync/atomic"
)

// Response is what the tracer hands over when a request's response
// headers arrive (see Client.Submit).
type Response struct {
	Host *Host
	// At is when the headers arrived (monotonic ns), Latency how long
	// after the request started, and Wait how much of that the request
	// waited for a connection, summed over its attempts.
	At, Latency, Wait int64
	Status            int
	// Got is the connection the request got, when the tracer kept it for
	// now (Got.At != 0).
	Got Got
}

// pendingSlots is how many responses a client's queue holds;
// pendingBatch how many a request may leave in it before it records them
// all; pendingAge how old the oldest of them may get (monotonic ns)
// before the next response records them.
const (
	pendingSlots = 128
	pendingBatch = 64
	pendingAge   = int64(100e6)
)

// pending is a client's queue of responses not yet recorded into its
// hosts' histograms, totals and per-second series.
//
// Recording a response touches a dozen cache lines of code and data
// (two histograms, a per-second slot, the totals); done for every
// request, between the program's own work, each is a cache miss. Queued,
// a request writes one slot, and every pendingBatch-th request records
// the batch in one go, with the code and the hosts' lines warm: the same
// figures, for a fraction of the time. Readers see them all: Stats.Fill
// records what is queued before it reads anything (Stats.Flush), and no
// response waits longer than pendingAge while requests keep coming.
// Gauges (in flight, waiting, a connection's requests) and anything a
// request's outcome does not decide are never queued.
//
// The queue is a bounded multi-producer ring (after Dmitry Vyukov's): a
// producer claims index i, if slot i mod pendingSlots is free for it
// (seq == i), by moving head from i to i+1 with a compare-and-swap,
// writes the slot and publishes it (seq = i+1); the drainer, one at a
// time under mu, records published slots in index order and frees them
// for the next lap (seq = i+pendingSlots). A producer never waits: when
// the ring is full (the drainer is behind, or a slot is still being
// written), it records its response at once.
type pending struct {
	head atomic.Uint64 // next index to claim
	// drained is when the queue was last drained (monotonic ns).
	drained atomic.Int64
	_       [40]byte // producers' line apart from the drainer's

	mu   sync.Mutex
	tail uint64 // next index to record, guarded by mu
	_    [8]byte
	// slots start on a cache line (TestPendingLayout: a Client is
	// allocated 64-byte aligned, after the allocator's 8-byte header),
	// so that a request writes one line of the queue.
	slots [pendingSlots]pendingSlot
}

// pendingSlot is a queued Response, in 64 bytes.
type pendingSlot struct {
	seq                               atomic.Uint64
	host                              *Host
	at, latency, wait, gotAt, gotWait int64
	status                            int32
	reused                            bool
}

// put fills the slot with a response.
func (s *pendingSlot) put(h *Host, at, latency, wait int64, status int, g Got) {
	s.host, s.at, s.latency, s.wait, s.status = h, at, latency, wait, int32(status)
	s.gotAt, s.gotWait, s.reused = g.At, g.Wait, g.Reused
}

// response returns the response the slot holds.
func (s *pendingSlot) response() Response {
	return Response{Host: s.host, At: s.at, Latency: s.latency, Wait: s.wait, Status: int(s.status),
		Got: Got{At: s.gotAt, Wait: s.gotWait, Reused: s.reused}}
}

// init numbers the slots for the first lap.
func (p *pending) init() {
	for i := range p.slots {
		p.slots[i].seq.Store(uint64(i))
	}
}

// Submit records the response headers of a request to h, one of c's
// hosts, arriving at, latency after the request started (of which it
// waited wait for a connection, summed over its attempts), and g, the
// connection the request got when the tracer kept it for now (see Got):
// queued, and recorded with others (see pending), so that readers who go
// through Stats.Fill or Stats.Flush see it as if it had been recorded at
// once.
func (c *Client) Submit(h *Host, at, latency, wait int64, status int, g Got) {
	// What a TLS handshake is judged by (hostTLS.handshake) must not
	// wait in the queue.
	h.sawResponse(at)
	p := &c.pending
	i := p.head.Load()
	s := &p.slots[i%pendingSlots]
	if s.seq.Load() != i || !p.head.CompareAndSwap(i, i+1) {
		// Another producer took i, or the ring is full.
		c.submitSlow(h, at, latency, wait, status, g)
		return
	}
	s.put(h, at, latency, wait, status, g)
	s.seq.Store(i + 1)
	if i%pendingBatch == pendingBatch-1 || at-p.drained.Load() > pendingAge {
		p.tryDrain()
	}
}

// submitSlow is Submit past a slot another producer took first: it claims
// the next free slot, or records the response at once when the ring is
// full.
//
//go:noinline
func (c *Client) submitSlow(h *Host, at, latency, wait int64, status int, g Got) {
	p := &c.pending
	for {
		i := p.head.Load()
		s := &p.slots[i%pendingSlots]
		if s.seq.Load() != i {
			if s.seq.Load() < i {
				// Full: the slot still holds a response of the
				// previous lap.
				h.record(&Response{Host: h, At: at, Latency: latency, Wait: wait, Status: status, Got: g}, at)
				p.tryDrain()
				return
			}
			continue // another producer took i: try the next one
		}
		if !p.head.CompareAndSwap(i, i+1) {
			continue
		}
		s.put(h, at, latency, wait, status, g)
		s.seq.Store(i + 1)
		if i%pendingBatch == pendingBatch-1 || at-p.drained.Load() > pendingAge {
			p.tryDrain()
		}
		return
	}
}

// tryDrain drains the queue unless another goroutine is at it.
func (p *pending) tryDrain() {
	if p.mu.TryLock() {
		p.drainLocked()
		p.mu.Unlock()
	}
}

// drain records every published response, in order, up to the first one
// still being written.
func (p *pending) drain() {
	p.mu.Lock()
	p.drainLocked()
	p.mu.Unlock()
}

func (p *pending) drainLocked() {
	now := Now()
	p.drained.Store(now)
	for {
		s := &p.slots[p.tail%pendingSlots]
		if s.seq.Load() != p.tail+1 {
			return
		}
		r := s.response()
		r.Host.record(&r, now)
		s.host = nil
		s.seq.Store(p.tail + pendingSlots)
		p.tail++
	}
}

// Flush records every response the tracer has handed over: readers of
// the statistics call it first (Fill does). A response whose producer is
// still writing its slot at that instant is recorded by the next Flush.
func (s *Stats) Flush() {
	for _, c := range s.allClients() {
		c.pending.drain()
	}
}
