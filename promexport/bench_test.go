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

// BenchmarkScrape measures one scrape of NewHandler (what the agent
// serves) for a collector with 1,000 hosts, each with an idle keep-alive
// connection: reading the collector, folding past MaxHosts, encoding. With
// max=default, 100 hosts have series of their own and 900 are folded into
// other; with max=1000 every host has its own. The text format is written
// directly; protobuf (what Prometheus asks for with native histograms)
// goes through client_golang's registry.
//
//	go test ./promexport -run '^$' -bench Scrape -benchtime 30x -count 5
func BenchmarkScrape(b *testing.B) {
	tf := newTraffic(b, okHandler)
	const hosts = 1000
	tf.tr.MaxIdleConnsPerHost = 1
	for i := range hosts {
		for range 3 {
			tf.get(b, fmt.Sprintf("host-%d.test", i), "/")
		}
	}
	formats := []struct{ name, accept, encoding string }{
		{"text", "", ""},
		{"text+gzip", "", "gzip"},
		{"protobuf", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", ""},
	}
	for _, max := range []int{0, hosts} {
		name := "max=default"
		if max > 0 {
			name = fmt.Sprintf("max=%d", max)
		}
		for _, f := range formats {
			b.Run(fmt.Sprintf("hosts=%d/%s/format=%s", hosts, name, f.name), func(b *testing.B) {
				h := NewHandler(tf.col, Options{MaxHosts: max})
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if f.accept != "" {
					req.Header.Set("Accept", f.accept)
				}
				if f.encoding != "" {
					req.Header.Set("Accept-Encoding", f.encoding)
				}
				b.ReportAllocs()
				var w discardWriter
				for b.Loop() {
					w = discardWriter{header: w.header}
					h.ServeHTTP(&w, req)
					if w.code != 0 && w.code != http.StatusOK {
						b.Fatalf("status %d", w.code)
					}
				}
				b.ReportMetric(float64(w.n), "bytes/scrape")
			})
		}
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

// discardWriter is an http.ResponseWriter that counts the body and drops
// it, as a socket would take it.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header {
	if w.header == nil {
		w.header = make(http.Header)
	}
	return w.header
}

func (w *discardWriter) WriteHeader(code int) { w.code = code }

func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
