package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// DefaultMaxConns is how many connections an agent started by Start holds
// at once when Options.MaxConns is zero: a dashboard, a capture and a few
// snapshots need a handful.
const DefaultMaxConns = 64

// Bounds of what a connection the agent turns away may cost.
const (
	// maxRefusing bounds the connections being answered 503 at once;
	// past it, connections are closed without an answer.
	maxRefusing = 8
	// refuseTimeout bounds how long the agent waits for the client of a
	// refused connection to read the answer and close.
	refuseTimeout = time.Second
)

// limitListener is the agent's listener: it holds at most a fixed number
// of connections, answers those past the limit with a 503 (code
// snapshot.ErrCodeUnavailable) and closes them, and never takes the
// program's last descriptors: a connection accepted with fewer than
// fdReserve descriptors left below the limit is closed at once.
//
// Connections that fail authentication cost little anyway: the handler
// closes them after its 401, and a connection that sends nothing is
// closed after the server's ReadHeaderTimeout.
type limitListener struct {
	net.Listener
	slots    chan struct{} // one per connection held
	refusing chan struct{} // one per connection being refused
	answer   []byte        // the 503, status line to body
	// fdLimit returns the process's descriptor limit, false when it is
	// not known; a field for tests.
	fdLimit func() (uint64, bool)
}

var _ net.Listener = (*limitListener)(nil)

func newLimitListener(ln net.Listener, max int) *limitListener {
	body, _ := json.Marshal(snapshot.AgentError{
		Code:    snapshot.ErrCodeUnavailable,
		Message: fmt.Sprintf("this agent already serves %d connections: retry in a moment", max),
	})
	body = append(body, '\n')
	answer := "HTTP/1.1 503 Service Unavailable\r\n" +
		snapshot.ProtocolHeader + ": " + strconv.Itoa(snapshot.ProtocolVersion) + "\r\n" +
		"Content-Type: application/json\r\nCache-Control: no-store\r\nRetry-After: 1\r\nConnection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	return &limitListener{
		Listener: ln,
		slots:    make(chan struct{}, max),
		refusing: make(chan struct{}, maxRefusing),
		answer:   []byte(answer),
		fdLimit:  fdLimit,
	}
}

// Accept returns the next connection the agent may hold, turning away
// those it may not.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.lowOnDescriptors(c) {
			c.Close()
			continue
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, slots: l.slots}, nil
		default:
			l.refuse(c)
		}
	}
}

// lowOnDescriptors reports whether c's descriptor leaves fewer than
// fdReserve below the process's limit. Descriptors are allocated lowest
// first, so when c's is n, descriptors 0 to n−1 are all in use: a cheap
// and safe test, at every accept.
func (l *limitListener) lowOnDescriptors(c net.Conn) bool {
	limit, ok := l.fdLimit()
	if !ok {
		return false
	}
	fd, ok := connFD(c)
	return ok && fd+fdReserve(limit) >= limit
}

// fdReserve is how many descriptors the agent leaves the program below
// its limit.
func fdReserve(limit uint64) uint64 { return max(32, limit/16) }

// refuse answers c with the 503 and closes it, on a goroutine of its own,
// or closes it at once when enough are being refused already.
func (l *limitListener) refuse(c net.Conn) {
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		c.SetDeadline(time.Now().Add(refuseTimeout))
		if _, err := c.Write(l.answer); err != nil {
			return
		}
		// End the answer, then read what the client sent until it
		// closes: closing with its request unread would reset the
		// connection, and the client might lose the answer.
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// limitedConn frees its slot when closed.
type limitedConn struct {
	net.Conn
	slots  chan struct{}
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		<-c.slots
	}
	return c.Conn.Close()
}
