package tracer

import (
	"context"
	"net/http"
	"reflect"
	"unsafe"

	"github.com/httptop/httptop/poolstats"
)

// A RoundTripper must not modify the request it is given, so the span's
// hooks travel on a copy of it (Request.WithContext): 320 bytes to
// allocate, clear and later collect, for every request. A pooled span
// keeps the copies it sent and sends one again once the transport is
// provably done with it, which for HTTP/1 is when a later request got the
// connection that carried it:
//
//   - *http.Transport runs one request at a time on an HTTP/1 connection
//     and hands it to the next request only from its idle pool, where the
//     read loop puts it after the response's body reached EOF, and only
//     once the write loop reported the request written
//     (persistConn.wroteRequest); neither reads the request after that
//     (the read loop goes on with the transport's own request state, and
//     the context, which a copy does not share with the next request).
//   - A later request getting the connection is seen as the connection's
//     request count (poolstats.Conn.Requests, an atomic, which also orders
//     the transport's reads before the span's writes) passing the count it
//     had when the copy's request ended.
//
// So a span alternates between two copies: the one its previous request
// sent is still in use when the next begins, and is free by the one after
// (a client sending one request at a time on one connection reuses them
// for ever). Only copies whose request had one attempt, on an HTTP/1
// connection the probe keeps a record of, body read to EOF, are sent
// again; and none of a request with a Cancel channel (the transport
// watches it from a goroutine of its own, which reads it from the
// request). A reused copy is the program's request again (a shallow copy,
// as WithContext makes) with the context set in place: the context field
// is unexported, so its offset is learnt once by reflection and checked
// (requestCtxOffset); if a Go release moves or retypes it, spans fall
// back to WithContext.
//
// A pooled span holds at most two copies between requests, and through
// them the last requests' URLs, headers and contexts, until it serves
// another request or the garbage collector empties the pool.

// sentCopy is a copy of a request a pooled span sent, and when it may be
// sent again.
type sentCopy struct {
	req *http.Request
	// conn is the HTTP/1 connection that carried req's request, and
	// seq the number of requests it had begun when that request ended;
	// nil: req cannot be sent again.
	conn *poolstats.Conn
	seq  int64
}

// sendCopy returns the request to send for req: a copy of it carrying
// ctx, one the span sent before when that is safe (see above).
func (s *Span) sendCopy(req *http.Request, ctx context.Context) *http.Request {
	i := s.nextCopy
	s.nextCopy ^= 1
	sc := &s.copies[i]
	//lint:ignore SA1019 a request may still have the deprecated Cancel channel
	if r, c := sc.req, sc.conn; c != nil && c.Requests() > sc.seq && req.Cancel == nil {
		sc.conn = nil
		*r = *req
		*(*context.Context)(unsafe.Add(unsafe.Pointer(r), requestCtxOffset)) = ctx
		return r
	}
	return s.newCopy(sc, req, ctx)
}

// newCopy is sendCopy making a new copy, kept in sc when it may be sent
// again.
//
//go:noinline
func (s *Span) newCopy(sc *sentCopy, req *http.Request, ctx context.Context) *http.Request {
	if testHookNewCopy != nil {
		testHookNewCopy()
	}
	r := req.WithContext(ctx)
	sc.conn = nil
	sc.req = nil
	//lint:ignore SA1019 a request may still have the deprecated Cancel channel
	if requestCtxOffset != 0 && req.Cancel == nil {
		sc.req = r
	}
	return r
}

// testHookNewCopy, when set by a test, is called for every copy a pooled
// span makes.
var testHookNewCopy func()

// dropCopy lets go of the copy a pooled span's request was sent with,
// when it will not be sent again: the span does not keep it alive after
// the transport is done with it.
//
//go:noinline
func (s *Span) dropCopy() { s.copies[s.nextCopy^1].req = nil }

// sentOnce notes that the request a pooled span sent last ended on the
// HTTP/1 connection c, its body read to EOF, after one attempt: its copy
// may be sent again once a later request gets c.
func (s *Span) sentOnce(c *poolstats.Conn) {
	if sc := &s.copies[s.nextCopy^1]; sc.req != nil && !s.retried {
		sc.conn, sc.seq = c, c.Requests()
	}
}

// requestCtxOffset is the offset of http.Request's context field, or 0
// when it could not be learnt and checked (a pooled span then makes a
// new copy of every request).
var requestCtxOffset = learnRequestCtxOffset()

func learnRequestCtxOffset() uintptr {
	f, ok := reflect.TypeFor[http.Request]().FieldByName("ctx")
	if !ok || f.Type != reflect.TypeFor[context.Context]() || f.Offset == 0 {
		return 0
	}
	// Check that the field is the one Request.Context returns.
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, f.Offset)
	r := new(http.Request)
	*(*context.Context)(unsafe.Add(unsafe.Pointer(r), f.Offset)) = ctx
	if r.Context() != ctx {
		return 0
	}
	return f.Offset
}
