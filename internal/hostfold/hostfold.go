// Package hostfold bounds the number of hosts a metrics exporter reports:
// past a limit, hosts are folded into one row per client named Other,
// whose counters and histograms never go down, whichever hosts come and go.
//
// Which hosts keep a row of their own is decided once per host: the first
// hosts seen, up to the limit, in the order of the first reading (sorted
// by client and host) and then as they appear. A host folded into Other
// stays there, even when the hosts before it are dropped: moving it out
// would take its counts out of Other's counters. A slot freed by a host
// that is dropped goes to the next new host.
//
// Folding is per client, and the Other row of a client whose hosts are
// dial only (probe.UnwrappedClient, see probe.HostMetrics.DialOnly) is
// dial only too: it is the sum of hosts whose requests nobody sees.
package hostfold

import (
	"sync"

	"github.com/httptop/httptop/probe"
)

// Other is the Host of the row that holds the folded hosts of a client;
// its Scheme is empty.
const Other = "other"

// DefaultMaxHosts is the number of hosts given a row of their own when the
// limit passed to New is 0 or less.
const DefaultMaxHosts = 100

// Folder remembers which hosts have a row of their own and what the
// folded hosts that were dropped had counted. Its methods are safe for
// concurrent use.
type Folder struct {
	max int

	mu sync.Mutex
	// own holds the IDs of the hosts with a row of their own.
	own map[uint64]bool
	// folded holds the last reading of each folded host still present.
	folded map[uint64]*probe.HostMetrics
	// retired sums, per client, the last readings of folded hosts that
	// were dropped.
	retired map[string]*probe.HostMetrics
	// seen marks the IDs present in the current reading.
	seen map[uint64]bool
}

// New returns a Folder that gives a row of their own to at most maxHosts
// hosts (DefaultMaxHosts when maxHosts is 0 or less).
func New(maxHosts int) *Folder {
	if maxHosts <= 0 {
		maxHosts = DefaultMaxHosts
	}
	return &Folder{
		max:     maxHosts,
		own:     make(map[uint64]bool),
		folded:  make(map[uint64]*probe.HostMetrics),
		retired: make(map[string]*probe.HostMetrics),
		seen:    make(map[uint64]bool),
	}
}

// Max returns the number of hosts given a row of their own.
func (f *Folder) Max() int { return f.max }

// Fold returns the rows to report for a reading of every host (from
// probe.Collector.ReadMetrics, in its order): the hosts with a row of
// their own as they are, in place, followed by one Other row for each
// client with folded hosts, present or dropped. It reorders and
// overwrites hosts. The collector's own overflow host (hosts past its
// MaxHosts) is always folded.
func (f *Folder) Fold(hosts []probe.HostMetrics) []probe.HostMetrics {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.seen)
	for i := range hosts {
		f.seen[hosts[i].ID] = true
	}
	for id := range f.own {
		if !f.seen[id] {
			delete(f.own, id)
		}
	}
	for id, last := range f.folded {
		if !f.seen[id] {
			add(f.retiredFor(last.Client), last)
			delete(f.folded, id)
		}
	}
	// Rows of their own first, in order; folded hosts are remembered
	// and summed per client.
	others := make(map[string]*probe.HostMetrics)
	var order []string
	n := 0
	for i := range hosts {
		h := &hosts[i]
		if f.keep(h) {
			hosts[n], hosts[i] = hosts[i], hosts[n]
			n++
			continue
		}
		last := f.folded[h.ID]
		if last == nil {
			last = new(probe.HostMetrics)
			f.folded[h.ID] = last
		}
		copyReading(last, h)
		o := others[h.Client]
		if o == nil {
			o = newOther(h.Client)
			others[h.Client] = o
			order = append(order, h.Client)
		}
		add(o, h)
	}
	for client, r := range f.retired {
		o := others[client]
		if o == nil {
			o = newOther(client)
			others[client] = o
			order = append(order, client)
		}
		addCounts(o, r)
	}
	out := hosts[:n]
	for _, client := range order {
		out = append(out, *others[client])
	}
	return out
}

// keep reports whether host h has, or now gets, a row of its own.
func (f *Folder) keep(h *probe.HostMetrics) bool {
	if f.own[h.ID] {
		return true
	}
	if f.folded[h.ID] != nil || h.Host == probe.OverflowHost || len(f.own) >= f.max {
		return false
	}
	f.own[h.ID] = true
	return true
}

func (f *Folder) retiredFor(client string) *probe.HostMetrics {
	r := f.retired[client]
	if r == nil {
		r = newOther(client)
		f.retired[client] = r
	}
	return r
}

// newOther returns an empty Other row of client, dial only until a host
// that is not is added to it (see addCounts).
func newOther(client string) *probe.HostMetrics {
	return &probe.HostMetrics{Client: client, Host: Other, DialOnly: true}
}

// copyReading makes dst a copy of src that shares no storage with it.
func copyReading(dst, src *probe.HostMetrics) {
	lat, wait, dur := dst.Latency.Counts[:0], dst.ConnWait.Counts[:0], dst.ConnDuration.Counts[:0]
	*dst = *src
	dst.Diagnoses = nil
	dst.Latency.Counts = append(lat, src.Latency.Counts...)
	dst.ConnWait.Counts = append(wait, src.ConnWait.Counts...)
	dst.ConnDuration.Counts = append(dur, src.ConnDuration.Counts...)
}

// add adds host h's gauges, counters, histograms and diagnoses to o.
func add(o, h *probe.HostMetrics) {
	o.Open += h.Open
	o.Active += h.Active
	o.Idle += h.Idle
	o.Handshaking += h.Handshaking
	o.Waiting += h.Waiting
	o.Dialing += h.Dialing
	o.InFlight += h.InFlight
	o.LeakedBodies += h.LeakedBodies
	o.MemBytes += h.MemBytes
	o.TLSMemBytes += h.TLSMemBytes
	if o.Created.IsZero() || h.Created.Before(o.Created) {
		o.Created = h.Created
	}
	addCounts(o, h)
	for _, d := range h.Diagnoses {
		addDiagnosis(o, d)
	}
}

// addCounts adds host h's counters and histograms to o, which stays dial
// only while every host added to it is. Only the Unwrapped client's hosts
// are dial only, so the Other row of a client is dial only when all its
// hosts are; should a program name a client of its own like the Unwrapped
// one, the two are folded together and their row is not dial only (its
// request figures are then those of the traced hosts).
func addCounts(o, h *probe.HostMetrics) {
	o.DialOnly = o.DialOnly && h.DialOnly
	o.RequestsStarted += h.RequestsStarted
	o.Requests += h.Requests
	o.Errors += h.Errors
	for i := range o.ErrorClasses {
		o.ErrorClasses[i] += h.ErrorClasses[i]
	}
	o.NewConns += h.NewConns
	o.ReusedConns += h.ReusedConns
	o.ClosedConns += h.ClosedConns
	o.Status5xx += h.Status5xx
	o.TLSFullHandshakes += h.TLSFullHandshakes
	o.TLSResumedHandshakes += h.TLSResumedHandshakes
	o.UndrainedBodies += h.UndrainedBodies
	addHistogram(&o.Latency, &h.Latency)
	addHistogram(&o.ConnWait, &h.ConnWait)
	addHistogram(&o.ConnDuration, &h.ConnDuration)
}

// addDiagnosis adds d to o's diagnoses, keeping one per kind at the
// highest severity.
func addDiagnosis(o *probe.HostMetrics, d probe.ActiveDiagnosis) {
	for i := range o.Diagnoses {
		if o.Diagnoses[i].Kind == d.Kind {
			if d.Severity.Rank() > o.Diagnoses[i].Severity.Rank() {
				o.Diagnoses[i].Severity = d.Severity
			}
			return
		}
	}
	o.Diagnoses = append(o.Diagnoses, d)
}

// addHistogram adds h to o, widening o's bucket range as needed.
func addHistogram(o, h *probe.Histogram) {
	o.Count += h.Count
	o.Sum += h.Sum
	o.ZeroCount += h.ZeroCount
	if len(h.Counts) == 0 {
		return
	}
	if len(o.Counts) == 0 {
		o.Offset = h.Offset
		o.Counts = append(o.Counts[:0], h.Counts...)
		return
	}
	lo := min(o.Offset, h.Offset)
	hi := max(o.Offset+int32(len(o.Counts)), h.Offset+int32(len(h.Counts)))
	if lo != o.Offset || hi != o.Offset+int32(len(o.Counts)) {
		wide := make([]uint64, hi-lo)
		copy(wide[o.Offset-lo:], o.Counts)
		o.Offset, o.Counts = lo, wide
	}
	for k, c := range h.Counts {
		o.Counts[h.Offset-o.Offset+int32(k)] += c
	}
}
