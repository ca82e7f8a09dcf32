package poolstats

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"

	"github.com/httptop/httptop/internal/units"
	"github.com/httptop/httptop/snapshot"
	"github.com/httptop/httptop/tlsstats"
)

// no_tls_resumption thresholds, over the histogram window (5 to 10 s).
//
// A full handshake counts against the host when its connection was opened
// after a response had come from the host: by then the client had
// processed the session ticket a TLS 1.3 server sends right after its
// handshake (the ticket precedes the response on the connection), so a
// client with a session cache would have resumed. Connections dialed
// together in a burst, before any response, could not have.
//
// Measured with a bare http.Transport against a TLS 1.3 fixture server
// that issues tickets (probe's TestNoTLSResumption runs the same
// workloads through the probe): without a ClientSessionCache, batches of
// 50 against an idle pool of 2 make 206 full handshakes in 250 requests,
// none resumed, and a client without keep-alives one full handshake per
// request; with a cache, the same workloads resume 191 of 241 and 49 of
// 50 handshakes (a batch's connections dialed before any ticket existed
// are full). A burst of 100 connections dialed at once makes 100 full
// handshakes, cache or not; a keep-alive pool of 8 for 8 workers, 8–10 in
// 400 requests (18 under heavy CPU load). With the server's tickets off,
// nothing resumes, cache or not.
const (
	// noResumeMinFull is how many such avoidable full handshakes the
	// window must hold: one new connection per second is too few to
	// matter.
	noResumeMinFull = 10
	// noResumeMinFraction is how large a part of the recent requests
	// must have paid such a handshake: a keep-alive pool that dials a
	// few extra connections under load (10 in 400 requests) is healthy.
	noResumeMinFraction = 0.1
	// noResumeMaxResumed is the largest fraction of the window's
	// handshakes after the first response that may resume for the
	// diagnosis to fire: a client whose cache works resumes nearly all.
	noResumeMaxResumed = 0.5
)

// connTLS is what a connection's record keeps of its TLS session.
type connTLS struct {
	session atomic.Pointer[tlsstats.Session]
	mem     atomic.Pointer[MemReading]
}

// MemReading is a connection's memory as last measured, with what it
// depends on: a connection's buffers grow only when bytes flow, so while
// those counts and the session stay the same, the reading holds.
type MemReading struct {
	BytesIn, BytesOut int64
	Session           *tlsstats.Session
	Mem               tlsstats.Memory
	// TLS is the snapshot row's tls made from this reading (nil for a
	// connection without a session), shared by the snapshots taken while
	// the reading holds: no one changes a snapshot's TLS once made, and
	// 10,000 idle connections then cost no allocation per snapshot.
	TLS *snapshot.TLS
}

// MemReading returns the connection's last memory reading; nil before
// the first.
func (c *Conn) MemReading() *MemReading { return c.tls.mem.Load() }

// SetMemReading records the connection's memory reading.
func (c *Conn) SetMemReading(r *MemReading) { c.tls.mem.Store(r) }

// TLSSession returns what the connection's TLS handshake settled, read
// when a request first used the connection; nil for a plain-text
// connection or one no request has used yet.
func (c *Conn) TLSSession() *tlsstats.Session { return c.tls.session.Load() }

// noteTLS reads the TLS session of a connection a request just used for
// the first time, at now, and counts its handshake for the connection's
// host. Handshakes happen once per connection, so they are counted here
// rather than per request or per snapshot.
func (c *Conn) noteTLS(now int64, tc *tls.Conn) {
	s, ok := tlsstats.ReadSession(tc)
	if !ok {
		return
	}
	c.tls.session.Store(&s)
	h := c.host.Load()
	h.tls.handshake(now, h.firstResponse.Load(), c, &s)
}

// Limits returns the client's transport settings as of now (see
// SetLimits); the zero Limits when they are not known.
func (c *Client) Limits() Limits { return c.currentLimits() }

// hostTLS counts one host's TLS handshakes.
type hostTLS struct {
	// Totals since the host was first seen.
	full, resumed atomic.Int64
	// cache is the tlsstats.Cache of the latest handshake's client.
	cache atomic.Uint32
	// times holds handshake durations; recent counts handshakes over the
	// same windows.
	times  dist
	recent [2]tlsWindow
}

// tlsWindow counts the handshakes of one histogram window.
type tlsWindow struct {
	epoch atomic.Int64
	// full and resumed count handshakes; avoidable counts the full ones
	// on connections opened after the host's first response.
	full, resumed, avoidable atomic.Int64
}

func (w *tlsWindow) clear() {
	w.full.Store(0)
	w.resumed.Store(0)
	w.avoidable.Store(0)
}

// handshake records the handshake of connection c, first used at now;
// first is when the host's first response arrived (Host.firstResponse).
func (t *hostTLS) handshake(now, first int64, c *Conn, s *tlsstats.Session) {
	avoidable := !s.Resumed && first != 0 && c.created > first
	t.cache.Store(uint32(s.SessionCache))
	e := now / windowPeriod
	w := &t.recent[e&1]
	if w.epoch.Load() != e {
		advance(&w.epoch, e, w.clear)
	}
	if s.Resumed {
		t.resumed.Add(1)
		w.resumed.Add(1)
	} else {
		t.full.Add(1)
		w.full.Add(1)
		if avoidable {
			w.avoidable.Add(1)
		}
	}
	if d := c.HandshakeNs(); d > 0 {
		t.times.observe(now, d)
	}
}

// window sums the counts of the live windows at now (see dist.live).
func (t *hostTLS) window(now int64) (full, resumed, avoidable int64) {
	e := now / windowPeriod
	for _, ep := range [2]int64{e, e - 1} {
		if w := &t.recent[ep&1]; w.epoch.Load() == ep {
			full += w.full.Load()
			resumed += w.resumed.Load()
			avoidable += w.avoidable.Load()
		}
	}
	return full, resumed, avoidable
}

// fill writes the host's handshake counts and times into hs; when lean,
// the times only if there were enough full handshakes for diagnose to
// read them.
func (t *hostTLS) fill(hs *snapshot.Host, now int64, lean bool) {
	hs.TLSFullHandshakes = t.full.Load()
	hs.TLSResumedHandshakes = t.resumed.Load()
	if hs.TLSFullHandshakes+hs.TLSResumedHandshakes > 0 && (!lean || hs.TLSFullHandshakes >= noResumeMinFull) {
		hs.TLSHandshake = t.times.percentiles(now)
	}
}

// diagnose appends to ds a no_tls_resumption diagnosis when the host's new
// connections keep doing full handshakes that a session could have
// resumed. hs is the host's snapshot row, filled in.
func (t *hostTLS) diagnose(ds []snapshot.Diagnosis, hs *snapshot.Host, now int64) []snapshot.Diagnosis {
	if hs.TLSFullHandshakes < noResumeMinFull {
		return ds
	}
	full, resumed, avoidable := t.window(now)
	secs := windowSeconds(now)
	// Requests over the rate window (up to 10 s), close enough to this
	// one (5 to 10 s).
	requests := hs.RPS * hs.RateWindowSeconds
	if avoidable < noResumeMinFull || float64(avoidable) < noResumeMinFraction*requests ||
		float64(resumed) > noResumeMaxResumed*float64(resumed+avoidable) {
		return ds
	}
	cache := tlsstats.Cache(t.cache.Load())
	p50 := hs.TLSHandshake.P50
	took := ""
	if p50 > 0 {
		took = " (p50 " + units.Ms(p50) + " each)"
	}
	d := snapshot.Diagnosis{
		Kind:     snapshot.KindNoTLSResumption,
		Client:   hs.Client,
		Host:     hs.Host,
		Severity: snapshot.SeverityWarning,
		Summary: fmt.Sprintf("%d new TLS connections in the last %.0f s did a full handshake%s although the host had answered before they were opened, so a session could have been resumed; %d resumed",
			avoidable, secs, took, resumed),
		Evidence: map[string]float64{
			"full_handshakes":           float64(full),
			"avoidable_full_handshakes": float64(avoidable),
			"resumed_handshakes":        float64(resumed),
			"full_handshakes_per_s":     round1(float64(full) / secs),
			"avoidable_per_request":     round3(float64(avoidable) / max(requests, 1)),
			"handshake_p50_ms":          round1(hs.TLSHandshake.P50),
			"handshake_p95_ms":          round1(hs.TLSHandshake.P95),
			"session_cache":             cacheEvidence(cache),
		},
	}
	const keep = " Needing fewer new connections helps either way: keep them alive (Transport.MaxIdleConnsPerHost at least the peak concurrency to this host)."
	switch cache {
	case tlsstats.CacheSet:
		d.Advice = "The client has a tls.Config.ClientSessionCache, yet the server does not resume its sessions: check that it issues session tickets " +
			"(and, behind a load balancer, that its instances share ticket keys), and that the cache holds enough sessions for every host the client talks to " +
			"(the capacity given to tls.NewLRUClientSessionCache)." + keep
	default:
		d.Advice = "Give the transport a TLS session cache so that new connections resume instead of verifying the certificate chain again: " +
			"Transport.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(n), with n at least the number of hosts the client talks to " +
			"(64 if unsure). Resumption needs the server to issue session tickets." + keep
	}
	return append(ds, d)
}

// cacheEvidence encodes a tlsstats.Cache as a diagnosis figure: 1 set, 0
// none, -1 unknown.
func cacheEvidence(c tlsstats.Cache) float64 {
	switch c {
	case tlsstats.CacheSet:
		return 1
	case tlsstats.CacheNone:
		return 0
	}
	return -1
}
