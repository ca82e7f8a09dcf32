package probe

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"sync"
	"weak"

	"github.com/httptop/httptop/poolstats"
	"github.com/httptop/httptop/tracer"
)

// instrumented remembers which transports have a dial hook, without
// keeping them alive.
var instrumented struct {
	mu sync.Mutex
	m  map[weak.Pointer[http.Transport]]bool
}

// instrument installs tr's dial hooks on t, once per transport. A transport
// cloned from an instrumented one inherits its hook; instrumenting the
// clone puts a new hook in front, and the hooks see each other through the
// dial's context so that each dial is counted once, by the outermost.
func instrument(t *http.Transport, tr *tracer.Tracer) {
	key := weak.Make(t)
	instrumented.mu.Lock()
	defer instrumented.mu.Unlock()
	if instrumented.m[key] {
		return
	}
	if instrumented.m == nil {
		instrumented.m = make(map[weak.Pointer[http.Transport]]bool)
	}
	instrumented.m[key] = true
	runtime.AddCleanup(t, func(k weak.Pointer[http.Transport]) {
		instrumented.mu.Lock()
		delete(instrumented.m, k)
		instrumented.mu.Unlock()
	}, key)

	// net/http enables HTTP/2 by default only on a transport without a
	// custom dialer or TLS config (Transport.protocols); keep it so.
	if t.Protocols == nil && t.TLSNextProto == nil && !t.ForceAttemptHTTP2 &&
		t.TLSClientConfig == nil && t.Dial == nil && t.DialContext == nil &&
		t.DialTLS == nil && t.DialTLSContext == nil {
		t.ForceAttemptHTTP2 = true
	}
	next := tracer.DialFunc(t.DialContext)
	switch {
	case t.DialContext != nil:
	case t.Dial != nil:
		dial := t.Dial
		next = func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) }
	default:
		// What the transport uses when no dialer is set.
		next = (&net.Dialer{}).DialContext
	}
	t.DialContext = tr.Dial(next)
	if t.DialTLSContext != nil {
		t.DialTLSContext = tr.DialTLS(t.DialTLSContext)
	} else if t.DialTLS != nil {
		dial := t.DialTLS
		t.DialTLSContext = tr.DialTLS(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) })
	}
}

// limitsOf returns a function reading t's pool limits as effective values.
func limitsOf(t *http.Transport) func() poolstats.Limits {
	return func() poolstats.Limits {
		idle := t.MaxIdleConnsPerHost
		if idle == 0 {
			idle = http.DefaultMaxIdleConnsPerHost
		}
		if t.DisableKeepAlives || idle < 0 {
			idle = 0
		}
		return poolstats.Limits{
			MaxConnsPerHost:     max(t.MaxConnsPerHost, 0),
			MaxIdleConnsPerHost: idle,
			MaxIdleConns:        t.MaxIdleConns,
			IdleConnTimeout:     t.IdleConnTimeout,
			Known:               true,
		}
	}
}
