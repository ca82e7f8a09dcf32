package tracer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptrace"
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

// wrapConn wraps nc in the Conn type that has the optional methods nc has.
func wrapConn(nc net.Conn, rec *poolstats.Conn) net.Conn {
	switch nc.(type) {
	case halfCloser:
		return &halfCloseConn{Conn{Conn: nc, rec: rec}}
	case closeWriter:
		return &closeWriteConn{Conn{Conn: nc, rec: rec}}
	}
	return &Conn{Conn: nc, rec: rec}
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
	if err != nil && !errors.Is(err, net.ErrClosed) && !c.shutRead.Load() {
		c.rec.PeerClosed()
	}
	return n, err
}

// Write writes to the connection, counting the bytes.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.rec.AddOut(n)
	}
	return n, err
}

// ReadFrom lets the transport's request-body copies keep using the wrapped
// connection's ReadFrom (sendfile, splice) when it has one.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		n, err := rf.ReadFrom(r)
		c.rec.AddOut(int(n))
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
		h := t.client.HostForDial(addr)
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
		rec := t.stats.NewConn(h, poolstats.DialTiming{Start: start, End: now, DNS: dns.ns()}, nc.LocalAddr(), nc.RemoteAddr())
		return wrapConn(nc, rec), nil
	}
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
		h := t.client.HostForDial(addr)
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
