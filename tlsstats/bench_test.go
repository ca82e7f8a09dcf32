package tlsstats

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/tlsstats/tlstest"
)

// TestHelperServers is the server process of tlstest.Start; it skips in
// any other process.
func TestHelperServers(t *testing.T) { tlstest.Serve(t) }

// BenchmarkInspect measures what a snapshot pays per TLS connection:
// Measure (reading the record buffers) and the snapshot's TLS row, over
// n real TLS connections to a server in another process. One op is one
// snapshot of all n; cpu-ns/op is the process's CPU time (garbage
// collection included), which other processes' load does not inflate as
// it does the wall-clock ns/op.
//
//	go test ./tlsstats -run '^$' -bench . -benchmem
func BenchmarkInspect(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			conns, sessions := dialTLS(b, n)
			out := make([]int64, n)
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			for b.Loop() {
				for i, c := range conns {
					m := Measure(Conn{TLS: c, Session: &sessions[i], Proto: HTTP1})
					row := sessions[i].Snapshot(0, m.TLS())
					out[i] = m.Total() + row.MemBytes
				}
			}
			reportCPU(b, cpu0, n)
		})
	}
}

// BenchmarkReadBuffers measures the reflective read alone.
func BenchmarkReadBuffers(b *testing.B) {
	const n = 10000
	conns, _ := dialTLS(b, n)
	var sum int64
	cpu0 := cpuTime(b)
	for b.Loop() {
		for _, c := range conns {
			raw, hand, send, _ := readBuffers(c)
			sum += raw + hand + send
		}
	}
	reportCPU(b, cpu0, n)
}

// cpuTime returns the CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per op since cpu0, and the wall-clock
// time per connection of n.
func reportCPU(b *testing.B, cpu0 time.Duration, n int) {
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/conn")
}

// dialTLS opens n TLS connections to a fixture server in another process
// and reads their sessions.
func dialTLS(b *testing.B, n int) ([]*tls.Conn, []Session) {
	srv := tlstest.Start(b, "TestHelperServers", tlstest.Spec{Proto: fixtures.HTTPS1})
	u, err := url.Parse(srv.URLs[0])
	if err != nil {
		b.Fatal(err)
	}
	cfg := srv.ClientTLSConfig()
	cfg.ServerName = "localhost"
	// Only the setup's speed depends on the key exchange.
	cfg.CurvePreferences = []tls.CurveID{tls.X25519}
	conns := make([]*tls.Conn, n)
	sessions := make([]Session, n)
	b.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var dialErr error
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			d := tls.Dialer{Config: cfg}
			for i := range next {
				c, err := d.DialContext(context.Background(), "tcp", u.Host)
				if err != nil {
					mu.Lock()
					dialErr = err
					mu.Unlock()
					continue
				}
				conns[i] = c.(*tls.Conn)
				sessions[i], _ = ReadSession(conns[i])
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if dialErr != nil {
		b.Fatalf("dial: %v", dialErr)
	}
	return conns, sessions
}
