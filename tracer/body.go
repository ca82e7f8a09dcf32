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

// finishBodyOther is Body.finish for a fresh span, or a body that ended
// before EOF.
//
//go:noinline
func (s *Span) finishBodyOther(b *Body, cause error) {
	defer s.t.recoverPanic()
	now := poolstats.Now()
	if s.pooled {
		s.rec.CloseKept()
	} else {
		s.t.stats.CloseBody(&s.rec)
	}
	http1 := b.http1
	outcome := OutcomeEOF
	if cause != io.EOF {
		outcome = s.endedEarly(now, cause, http1)
	}
	s.finish(now, outcome)
}

// endedEarly records a body closed before EOF, or whose Read failed, and
// returns the outcome.
//
//go:noinline
func (s *Span) endedEarly(now int64, cause error, http1 bool) Outcome {
	defer s.t.recoverPanic()
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

// transportWrappable is wrappable for a response of *http.Transport (a
// pooled span's): over HTTP/1 its body is a writer only in a 101 response
// (a protocol switch), which spares every other response a dynamic type
// check.
func transportWrappable(resp *http.Response) bool {
	if resp.ProtoMajor == 1 {
		return resp.Body != nil && resp.Body != http.NoBody && resp.StatusCode != http.StatusSwitchingProtocols
	}
	return wrappable(resp)
}
