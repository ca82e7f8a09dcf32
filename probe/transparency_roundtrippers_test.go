package probe_test

// Transparency around RoundTrippers other than *http.Transport: ones that
// panic or return odd responses, RoundTrip called directly with requests
// http.Client would refuse, and Unwrap.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/httptop/httptop/probe"
)

// ---------------------------------------------------------------------------
// Panics and odd RoundTrippers
// ---------------------------------------------------------------------------

// errTPBoom is the value a RoundTripper panics with.
var errTPBoom = errors.New("test: boom")

// tpRwBody is a response body that is also the connection's writer, like a
// 101 Switching Protocols response's.
type tpRwBody struct {
	io.Reader
	mu      sync.Mutex
	written bytes.Buffer
	closed  bool
}

func (b *tpRwBody) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written.Write(p)
}

func (b *tpRwBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

func TestTransparencyOddRoundTrippers(t *testing.T) {
	// innerSeen describes the request a custom RoundTripper receives.
	innerSeen := func(req, orig *http.Request) string {
		b := "<nil>"
		if req.Body != nil {
			b = fmt.Sprintf("%T same=%v", req.Body, req.Body == orig.Body)
		}
		return fmt.Sprintf("method=%s url=%s host=%q header=%v cl=%d getbody=%v body=%s close=%v ctxValue=%v proto=%s",
			req.Method, tpNormMsg(req.URL.String()), tpNormMsg(req.Host), req.Header, req.ContentLength, req.GetBody != nil, b,
			req.Close, req.Context().Value(tpCtxKey{}), req.Proto)
	}
	type oddCase struct {
		name   string
		method string
		rt     func(e *tpEnv, orig **http.Request) http.RoundTripper
	}
	resp := func(req *http.Request, code int, body io.ReadCloser, cl int64) *http.Response {
		return &http.Response{
			Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), StatusCode: code,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"X-Test-Odd": {"1"}}, Body: body, ContentLength: cl, Request: req,
		}
	}
	table := []oddCase{
		{name: "panic with an error value", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { panic(errTPBoom) })
		}},
		{name: "panic with a string", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { panic("test: string panic") })
		}},
		{name: "panic(nil)", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { panic(nil) })
		}},
		{name: "runtime error", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) {
				var m map[string]int
				m["x"] = 1 //lint:ignore SA5000 the point: a runtime error inside RoundTrip
				return nil, nil
			})
		}},
		{name: "returns nil, nil", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
		}},
		{name: "returns an error wrapping a custom type", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("custom: %w", &tpTestDialError{addr: "nowhere"})
			})
		}},
		{name: "returns a response and an error", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(req, 200, io.NopCloser(strings.NewReader("x")), 1), errTPBoom
			})
		}},
		{name: "nil Body, no content", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 200, nil, 0), nil })
		}},
		{name: "nil Body with a Content-Length", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 200, nil, 5), nil })
		}},
		{name: "nil Body with a Content-Length for HEAD", method: "HEAD", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 200, nil, 5), nil })
		}},
		{name: "http.NoBody", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 204, http.NoBody, 0), nil })
		}},
		{name: "101 with a ReadWriteCloser body", rt: func(e *tpEnv, _ **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				r := resp(req, 101, &tpRwBody{Reader: strings.NewReader("upgraded")}, -1)
				r.Header.Set("Upgrade", "test")
				return r, nil
			})
		}},
		{name: "200 with a body that is also a writer", rt: func(e *tpEnv, _ **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(req, 200, &tpRwBody{Reader: strings.NewReader("writable")}, -1), nil
			})
		}},
		{name: "response without Request", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(nil, 200, io.NopCloser(strings.NewReader("no request")), -1), nil
			})
		}},
		{name: "response naming another Request", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			other := httptest.NewRequest("GET", "http://other.invalid/other", nil)
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(other, 200, io.NopCloser(strings.NewReader("other request")), -1), nil
			})
		}},
		{name: "body whose Read fails", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(req, 200, io.NopCloser(io.MultiReader(strings.NewReader("abc"), tpIotestErrReader{errTPBoom})), -1), nil
			})
		}},
		{name: "inner RoundTripper sees the request as sent", method: "POST", rt: func(e *tpEnv, orig **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				e.note("inner saw: %s", innerSeen(req, *orig))
				b, err := io.ReadAll(req.Body)
				e.note("inner read body %q %s", b, tpDescribeErr(err))
				req.Body.Close()
				return resp(req, 200, io.NopCloser(strings.NewReader("seen")), 4), nil
			})
		}},
	}
	var cases []tpCase
	for _, oc := range table {
		cases = append(cases, tpCase{name: oc.name, run: func(e *tpEnv) {
			var orig *http.Request
			inner := oc.rt(e, &orig)
			c := &http.Client{Transport: e.wrap(inner)}
			method := oc.method
			if method == "" {
				method = "GET"
			}
			var body io.Reader
			if method == "POST" {
				body = strings.NewReader("request body")
			}
			ctx := context.WithValue(context.Background(), tpCtxKey{}, "program's value")
			req := tpNewReq(e.t, ctx, method, "http://odd.invalid/path?q=1", body)
			req.Header.Set("X-Test-Req", "1")
			orig = req
			resp, err, panicked, val := tpDoRecover(c, req)
			if panicked {
				e.note("panicked: %T %v identical=%v", val, val, val == any(errTPBoom))
				return
			}
			e.note("do: %s", tpDescribeErr(err))
			if resp == nil {
				e.note("resp=<nil>")
				return
			}
			e.noteHead("resp", req, resp)
			if rw, ok := resp.Body.(io.ReadWriteCloser); ok {
				inner, same := rw.(*tpRwBody)
				n, werr := rw.Write([]byte("ping"))
				e.note("body is a ReadWriteCloser: identical=%v write n=%d %s", same, n, tpDescribeErr(werr))
				if same {
					e.note("written=%q", inner.written.String())
				}
			} else {
				e.note("body is not a ReadWriteCloser")
			}
			b, rerr := io.ReadAll(resp.Body)
			e.noteBody("body", b, rerr)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
		}})
	}
	tpRunCases(t, cases)
}

// tpIotestErrReader returns err from every Read.
type tpIotestErrReader struct{ err error }

func (r tpIotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// ---------------------------------------------------------------------------
// RoundTrip called directly
// ---------------------------------------------------------------------------

// TestTransparencyDirectRoundTrip calls RoundTrip itself, as middleware
// does, with requests http.Client would refuse.
func TestTransparencyDirectRoundTrip(t *testing.T) {
	type directCase struct {
		name string
		req  func(srvURL string) *http.Request
	}
	table := []directCase{
		{name: "nil request", req: func(string) *http.Request { return nil }},
		{name: "nil URL", req: func(string) *http.Request { return &http.Request{Method: "GET", Header: http.Header{}} }},
		{name: "no host", req: func(string) *http.Request { return httptest.NewRequest("GET", "http:///path", nil) }},
		{name: "unsupported scheme", req: func(string) *http.Request {
			r, _ := http.NewRequest("GET", "ftp://127.0.0.1/x", nil)
			return r
		}},
		{name: "invalid header value", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			r.Header.Set("X-Test-Bad", "a\nb")
			return r
		}},
		{name: "invalid method", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			r.Method = "BAD METHOD"
			return r
		}},
		{name: "nil Header", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			r.Header = nil
			return r
		}},
		{name: "valid", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			return r
		}},
	}
	var cases []tpCase
	for _, dc := range table {
		cases = append(cases, tpCase{name: dc.name, run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			e.t.Cleanup(tr.CloseIdleConnections)
			if e.mode.wrap {
				e.instrumented = true
			}
			rt := e.wrap(tr)
			req := dc.req(srv.URL)
			var (
				resp     *http.Response
				err      error
				panicked bool
				val      any
			)
			func() {
				defer func() {
					if r := recover(); r != nil {
						panicked, val = true, r
					}
				}()
				resp, err = rt.RoundTrip(req)
			}()
			e.note("panicked=%v %v", panicked, val)
			e.noteResp("direct", req, resp, err)
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Unwrap
// ---------------------------------------------------------------------------

// tpCloseIdleRT counts CloseIdleConnections calls.
type tpCloseIdleRT struct {
	http.RoundTripper
	closed atomic.Int64
}

func (c *tpCloseIdleRT) CloseIdleConnections() { c.closed.Add(1) }

func TestTransparencyUnwrap(t *testing.T) {
	col := probe.NewCollector(probe.CollectorOptions{})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	wrapped := probe.Wrap(tr, probe.WithCollector(col))
	if got := probe.Unwrap(wrapped); got != http.RoundTripper(tr) {
		t.Errorf("Unwrap(Wrap(tr)) = %T %p, want the transport %p", got, got, tr)
	}
	custom := &tpCloseIdleRT{RoundTripper: tpRTFunc(func(*http.Request) (*http.Response, error) { return nil, errTPBoom })}
	wc := probe.Wrap(custom, probe.WithCollector(col), probe.WithName("custom"))
	if got := probe.Unwrap(wc); got != http.RoundTripper(custom) {
		t.Errorf("Unwrap(Wrap(custom)) = %T, want the custom RoundTripper", got)
	}
	if got := probe.Unwrap(custom); got != http.RoundTripper(custom) {
		t.Errorf("Unwrap(custom) = %T, want custom itself", got)
	}
	twice := probe.Wrap(wrapped, probe.WithCollector(col), probe.WithName("outer"))
	if got := probe.Unwrap(twice); got != wrapped {
		t.Errorf("Unwrap(Wrap(Wrap(tr))) = %T, want the inner probe", got)
	}
	if got := probe.Unwrap(probe.Unwrap(twice)); got != http.RoundTripper(tr) {
		t.Errorf("Unwrap(Unwrap(Wrap(Wrap(tr)))) = %T, want the transport", got)
	}
	// http.Client.CloseIdleConnections reaches the RoundTripper inside.
	(&http.Client{Transport: wc}).CloseIdleConnections()
	if n := custom.closed.Load(); n != 1 {
		t.Errorf("CloseIdleConnections reached the custom RoundTripper %d times, want 1", n)
	}
	// A RoundTripper without CloseIdleConnections: nothing happens.
	(&http.Client{Transport: probe.Wrap(tpRTFunc(func(*http.Request) (*http.Response, error) { return nil, errTPBoom }),
		probe.WithCollector(col), probe.WithName("plain"))}).CloseIdleConnections()
}
