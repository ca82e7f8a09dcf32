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

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.Tracer.RoundTrip(t.Next, req)
}

// CloseIdleConnections closes the idle connections of Next, if it can;
// http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	if ci, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
