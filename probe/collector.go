package probe

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/httptop/httptop/poolstats"
	"github.com/httptop/httptop/snapshot"
)

// DefaultLeakAfter is how long a response body may stay open and unread
// before it counts as leaked, unless WithLeakAfter or
// CollectorOptions.LeakAfter say otherwise.
const DefaultLeakAfter = poolstats.DefaultLeakAfter

// Snapshot is the state of a program's instrumented HTTP clients at one
// instant: snapshot v1, whose JSON encoding is the wire format of the agent.
type Snapshot = snapshot.Snapshot

// Collector gathers the statistics of every client wrapped with it. Its
// methods are safe for concurrent use. Recording costs the clients a few
// atomic operations per request; everything else (percentiles, rates,
// diagnoses) is computed by Snapshot.
type Collector struct {
	stats *poolstats.Stats

	panics    atomic.Int64
	lastPanic atomic.Pointer[string]
}

// CollectorOptions configure a Collector. The zero value is ready to use.
type CollectorOptions struct {
	// LeakAfter is the default age after which an open, unread response
	// body counts as leaked (30 s when zero); WithLeakAfter overrides it
	// per client.
	LeakAfter time.Duration
	// MaxHosts caps the hosts tracked; further hosts share one overflow
	// row per client (4096 when zero).
	MaxHosts int
}

// NewCollector returns an empty Collector.
func NewCollector(opts CollectorOptions) *Collector {
	return &Collector{stats: poolstats.New(poolstats.Options{
		LeakAfter: opts.LeakAfter,
		MaxHosts:  opts.MaxHosts,
		Inspect:   connInspector,
	})}
}

var defaultCollector = sync.OnceValue(func() *Collector { return NewCollector(CollectorOptions{}) })

// Default returns the Collector that Wrap records into unless told
// otherwise, and that the agent serves.
func Default() *Collector { return defaultCollector() }

// Snapshot returns the current state of every client of the collector:
// hosts, connections and diagnoses. Its Process field is nil; the agent
// fills it in. A connection's TLS details (Conns[i].TLS) are shared with
// the later snapshots taken while no byte flows on it: read them, do not
// change them.
func (c *Collector) Snapshot() Snapshot {
	return c.snapshotAt(poolstats.Now())
}

// snapshotAt takes a snapshot as of the monotonic time now, which tests set
// ahead to see what time will do.
func (c *Collector) snapshotAt(now int64) Snapshot {
	var s Snapshot
	c.snapshotInto(&s, now)
	return s
}

// SnapshotInto takes a snapshot into s, as Snapshot does, reusing the
// storage of s.Conns: the agent keeps one Snapshot across the snapshots it
// serves, as a table of 10,000 connections is megabytes that a fresh
// allocation must fault in every time. Whatever s held is replaced.
func (c *Collector) SnapshotInto(s *Snapshot) {
	c.snapshotInto(s, poolstats.Now())
}

// snapshotInto is SnapshotInto as of the monotonic time now.
func (c *Collector) snapshotInto(s *Snapshot, now int64) {
	*s = Snapshot{
		Version:   snapshot.Version,
		Time:      time.Now(),
		PID:       os.Getpid(),
		Program:   filepath.Base(os.Args[0]),
		Hosts:     []snapshot.Host{},
		Conns:     s.Conns[:0],
		Diagnoses: []snapshot.Diagnosis{},
	}
	if s.Conns == nil {
		s.Conns = []snapshot.Conn{}
	}
	c.stats.Fill(s, now)
	if n := c.panics.Load(); n > 0 {
		s.ProbeErrors = n
		s.LastProbeError = *c.lastPanic.Load()
	}
}

// recordPanic keeps count of panics the probe recovered from in its own
// code, so that a snapshot can tell; the program never sees them.
func (c *Collector) recordPanic(r any) {
	msg := fmt.Sprint(r)
	c.lastPanic.Store(&msg)
	c.panics.Add(1)
}
