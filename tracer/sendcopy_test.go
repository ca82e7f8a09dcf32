package tracer

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/httptop/httptop/poolstats"
)

// TestRequestCtxOffset fails when a Go release moves or retypes
// http.Request's context field: pooled spans then copy every request anew
// (the probe still works, at one allocation more per request).
func TestRequestCtxOffset(t *testing.T) {
	if requestCtxOffset == 0 {
		t.Fatal("the offset of http.Request's context field was not learnt: pooled spans cannot send their copies again")
	}
}

// TestSendCopyAgain checks which requests send a copy again, sequential
// requests through one span: a copy goes again once a later request got
// its HTTP/1 connection, so a run of keep-alive requests makes two copies
// in all; a response that closes its connection, a request with a Cancel
// channel, or a body closed before EOF make one each time.
func TestSendCopyAgain(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("close") != "" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	var made atomic.Int64
	testHookNewCopy = func() { made.Add(1) }
	t.Cleanup(func() { testHookNewCopy = nil })

	cases := []struct {
		name          string
		query         string
		cancel, early bool
		want          int64 // copies made for 50 requests
	}{
		{name: "keep-alive", want: 2},
		{name: "connection closed", query: "?close=1", want: 50},
		{name: "Cancel channel", cancel: true, want: 50},
		{name: "body closed early", early: true, want: 50},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := poolstats.New(poolstats.Options{})
			tracer := New(st, st.Client("c"), Options{Recycle: true})
			tr := &http.Transport{DialContext: tracer.Dial((&net.Dialer{}).DialContext)}
			t.Cleanup(tr.CloseIdleConnections)
			rt := &Transport{Next: tr, Tracer: tracer}
			made.Store(0)
			for i := range 50 {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/r"+string(rune('a'+i%26))+tc.query, nil)
				if err != nil {
					t.Fatal(err)
				}
				if tc.cancel {
					req.Cancel = make(chan struct{}) //lint:ignore SA1019 the deprecated way must keep working
				}
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				if resp.Request != req {
					t.Fatalf("request %d: Response.Request is not the request sent", i)
				}
				if !tc.early {
					b, err := io.ReadAll(resp.Body)
					if err != nil || string(b) != req.URL.Path {
						t.Fatalf("request %d: body %q (%v), want %q", i, b, err, req.URL.Path)
					}
				}
				resp.Body.Close()
			}
			if got := made.Load(); got != tc.want {
				t.Errorf("%d copies made for 50 requests, want %d", got, tc.want)
			}
		})
	}
}
