package probe_test

// Transparency over HTTP/2: concurrent requests sharing one connection,
// large bodies both ways, redirects on the same connection.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestTransparencyHTTP2(t *testing.T) {
	const concurrent = 8
	big := tpPayload(1 << 20)
	cases := []tpCase{
		{name: "concurrent requests share one connection", run: func(e *tpEnv) {
			var arrived atomic.Int64
			all, allArrived := tpSignal()
			srv := e.server(kindH2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/barrier" {
					// Every request waits for the others: they are
					// in flight at once.
					if arrived.Add(1) == concurrent {
						allArrived()
					}
					select {
					case <-all:
					case <-r.Context().Done():
						return
					}
				}
				w.Header().Set("X-Test-Proto", r.Proto)
				tpEcho(w, r)
			}))
			c := e.client(srv.transport())
			// One request first, so that the connection exists before
			// the concurrent ones ask for it.
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/first", nil), rec)
			resp, err := c.Do(req)
			e.noteResp("first", req, resp, err)
			e.note("first reused=%v", rec.reuses())
			e.want(err == nil && resp.ProtoMajor == 2, "first request did not use HTTP/2")

			results := make([][]string, concurrent)
			var wg sync.WaitGroup
			for i := range concurrent {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rec := &tpHookRec{}
					body := fmt.Sprintf("request %d", i)
					req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/barrier", strings.NewReader(body)), rec)
					resp, err := c.Do(req)
					var out []string
					out = append(out, tpDescribeErr(err))
					if err == nil {
						b, rerr := io.ReadAll(resp.Body)
						resp.Body.Close()
						out = append(out, fmt.Sprintf("status=%d proto=%s req==sent:%v tls=%v body=%q %s",
							resp.StatusCode, resp.Proto, resp.Request == req, resp.TLS != nil, b, tpDescribeErr(rerr)))
					}
					out = append(out, fmt.Sprintf("reused=%v", rec.reuses()))
					results[i] = out
				}()
			}
			wg.Wait()
			for i, r := range results {
				e.note("concurrent %d: %s", i, strings.Join(r, " | "))
			}
			e.note("server accepted=%d open=%d", srv.accepted.Load(), tpWaitOpen(srv, 1))
		}},
		{name: "1 MiB bodies both ways", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				w.Header().Set("X-Test-Got", fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)))
				w.Write(big)
			}))
			c := e.client(srv.transport())
			req := tpNewReq(e.t, context.Background(), "PUT", srv.URL+"/big", bytes.NewReader(big))
			resp, err := c.Do(req)
			body := e.noteResp("put", req, resp, err)
			e.want(bytes.Equal(body, big), "response body differs")
		}},
		{name: "redirect keeps the connection", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/from" {
					http.Redirect(w, r, "/to", http.StatusTemporaryRedirect)
					return
				}
				tpEcho(w, r)
			}))
			c := e.client(srv.transport())
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/from", strings.NewReader("payload")), rec)
			resp, err := c.Do(req)
			e.noteResp("redirected", req, resp, err)
			e.note("reused=%v accepted=%d", rec.reuses(), srv.accepted.Load())
		}},
	}
	tpRunCases(t, cases)
}
