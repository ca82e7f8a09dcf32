package probe

import (
	"net/http"
	"reflect"
	"time"

	"github.com/httptop/httptop/probe/internal/http2"
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
// wraps DialTLSContext if set. A transport is instrumented once, by the
// first Wrap; connections are counted by the client whose request used
// them last. Wrap writes those fields without synchronisation, so it must
// not run while other goroutines use the transport directly; once it has
// returned, the transport may be used bare and through the probe at once
// (the probe writes none of its fields after Wrap).
//
// A transport cloned from an instrumented one inherits its dial hook: the
// connections it dials for requests no probe traces are listed under the
// client "(unwrapped)", marked dial only (see snapshot.Host.DialOnly).
// When rt is http.DefaultTransport, Wrap also wraps its Proxy function
// (which returns what it returned) to count the requests of clients that
// use it, or a clone of it, without the probe.
//
// By net/http's rules, a transport with no custom dialer, TLS config or
// protocol settings speaks HTTP/2 by default, and setting DialContext turns
// that off. So on such a transport Wrap sets ForceAttemptHTTP2 as well:
// the protocols stay what they are. Configure a transport before wrapping
// it: Wrap decides from the configuration it sees. A TLSClientConfig or a
// dialer set after Wrap on a transport that had none no longer turns
// HTTP/2 off as it would without the probe (set Protocols, or
// TLSNextProto to an empty map, to choose explicitly), and a dialer set
// after Wrap replaces the probe's hook. A transport cloned from it
// afterwards inherits the hook and the flag.
//
// A program's own GotConn hook sees the connection the probe tracks it
// with: for HTTPS the same *tls.Conn as without the probe, whose NetConn is
// the probe's wrapper (package tracer's Conn); for plain HTTP that wrapper
// instead of the *net.TCPConn. Its NetConn method returns the connection it
// wraps, and it has the CloseWrite and CloseRead methods of that
// connection (so an upgraded connection can still be half-closed).
//
// For any other RoundTripper (a custom one, or another middleware), the
// probe sees what its httptrace hooks report, which the standard transport
// and golang.org/x/net/http2 fire from inside: connections are then
// inferred from the requests that used them (their close is presumed after
// the transport's idle timeout, 90 s by default; bytes are not counted),
// pool limits are unknown, and the probe's per-request state is not
// recycled: four allocations per request instead of two (three over
// HTTP/2).
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
	var wrapped http.RoundTripper
	var base *tracer.Transport
	if honoursContexts(rt) {
		h := new(http2.Transport)
		wrapped, base = h, &h.Transport
	} else {
		p := new(transport)
		wrapped, base = p, &p.Transport
	}
	base.Next, base.Tracer = rt, tr
	if isTransport {
		instrument(t, tr)
		client.SetLimits(limitsOf(t))
	}
	return wrapped
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
// with the same name and collector share one client's statistics. The
// empty name and UnwrappedClient, which names the connections of clients
// httptop does not trace, leave the client named DefaultClientName.
func WithName(name string) Option {
	return optionFunc(func(c *config) {
		if name != "" && name != UnwrappedClient {
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

// transport is the RoundTripper Wrap returns in front of a RoundTripper
// that net/http does not know to honour request contexts; around one that
// does, Wrap returns an *http2.Transport (see package probe/internal/http2
// for why the name matters).
type transport struct {
	tracer.Transport
}

var (
	_ http.RoundTripper = (*transport)(nil)
	_ http.RoundTripper = (*http2.Transport)(nil)
)

// honoursContexts reports whether http.Client trusts rt to cancel requests
// through their context (net/http's knownRoundTripperImpl): then the
// probe in front of it must be trusted too.
func honoursContexts(rt http.RoundTripper) bool {
	switch rt.(type) {
	case *http.Transport, *http2.Transport:
		return true
	}
	return reflect.TypeOf(rt).String() == "*http2.Transport"
}

// Unwrap returns the RoundTripper a probe wraps, or rt itself when it is
// not one Wrap returned.
func Unwrap(rt http.RoundTripper) http.RoundTripper {
	switch t := rt.(type) {
	case *transport:
		return t.Next
	case *http2.Transport:
		return t.Next
	}
	return rt
}
