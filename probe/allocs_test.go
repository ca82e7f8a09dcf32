package probe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The allocations the probe adds to a request, per path: the figures the
// README gives. Each case sends the same keep-alive GET many times, bare
// and wrapped, through a real transport and a loopback server, and
// compares the allocations per request (testing.AllocsPerRun counts the
// whole process: the server's allocations are the same in both runs).
//
//   - *http.Transport, HTTP/1.1: the request's context and the body
//     wrapper; the span comes from a pool, and sends again the shallow
//     copies of the request (a RoundTripper may not modify the one it is
//     given) it sent before (tracer.Span.sendCopy).
//   - *http.Transport, HTTP/2: the same and a new copy of each request
//     (an HTTP/2 connection never tells when the transport is done with
//     one).
//   - any other RoundTripper: a span per request, which also holds the
//     context and the body wrapper (it is not recycled, see tracer.Span),
//     its GetConn and GotConn hooks, and the request's copy.
func TestAllocsPerRequest(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	cases := []struct {
		name  string
		h2    bool
		other bool // wrap a RoundTripper that is not an *http.Transport
		added float64
	}{
		{name: "http.Transport HTTP/1.1", added: 2},
		{name: "http.Transport HTTP/2", h2: true, added: 3},
		{name: "other RoundTripper", other: true, added: 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "hello, world")
			})
			srv := httptest.NewUnstartedServer(handler)
			if tc.h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			t.Cleanup(srv.Close)
			perRequest := func(wrap bool) float64 {
				tr := srv.Client().Transport.(*http.Transport).Clone()
				t.Cleanup(tr.CloseIdleConnections)
				var rt http.RoundTripper = tr
				if tc.other {
					rt = otherRT{tr}
				}
				if wrap {
					rt = Wrap(rt, WithCollector(NewCollector(CollectorOptions{})))
				}
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				proto := ""
				get := func() {
					resp, err := rt.RoundTrip(req)
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					proto = resp.Proto
				}
				for range 100 {
					get() // connections, pools and buffers in place
				}
				if want := map[bool]string{false: "HTTP/1.1", true: "HTTP/2.0"}[tc.h2]; proto != want {
					t.Fatalf("protocol %s, want %s", proto, want)
				}
				return testing.AllocsPerRun(2000, get)
			}
			bare, wrapped := perRequest(false), perRequest(true)
			t.Logf("%s: %.0f allocations per request bare, %.0f wrapped", tc.name, bare, wrapped)
			if got := wrapped - bare; got != tc.added {
				t.Errorf("the probe adds %.0f allocations per request, want %.0f (bare %.0f, wrapped %.0f)", got, tc.added, bare, wrapped)
			}
		})
	}
}

// otherRT is a RoundTripper that is not an *http.Transport: the probe sees
// its requests through their hooks only.
type otherRT struct{ next http.RoundTripper }

func (o otherRT) RoundTrip(req *http.Request) (*http.Response, error) { return o.next.RoundTrip(req) }
