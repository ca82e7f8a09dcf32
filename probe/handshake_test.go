package probe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// gatedListener holds back the first write of every connection it accepts
// until open is closed, and reports each connection's first read on hello:
// under a TLS server, that holds the ServerHello back once the ClientHello
// is in, so the client's handshakes stay in progress until the test
// releases them.
type gatedListener struct {
	net.Listener
	hello chan struct{}
	open  chan struct{}
}

func (l *gatedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: c, l: l}, nil
}

type gatedConn struct {
	net.Conn
	l               *gatedListener
	readOnce, wrote sync.Once
}

func (c *gatedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.readOnce.Do(func() { c.l.hello <- struct{}{} })
	}
	return n, err
}

func (c *gatedConn) Write(p []byte) (int, error) {
	c.wrote.Do(func() { <-c.l.open })
	return c.Conn.Write(p)
}

// snapshotWhen takes snapshots of col until the host of client is as ok
// wants, or 10 s have passed, and returns the last: what the probe records
// from the transport's goroutines lands a moment after what the test
// waits on.
func snapshotWhen(t *testing.T, col *Collector, client string, ok func(snapshot.Host) bool) Snapshot {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		s := col.Snapshot()
		if ok(hostOf(t, s, client)) || time.Now().After(deadline) {
			return s
		}
		runtime.Gosched()
	}
}

// TestScenarioHandshaking: a TLS server that answers the ClientHello only
// when the test lets it, a pool of 2 and 4 requests at once. While the two
// connections handshake they are neither idle nor active: the host shows
// 2 open, 2 handshaking, 0 idle, with requests waiting; each connection
// row says handshaking, with no protocol yet. Once the handshakes end, the
// requests run, and the connections are idle with their handshake time.
func TestScenarioHandshaking(t *testing.T) {
	const (
		pool = 2
		reqs = 4
		hold = 120 * time.Millisecond
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	gl := &gatedListener{Listener: srv.Listener, hello: make(chan struct{}, reqs), open: make(chan struct{})}
	srv.Listener = gl
	srv.StartTLS()
	t.Cleanup(srv.Close)
	var once sync.Once
	release := func() { once.Do(func() { close(gl.open) }) }
	t.Cleanup(release)

	col := NewCollector(CollectorOptions{})
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = pool
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: Wrap(tr, WithCollector(col), WithName("auth"))}

	var wg sync.WaitGroup
	for range reqs {
		wg.Go(func() {
			if !get(context.Background(), client, srv.URL) {
				t.Error("request failed")
			}
		})
	}
	for range pool {
		<-gl.hello
	}
	// The server reads a ClientHello as soon as the client's write put it
	// on the wire, which can be before that Write returned and the probe
	// saw a handshake record in it: wait for the probe to catch up.
	during := snapshotWhen(t, col, "auth", func(h snapshot.Host) bool { return h.Handshaking == pool })
	// The handshakes take hold: the time the server kept them waiting.
	time.AfterFunc(hold, release)
	wg.Wait()
	// The requests may all have been served by the connection whose
	// handshake ended first; the other then finishes its own and joins
	// the idle pool, a moment later.
	after := snapshotWhen(t, col, "auth", func(h snapshot.Host) bool { return h.Handshaking == 0 })

	h := hostOf(t, during, "auth")
	t.Logf("during the handshakes: open/active/idle/handshaking/waiting = %d/%d/%d/%d/%d",
		h.Open, h.Active, h.Idle, h.Handshaking, h.Waiting)
	if h.Open != pool || h.Handshaking != pool || h.Idle != 0 || h.Active != 0 {
		t.Errorf("open/active/idle/handshaking = %d/%d/%d/%d, want %d/0/0/%d", h.Open, h.Active, h.Idle, h.Handshaking, pool, pool)
	}
	if h.Waiting < pool {
		t.Errorf("waiting = %d, want at least %d", h.Waiting, pool)
	}
	for _, c := range during.Conns {
		if c.State != snapshot.ConnHandshaking || c.Proto != "" || c.Requests != 0 {
			t.Errorf("connection during its handshake: state %q proto %q requests %d, want handshaking, no proto, 0", c.State, c.Proto, c.Requests)
		}
	}

	h = hostOf(t, after, "auth")
	if h.Open != pool || h.Handshaking != 0 || h.Idle != pool || h.Requests != reqs {
		t.Errorf("after: open/idle/handshaking = %d/%d/%d, requests %d; want %d/%d/0, %d", h.Open, h.Idle, h.Handshaking, h.Requests, pool, pool, reqs)
	}
	for _, c := range after.Conns {
		// A connection no request used has no TLS details yet.
		if c.State != snapshot.ConnIdle || c.TLS != nil && c.TLS.HandshakeMs < float64(hold/time.Millisecond) {
			t.Errorf("connection after its handshake: state %q TLS %+v, want idle (with a handshake of at least %v)", c.State, c.TLS, hold)
		}
	}
}
