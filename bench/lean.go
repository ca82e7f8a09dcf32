package bench

import (
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// Lean is the smallest tool that times the phases of every request with
// httptrace: one state per request holding its ClientTrace, five hooks
// (GetConn, GotConn, WroteHeaders, WroteRequest, GotFirstResponseByte)
// that store monotonic timestamps, and a few atomic additions into
// counters shared by all requests. It keeps no per-host state, no
// histogram and nothing of the connection, and does not see the body end:
// it is a floor, not a product.
type Lean struct {
	next http.RoundTripper
	// Totals over all requests.
	inFlight, requests, errors, reused atomic.Int64
	latencyNs, waitNs, ttfbNs          atomic.Int64
}

// NewLean returns a Lean in front of next.
func NewLean(next http.RoundTripper) *Lean { return &Lean{next: next} }

var leanBase = time.Now()

func leanNow() int64 { return int64(time.Since(leanBase)) }

type leanSpan struct {
	trace                                                   httptrace.ClientTrace
	l                                                       *Lean
	start, getConn, gotConn, wroteHeaders, wrote, firstByte atomic.Int64
}

// RoundTrip implements http.RoundTripper.
func (l *Lean) RoundTrip(req *http.Request) (*http.Response, error) {
	s := &leanSpan{l: l}
	s.start.Store(leanNow())
	s.trace = httptrace.ClientTrace{
		GetConn:              s.onGetConn,
		GotConn:              s.onGotConn,
		WroteHeaders:         s.onWroteHeaders,
		WroteRequest:         s.onWroteRequest,
		GotFirstResponseByte: s.onFirstByte,
	}
	l.inFlight.Add(1)
	resp, err := l.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), &s.trace)))
	now := leanNow()
	l.inFlight.Add(-1)
	l.requests.Add(1)
	if err != nil {
		l.errors.Add(1)
		return resp, err
	}
	l.latencyNs.Add(now - s.start.Load())
	if f, w := s.firstByte.Load(), s.wrote.Load(); f > 0 && w > 0 {
		l.ttfbNs.Add(f - w)
	}
	return resp, err
}

func (s *leanSpan) onGetConn(string) { s.getConn.Store(leanNow()) }

func (s *leanSpan) onGotConn(info httptrace.GotConnInfo) {
	now := leanNow()
	s.gotConn.Store(now)
	s.l.waitNs.Add(now - s.getConn.Load())
	if info.Reused {
		s.l.reused.Add(1)
	}
}

func (s *leanSpan) onWroteHeaders() { s.wroteHeaders.Store(leanNow()) }

func (s *leanSpan) onWroteRequest(httptrace.WroteRequestInfo) { s.wrote.Store(leanNow()) }

func (s *leanSpan) onFirstByte() { s.firstByte.Store(leanNow()) }

// withContext is the floor of any RoundTripper that traces requests with
// httptrace: it sends a copy of each request with its context
// (Request.WithContext), which a RoundTripper must make to put a trace on
// a request it may not modify, and does nothing else. (go-httpstat is not
// a RoundTripper: the program puts its trace on the request's context
// when it makes the request, and pays no copy.)
type withContext struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (w withContext) RoundTrip(req *http.Request) (*http.Response, error) {
	return w.next.RoundTrip(req.WithContext(req.Context()))
}
