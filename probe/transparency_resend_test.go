package probe_test

// Transparency of requests sent again: redirects (and the request bodies
// they resend) and retries of requests whose reused connection the
// server dropped.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// ---------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------

func TestTransparencyRedirects(t *testing.T) {
	type redirectCase struct {
		name   string
		method string
		path   string
		body   func() io.Reader
		check  func(req *http.Request, via []*http.Request) error
	}
	bytesBody := func() io.Reader { return bytes.NewReader([]byte("payload")) }
	stringBody := func() io.Reader { return strings.NewReader("payload") }
	plainBody := func() io.Reader { return tpOnlyReader{strings.NewReader("payload")} }
	table := []redirectCase{
		{name: "GET chain 301 302 307 308", method: "GET", path: "/301"},
		{name: "POST 301 becomes GET", method: "POST", path: "/post301", body: bytesBody},
		{name: "POST 302 becomes GET", method: "POST", path: "/post302", body: bytesBody},
		{name: "POST 303 becomes GET", method: "POST", path: "/post303", body: stringBody},
		{name: "POST 307 resends body via GetBody", method: "POST", path: "/post307", body: bytesBody},
		{name: "PUT 308 resends body via GetBody", method: "PUT", path: "/post308", body: stringBody},
		{name: "POST 307 without GetBody is not followed", method: "POST", path: "/post307", body: plainBody},
		{name: "CheckRedirect error stops", method: "GET", path: "/301", check: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 2 {
				return errTPStop
			}
			return nil
		}},
		{name: "CheckRedirect ErrUseLastResponse", method: "GET", path: "/301", check: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		{name: "redirect loop", method: "GET", path: "/loop"},
		{name: "3xx without Location", method: "GET", path: "/noloc"},
		{name: "relative and absolute Location with query", method: "GET", path: "/abs"},
	}
	var cases []tpCase
	for _, rc := range table {
		cases = append(cases, tpCase{name: rc.name, run: func(e *tpEnv) {
			var slog tpServerLog
			mux := http.NewServeMux()
			redirect := func(code int, to string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					slog.add("%s %s body=%q", r.Method, r.URL.RequestURI(), b)
					if to != "" {
						w.Header().Set("Location", to)
					}
					w.Header().Set("X-Test-Hop", r.URL.Path)
					w.WriteHeader(code)
					fmt.Fprintf(w, "redirect body of %s", r.URL.Path)
				}
			}
			mux.Handle("/301", redirect(301, "/302"))
			mux.Handle("/302", redirect(302, "/307"))
			mux.Handle("/307", redirect(307, "/308"))
			mux.Handle("/308", redirect(308, "/echo"))
			for _, code := range []int{301, 302, 303, 307, 308} {
				mux.Handle(fmt.Sprintf("/post%d", code), redirect(code, "/echo"))
			}
			mux.Handle("/loop", redirect(302, "/loop"))
			mux.Handle("/noloc", redirect(302, ""))
			mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
				slog.add("%s %s final", r.Method, r.URL.RequestURI())
				tpEcho(w, r)
			})
			var srv *tpServer
			mux.HandleFunc("/abs", func(w http.ResponseWriter, r *http.Request) {
				slog.add("%s %s", r.Method, r.URL.RequestURI())
				http.Redirect(w, r, srv.URL+"/rel?x=1", http.StatusFound)
			})
			mux.HandleFunc("/rel", func(w http.ResponseWriter, r *http.Request) {
				slog.add("%s %s", r.Method, r.URL.RequestURI())
				http.Redirect(w, r, "echo?y=2", http.StatusMovedPermanently)
			})
			srv = e.server(kindHTTP1, mux)
			c := e.client(srv.transport())
			c.CheckRedirect = rc.check
			var body io.Reader
			if rc.body != nil {
				body = rc.body()
			}
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), rc.method, srv.URL+rc.path, body), rec)
			resp, err := c.Do(req)
			e.noteResp("resp", req, resp, err)
			e.note("reused=%v", rec.reuses())
			e.note("server saw: %s", slog.String())
			e.note("accepted=%d", srv.accepted.Load())
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Request bodies retried via GetBody
// ---------------------------------------------------------------------------

// tpConnSeqKey carries, in a server request's context, the count of requests
// served on its connection.
type tpConnSeqKey struct{}

func tpWithConnSeq(s *httptest.Server) {
	s.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, tpConnSeqKey{}, new(atomic.Int64))
	}
}

// dropSecondServer serves every request but the second on each connection,
// on which it reads the request and then closes the connection without an
// answer: what a server closing an idle keep-alive connection looks like to
// the client that just reused it.
func (e *tpEnv) dropSecondServer(kind tpSrvKind, slog *tpServerLog, rst bool) *tpServer {
	return e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.Context().Value(tpConnSeqKey{}).(*atomic.Int64).Add(1)
		body, _ := io.ReadAll(r.Body)
		slog.add("conn-req %d: %s %s body=%d bytes %x", n, r.Method, r.URL.Path, len(body), sha256.Sum256(body))
		if n == 2 {
			tpHijackClose(w, rst)
			return
		}
		w.Header().Set("X-Test-Conn-Req", fmt.Sprint(n))
		fmt.Fprintf(w, "%s body=%q", r.Method, body)
	}), tpWithConnSeq)
}

func TestTransparencyRetries(t *testing.T) {
	type retryCase struct {
		name    string
		method  string
		body    func() io.Reader
		idemKey bool
		rst     bool
		retried bool
	}
	table := []retryCase{
		{name: "GET without body is retried", method: "GET", retried: true},
		{name: "GET after RST is retried", method: "GET", rst: true, retried: true},
		{name: "POST bytes.Reader with Idempotency-Key is retried via GetBody", method: "POST", idemKey: true, retried: true,
			body: func() io.Reader { return bytes.NewReader(tpPayload(3000)) }},
		{name: "PUT strings.Reader with Idempotency-Key is retried via GetBody", method: "PUT", idemKey: true, retried: true,
			body: func() io.Reader { return strings.NewReader("a string body") }},
		{name: "POST custom io.Reader without GetBody is not retried", method: "POST", idemKey: true,
			body: func() io.Reader { return tpOnlyReader{strings.NewReader("one-shot body")} }},
		{name: "POST bytes.Reader without Idempotency-Key is not retried", method: "POST",
			body: func() io.Reader { return bytes.NewReader([]byte("not idempotent")) }},
	}
	var cases []tpCase
	for _, rc := range table {
		cases = append(cases, tpCase{name: rc.name, run: func(e *tpEnv) {
			var slog tpServerLog
			srv := e.dropSecondServer(kindHTTP1, &slog, rc.rst)
			c := e.client(srv.transport())
			// Warm the pool: one connection, idle.
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/warm", nil)
			resp, err := c.Do(req)
			e.noteResp("warm", req, resp, err)

			var body io.Reader
			if rc.body != nil {
				body = rc.body()
			}
			rec := &tpHookRec{}
			req = tpTraced(tpNewReq(e.t, context.Background(), rc.method, srv.URL+"/again", body), rec)
			if rc.idemKey {
				req.Header.Set("Idempotency-Key", "k1")
			}
			e.note("GetBody set=%v ContentLength=%d", req.GetBody != nil, req.ContentLength)
			resp, err = c.Do(req)
			e.noteResp("again", req, resp, err)
			rec.waitHooks()
			e.note("reused=%v GetConn=%d WroteRequest=%d", rec.reuses(), rec.count("GetConn"), rec.count("WroteRequest"))
			// The first attempt must have gone to the reused
			// connection, or the case tests nothing.
			e.want(len(rec.reuses()) > 0 && rec.reuses()[0], "the request did not reuse the warm connection: %v", rec.reuses())
			e.want((err == nil) == rc.retried, "retried = %v, want %v", err == nil, rc.retried)
			if rc.retried {
				e.note("server open=%d", tpWaitOpen(srv, 1))
			} else {
				e.note("server open=%d", tpWaitOpen(srv, 0))
			}
			e.note("server saw: %s", slog.String())
			e.note("accepted=%d", srv.accepted.Load())
		}})
	}
	tpRunCases(t, cases)
}
