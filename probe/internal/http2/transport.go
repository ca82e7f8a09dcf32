// Package http2 holds the RoundTripper probe.Wrap returns around a
// RoundTripper that honours request contexts, such as *http.Transport.
//
// It exists for its name. http.Client, when it has a Timeout, trusts only
// the RoundTrippers it recognises to cancel a request through its context;
// for any other it falls back on the legacy Request.Cancel channel and a
// timer goroutine per request, and a timeout then returns a different
// error. It recognises *http.Transport, its own HTTP/2 transport, and any
// type whose name is "*http2.Transport" (net/http's knownRoundTripperImpl,
// meant for golang.org/x/net/http2). A probe in front of a transport that
// honours contexts honours them too, so it takes that name, and a wrapped
// client times out exactly as the bare one does.
package http2

import "github.com/httptop/httptop/tracer"

// Transport is a probe in front of a RoundTripper that honours request
// contexts.
type Transport struct {
	tracer.Transport
}
