package probe_test

// Transparency for the program's own httptrace.ClientTrace: every hook
// fires as without the probe, a panicking hook reaches the program, and
// Response.Request carries the program's context and trace.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

// ---------------------------------------------------------------------------
// The program's own ClientTrace
// ---------------------------------------------------------------------------

func TestTransparencyClientTrace(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hints" {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
		fmt.Fprint(w, "hello")
	})
	type traceCase struct {
		name string
		kind tpSrvKind
		host string // replaces 127.0.0.1 in the URL
		path string
	}
	table := []traceCase{
		{name: "HTTP/1.1 over TLS", kind: kindTLSHTTP1, path: "/"},
		{name: "HTTP/2", kind: kindH2, path: "/"},
		{name: "plain HTTP with a DNS lookup", kind: kindHTTP1, host: "localhost", path: "/"},
		{name: "HTTP/1.1 103 Early Hints", kind: kindHTTP1, path: "/hints"},
		{name: "HTTP/2 103 Early Hints", kind: kindH2, path: "/hints"},
	}
	var cases []tpCase
	for _, tc := range table {
		cases = append(cases, tpCase{name: tc.name, run: func(e *tpEnv) {
			srv := e.server(tc.kind, handler)
			u := srv.URL + tc.path
			if tc.host != "" {
				u = strings.Replace(u, "127.0.0.1", tc.host, 1)
			}
			c := e.client(srv.transport())
			for _, which := range []string{"first (new connection)", "second (reused)"} {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", u, nil), rec)
				resp, err := c.Do(req)
				e.noteResp(which, req, resp, err)
				rec.waitHooks()
				e.note("%s hooks=%v", which, rec.sorted())
			}
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Panicking hooks
// ---------------------------------------------------------------------------

// TestTransparencyPanickingHooks checks that a panic in the program's own
// httptrace hook, on the goroutine calling RoundTrip, reaches the program
// unchanged, and that the probe's books stay balanced.
func TestTransparencyPanickingHooks(t *testing.T) {
	var cases []tpCase
	for _, hook := range []string{"GetConn", "GotConn"} {
		cases = append(cases, tpCase{name: hook, run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			trace := &httptrace.ClientTrace{}
			switch hook {
			case "GetConn":
				trace.GetConn = func(string) { panic(errTPBoom) }
			case "GotConn":
				trace.GotConn = func(httptrace.GotConnInfo) { panic(errTPBoom) }
			}
			req := tpNewReq(e.t, httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL+"/x", nil)
			resp, err, panicked, val := tpDoRecover(c, req)
			e.note("panicked=%v value=%v identical=%v", panicked, val, val == any(errTPBoom))
			if resp != nil {
				resp.Body.Close()
			}
			e.note("err: %s", tpDescribeErr(err))
			// The transport still works.
			req = tpNewReq(e.t, context.Background(), "GET", srv.URL+"/after", nil)
			resp, err = c.Do(req)
			e.noteResp("after", req, resp, err)
			// The connection handed to the panicking request is lost
			// to the pool; closing the server ends it.
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Response.Request
// ---------------------------------------------------------------------------

// TestTransparencyResponseRequest checks what Response.Request is and
// carries. net/http sets it to the request given to RoundTrip, except that
// for a request with a body on a reused HTTP/2 connection it is the
// transport's own shallow copy of that request (same context, same
// fields). Without the probe the copy carries the program's context; with
// it, it must not carry the probe's (whose ClientTrace is bound to the
// probe's per-request state, recycled once the request ends).
func TestTransparencyResponseRequest(t *testing.T) {
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		for _, method := range []string{"GET", "POST"} {
			proto := tpProtoName(kind)
			cases = append(cases, tpCase{name: proto + " " + method, run: func(e *tpEnv) {
				srv := e.server(kind, http.HandlerFunc(tpEcho))
				c := e.client(srv.transport())
				gotConns, requests := 0, 0
				for _, which := range []string{"new connection", "reused connection"} {
					var body io.Reader
					if method == "POST" {
						body = strings.NewReader("payload")
					}
					rec := &tpHookRec{}
					trace := rec.trace()
					ctx := context.WithValue(httptrace.WithClientTrace(context.Background(), trace), tpCtxKey{}, "program's value")
					req := tpNewReq(e.t, ctx, method, srv.URL+"/x", body)
					resp, err := c.Do(req)
					requests++
					e.note("%s: %s", which, tpDescribeErr(err))
					if err != nil {
						continue
					}
					// Every hook of the request has fired before its
					// body ends: the probe may reuse its state.
					rec.waitHooks()
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					rr := resp.Request
					e.note("%s: Request==req:%v same method/URL/header:%v ctx==req ctx:%v ctx value=%v trace is the program's:%v",
						which, rr == req, rr.Method == req.Method && rr.URL == req.URL && fmt.Sprint(rr.Header) == fmt.Sprint(req.Header),
						rr.Context() == req.Context(), rr.Context().Value(tpCtxKey{}),
						httptrace.ContextClientTrace(rr.Context()) == trace)
					// Send it again, as a retry would: a clone of
					// Response.Request with its context.
					again := rr.Clone(rr.Context())
					if rr.GetBody != nil {
						again.Body, _ = rr.GetBody()
					}
					before := rec.count("GotConn")
					resp, err = c.Do(again)
					requests++
					if err == nil {
						rec.waitHooks()
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					e.note("%s: sent again: %s; the program's GotConn fired %d more times", which, tpDescribeErr(err), rec.count("GotConn")-before)
					gotConns += rec.count("GotConn")
				}
				if e.col == nil {
					return
				}
				// The probe counts what the program saw.
				snap := e.col.Snapshot()
				var n, conns int64
				for _, h := range snap.Hosts {
					n += h.Requests
					conns += h.NewConns + h.ReusedConns
				}
				if n != int64(requests) || conns != int64(gotConns) {
					e.t.Errorf("snapshot counts %d requests and %d connections handed out; the program sent %d and its GotConn hooks fired %d times%s",
						n, conns, requests, gotConns, tpHostSummary(snap))
				}
			}})
		}
	}
	tpRunCases(t, cases)
}
