package promexport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/httptop/httptop/probe"
)

// BenchmarkScrape measures one scrape of the agent's handler (text
// format) for a collector with 1,000 hosts: reading the collector,
// folding past MaxHosts, building the metrics and encoding them. With
// max=default, 100 hosts have series of their own and 900 are folded
// into other; with max=1000 every host has its own.
func BenchmarkScrape(b *testing.B) {
	tf := newTraffic(b, okHandler)
	const hosts = 1000
	tf.tr.MaxIdleConnsPerHost = 1
	for i := range hosts {
		for range 3 {
			tf.get(b, fmt.Sprintf("host-%d.test", i), "/")
		}
	}
	for _, max := range []int{0, hosts} {
		name := "max=default"
		if max > 0 {
			name = fmt.Sprintf("max=%d", max)
		}
		b.Run(fmt.Sprintf("hosts=%d/%s", hosts, name), func(b *testing.B) {
			h := NewHandler(tf.col, Options{MaxHosts: max})
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// hookTransport answers in memory, firing the httptrace hooks the way
// http.Transport does for a request on a reused keep-alive connection, so
// that a benchmark measures the probe and nothing of the network.
type hookTransport struct{ conn net.Conn }

func (f hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil {
		trace.GetConn(req.URL.Host)
		trace.GotConn(httptrace.GotConnInfo{Conn: f.conn, Reused: true, WasIdle: true})
		if trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{})
		}
		trace.GotFirstResponseByte()
	}
	return &http.Response{StatusCode: http.StatusOK, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("hello, world")), ContentLength: 12, Request: req}, nil
}

// BenchmarkRequest measures one request through the probe (in memory,
// as probe's BenchmarkInMemory) with no exporter and with a promexport
// collector registered and scraped every 100 ms meanwhile: registering
// must not change the per-request cost.
//
//	go test ./promexport -run '^$' -bench Request -count 10 > req.txt
//	benchstat -col /collector req.txt
func BenchmarkRequest(b *testing.B) {
	for _, variant := range []string{"none", "registered"} {
		b.Run("collector="+variant, func(b *testing.B) {
			c1, c2 := net.Pipe()
			b.Cleanup(func() { c1.Close(); c2.Close() })
			col := probe.NewCollector(probe.CollectorOptions{})
			rt := probe.Wrap(hookTransport{c1}, probe.WithCollector(col))
			if variant == "registered" {
				reg := prometheus.NewRegistry()
				reg.MustRegister(New(col, Options{}))
				stop := make(chan struct{})
				var wg sync.WaitGroup
				wg.Go(func() {
					tick := time.NewTicker(100 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-stop:
							return
						case <-tick.C:
							if _, err := reg.Gather(); err != nil {
								b.Error(err)
							}
						}
					}
				})
				b.Cleanup(func() { close(stop); wg.Wait() })
			}
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://example.com/", nil)
			buf := make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := resp.Body.Read(buf); err != nil {
						break
					}
				}
				resp.Body.Close()
			}
		})
	}
}
