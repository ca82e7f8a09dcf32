package probe_test

// Transparency of responses and their bodies: streamed, chunked, large,
// read in tiny reads, compressed, with trailers; responses without a
// body; request bodies sent with Expect: 100-continue.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// ---------------------------------------------------------------------------
// Streaming and chunked bodies
// ---------------------------------------------------------------------------

func TestTransparencyStreaming(t *testing.T) {
	big := tpPayload(1 << 20)
	cases := []tpCase{
		{name: "chunks read in lockstep with the handler's flushes", run: func(e *tpEnv) {
			ack := make(chan struct{})
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				w.Header().Set("X-Test-Stream", "yes")
				for i := range 5 {
					fmt.Fprintf(w, "chunk-%d;", i)
					if err := rc.Flush(); err != nil {
						return
					}
					// The next chunk is written only once the client
					// has read this one: a client that buffered the
					// body would never get it.
					select {
					case <-ack:
					case <-r.Context().Done():
						return
					}
				}
				fmt.Fprint(w, "end")
			}))
			c := e.client(srv.transport())
			ctx, cancel := context.WithTimeout(context.Background(), tpWaitFor)
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/stream", nil)
			resp, err := c.Do(req)
			e.note("do: %s", tpDescribeErr(err))
			if err != nil {
				return
			}
			e.noteHead("resp", req, resp)
			for i := range 5 {
				buf := make([]byte, len("chunk-0;"))
				n, err := io.ReadFull(resp.Body, buf)
				e.note("chunk %d: %q %s", i, buf[:n], tpDescribeErr(err))
				if err != nil {
					break
				}
				select {
				case ack <- struct{}{}:
				case <-ctx.Done():
				}
			}
			rest, err := io.ReadAll(resp.Body)
			e.noteBody("rest", rest, err)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
		}},
		{name: "1 MiB body with Content-Length", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				w.Write(big)
			}))
			c := e.client(srv.transport())
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/big", nil), rec)
				resp, err := c.Do(req)
				body := e.noteResp(fmt.Sprintf("get %d", i), req, resp, err)
				e.want(bytes.Equal(body, big), "body differs from the 1 MiB the server sent")
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "1 MiB chunked body", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				for off := 0; off < len(big); off += 32 << 10 {
					w.Write(big[off : off+32<<10])
					rc.Flush()
				}
			}))
			c := e.client(srv.transport())
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/big", nil)
			resp, err := c.Do(req)
			body := e.noteResp("get", req, resp, err)
			e.want(bytes.Equal(body, big), "body differs from the 1 MiB the server sent")
		}},
		{name: "body read in tiny reads", run: func(e *tpEnv) {
			small := big[:16<<10]
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				for off := 0; off < len(small); off += 1000 {
					w.Write(small[off:min(off+1000, len(small))])
					rc.Flush()
				}
			}))
			c := e.client(srv.transport())
			for _, size := range []int{1, 7} {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/small", nil), rec)
				resp, err := c.Do(req)
				e.note("do: %s", tpDescribeErr(err))
				if err != nil {
					continue
				}
				var got []byte
				buf := make([]byte, size)
				var rerr error
				reads := 0
				for {
					n, err := resp.Body.Read(buf)
					reads++
					got = append(got, buf[:n]...)
					if n > size {
						e.t.Errorf("Read returned %d bytes into a %d-byte buffer", n, size)
					}
					if err != nil {
						rerr = err
						break
					}
				}
				e.want(bytes.Equal(got, small), "body read %d bytes at a time differs", size)
				e.note("read %d at a time: %s eof=%v", size, tpDescribeErr(rerr), rerr == io.EOF)
				e.noteBody("got", got, nil)
				e.note("read after EOF: %s", tpDescribeErr(func() error { _, err := resp.Body.Read(buf); return err }()))
				e.note("close: %s", tpDescribeErr(resp.Body.Close()))
				e.note("close again: %s", tpDescribeErr(resp.Body.Close()))
				e.note("read after close: %s", tpDescribeErr(func() error { _, err := resp.Body.Read(buf); return err }()))
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "gzip transparently decompressed", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Test-Accept-Encoding", r.Header.Get("Accept-Encoding"))
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				zw.Write(big[:100<<10])
				zw.Close()
			}))
			c := e.client(srv.transport())
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/gz", nil), rec)
				resp, err := c.Do(req)
				body := e.noteResp(fmt.Sprintf("get %d", i), req, resp, err)
				e.want(bytes.Equal(body, big[:100<<10]), "decompressed body differs")
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "trailers", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Test-Trailer")
				w.Write([]byte("body"))
				http.NewResponseController(w).Flush()
				w.Header().Set("X-Test-Trailer", "done")
			}))
			c := e.client(srv.transport())
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/t", nil)
			resp, err := c.Do(req)
			e.noteResp("get", req, resp, err)
			if resp != nil {
				e.note("trailer after EOF=%v", resp.Trailer)
			}
		}},
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Responses without a body
// ---------------------------------------------------------------------------

func TestTransparencyNoBodyIdentity(t *testing.T) {
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		proto := tpProtoName(kind)
		for _, tc := range []struct{ method, path string }{
			{"HEAD", "/200"}, {"GET", "/204"}, {"GET", "/304"}, {"GET", "/empty"},
		} {
			cases = append(cases, tpCase{name: proto + " " + tc.method + " " + tc.path, run: func(e *tpEnv) {
				srv := e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch r.URL.Path {
					case "/200":
						w.Header().Set("Content-Length", "1234")
						w.WriteHeader(200)
					case "/204":
						w.WriteHeader(204)
					case "/304":
						w.WriteHeader(304)
					case "/empty":
						w.Header().Set("Content-Length", "0")
						w.WriteHeader(200)
					}
				}))
				c := e.client(srv.transport())
				for i := range 2 {
					rec := &tpHookRec{}
					req := tpTraced(tpNewReq(e.t, context.Background(), tc.method, srv.URL+tc.path, nil), rec)
					resp, err := c.Do(req)
					e.noteResp(fmt.Sprint("req ", i), req, resp, err)
					e.note("reused=%v", rec.reuses())
				}
			}})
		}
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Expect: 100-continue
// ---------------------------------------------------------------------------

func TestTransparencyExpectContinue(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/read":
			tpEcho(w, r)
		case "/noread":
			w.Header().Set("X-Test-Expect", r.Header.Get("Expect"))
			fmt.Fprint(w, "did not read the body")
		case "/417":
			w.WriteHeader(http.StatusExpectationFailed)
			fmt.Fprint(w, "no thanks")
		default:
			fmt.Fprint(w, "ok")
		}
	})
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		proto := tpProtoName(kind)
		for _, path := range []string{"/read", "/noread", "/417"} {
			cases = append(cases, tpCase{name: proto + " " + path, run: func(e *tpEnv) {
				srv := e.server(kind, handler)
				tr := srv.transport()
				tr.ExpectContinueTimeout = tpWaitFor
				c := e.client(tr)
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+path, bytes.NewReader(tpPayload(4096))), rec)
				req.Header.Set("Expect", "100-continue")
				resp, err := c.Do(req)
				e.noteResp("expect", req, resp, err)
				rec.waitHooks()
				e.note("hooks=%v", rec.sorted())
				// What happens to the connection afterwards.
				rec = &tpHookRec{}
				req = tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/next", nil), rec)
				resp, err = c.Do(req)
				e.noteResp("next", req, resp, err)
				e.note("next reused=%v accepted=%d", rec.reuses(), srv.accepted.Load())
			}})
		}
	}
	tpRunCases(t, cases)
}
