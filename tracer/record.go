package tracer

import (
	"time"

	"github.com/httptop/httptop/poolstats"
)

// Outcome is how a request ended.
type Outcome uint8

// Outcomes.
const (
	// OutcomeFailed: RoundTrip returned an error.
	OutcomeFailed Outcome = iota
	// OutcomeNoBody: the response had no body to read.
	OutcomeNoBody
	// OutcomeEOF: the body was read to EOF.
	OutcomeEOF
	// OutcomeClosedEarly: the body was closed before EOF.
	OutcomeClosedEarly
	// OutcomeBodyFailed: reading the body failed.
	OutcomeBodyFailed
)

var outcomeNames = [...]string{"failed", "no_body", "eof", "closed_early", "body_failed"}

// String returns the outcome's name.
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Record is the span of one finished request: its phases and how it ended.
// A phase that did not happen is 0.
type Record struct {
	Scheme, Host string
	// Start is when RoundTrip began (monotonic ns, see poolstats.Now).
	Start int64
	// Wait is the time spent waiting for a connection (GetConn to
	// GotConn), summed over retries.
	Wait time.Duration
	// DNS, Connect (TCP) and Handshake (TLS) are the setup times of the
	// connection, when the request got a new connection dialed by a
	// tracked transport.
	DNS, Connect, Handshake time.Duration
	// Write is GotConn to WroteRequest, TTFB WroteRequest to the first
	// response byte, Headers RoundTrip start to response headers, Body
	// response headers to the body's EOF or Close, Total start to end.
	Write, TTFB, Headers, Body, Total time.Duration
	// Reused reports whether the connection came from the pool; IdleTime
	// is how long it sat there.
	Reused   bool
	IdleTime time.Duration
	ConnID   uint64
	Status   int
	// ProtoMajor is 1 or 2, 0 without a response.
	ProtoMajor int
	Outcome    Outcome
	// Err is the error RoundTrip or the body's Read returned, and Class
	// its class.
	Err   error
	Class poolstats.ErrorClass
}

// record builds the span's Record at its finish.
func (s *Span) record(now int64, outcome Outcome, c *poolstats.Conn) Record {
	r := Record{
		Scheme:     s.st.host.Scheme(),
		Host:       s.st.host.Name(),
		Start:      s.st.start,
		Wait:       time.Duration(s.ph.waitNs.Load()),
		Reused:     s.ph.reused.Load(),
		IdleTime:   time.Duration(s.ph.idleNs.Load()),
		ConnID:     s.ph.connID.Load(),
		Status:     s.ph.status,
		ProtoMajor: s.ph.protoMajor,
		Outcome:    outcome,
		Err:        s.ph.err,
		Class:      s.ph.class,
		Total:      between(s.st.start, now),
	}
	got, wrote, first := s.ph.gotConnAt.Load(), s.ph.wroteAt.Load(), s.ph.firstByteAt.Load()
	r.Write = between(got, wrote)
	r.TTFB = between(wrote, first)
	if s.ph.respondAt != 0 {
		r.Headers = between(s.st.start, s.ph.respondAt)
		r.Body = between(s.ph.respondAt, now)
	}
	if !r.Reused && c != nil {
		r.DNS, r.Connect, r.Handshake = c.Timing()
	}
	return r
}
