package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

func newServer(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world")
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// Every variant sends a GET and reads its body, and the round robin
// returns one time per request and variant.
func TestVariants(t *testing.T) {
	srv := newServer(t)
	vs := Variants()
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			c := v.New(NewTransport())
			defer c.Close()
			for range 3 {
				if err := c.Get(srv.URL); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	samples, err := RoundRobin(vs, RoundRobinOptions{URL: srv.URL, Warm: 2, Iterations: 5})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range samples {
		if s.Variant != vs[i].Name || len(s.Times) != 5 || Median(s.Times) <= 0 {
			t.Errorf("sample %d: %s with %d times (median %v), want %s with 5", i, s.Variant, len(s.Times), Median(s.Times), vs[i].Name)
		}
	}
	if _, err := Select([]string{"bare", "nope"}); err == nil {
		t.Error("Select of an unknown variant: no error")
	}
}

// BenchmarkGet measures one keep-alive loopback GET per variant,
// sequentially and from 64 goroutines. Compare with
//
//	benchstat -col /v get.txt
func BenchmarkGet(b *testing.B) {
	srv := newServer(b)
	for _, par := range []int{1, 64} {
		for _, v := range Variants() {
			b.Run(fmt.Sprintf("conc=%d/v=%s", par, v.Name), func(b *testing.B) {
				c := v.New(NewTransport())
				b.Cleanup(c.Close)
				if err := c.Get(srv.URL); err != nil { // dial outside the measurement
					b.Fatal(err)
				}
				b.ReportAllocs()
				if par == 1 {
					for b.Loop() {
						if err := c.Get(srv.URL); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.SetParallelism(max(1, par/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := c.Get(srv.URL); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
