package tracer

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/httptop/httptop/poolstats"
)

// Body wraps a response body to see its end: Read returning io.EOF or an
// error, or Close. Until then the request is in flight and the body is
// registered with poolstats, which reports it as leaked once it has stayed
// open and unread for longer than LeakAfter. Read and Close pass through
// unchanged, and Close may be called any number of times, from any
// goroutine, also while a Read is in progress.
type Body struct {
	rc    io.ReadCloser
	span  *Span
	http1 bool
	done  atomic.Bool
	// reads counts Read calls; the span's open-body record points here,
	// so that a Read racing with Close never touches a recycled span.
	reads atomic.Int64
}

// errClosed marks a body closed by the program.
var errClosed = errors.New("closed")

// Read reads from the response body.
func (b *Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.reads.Add(1)
	if err != nil {
		b.finish(err)
	}
	return n, err
}

// Close closes the response body.
func (b *Body) Close() error {
	err := b.rc.Close()
	b.finish(errClosed)
	return err
}

// finish ends the body's request the first time the body ends. The span
// may be recycled by it, so nothing touches b.span afterwards.
func (b *Body) finish(cause error) {
	if b.done.Load() || !b.done.CompareAndSwap(false, true) {
		return
	}
	s := b.span
	done := false
	defer func() {
		if !done {
			s.t.recovered(recover())
		}
	}()
	now := poolstats.Now()
	if rec := &s.rec; s.pooled {
		// Closed, it lets go of the host and of this wrapper (which
		// refers to the transport's body, and through it to the
		// connection) while the span waits in the pool.
		rec.Lock()
		rec.SetOpen(false)
		rec.Host, rec.Reads = nil, nil
		rec.Unlock()
	} else {
		s.t.stats.CloseBody(rec)
	}
	outcome := OutcomeEOF
	if cause != io.EOF {
		outcome = s.endedEarly(now, cause, b.http1)
	}
	s.finish(now, outcome)
	done = true
}

// endedEarly records a body closed before EOF, or whose Read failed, and
// returns the outcome.
//
//go:noinline
func (s *Span) endedEarly(now int64, cause error, http1 bool) Outcome {
	if cause == errClosed {
		if http1 {
			// The transport closes an HTTP/1.x connection whose
			// body is closed before EOF instead of reusing it.
			s.st.host.Undrained(now)
		}
		return OutcomeClosedEarly
	}
	class := poolstats.Classify(cause)
	if s.t.phases {
		s.ph.err, s.ph.class = cause, class
	}
	s.st.host.BodyFailed(now, class)
	return OutcomeBodyFailed
}

// wrappable reports whether a response's body can be wrapped without
// changing what the program sees: not when there is none (http.NoBody is
// compared by identity), and not for a 101 Switching Protocols response,
// whose body is also the connection's writer.
func wrappable(resp *http.Response) bool {
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusSwitchingProtocols {
		return false
	}
	_, rw := resp.Body.(io.Writer)
	return !rw
}
