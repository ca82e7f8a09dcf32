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
	mu        sync.Mutex
	installed bool
	tracer    *tracer.Tracer // the first Wrap's
}

// instrument arranges for tr's dial hooks to be installed on t, once per
// transport, and returns the function the probe's RoundTrip calls before
// its first request (nil when the hooks are installed already). A
// transport cloned from an instrumented one inherits its hook;
// instrumenting the clone puts a new hook in front, and the hooks see each
// other through the dial's context so that each dial is counted once, by
// the outermost.
func instrument(t *http.Transport, tr *tracer.Tracer) (prepare func() bool) {
	key := weak.Make(t)
	instrumented.mu.Lock()
	in := instrumented.m[key]
	if in == nil {
		if instrumented.m == nil {
			instrumented.m = make(map[weak.Pointer[http.Transport]]*instrumentation)
		}
		in = &instrumentation{tracer: tr}
		instrumented.m[key] = in
		runtime.AddCleanup(t, func(k weak.Pointer[http.Transport]) {
			instrumented.mu.Lock()
			delete(instrumented.m, k)
			instrumented.mu.Unlock()
		}, key)
	}
	instrumented.mu.Unlock()
	if !http2ByDefault(t) {
		// Installing now cannot change the protocols.
		in.install(t)
		return nil
	}
	// Wait for the configuration to be final: the first request.
	return func() bool {
		in.install(t)
		return true
	}
}

// http2ByDefault reports whether net/http would enable HTTP/2 on t only
// because it has no custom dialer, TLS config or protocol settings
// (Transport.protocols): the case a dial hook would change.
func http2ByDefault(t *http.Transport) bool {
	return t.Protocols == nil && t.TLSNextProto == nil && !t.ForceAttemptHTTP2 &&
		t.TLSClientConfig == nil && t.Dial == nil && t.DialContext == nil &&
		t.DialTLS == nil && t.DialTLSContext == nil
}

// install puts the dial hooks on t, once.
func (in *instrumentation) install(t *http.Transport) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.installed {
		return
	}
	in.installed = true
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
	t.DialContext = in.tracer.Dial(next)
	if watchProxy(t) && t.Proxy != nil {
		// Clones of the default transport inherit its Proxy function,
		// which sees every request (see tracer.Proxy): it counts those
		// of clients that use the transport, or a clone of it,
		// without the probe.
		t.Proxy = in.tracer.Proxy(t.Proxy)
	}
	if t.DialTLSContext != nil {
		t.DialTLSContext = in.tracer.DialTLS(t.DialTLSContext)
	} else if t.DialTLS != nil {
		dial := t.DialTLS
		t.DialTLSContext = in.tracer.DialTLS(func(_ context.Context, network, addr string) (net.Conn, error) { return dial(network, addr) })
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
