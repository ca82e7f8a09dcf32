package tracer

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"runtime"
	"testing"
	"time"
)

type ctxKey struct{}

// TestTraceContext pins what traceContext relies on in net/http/httptrace,
// so that a Go release that changes it fails here, loudly, rather than
// sending every request through the slower WithClientTrace: httptrace
// looks a trace up with ctx.Value and one key, which a spy context learns.
func TestTraceContext(t *testing.T) {
	if !fastTraceContext || clientTraceKey == nil {
		t.Fatal("httptrace's context key was not learnt: ContextClientTrace no longer asks ctx.Value for one key, or WithClientTrace stores the trace under another")
	}
	trace := &httptrace.ClientTrace{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "program's"))
	defer cancel()
	tc := &traceContext{Context: parent, trace: trace}
	if got := httptrace.ContextClientTrace(tc); got != trace {
		t.Errorf("ContextClientTrace(traceContext) = %p, want the trace %p", got, trace)
	}
	if got := tc.Value(ctxKey{}); got != "program's" {
		t.Errorf("Value of the program's key = %v, want the parent's value", got)
	}
	// The transport derives contexts from the request's: cancellation
	// must reach them through the parent, without a goroutine per
	// request (context starts one for a parent it does not know, unless
	// the parent leads it to a cancelCtx through Value and Done).
	before := runtime.NumGoroutine()
	children := make([]context.Context, 100)
	cancels := make([]context.CancelFunc, 100)
	for i := range children {
		children[i], cancels[i] = context.WithCancel(tc)
	}
	if after := runtime.NumGoroutine(); after > before+5 {
		t.Errorf("deriving 100 contexts from a traceContext started %d goroutines", after-before)
	}
	cancel()
	for i, c := range children {
		select {
		case <-c.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("child %d not canceled with its parent", i)
		}
		cancels[i]()
	}
}

// A request carrying a traceContext gets its hooks fired by the transport,
// over HTTP/1.1 and HTTP/2.
func TestTraceContextTransport(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		}))
		if h2 {
			srv.EnableHTTP2 = true
			srv.StartTLS()
		} else {
			srv.Start()
		}
		tr := srv.Client().Transport.(*http.Transport)
		var gets, gots int
		trace := &httptrace.ClientTrace{
			GetConn: func(string) { gets++ },
			GotConn: func(httptrace.GotConnInfo) { gots++ },
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req = req.WithContext(&traceContext{Context: context.Background(), trace: trace})
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if gets == 0 || gots != 1 || (resp.ProtoMajor == 2) != h2 {
			t.Errorf("HTTP/2 %v: GetConn fired %d times, GotConn %d, proto %s; want both, GotConn once", h2, gets, gots, resp.Proto)
		}
		tr.CloseIdleConnections()
		srv.Close()
	}
}
