package http2

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/httptop/httptop/poolstats"
	"github.com/httptop/httptop/tracer"
)

// recorder is the RoundTripper behind the probe: it notes whether the
// request it got carries the legacy Request.Cancel channel.
type recorder struct{ cancel bool }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	//lint:ignore SA1019 the deprecated field is what net/http sets for RoundTrippers it does not know.
	r.cancel = req.Cancel != nil
	return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Request: req}, nil
}

// unknown is a probe under any other name.
type unknown struct{ tracer.Transport }

// TestKnownToHTTPClient pins the trick this package exists for: an
// http.Client with a Timeout cancels a request through its context only
// for RoundTrippers it knows, which include any type named
// "*http2.Transport"; for others it sets the legacy Request.Cancel and
// starts a timer goroutine. If a Go release drops the name from
// net/http's knownRoundTripperImpl, this fails, rather than wrapped
// clients silently timing out differently from bare ones.
func TestKnownToHTTPClient(t *testing.T) {
	if got := reflect.TypeOf(&Transport{}).String(); got != "*http2.Transport" {
		t.Fatalf("the probe's type is %s, want *http2.Transport", got)
	}
	stats := poolstats.New(poolstats.Options{})
	for _, tc := range []struct {
		name       string
		rt         func(next http.RoundTripper) http.RoundTripper
		wantLegacy bool
	}{
		{"*http2.Transport", func(next http.RoundTripper) http.RoundTripper {
			p := new(Transport)
			p.Next, p.Tracer = next, tracer.New(stats, stats.Client("known"), tracer.Options{})
			return p
		}, false},
		{"another name", func(next http.RoundTripper) http.RoundTripper {
			p := new(unknown)
			p.Next, p.Tracer = next, tracer.New(stats, stats.Client("unknown"), tracer.Options{})
			return p
		}, true},
	} {
		rec := &recorder{}
		client := &http.Client{Timeout: time.Minute, Transport: tc.rt(rec)}
		resp, err := client.Get("http://example.invalid/")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if rec.cancel != tc.wantLegacy {
			t.Errorf("%s: the request carries Request.Cancel: %v, want %v (net/http's knownRoundTripperImpl changed?)", tc.name, rec.cancel, tc.wantLegacy)
		}
	}
}
