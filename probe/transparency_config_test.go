package probe_test

// Transparency of transport configurations: Wrap rewrites DialContext
// (and may set ForceAttemptHTTP2); the protocols and the dial behaviour
// must stay, including for a transport configured after Wrap or used
// bare and wrapped at once.

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/httptop/httptop/probe"
)

func TestTransparencyTransportConfigs(t *testing.T) {
	// trust returns a TLS config trusting srv's certificate.
	trust := func(srv *tpServer) *tls.Config {
		cfg := srv.transport().TLSClientConfig.Clone()
		cfg.NextProtos = nil // the transport adds what it speaks
		return cfg
	}
	// tlsDial dials srv with TLS itself, offering protos.
	tlsDial := func(srv *tpServer, protos ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			cfg := trust(srv)
			cfg.NextProtos = protos
			d := &tls.Dialer{Config: cfg}
			return d.DialContext(ctx, network, addr)
		}
	}
	protocols := func(h1, h2, h2c bool) *http.Protocols {
		p := new(http.Protocols)
		p.SetHTTP1(h1)
		p.SetHTTP2(h2)
		p.SetUnencryptedHTTP2(h2c)
		return p
	}
	type configCase struct {
		name      string
		kind      tpSrvKind
		h2c       bool // the plain server also speaks HTTP/2 without TLS
		inferred  bool // a custom TLS dialer: the probe cannot see connections close
		transport func(srv *tpServer) *http.Transport
	}
	table := []configCase{
		{name: "zero Transport, plain HTTP", kind: kindHTTP1, transport: func(*tpServer) *http.Transport { return &http.Transport{} }},
		{name: "server's client Transport (TLSClientConfig, ForceAttemptHTTP2)", kind: kindH2, transport: func(s *tpServer) *http.Transport { return s.transport() }},
		{name: "TLSClientConfig without ForceAttemptHTTP2", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s)}
		}},
		{name: "TLSClientConfig and custom DialContext with ForceAttemptHTTP2", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), ForceAttemptHTTP2: true, DialContext: (&net.Dialer{}).DialContext}
		}},
		{name: "deprecated Dial", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), Dial: net.Dial} //lint:ignore SA1019 deprecated fields must keep working
		}},
		{name: "DialTLSContext without ForceAttemptHTTP2", kind: kindH2, inferred: true, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{DialTLSContext: tlsDial(s, "http/1.1")}
		}},
		{name: "DialTLSContext with ForceAttemptHTTP2", kind: kindH2, inferred: true, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{DialTLSContext: tlsDial(s, "h2", "http/1.1"), ForceAttemptHTTP2: true}
		}},
		{name: "deprecated DialTLS", kind: kindH2, inferred: true, transport: func(s *tpServer) *http.Transport {
			dial := tlsDial(s, "http/1.1")
			//lint:ignore SA1019 deprecated fields must keep working
			return &http.Transport{DialTLS: func(network, addr string) (net.Conn, error) {
				return dial(context.Background(), network, addr)
			}}
		}},
		{name: "empty TLSNextProto disables HTTP/2", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			tr := s.transport()
			tr.TLSClientConfig.NextProtos = nil
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			return tr
		}},
		{name: "Protocols HTTP/1 only", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), Protocols: protocols(true, false, false)}
		}},
		{name: "Protocols HTTP/2 only", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), Protocols: protocols(false, true, false)}
		}},
		{name: "Protocols unencrypted HTTP/2", kind: kindHTTP1, h2c: true, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{Protocols: protocols(false, false, true)}
		}},
		{name: "DisableKeepAlives", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			tr := s.transport()
			tr.DisableKeepAlives = true
			return tr
		}},
		{name: "DisableCompression", kind: kindHTTP1, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{DisableCompression: true}
		}},
		{name: "MaxIdleConnsPerHost -1 (no idle connections)", kind: kindHTTP1, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{MaxIdleConnsPerHost: -1}
		}},
	}
	var cases []tpCase
	for _, cc := range table {
		cases = append(cases, tpCase{name: cc.name, run: func(e *tpEnv) {
			var configure []func(*httptest.Server)
			if cc.h2c {
				configure = append(configure, func(s *httptest.Server) { s.Config.Protocols = protocols(true, false, true) })
			}
			srv := e.server(cc.kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Test-Proto", r.Proto)
				w.Header().Set("X-Test-Accept-Encoding", r.Header.Get("Accept-Encoding"))
				tpEcho(w, r)
			}), configure...)
			tr := cc.transport(srv)
			c := e.client(tr)
			if cc.inferred {
				// Documented: connections from a custom TLS dialer
				// are inferred, their close is not seen.
				e.instrumented = false
			}
			for i := range 3 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/x", strings.NewReader(fmt.Sprint("body ", i))), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("req ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("accepted=%d", srv.accepted.Load())
		}})
	}
	tpRunCases(t, cases)
}

// TestConfigureAfterWrap pins what Wrap documents for a transport
// configured after it (not a transparency case: the wrapped and the bare
// client differ, on purpose). Wrap decides a transport's protocols from
// the configuration it sees, because writing the transport later would
// race with a bare client using it (TestTransparencySharedTransport). So
// a zero Transport, which speaks HTTP/2 by default, keeps speaking it when
// given a TLSClientConfig after Wrap (without the probe, that config
// would turn HTTP/2 off), as does a clone of it; Protocols set after Wrap
// still decide.
func TestConfigureAfterWrap(t *testing.T) {
	trust := func(srv *httptest.Server) *tls.Config {
		cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		cfg.NextProtos = nil
		return cfg
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(tpEcho))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	col := probe.NewCollector(probe.CollectorOptions{})
	proto := func(rt http.RoundTripper) string {
		t.Helper()
		resp, err := (&http.Client{Transport: rt}).Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Proto
	}
	for _, tt := range []struct {
		name      string
		run       func(wrap bool) string
		bare, got string
	}{
		{"TLSClientConfig set after Wrap", func(wrap bool) string {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			rt := http.RoundTripper(tr)
			if wrap {
				rt = probe.Wrap(tr, probe.WithCollector(col))
			}
			tr.TLSClientConfig = trust(srv)
			return proto(rt)
		}, "HTTP/1.1", "HTTP/2.0"},
		{"cloned after Wrap and given a TLSClientConfig", func(wrap bool) string {
			tr := &http.Transport{}
			if wrap {
				probe.Wrap(tr, probe.WithCollector(col))
			}
			clone := tr.Clone()
			defer clone.CloseIdleConnections()
			clone.TLSClientConfig = trust(srv)
			return proto(clone)
		}, "HTTP/1.1", "HTTP/2.0"},
		{"TLSClientConfig and Protocols HTTP/1 set after Wrap", func(wrap bool) string {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			rt := http.RoundTripper(tr)
			if wrap {
				rt = probe.Wrap(tr, probe.WithCollector(col))
			}
			tr.TLSClientConfig = trust(srv)
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetHTTP1(true)
			return proto(rt)
		}, "HTTP/1.1", "HTTP/1.1"},
	} {
		if got := tt.run(false); got != tt.bare {
			t.Errorf("%s, bare: %s, want %s", tt.name, got, tt.bare)
		}
		if got := tt.run(true); got != tt.got {
			t.Errorf("%s, wrapped: %s, want %s (decided at Wrap)", tt.name, got, tt.got)
		}
	}
}

// TestTransparencySharedTransport wraps a transport before any goroutine
// starts (as Wrap's documentation asks), then uses it bare and through the
// probe at once: the race detector must find nothing (Wrap once deferred
// writing ForceAttemptHTTP2 and DialContext to the first request through
// the probe, racing with the bare client's first request), and both
// clients must get what two bare clients get.
func TestTransparencySharedTransport(t *testing.T) {
	tpRunCases(t, []tpCase{{name: "zero Transport used bare and wrapped at once", run: func(e *tpEnv) {
		srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
		tr := &http.Transport{}
		wrapped := e.client(tr)
		bare := &http.Client{Transport: tr}
		const n = 8
		results := make([]string, 2*n)
		var wg sync.WaitGroup
		for i := range 2 * n {
			c := bare
			if i%2 == 1 {
				c = wrapped
			}
			wg.Go(func() {
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil)
				resp, err := c.Do(req)
				if err != nil {
					results[i] = tpDescribeErr(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				results[i] = fmt.Sprintf("%s %s %q %s", resp.Proto, resp.Status, body, tpDescribeErr(err))
			})
		}
		wg.Wait()
		for i, r := range results {
			e.note("request %d: %s", i, r)
		}
	}}})
}
