package probe_test

// Transparency of connection pools: many goroutines on one client, with
// the probe's counts checked against what the program saw, and
// CloseIdleConnections.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// ---------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------

func TestTransparencyConcurrency(t *testing.T) {
	const (
		n        = 1000
		maxConns = 16
	)
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		name := "1000 goroutines, one HTTP/1.1 client"
		if kind == kindH2 {
			name = "1000 goroutines, one HTTP/2 client"
		}
		cases = append(cases, tpCase{name: name, run: func(e *tpEnv) { tpConcurrencyRun(e, kind, n, maxConns) }})
	}
	tpRunCases(t, cases)
}

// tpConcurrencyRun sends n requests at once through one client, a fifth of
// each kind: GET, POST, canceled before starting, canceled while reading
// the body, canceled as soon as it asks for a connection.
func tpConcurrencyRun(e *tpEnv, kind tpSrvKind, n, maxConns int) {
	srv := e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			w.Write([]byte("partial"))
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
		default:
			tpEcho(w, r)
		}
	}))
	tr := srv.transport()
	tr.MaxConnsPerHost = maxConns
	tr.MaxIdleConnsPerHost = maxConns
	c := e.client(tr)
	start, begin := tpSignal()
	var (
		wg                        sync.WaitGroup
		doErrs, bodyErrs, gotConn atomic.Int64
	)
	results := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &tpHookRec{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			trace := rec.trace()
			gc := trace.GotConn
			trace.GotConn = func(info httptrace.GotConnInfo) { gotConn.Add(1); gc(info) }
			kind := i % 5
			var req *http.Request
			switch kind {
			case 0: // GET
				req, _ = http.NewRequest("GET", fmt.Sprintf("%s/get/%d", srv.URL, i), nil)
			case 1: // POST with a body
				req, _ = http.NewRequest("POST", srv.URL+"/post", strings.NewReader(fmt.Sprint("body ", i)))
			case 2: // canceled before it starts
				cancel()
				req, _ = http.NewRequest("GET", srv.URL+"/canceled", nil)
			case 3: // canceled while reading the body
				req, _ = http.NewRequest("GET", srv.URL+"/stall", nil)
			case 4: // canceled as soon as it asks for a connection
				gc := trace.GetConn
				trace.GetConn = func(hp string) { gc(hp); cancel() }
				req, _ = http.NewRequest("GET", srv.URL+"/racy", nil)
			}
			req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
			<-start
			resp, err := c.Do(req)
			if err != nil {
				doErrs.Add(1)
				results[i] = fmt.Sprintf("kind %d: do canceled=%v", kind, errors.Is(err, context.Canceled))
				if kind == 4 && errors.Is(err, context.Canceled) {
					results[i] = "kind 4: ok or canceled"
				}
				return
			}
			defer resp.Body.Close()
			var body []byte
			var rerr error
			if kind == 3 {
				buf := make([]byte, len("partial"))
				_, rerr = io.ReadFull(resp.Body, buf)
				cancel()
				if rerr == nil {
					_, rerr = io.ReadAll(resp.Body)
				}
			} else {
				body, rerr = io.ReadAll(resp.Body)
			}
			if rerr != nil {
				bodyErrs.Add(1)
			}
			switch kind {
			case 0:
				results[i] = fmt.Sprintf("kind 0: ok=%v", rerr == nil && string(body) == fmt.Sprintf("GET /get/%d body=\"\"", i))
			case 1:
				results[i] = fmt.Sprintf("kind 1: ok=%v", rerr == nil && string(body) == fmt.Sprintf("POST /post body=\"body %d\"", i))
			case 3:
				results[i] = fmt.Sprintf("kind 3: body canceled=%v", errors.Is(rerr, context.Canceled))
			case 4:
				results[i] = fmt.Sprintf("kind 4: unexpected body error %v", rerr)
				if rerr == nil || errors.Is(rerr, context.Canceled) {
					results[i] = "kind 4: ok or canceled"
				}
			}
		}()
	}
	begin()
	wg.Wait()
	counts := map[string]int{}
	for _, r := range results {
		counts[r]++
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		e.note("%s: %d", k, counts[k])
	}
	if e.col == nil {
		return
	}
	tpSettle(e.t, e)
	s := e.col.Snapshot()
	var requests, errs, conns int64
	for _, h := range s.Hosts {
		requests += h.Requests
		errs += h.Errors
		conns += h.NewConns + h.ReusedConns
		if h.Open != h.Active+h.Idle {
			e.t.Errorf("host %s: open %d != active %d + idle %d", h.Host, h.Open, h.Active, h.Idle)
		}
	}
	if requests != int64(n) {
		e.t.Errorf("snapshot counts %d requests, %d were issued%s", requests, n, tpHostSummary(s))
	}
	if want := doErrs.Load() + bodyErrs.Load(); errs != want {
		e.t.Errorf("snapshot counts %d errors, the program saw %d (%d from Do, %d from reading bodies)",
			errs, want, doErrs.Load(), bodyErrs.Load())
	}
	if conns != gotConn.Load() {
		e.t.Errorf("snapshot counts %d connections handed to requests, the program's GotConn hooks saw %d", conns, gotConn.Load())
	}
}

// ---------------------------------------------------------------------------
// CloseIdleConnections
// ---------------------------------------------------------------------------

func TestTransparencyCloseIdleConnections(t *testing.T) {
	const conns = 3
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		name := "HTTP/1.1: three idle connections"
		if kind == kindH2 {
			name = "HTTP/2: one idle connection"
		}
		cases = append(cases, tpCase{name: name, run: func(e *tpEnv) {
			var arrived atomic.Int64
			all, allArrived := tpSignal()
			want := int64(conns)
			if kind == kindH2 {
				want = 1
			}
			srv := e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/hold" {
					if arrived.Add(1) == conns {
						allArrived()
					}
					select {
					case <-all:
					case <-r.Context().Done():
						return
					}
				}
				fmt.Fprint(w, "ok")
			}))
			e.t.Cleanup(allArrived)
			tr := srv.transport()
			tr.MaxIdleConnsPerHost = conns // the default, 2, would close one
			c := e.client(tr)
			if kind == kindH2 {
				// Establish the connection first, so that the
				// concurrent requests share it.
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/first", nil)
				resp, err := c.Do(req)
				e.noteResp("first", req, resp, err)
			}
			var wg sync.WaitGroup
			for range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), tpWaitFor)
					defer cancel()
					req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/hold", nil)
					resp, err := c.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			e.note("server open before CloseIdleConnections=%d", tpWaitOpen(srv, want))
			if e.col != nil {
				tpSettle(e.t, e)
			}
			c.CloseIdleConnections()
			e.note("server open after CloseIdleConnections=%d", tpWaitOpen(srv, 0))
		}})
	}
	tpRunCases(t, cases)
}
