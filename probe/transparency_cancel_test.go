package probe_test

// Transparency of cancellation and timeouts: a context canceled in every
// phase of a request, the legacy Request.Cancel, Client.Timeout,
// context deadlines and Transport.ResponseHeaderTimeout.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// Cancellation in every phase
// ---------------------------------------------------------------------------

// hangServer starts a server that accepts TCP connections and never
// answers, so that a TLS handshake with it never ends: the slow part of a
// dial, on the server's side (Wrap replaces the transport's DialContext).
func (e *tpEnv) hangServer() *tpRawServer {
	return e.rawServer(func(c net.Conn) {
		io.Copy(io.Discard, c) // until the client closes
	})
}

// tpBlockingHandler serves /block by waiting until release or until the
// request is canceled, /partial by writing "partial" and then doing the
// same, and anything else at once.
func tpBlockingHandler(enter func(), release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/block":
			enter()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		case "/partial":
			w.Header().Set("X-Test-Partial", "yes")
			w.Write([]byte("partial"))
			http.NewResponseController(w).Flush()
			enter()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprint(w, "ok "+r.URL.Path)
	})
}

// cancelMidBody sends a request for /partial to a new server of kind,
// reads the part the handler flushes, cancels the request's context and
// reads the rest, noting what the program sees. It returns the client
// and the server for what the case does next, and ok false when the
// request failed before its body.
func (e *tpEnv) cancelMidBody(kind tpSrvKind) (c *http.Client, srv *tpServer, ok bool) {
	entered, enter := tpSignal()
	release, rel := tpSignal()
	srv = e.server(kind, tpBlockingHandler(enter, release))
	e.t.Cleanup(rel)
	c = e.client(srv.transport())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := tpNewReq(e.t, ctx, "GET", srv.URL+"/partial", nil)
	resp, err := c.Do(req)
	e.note("do: %s", tpDescribeErr(err))
	if err != nil {
		return c, srv, false
	}
	e.noteHead("resp", req, resp)
	buf := make([]byte, len("partial"))
	n, err := io.ReadFull(resp.Body, buf)
	e.note("first read: %q %s", buf[:n], tpDescribeErr(err))
	tpAwait(e.t, entered, "the handler to flush")
	cancel()
	rest, err := io.ReadAll(resp.Body)
	e.noteBody("after cancel", rest, err)
	e.want(errors.Is(err, context.Canceled), "body read err = %v, want context.Canceled", err)
	e.note("close: %s", tpDescribeErr(resp.Body.Close()))
	return c, srv, true
}

func TestTransparencyCancellation(t *testing.T) {
	cases := []tpCase{
		{name: "before the request starts", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, ctx, "POST", srv.URL+"/x", strings.NewReader("body")), rec)
			resp, err := c.Do(req)
			e.noteResp("canceled", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			e.note("hooks=%v", rec.sorted())
			e.note("accepted=%d", srv.accepted.Load())
		}},
		{name: "while waiting for a connection", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			tr := srv.transport()
			tr.MaxConnsPerHost = 1
			c := e.client(tr)
			// A holds the only connection.
			reqA := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
			doneA := make(chan string, 1)
			go func() {
				resp, err := c.Do(reqA)
				if err != nil {
					doneA <- tpDescribeErr(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				doneA <- fmt.Sprintf("status=%d body=%q %s", resp.StatusCode, b, tpDescribeErr(err))
			}()
			if !tpAwait(e.t, entered, "request A to reach the handler") {
				return
			}
			// B waits for it and is canceled while waiting.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			waiting, isWaiting := tpSignal()
			rec := &tpHookRec{}
			trace := rec.trace()
			getConn := trace.GetConn
			trace.GetConn = func(hp string) { getConn(hp); isWaiting() }
			reqB := tpNewReq(e.t, httptrace.WithClientTrace(ctx, trace), "GET", srv.URL+"/b", nil)
			go func() {
				<-waiting
				cancel()
			}()
			resp, err := c.Do(reqB)
			e.noteResp("B", reqB, resp, err)
			e.want(errors.Is(err, context.Canceled), "B: err = %v, want context.Canceled", err)
			e.note("B hooks=%v", rec.sorted())
			rel()
			e.note("A: %s", <-doneA)
			// C gets the connection A used.
			rec = &tpHookRec{}
			reqC := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/c", nil), rec)
			resp, err = c.Do(reqC)
			e.noteResp("C", reqC, resp, err)
			e.note("C reused=%v", rec.reuses())
			e.note("accepted=%d", srv.accepted.Load())
		}},
		{name: "during the dial (TLS handshake never answered)", run: func(e *tpEnv) {
			h := e.hangServer()
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
			c := e.client(tr)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			handshaking, isHandshaking := tpSignal()
			rec := &tpHookRec{}
			trace := rec.trace()
			start := trace.TLSHandshakeStart
			trace.TLSHandshakeStart = func() { start(); isHandshaking() }
			req := tpNewReq(e.t, httptrace.WithClientTrace(ctx, trace), "GET", "https://"+h.ln.Addr().String()+"/", nil)
			go func() {
				<-handshaking
				cancel()
			}()
			resp, err := c.Do(req)
			e.noteResp("dial", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			e.note("hooks when Do returned=%v", rec.sorted())
			// Since Go 1.22 the dial outlives the request; closing idle
			// connections cancels it.
			e.note("server open before CloseIdleConnections=%d", tpWaitOpen(h, 1))
			c.CloseIdleConnections()
			e.note("server open after CloseIdleConnections=%d", tpWaitOpen(h, 0))
			deadline := time.Now().Add(tpWaitFor)
			for rec.count("TLSHandshakeDone") == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			e.note("hooks at the end=%v", rec.sorted())
			e.note("accepted=%d", h.accepted.Load())
		}},
		{name: "while waiting for response headers", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, ctx, "GET", srv.URL+"/block", nil), rec)
			go func() {
				<-entered
				cancel()
			}()
			resp, err := c.Do(req)
			e.noteResp("headers", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			rec.waitHooks()
			e.note("hooks=%v", rec.sorted())
			e.note("server open=%d", tpWaitOpen(srv, 0))
			e.note("accepted=%d", srv.accepted.Load())
		}},
		{name: "while waiting for response headers, legacy Request.Cancel", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			cancelCh := make(chan struct{})
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
			req.Cancel = cancelCh //lint:ignore SA1019 the deprecated way must keep working
			go func() {
				<-entered
				close(cancelCh)
			}()
			resp, err := c.Do(req)
			e.noteResp("headers", req, resp, err)
			e.want(err != nil, "request not canceled")
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "during the body read", run: func(e *tpEnv) {
			_, srv, ok := e.cancelMidBody(kindHTTP1)
			if !ok {
				return
			}
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "h2 while waiting for response headers, then the connection is reused", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindH2, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/block", nil)
			go func() {
				<-entered
				cancel()
			}()
			resp, err := c.Do(req)
			e.noteResp("headers", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			rec := &tpHookRec{}
			req = tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/next", nil), rec)
			resp, err = c.Do(req)
			e.noteResp("next", req, resp, err)
			e.note("next reused=%v", rec.reuses())
			e.note("server open=%d accepted=%d", tpWaitOpen(srv, 1), srv.accepted.Load())
		}},
		{name: "h2 during the body read, then the connection is reused", run: func(e *tpEnv) {
			c, srv, ok := e.cancelMidBody(kindH2)
			if !ok {
				return
			}
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/next", nil), rec)
			resp, err := c.Do(req)
			e.noteResp("next", req, resp, err)
			e.note("next reused=%v", rec.reuses())
			e.note("server open=%d accepted=%d", tpWaitOpen(srv, 1), srv.accepted.Load())
		}},
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------

// With Client.Timeout set, net/http's Client treats a RoundTripper it does
// not know (anything but *http.Transport and http2.Transport) the legacy
// way: besides the context deadline it closes Request.Cancel from a timer
// of its own, and decides whether the request timed out by that timer. The
// error a program sees then depends on which of the two fires first. The
// Client.Timeout cases repeat the timeout and compare the set of distinct
// errors, which is one error for the bare transport.
const (
	tpTimeoutRuns   = 10
	tpTimeoutRepeat = 20 * time.Millisecond
)

func TestTransparencyTimeouts(t *testing.T) {
	const short = 100 * time.Millisecond
	cases := []tpCase{
		{name: "Client.Timeout while waiting for headers", run: func(e *tpEnv) {
			_, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			c.Timeout = tpTimeoutRepeat
			// The error is decided by a race in the wrapped case (see
			// TestTransparencyTimeouts's doc): repeat, and record every
			// distinct error seen.
			seen := map[string]bool{}
			for range tpTimeoutRuns {
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
				resp, err := c.Do(req)
				if resp != nil {
					resp.Body.Close()
				}
				var ue *url.Error
				e.want(errors.Is(err, context.DeadlineExceeded) && errors.As(err, &ue) && ue.Timeout(),
					"err = %v, want a url.Error that times out and is context.DeadlineExceeded", err)
				seen[tpDescribeErr(err)] = true
			}
			e.note("distinct errors: %q", slices.Sorted(maps.Keys(seen)))
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "Client.Timeout during the body read", run: func(e *tpEnv) {
			entered := make(chan struct{}, tpTimeoutRuns)
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(func() { entered <- struct{}{} }, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			c.Timeout = tpTimeoutRepeat
			seen := map[string]bool{}
			for range tpTimeoutRuns {
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/partial", nil)
				resp, err := c.Do(req)
				if err != nil {
					seen["do: "+tpDescribeErr(err)] = true
					continue
				}
				<-entered
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				var ne net.Error
				e.want(errors.Is(err, context.DeadlineExceeded) && errors.As(err, &ne) && ne.Timeout(),
					"body read err = %v, want a net.Error that times out and is context.DeadlineExceeded", err)
				seen[fmt.Sprintf("body=%q %s", body, tpDescribeErr(err))] = true
			}
			e.note("distinct outcomes: %q", slices.Sorted(maps.Keys(seen)))
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "Client.Timeout: timer goroutines per request", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			c.Timeout = tpWaitFor
			done := make(chan error, 1)
			go func() {
				resp, err := c.Get(srv.URL + "/block")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				done <- err
			}()
			tpAwait(e.t, entered, "the request to reach the handler")
			// net/http starts a timer goroutine per request for a
			// RoundTripper it does not know (setRequestCancel), and
			// then cancels through Request.Cancel instead of the
			// context alone.
			n := 0
			for _, g := range tpClientGoroutines() {
				if strings.Contains(g, "net/http.setRequestCancel") {
					n++
				}
			}
			e.note("setRequestCancel goroutines while the request waits: %d", n)
			rel()
			e.note("do: %s", tpDescribeErr(<-done))
		}},
		{name: "Client.Timeout not reached", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			c.Timeout = tpWaitFor
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/echo", strings.NewReader("hi")), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("post ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "context deadline while waiting for headers", run: func(e *tpEnv) {
			_, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithTimeout(context.Background(), short)
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/block", nil)
			resp, err := c.Do(req)
			e.noteResp("deadline", req, resp, err)
			e.want(errors.Is(err, context.DeadlineExceeded), "err = %v, want context.DeadlineExceeded", err)
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "Transport.ResponseHeaderTimeout", run: func(e *tpEnv) {
			_, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			tr := srv.transport()
			tr.ResponseHeaderTimeout = short
			c := e.client(tr)
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
			resp, err := c.Do(req)
			e.noteResp("header timeout", req, resp, err)
			var ue *url.Error
			e.want(errors.As(err, &ue) && ue.Timeout(), "err = %v, want a url.Error that times out", err)
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
	}
	tpRunCases(t, cases)
}
