package promexport

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
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
