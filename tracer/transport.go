package tracer

import (
	"net/http"
)

// Transport is the RoundTripper the probe puts in front of another: every
// request goes through Tracer.RoundTrip to Next. Package probe wraps it in
// a named type (see probe.Wrap).
type Transport struct {
	Next   http.RoundTripper
	Tracer *Tracer
}

// RoundTrip implements http.RoundTripper (see Tracer.RoundTrip). It is
// the whole of the round trip's own code, begin and end apart: every
// function a request runs through costs it instruction-cache misses.
func (t *Transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	tr, next := t.Tracer, t.Next
	var s *Span
	stage := stageBegin
	// One deferred call guards begin and end, and sees next panic.
	defer func() {
		switch stage {
		case stageDone, stagePlain:
		case stageNext:
			// next panicked: let the panic go on (this function does
			// not recover it), but leave the statistics as if the
			// request failed.
			tr.abandon(s)
		default:
			// The probe's own code panicked: that must not reach the
			// program. If begin did, send the request untraced.
			if r := recover(); r != nil {
				tr.panicked(r)
				if stage == stageBegin {
					resp, err = next.RoundTrip(req)
				}
			}
		}
	}()
	s, sent := tr.begin(req)
	if s == nil {
		stage = stagePlain
		return next.RoundTrip(req)
	}
	stage = stageNext
	resp, err = next.RoundTrip(sent)
	stage = stageEnd
	tr.end(s, req, sent, resp, err)
	stage = stageDone
	return resp, err
}

// CloseIdleConnections closes the idle connections of Next, if it can;
// http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	if ci, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
