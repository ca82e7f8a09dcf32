package tracer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"sync/atomic"

	"github.com/httptop/httptop/poolstats"
)

// Conn wraps a connection a tracked transport dialed, to count its bytes
// and see it close. Everything else passes straight to the wrapped
// connection, which NetConn returns.
//
// Dial returns a *Conn only for a connection that cannot shut down one
// direction; a connection that can (CloseWrite and CloseRead, as
// *net.TCPConn and *net.UnixConn; or CloseWrite alone) is wrapped in a
// type that embeds a Conn and has those methods too, so that a program
// that asks for them (an upgraded connection half-closed through the
// 101 response's body) gets what it would get without the probe: the
// methods where the connection has them, and no method where it has
// none. (A connection with CloseRead alone loses it.) WriteTo is not
// forwarded: net/http reads connections through a bufio.Reader.
type Conn struct {
	net.Conn
	rec *poolstats.Conn
	// untraced is set when no traced request was behind the dial: the
	// connection's traffic is then timed, as it is all that tells
	// whether the connection is busy (see poolstats.Stats.NewUntracedConn).
	untraced bool
	// shutRead is set by CloseRead: the reads that fail afterwards are
	// not the server closing.
	shutRead atomic.Bool
}

var (
	_ net.Conn      = (*Conn)(nil)
	_ io.ReaderFrom = (*Conn)(nil)
	_ halfCloser    = (*halfCloseConn)(nil)
	_ closeWriter   = (*closeWriteConn)(nil)
)

// closeWriter and halfCloser are the optional interfaces of a
// connection that can shut down one direction.
type (
	closeWriter interface{ CloseWrite() error }
	halfCloser  interface {
		closeWriter
		CloseRead() error
	}
)

// halfCloseConn is a Conn whose connection has CloseWrite and CloseRead.
type halfCloseConn struct{ Conn }

// CloseWrite shuts down the writing side of the connection.
func (c *halfCloseConn) CloseWrite() error { return c.Conn.Conn.(halfCloser).CloseWrite() }

// CloseRead shuts down the reading side of the connection.
func (c *halfCloseConn) CloseRead() error {
	c.shutRead.Store(true)
	return c.Conn.Conn.(halfCloser).CloseRead()
}

// closeWriteConn is a Conn whose connection has CloseWrite only.
type closeWriteConn struct{ Conn }

// CloseWrite shuts down the writing side of the connection.
func (c *closeWriteConn) CloseWrite() error { return c.Conn.Conn.(closeWriter).CloseWrite() }

// wrapConn wraps nc in the Conn type that has the optional methods nc
// has; untraced marks a connection no traced request was behind.
func wrapConn(nc net.Conn, rec *poolstats.Conn, untraced bool) net.Conn {
	switch nc.(type) {
	case halfCloser:
		return &halfCloseConn{Conn{Conn: nc, rec: rec, untraced: untraced}}
	case closeWriter:
		return &closeWriteConn{Conn{Conn: nc, rec: rec, untraced: untraced}}
	}
	return &Conn{Conn: nc, rec: rec, untraced: untraced}
}

// recordOf returns the record of a connection Dial wrapped, or nil.
func recordOf(nc net.Conn) *poolstats.Conn {
	switch c := nc.(type) {
	case *halfCloseConn:
		return c.rec
	case *Conn:
		return c.rec
	case *closeWriteConn:
		return c.rec
	}
	return nil
}

// NetConn returns the wrapped connection, like tls.Conn's NetConn.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Record returns the connection's statistics.
func (c *Conn) Record() *poolstats.Conn { return c.rec }

// Read reads from the connection, counting the bytes and noting a failed
// read: the server closed or reset the connection.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.rec.AddIn(n)
	}
	if err != nil || c.untraced {
		c.noteRead(n, err)
	}
	return n, err
}

// Write writes to the connection, counting the bytes.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.rec.AddOut(n)
		if c.untraced || c.rec.HandshakeOpen() {
			c.noteWrite(p[:n])
		}
	}
	return n, err
}

// noteRead notes what few reads tell: the time of an untraced
// connection's traffic, and a failed read.
func (c *Conn) noteRead(n int, err error) {
	if n > 0 && c.untraced {
		c.rec.NoteRead(poolstats.Now())
	}
	if err != nil && !errors.Is(err, net.ErrClosed) && !c.shutRead.Load() {
		c.rec.PeerClosed()
	}
}

// noteWrite notes what few writes tell: the TLS records of a handshake,
// and the time of an untraced connection's traffic.
func (c *Conn) noteWrite(p []byte) {
	if c.rec.HandshakeOpen() {
		c.rec.NoteHandshake(p)
	}
	if c.untraced {
		c.rec.NoteWrite(poolstats.Now(), len(p))
	}
}

// ReadFrom lets the transport's request-body copies keep using the wrapped
// connection's ReadFrom (sendfile, splice) when it has one.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(r)
		c.rec.AddOut(int(n))
		if n > 0 && c.untraced {
			c.rec.NoteWrite(poolstats.Now(), int(min(n, 1<<30)))
		}
		return n, err
	}
	return io.Copy(writerOnly{c}, r)
}

// writerOnly hides Conn's ReadFrom from io.Copy, which would call it back.
type writerOnly struct{ io.Writer }

// Close records the connection closing, then closes it. The record comes
// first so that the read loop, woken by the close, is not taken for the
// server closing it.
func (c *Conn) Close() error {
	c.rec.Close(poolstats.Now())
	return c.Conn.Close()
}

// DialFunc is the signature of http.Transport's DialContext and
// DialTLSContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// dialMarkKey marks a dial context as already tracked, so that a hook
// installed on a transport cloned from a tracked one does not count the
// same dial twice: the outermost hook tracks, the inner ones pass through.
type dialMarkKey struct{}

// Dial returns a dial function that calls next and tracks the connection
// it returns: dial timing and the dialing gauge of the host the address
// belongs to, then, as the transport uses the connection, its bytes,
// requests and close. Errors and the connection pass through unchanged
// except that the connection is wrapped in a *Conn (or a type embedding
// one, with the connection's CloseWrite and CloseRead).
func (t *Tracer) Dial(next DialFunc) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ctx.Value(dialMarkKey{}) != nil {
			return next(ctx, network, addr)
		}
		traced := tracedContext(ctx)
		client := t.client
		if !traced {
			client = t.stats.Unwrapped()
		}
		h := client.HostForDial(addr)
		h.DialStarted()
		var dns dnsTimer
		start := poolstats.Now()
		ctx = dns.attach(context.WithValue(ctx, dialMarkKey{}, true))
		nc, err := next(ctx, network, addr)
		now := poolstats.Now()
		h.DialEnded(now, now-start, err != nil || nc == nil)
		if err != nil || nc == nil {
			return nc, err
		}
		timing := poolstats.DialTiming{Start: start, End: now, DNS: dns.ns()}
		if !traced {
			rec := t.stats.NewUntracedConn(h, timing, nc.LocalAddr(), nc.RemoteAddr())
			return wrapConn(nc, rec, true), nil
		}
		rec := t.stats.NewConn(h, timing, nc.LocalAddr(), nc.RemoteAddr())
		return wrapConn(nc, rec, false), nil
	}
}

// Proxy returns a function for http.Transport.Proxy that calls next and
// returns exactly what it returns, and on the way counts the requests it
// is called for that no tracer traces, for the host they go to, in the
// Unwrapped client: a transport calls its Proxy function once per attempt
// of each request (HTTP/2 requests on a connection already open skip it),
// and a transport cloned from this one inherits the function. It also
// tells the Unwrapped client which host the dial that may follow is for.
func (t *Tracer) Proxy(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		u, err := next(req)
		if req != nil && req.URL != nil && !tracedContext(req.Context()) {
			t.started(req, u)
		}
		return u, err
	}
}

// started counts an untraced request to req.URL that goes through proxy
// (nil: direct).
func (t *Tracer) started(req *http.Request, proxy *url.URL) {
	defer t.recoverPanic()
	h := t.stats.Unwrapped().Host(req.URL.Scheme, req.URL.Host)
	h.Started(poolstats.Now())
	if proxy == nil {
		h.NoteAddr(h.Name())
	}
}

// spanHooks are the code pointers of the GetConn and GotConn hooks a span
// installs, pooled or fresh: each is a closure, and the closures of one
// function literal share their code whatever the span.
var spanHooks = func() [4]uintptr {
	s := new(Span)
	return [4]uintptr{
		reflect.ValueOf(s.pooledGetConn()).Pointer(),
		reflect.ValueOf(s.pooledGotConn()).Pointer(),
		reflect.ValueOf(s.freshGetConn()).Pointer(),
		reflect.ValueOf(s.freshGotConn()).Pointer(),
	}
}()

// tracedContext reports whether ctx, a dial's context, carries the hooks of
// a span: the transport dials with the values of the request that asked
// for the connection, so a dial for a request some tracer traces carries
// its trace. A trace composed with a program's own keeps the span's hook
// in each field the program's trace leaves empty; only a program setting
// both GetConn and GotConn hides the span (its connection then counts as
// untraced until the request uses it, a moment later).
func tracedContext(ctx context.Context) bool {
	tr := httptrace.ContextClientTrace(ctx)
	if tr == nil {
		return false
	}
	for _, f := range [2]any{tr.GetConn, tr.GotConn} {
		v := reflect.ValueOf(f)
		if v.IsNil() {
			continue
		}
		if p := v.Pointer(); p == spanHooks[0] || p == spanHooks[1] || p == spanHooks[2] || p == spanHooks[3] {
			return true
		}
	}
	return false
}

// DialTLS returns a dial function for http.Transport.DialTLSContext that
// times the dials of next without wrapping the connections it returns:
// the transport type-asserts them to *tls.Conn. Those connections are
// known from the requests that use them (inferred), so their close and
// byte counts are not seen.
func (t *Tracer) DialTLS(next DialFunc) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if ctx.Value(dialMarkKey{}) != nil {
			return next(ctx, network, addr)
		}
		client := t.client
		if !tracedContext(ctx) {
			client = t.stats.Unwrapped()
		}
		h := client.HostForDial(addr)
		h.DialStarted()
		start := poolstats.Now()
		nc, err := next(context.WithValue(ctx, dialMarkKey{}, true), network, addr)
		now := poolstats.Now()
		h.DialEnded(now, now-start, err != nil || nc == nil)
		return nc, err
	}
}

// dnsTimer measures the DNS lookup of one dial through httptrace's
// DNSStart and DNSDone hooks, which net.Dialer fires. It is attached to the
// dial's context only, composed with any trace already there, so a
// program's own DNS hooks still fire once.
type dnsTimer struct {
	start, end atomic.Int64
}

func (d *dnsTimer) attach(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { d.start.Store(poolstats.Now()) },
		DNSDone:  func(httptrace.DNSDoneInfo) { d.end.Store(poolstats.Now()) },
	})
}

// ns returns the lookup time, 0 when there was none (an IP address).
func (d *dnsTimer) ns() int64 {
	start, end := d.start.Load(), d.end.Load()
	if start == 0 || end < start {
		return 0
	}
	return end - start
}
