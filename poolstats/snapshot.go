package poolstats

import (
	"cmp"
	"slices"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// Inspector fills in what poolstats cannot know about a connection: the
// memory it holds (MemBytes, MemEstimated) and its TLS session (TLS). It is
// called once per open connection per snapshot.
type Inspector func(c *Conn, out *snapshot.Conn)

// closedShown is how long a closed connection keeps appearing in snapshots.
const closedShown = int64(10e9)

// Fill writes the hosts, connections and diagnoses of every client into
// snap, as of now (monotonic ns, see Now). It is the only place percentiles,
// rates and diagnoses are computed. Hosts come sorted by client and host,
// each host's connections by id (recently closed ones included), so that
// nothing large needs sorting afterwards.
func (s *Stats) Fill(snap *snapshot.Snapshot, now int64) {
	s.Flush()
	leaks := s.leaks(now)
	closed := make(map[*Host][]*Conn)
	for _, c := range s.recentlyClosed() {
		if now-c.closedAt.Load() <= closedShown {
			closed[c.host.Load()] = append(closed[c.host.Load()], c)
		}
	}
	clients := s.allClients()
	slices.SortFunc(clients, func(a, b *Client) int { return cmp.Compare(a.name, b.name) })
	type hostConns struct {
		h      *Host
		conns  []*Conn
		limits Limits
	}
	var all []hostConns
	total := 0
	for _, c := range clients {
		limits := c.currentLimits()
		for _, h := range c.allHosts() {
			conns := h.openConns(nil)
			if cl := closed[h]; len(cl) > 0 {
				conns = append(conns, cl...)
				slices.SortFunc(conns, func(a, b *Conn) int { return cmp.Compare(a.id, b.id) })
			}
			all = append(all, hostConns{h, conns, limits})
			total += len(conns)
		}
	}
	snap.Hosts = slices.Grow(snap.Hosts, len(all))
	snap.Conns = slices.Grow(snap.Conns, total)
	forget := make(map[*Client]map[*Host]bool)
	for _, hc := range all {
		h := hc.h
		hs, diags := s.hostRow(h, hc.conns, now, hc.limits, leaks[h], false, func() *snapshot.Conn {
			snap.Conns = append(snap.Conns, snapshot.Conn{})
			return &snap.Conns[len(snap.Conns)-1]
		}, snap.Diagnoses)
		hs.Series = h.secs.points(now, h.created)
		snap.Hosts = append(snap.Hosts, hs)
		snap.Diagnoses = diags
		if s.forgettable(h, &hs, now) {
			if forget[h.client] == nil {
				forget[h.client] = make(map[*Host]bool)
			}
			forget[h.client][h] = true
		}
	}
	for c, hosts := range forget {
		s.hostCount.Add(-int64(c.forget(hosts)))
	}
	slices.SortStableFunc(snap.Diagnoses, func(a, b snapshot.Diagnosis) int {
		return cmp.Compare(b.Severity.Rank(), a.Severity.Rank())
	})
}

// hostRow computes host h's snapshot row, all but its time series, from
// its connections conns (open and recently closed) as of now, and appends
// its diagnoses to diags. Each connection is written into the zero row
// that next returns. A lean row computes only the percentiles a diagnosis
// may read: latency and connection wait when the pool is at its limit,
// TLS handshakes when there were enough full ones, dials never.
func (s *Stats) hostRow(h *Host, conns []*Conn, now int64, limits Limits, leak *leakReport, lean bool,
	next func() *snapshot.Conn, diags []snapshot.Diagnosis) (snapshot.Host, []snapshot.Diagnosis) {
	s.expireInferred(conns, now, limits)
	recent := h.secs.recent(now, h.created)
	hs := s.hostSnapshot(h, now, recent, limits, leak, lean)
	for _, conn := range conns {
		cs := next()
		s.connSnapshot(conn, now, limits, cs)
		if cs.State == snapshot.ConnClosed {
			continue
		}
		hs.Open++
		switch cs.State {
		case snapshot.ConnActive:
			hs.Active++
		case snapshot.ConnHandshaking:
			hs.Handshaking++
		}
		if cs.DialOnly {
			hs.DialOnlyConns++
		}
		hs.MemBytes += cs.MemBytes
		if cs.TLS != nil {
			hs.TLSMemBytes += cs.TLS.MemBytes
		}
	}
	hs.Idle = hs.Open - hs.Active - hs.Handshaking
	if lean && limits.Known && limits.MaxConnsPerHost > 0 && hs.Open >= limits.MaxConnsPerHost {
		hs.Latency = h.latency.percentiles(now)
		hs.ConnWait = h.wait.percentiles(now)
	}
	if hs.DialOnly {
		// Nothing about its requests is known: no diagnosis can be
		// drawn from the zeros that stand for them.
		return hs, diags
	}
	view := hostView{hs: &hs, recent: recent, limits: limits, leak: leak}
	diags = append(diags, diagnose(view, &s.sites)...)
	diags = h.tls.diagnose(diags, &hs, now)
	return hs, diags
}

func (s *Stats) hostSnapshot(h *Host, now int64, r sums, limits Limits, leak *leakReport, lean bool) snapshot.Host {
	hs := snapshot.Host{
		Client:              h.client.name,
		Scheme:              h.scheme,
		Host:                h.name,
		Waiting:             int(max(h.waiting.Load(), 0)),
		Dialing:             int(max(h.dialing.Load(), 0)),
		InFlight:            int(max(h.inFlight.Load(), 0)),
		Requests:            h.requests.Load(),
		Errors:              h.errors.Load(),
		NewConns:            h.newConns.Load(),
		ReusedConns:         h.reused.Load(),
		ClosedConns:         h.closed.Load(),
		Status5xx:           h.status5xx.Load(),
		UndrainedBodies:     h.undrained.Load(),
		RPS:                 r.per(cRequests),
		ErrorsPerSecond:     r.per(cErrors),
		NewConnsPerSecond:   r.per(cNew),
		ReusedFraction:      r.reusedFraction(),
		RateWindowSeconds:   r.seconds,
		AvgWaiting:          r.per(cWaitUs) / 1e6,
		WindowSeconds:       windowSeconds(now),
		PeakInFlight:        int(h.latency.peak(now)),
		MaxConnsPerHost:     limits.MaxConnsPerHost,
		MaxIdleConnsPerHost: limits.MaxIdleConnsPerHost,
		LimitsKnown:         limits.Known,
		DialOnly:            h.client.untraced,
		RequestsStarted:     h.started.Load(),
		StartsPerSecond:     r.per(cStarted),
	}
	if !lean {
		hs.Latency = h.latency.percentiles(now)
		hs.ConnWait = h.wait.percentiles(now)
		hs.Dial = h.dial.percentiles(now)
	}
	h.tls.fill(&hs, now, lean)
	for i := range h.errClass {
		if n := h.errClass[i].Load(); n > 0 {
			if hs.ErrorClasses == nil {
				hs.ErrorClasses = make(map[string]int64)
			}
			hs.ErrorClasses[ErrorClass(i).String()] = n
		}
	}
	if leak != nil {
		hs.LeakedBodies = leak.count
	}
	return hs
}

// connSnapshot fills cs, a zero row, with connection c as of now; limits
// are its client's.
func (s *Stats) connSnapshot(c *Conn, now int64, limits Limits, cs *snapshot.Conn) {
	st := c.state.Load()
	h := c.host.Load()
	cs.ID = c.id
	cs.Client = h.client.name
	cs.Host = h.name
	cs.Requests = c.requests.Load()
	cs.MaxStreams = int(c.maxStreams.Load())
	cs.BytesIn = c.in.Load()
	cs.BytesOut = c.out.Load()
	cs.DialMs = float64(c.dialNs) / 1e6
	cs.LocalAddr = c.local
	cs.RemoteAddr = c.remote
	cs.Inferred = c.inferred
	cs.DialOnly = c.DialOnly()
	end := now
	switch {
	case st&closedBit != 0:
		cs.State = snapshot.ConnClosed
		end = c.closedAt.Load()
	case st&countMask > 0:
		cs.State = snapshot.ConnActive
	case c.handshaking(now, limits):
		cs.State = snapshot.ConnHandshaking
	case cs.DialOnly && c.busyByTraffic(now):
		cs.State = snapshot.ConnActive
	default:
		cs.State = snapshot.ConnIdle
		last := c.lastDone.Load()
		if cs.DialOnly {
			last = max(c.lastRead.Load(), c.lastWrite.Load())
		}
		if last != 0 {
			cs.IdleSeconds = float64(max(now-last, 0)) / 1e9
		}
	}
	// A connection dialed, or a request finished, while the snapshot was
	// being taken is younger than now: its age and idle time are 0.
	cs.AgeSeconds = float64(max(end-c.created, 0)) / 1e9
	switch c.proto.Load() {
	case protoHTTP1:
		cs.Proto = "http/1.1"
	case protoHTTP2:
		cs.Proto = "h2"
		if st&closedBit == 0 {
			cs.Streams = int(st & countMask)
		}
	}
	switch {
	case st&closedBit != 0:
		// A closed connection holds no memory, but what its handshake
		// settled still tells (version, resumed, handshake time).
		if sess := c.TLSSession(); sess != nil {
			cs.TLS = sess.Snapshot(time.Duration(c.HandshakeNs()), 0)
		}
	case s.opts.Inspect != nil:
		s.opts.Inspect(c, cs)
	}
}

// expireInferred presumes closed the inferred connections that have gone
// unused for longer than the transport keeps idle connections: their close
// cannot be observed.
func (s *Stats) expireInferred(conns []*Conn, now int64, limits Limits) {
	timeout := int64(limits.IdleConnTimeout)
	if timeout <= 0 {
		timeout = int64(inferredIdleDefault)
	}
	for _, c := range conns {
		if !c.inferred || c.InFlight() > 0 {
			continue
		}
		last := c.lastDone.Load()
		if last == 0 {
			last = c.created
		}
		if now-last > timeout {
			c.Close(now)
		}
	}
}

// forgettable reports whether a host has been idle long enough to drop.
func (s *Stats) forgettable(h *Host, hs *snapshot.Host, now int64) bool {
	if hs.Open > 0 || hs.InFlight > 0 || hs.Waiting > 0 || hs.Dialing > 0 {
		return false
	}
	last := max(h.secs.lastActive()*1e9, h.created)
	return now-last > int64(s.opts.ForgetAfter)
}
