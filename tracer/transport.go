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

// CloseIdleConnections closes the idle connections of Next, if it can;
// http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	if ci, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
