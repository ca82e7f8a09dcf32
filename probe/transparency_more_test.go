package probe_test

// More shapes of use: full-duplex streaming, proxies, Request.Close, probes
// stacked on one transport.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/httptop/httptop/probe"
)

// tpFullDuplexHandler echoes each line of the request body as soon as it
// arrives.
func tpFullDuplexHandler(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	rc.EnableFullDuplex()
	w.Header().Set("X-Test-Duplex", "yes")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	br := bufio.NewReader(r.Body)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			fmt.Fprintf(w, "echo %s", line)
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// tpProxyServer is a forward proxy on a raw listener: it answers plain HTTP
// requests for absolute URLs itself and tunnels CONNECT requests to their
// target. It counts its client connections.
type tpProxyServer struct {
	*tpRawServer
	log tpServerLog
}

func (e *tpEnv) proxy() *tpProxyServer {
	p := &tpProxyServer{}
	p.tpRawServer = e.rawServer(p.serve)
	return p
}

func (p *tpProxyServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		p.log.add("%s %s", req.Method, tpNormMsg(req.RequestURI))
		if req.Method == http.MethodConnect {
			target, err := net.Dial("tcp", req.Host)
			if err != nil {
				fmt.Fprint(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
				continue
			}
			fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			done := make(chan struct{})
			go func() {
				io.Copy(target, br)
				target.Close()
				close(done)
			}()
			io.Copy(c, target)
			c.Close()
			<-done
			return
		}
		body, _ := io.ReadAll(req.Body)
		msg := fmt.Sprintf("proxied %s %s body=%q", req.Method, tpNormMsg(req.URL.String()), body)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Test-Proxy: yes\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
	}
}

func TestTransparencyMore(t *testing.T) {
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		proto := tpProtoName(kind)
		cases = append(cases, tpCase{name: proto + " full-duplex streaming request and response", run: func(e *tpEnv) {
			srv := e.server(kind, http.HandlerFunc(tpFullDuplexHandler))
			c := e.client(srv.transport())
			ctx, cancel := context.WithTimeout(context.Background(), tpWaitFor)
			defer cancel()
			pr, pw := io.Pipe()
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, ctx, "POST", srv.URL+"/duplex", pr), rec)
			// Headers come back while the request body is still open.
			resp, err := c.Do(req)
			e.note("do: %s", tpDescribeErr(err))
			if err != nil {
				pw.Close()
				return
			}
			e.noteHead("duplex", req, resp)
			br := bufio.NewReader(resp.Body)
			for i := range 3 {
				fmt.Fprintf(pw, "line %d\n", i)
				line, err := br.ReadString('\n')
				e.note("sent line %d, got %q %s", i, line, tpDescribeErr(err))
			}
			pw.Close()
			rest, err := io.ReadAll(br)
			e.noteBody("rest", rest, err)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
			rec.waitHooks()
			e.note("hooks=%v", rec.sorted())
		}})
	}
	cases = append(cases,
		tpCase{name: "plain HTTP through a forward proxy", run: func(e *tpEnv) {
			p := e.proxy()
			proxyURL, _ := url.Parse("http://" + p.ln.Addr().String())
			tr := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
			c := e.client(tr)
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", "http://backend.invalid/x", strings.NewReader(fmt.Sprint("body ", i))), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("proxied ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("proxy saw: %s; accepted=%d", p.log.String(), p.accepted.Load())
		}},
		tpCase{name: "HTTPS through a CONNECT proxy", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(tpEcho))
			p := e.proxy()
			proxyURL, _ := url.Parse("http://" + p.ln.Addr().String())
			tr := srv.transport()
			tr.Proxy = http.ProxyURL(proxyURL)
			c := e.client(tr)
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/x", strings.NewReader(fmt.Sprint("body ", i))), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("tunneled ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("proxy saw: %s; accepted=%d", p.log.String(), p.accepted.Load())
			// The backend's connection is the proxy's, not the
			// client's: compare the proxy's count only.
			e.counters = []tpConnCounter{p}
		}},
		tpCase{name: "Request.Close", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil), rec)
				req.Close = true
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("close ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("server open=%d accepted=%d", tpWaitOpen(srv, 0), srv.accepted.Load())
		}},
		tpCase{name: "two probes stacked on one transport", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			e.t.Cleanup(tr.CloseIdleConnections)
			if e.mode.wrap {
				e.instrumented = true
			}
			rt := tr
			var outer http.RoundTripper = rt
			if e.mode.wrap {
				outer = probe.Wrap(probe.Wrap(rt, probe.WithCollector(e.col), probe.WithName("inner")),
					probe.WithCollector(e.col), probe.WithName("outer"))
			}
			c := &http.Client{Transport: outer}
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("stacked ", i), req, resp, err)
				rec.waitHooks()
				e.note("hooks=%v", rec.sorted())
			}
		}},
		tpCase{name: "two probes side by side on one transport", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			a := e.client(tr)
			b := &http.Client{Transport: tr}
			if e.mode.wrap {
				b.Transport = probe.Wrap(tr, probe.WithCollector(e.col), probe.WithName("second"))
			}
			for i, c := range []*http.Client{a, b, a, b} {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("client ", i%2), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("accepted=%d", srv.accepted.Load())
		}},
	)
	tpRunCases(t, cases)
}
