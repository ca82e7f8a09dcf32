package probe_test

// Transparency of failures: connections reset or closed at every point of
// an exchange, and errors from the network and from TLS.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// ---------------------------------------------------------------------------
// Connection resets
// ---------------------------------------------------------------------------

// tpResetHandler closes the connection at the point its path names, with an
// RST (SO_LINGER 0) or a FIN. Before closing after the headers or part of
// the body it waits for the client to say it has read them (clientRead),
// so that what the client sees does not depend on timing.
func tpResetHandler(clientRead <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		rst := strings.HasPrefix(r.URL.Path, "/rst")
		wait := func() bool {
			select {
			case <-clientRead:
				return true
			case <-r.Context().Done():
				return false
			}
		}
		switch strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/rst"), "/fin") {
		case "-before-headers":
			tpHijackClose(w, rst)
		case "-after-headers":
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
			if wait() {
				tpHijackClose(w, rst)
			}
		case "-mid-body":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("0123456789"))
			http.NewResponseController(w).Flush()
			if wait() {
				tpHijackClose(w, rst)
			}
		case "-mid-chunked-body":
			w.Write([]byte("0123456789"))
			http.NewResponseController(w).Flush()
			if wait() {
				tpHijackClose(w, rst)
			}
		default:
			fmt.Fprint(w, "ok")
		}
	})
}

func TestTransparencyResets(t *testing.T) {
	var cases []tpCase
	for _, how := range []string{"rst", "fin"} {
		for _, when := range []string{"before-headers", "after-headers", "mid-body", "mid-chunked-body"} {
			for _, warm := range []bool{false, true} {
				name := how + " " + when
				if warm {
					name += " on a reused connection"
				}
				path := "/" + how + "-" + when
				cases = append(cases, tpCase{name: name, run: func(e *tpEnv) {
					clientRead, read := tpSignal()
					srv := e.server(kindHTTP1, tpResetHandler(clientRead))
					c := e.client(srv.transport())
					if warm {
						req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/warm", nil)
						resp, err := c.Do(req)
						e.noteResp("warm", req, resp, err)
					}
					rec := &tpHookRec{}
					req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+path, nil), rec)
					resp, err := c.Do(req)
					e.note("do: %s", tpDescribeErr(err))
					e.note("reused=%v", rec.reuses())
					if err == nil {
						e.noteHead("resp", req, resp)
						buf := make([]byte, 10)
						if when != "after-headers" {
							n, err := io.ReadFull(resp.Body, buf)
							e.note("first read: %q %s", buf[:n], tpDescribeErr(err))
						}
						read()
						rest, err := io.ReadAll(resp.Body)
						e.noteBody("rest", rest, err)
						e.want(err != nil, "the body read did not fail")
						e.note("close: %s", tpDescribeErr(resp.Body.Close()))
					}
					// The connection is gone, so a new request dials.
					rec = &tpHookRec{}
					req = tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/after", nil), rec)
					resp, err = c.Do(req)
					e.noteResp("after", req, resp, err)
					e.note("after reused=%v", rec.reuses())
					e.note("server open=%d accepted=%d", tpWaitOpen(srv, 1), srv.accepted.Load())
				}})
			}
		}
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Errors from the network and from TLS, through the probe's dial hook
// ---------------------------------------------------------------------------

func TestTransparencyErrors(t *testing.T) {
	type errCase struct {
		name string
		run  func(e *tpEnv) (*http.Client, string)
	}
	closedPort := func(e *tpEnv) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			e.t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	table := []errCase{
		{name: "connection refused", run: func(e *tpEnv) (*http.Client, string) {
			return e.client(&http.Transport{}), "http://" + closedPort(e) + "/"
		}},
		{name: "custom DialContext error", run: func(e *tpEnv) (*http.Client, string) {
			tr := &http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
				return nil, &tpTestDialError{addr: "somewhere"}
			}}
			return e.client(tr), "http://" + closedPort(e) + "/"
		}},
		{name: "DialContext returning nil, nil", run: func(e *tpEnv) (*http.Client, string) {
			tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, nil }}
			return e.client(tr), "http://" + closedPort(e) + "/"
		}},
		{name: "certificate signed by unknown authority", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindH2, http.HandlerFunc(tpEcho))
			return e.client(&http.Transport{}), srv.URL + "/"
		}},
		{name: "certificate for another name", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindTLSHTTP1, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			tr.TLSClientConfig.ServerName = "other.example"
			return e.client(tr), srv.URL + "/"
		}},
		{name: "TLS to a plain HTTP server", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			return e.client(&http.Transport{}), strings.Replace(srv.URL, "http://", "https://", 1) + "/"
		}},
		{name: "plain HTTP to a TLS server", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindTLSHTTP1, http.HandlerFunc(tpEcho))
			return e.client(srv.transport()), strings.Replace(srv.URL, "https://", "http://", 1) + "/"
		}},
		{name: "malformed response", run: func(e *tpEnv) (*http.Client, string) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				e.t.Fatal(err)
			}
			var wg sync.WaitGroup
			e.t.Cleanup(func() { ln.Close(); wg.Wait() })
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					bufio.NewReader(c).ReadString('\n')
					c.Write([]byte("HELLO THERE\r\n\r\n"))
					c.Close()
				}
			}()
			return e.client(&http.Transport{}), "http://" + ln.Addr().String() + "/"
		}},
	}
	var cases []tpCase
	for _, ec := range table {
		cases = append(cases, tpCase{name: ec.name, run: func(e *tpEnv) {
			c, u := ec.run(e)
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), "GET", u, nil), rec)
			resp, err := c.Do(req)
			e.noteResp("err", req, resp, err)
			rec.waitHooks()
			e.note("hooks=%v", rec.sorted())
		}})
	}
	tpRunCases(t, cases)
}
