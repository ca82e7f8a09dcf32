package tracer

import (
	"net/http"
	"sync/atomic"
)

// Transport is the RoundTripper the probe puts in front of another: every
// request goes through Tracer.RoundTrip to Next. Package probe wraps it in
// a named type (see probe.Wrap).
type Transport struct {
	Next   http.RoundTripper
	Tracer *Tracer
	// Prepare, when set, runs before the first request (and again
	// until it returns true): package probe uses it to instrument an
	// *http.Transport once its configuration is final.
	Prepare func() bool

	prepared atomic.Bool
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Prepare != nil && !t.prepared.Load() && t.Prepare() {
		t.prepared.Store(true)
	}
	return t.Tracer.RoundTrip(t.Next, req)
}

// CloseIdleConnections closes the idle connections of Next, if it can;
// http.Client.CloseIdleConnections calls it.
func (t *Transport) CloseIdleConnections() {
	if ci, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
