package probe

import (
	"net/http"
	"time"

	"github.com/httptop/httptop/tracer"
)

// Wrap returns a RoundTripper that sends every request through rt and
// records what happens to it in a Collector (Default unless WithCollector
// says otherwise). A nil rt means http.DefaultTransport.
//
// The returned RoundTripper changes nothing rt does: it returns the same
// responses and the same errors (errors.Is and errors.As see the same
// chain), honours the same cancellation, and never modifies the request:
// its httptrace hooks travel on a copy made with Request.WithContext, and a
// ClientTrace already on the request's context still fires. The response
// body is wrapped to see it end; Response.Request is the request given to
// RoundTrip, as without the probe. A panic in rt propagates unchanged; the
// probe's own code never panics into the caller. CloseIdleConnections is
// forwarded to rt.
//
// When rt is an *http.Transport, Wrap also instruments it, so that its
// connections are tracked exactly (dial timing, bytes in and out, close,
// HTTP/2 streams in use) and its pool limits appear next to the numbers.
// To do so it sets the transport's DialContext to a hook that calls the
// previous one (or the same default dialer the transport would use), and
// wraps DialTLSContext if set. Call Wrap before the transport is in use: it
// writes those fields without synchronisation. A transport is instrumented
// once, by the first Wrap; connections are counted by the client whose
// request used them last. Setting DialContext would, by net/http's rules,
// turn off HTTP/2 on a transport that had no custom dialer or TLS config;
// Wrap sets ForceAttemptHTTP2 in that case so that the protocols stay as
// they were.
//
// For any other RoundTripper (a custom one, or another middleware), the
// probe sees what its httptrace hooks report, which the standard transport
// and golang.org/x/net/http2 fire from inside: connections are then
// inferred from the requests that used them (their close is presumed after
// the transport's idle timeout, 90 s by default; bytes are not counted),
// pool limits are unknown, and spans are not recycled, which costs a few
// allocations per request.
func Wrap(rt http.RoundTripper, opts ...Option) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	cfg := config{name: DefaultClientName}
	for _, o := range opts {
		o.apply(&cfg)
	}
	col := cfg.collector
	if col == nil {
		col = Default()
	}
	client := col.stats.Client(cfg.name)
	if cfg.leakAfter > 0 {
		client.SetLeakAfter(cfg.leakAfter)
	}
	t, isTransport := rt.(*http.Transport)
	tr := tracer.New(col.stats, client, tracer.Options{
		Recycle: isTransport || cfg.recycle,
		OnPanic: col.recordPanic,
	})
	if isTransport {
		instrument(t, tr)
		client.SetLimits(limitsOf(t))
	}
	return &transport{next: rt, tracer: tr}
}

// DefaultClientName labels the clients wrapped without WithName.
const DefaultClientName = "default"

// An Option configures Wrap.
type Option interface {
	apply(*config)
}

type config struct {
	name      string
	collector *Collector
	leakAfter time.Duration
	recycle   bool // tests only: see withRecycling
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithName labels the client, so that its hosts and connections can be
// told apart from other clients' (for example "dynamo", "payments"). Wraps
// with the same name and collector share one client's statistics.
func WithName(name string) Option {
	return optionFunc(func(c *config) {
		if name != "" {
			c.name = name
		}
	})
}

// WithCollector records into c instead of Default().
func WithCollector(c *Collector) Option {
	return optionFunc(func(cfg *config) { cfg.collector = c })
}

// WithLeakAfter sets how long a response body may stay open and unread
// before it counts as leaked. The default is 30 seconds; a body that is
// being read (a stream) is not a leak however long it stays open.
func WithLeakAfter(d time.Duration) Option {
	return optionFunc(func(c *config) { c.leakAfter = d })
}

// transport is the RoundTripper Wrap returns.
type transport struct {
	next   http.RoundTripper
	tracer *tracer.Tracer
}

var _ http.RoundTripper = (*transport)(nil)

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	return t.tracer.RoundTrip(t.next, req)
}

// CloseIdleConnections closes the idle connections of the wrapped
// RoundTripper, if it can; http.Client.CloseIdleConnections calls it.
func (t *transport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// Unwrap returns the RoundTripper a probe wraps, or rt itself when it is
// not one Wrap returned.
func Unwrap(rt http.RoundTripper) http.RoundTripper {
	if t, ok := rt.(*transport); ok {
		return t.next
	}
	return rt
}
