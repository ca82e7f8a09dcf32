//lint:file-ignore SA1019 a transport may still set the deprecated Dial and DialTLS, and the probe must honour them as net/http does

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

// instrumented remembers the transports Wrap has seen, without keeping
// them alive.
var instrumented struct {
	mu sync.Mutex
	m  map[weak.Pointer[http.Transport]]*instrumentation
}

// instrumentation is the dial hook of one transport, installed once.
type instrumentation struct {
	tracer *tracer.Tracer // the first Wrap's
}

// instrument installs tr's dial hooks on t, once per transport: later
// Wraps of t find the first one's. It writes t's fields, so it runs in
// Wrap, which the program calls before it uses t anywhere else (see
// Wrap): never later, when a bare client may use t at the same time.
//
// A transport cloned from an instrumented one inherits its hook;
// instrumenting the clone puts a new hook in front, and the hooks see
// each other through the dial's context so that each dial is counted
// once, by the outermost.
func instrument(t *http.Transport, tr *tracer.Tracer) {
	key := weak.Make(t)
	instrumented.mu.Lock()
	defer instrumented.mu.Unlock()
	if instrumented.m[key] != nil {
		return
	}
	if instrumented.m == nil {
		instrumented.m = make(map[weak.Pointer[http.Transport]]*instrumentation)
	}
	instrumented.m[key] = &instrumentation{tracer: tr}
	runtime.AddCleanup(t, func(k weak.Pointer[http.Transport]) {
		instrumented.mu.Lock()
		delete(instrumented.m, k)
		instrumented.mu.Unlock()
	}, key)
	install(t, tr)
}

// http2ByDefault reports whether net/http would enable HTTP/2 on t only
// because it has no custom dialer, TLS config or protocol settings
// (Transport.protocols): the case a dial hook would change.
func http2ByDefault(t *http.Transport) bool {
	return t.Protocols == nil && t.TLSNextProto == nil && !t.ForceAttemptHTTP2 &&
		t.TLSClientConfig == nil && t.Dial == nil && t.DialContext == nil &&
		t.DialTLS == nil && t.DialTLSContext == nil
}

// install puts tr's dial hooks on t. Setting DialContext would turn off
// the HTTP/2 that net/http enables by default on a transport with no
// custom dialer, TLS config or protocol settings, so on such a transport
// it sets ForceAttemptHTTP2 too: the protocols stay what they are as t is
// configured now.
func install(t *http.Transport, tr *tracer.Tracer) {
	if http2ByDefault(t) {
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
	if watchProxy(t) && t.Proxy != nil {
		// Clones of the default transport inherit its Proxy function,
		// which sees every request (see tracer.Proxy): it counts those
		// of clients that use the transport, or a clone of it,
		// without the probe.
		t.Proxy = tr.Proxy(t.Proxy)
	}
	if t.DialTLSContext != nil {
		t.DialTLSContext = tr.DialTLS(t.DialTLSContext)
	} else if t.DialTLS != nil {
		dial := t.DialTLS
		t.DialTLSContext = tr.DialTLS(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) })
	}
}

// watchProxy reports whether instrumenting t wraps its Proxy function too:
// for http.DefaultTransport only, whose clones are the usual way to build
// a client (and which clients with a nil Transport share), so that their
// requests, which no probe traces, are at least counted. Tests change it
// to try the same on a transport of their own.
var watchProxy = func(t *http.Transport) bool {
	dt, _ := http.DefaultTransport.(*http.Transport)
	return t == dt
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
			ReadBufferSize:      t.ReadBufferSize,
			WriteBufferSize:     t.WriteBufferSize,
			TLSHandshakeTimeout: t.TLSHandshakeTimeout,
		}
	}
}
