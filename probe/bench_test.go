package probe

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"
)

// hookTransport is an in-memory RoundTripper that fires the httptrace hooks
// the way http.Transport does for a request on a reused keep-alive
// connection (GetConn, GotConn, WroteHeaders, WroteRequest,
// GotFirstResponseByte) and returns a canned response. It isolates the
// probe's own cost from the network's.
type hookTransport struct {
	conn net.Conn
	body []byte
}

func newHookTransport(b testing.TB) *hookTransport {
	c1, c2 := net.Pipe()
	b.Cleanup(func() { c1.Close(); c2.Close() })
	return &hookTransport{conn: c1, body: []byte("hello, world")}
}

func (f *hookTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if trace := httptrace.ContextClientTrace(req.Context()); trace != nil {
		if trace.GetConn != nil {
			trace.GetConn("example.com:80")
		}
		if trace.GotConn != nil {
			trace.GotConn(httptrace.GotConnInfo{Conn: f.conn, Reused: true, WasIdle: true, IdleTime: time.Millisecond})
		}
		if trace.WroteHeaders != nil {
			trace.WroteHeaders()
		}
		if trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{})
		}
		if trace.GotFirstResponseByte != nil {
			trace.GotFirstResponseByte()
		}
	}
	return &http.Response{
		StatusCode:    http.StatusOK,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(f.body)),
		ContentLength: int64(len(f.body)),
		Request:       req,
	}, nil
}

// BenchmarkInMemory measures one request through the in-memory transport,
// bare and wrapped: the difference is what the probe adds per request.
func BenchmarkInMemory(b *testing.B) {
	for _, wrapped := range []bool{false, true} {
		b.Run(name(wrapped), func(b *testing.B) {
			var rt http.RoundTripper = newHookTransport(b)
			if wrapped {
				rt = Wrap(rt, WithCollector(NewCollector(CollectorOptions{})), withRecycling())
			}
			req, _ := http.NewRequestWithContext(context.Background(), "GET", "http://example.com/", nil)
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

// BenchmarkLoopback measures a keep-alive GET to a loopback server through
// http.Client, sequentially and from 64 goroutines: bare, with the probe,
// and (rt=hooks, the floor of any httptrace-based tool) with empty
// functions in the two hooks the probe uses.
func BenchmarkLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world")
	}))
	b.Cleanup(srv.Close)
	for _, par := range []int{1, 64} {
		for _, variant := range []string{"bare", "hooks", "probe"} {
			b.Run("rt="+variant+"/"+parName(par), func(b *testing.B) {
				tr := &http.Transport{MaxIdleConnsPerHost: par}
				b.Cleanup(tr.CloseIdleConnections)
				var rt http.RoundTripper = tr
				switch variant {
				case "hooks":
					rt = emptyHooks{tr}
				case "probe":
					rt = Wrap(tr, WithCollector(NewCollector(CollectorOptions{})))
				}
				client := &http.Client{Transport: rt}
				get := func() {
					resp, err := client.Get(srv.URL)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				get() // dial outside the measurement
				b.ReportAllocs()
				if par == 1 {
					for b.Loop() {
						get()
					}
					return
				}
				b.SetParallelism(par / max(1, runtimeProcs()))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						get()
					}
				})
			})
		}
	}
}

// emptyHooks puts a ClientTrace with empty functions in the hooks the
// probe uses (GetConn, GotConn) on every request's context.
type emptyHooks struct{ rt http.RoundTripper }

func (e emptyHooks) RoundTrip(req *http.Request) (*http.Response, error) {
	trace := &httptrace.ClientTrace{
		GetConn: func(string) {},
		GotConn: func(httptrace.GotConnInfo) {},
	}
	return e.rt.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
}

// name is the sub-benchmark key that benchstat compares by:
//
//	go test ./probe -run '^$' -bench . -count 10 > bench.txt
//	benchstat -col /rt bench.txt
func name(wrapped bool) string {
	if wrapped {
		return "rt=probe"
	}
	return "rt=bare"
}

func parName(p int) string {
	if p == 1 {
		return "conc=1"
	}
	return "conc=64"
}

var procsOnce = sync.OnceValue(func() int { return testingProcs() })

func runtimeProcs() int { return procsOnce() }
