package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"sync"
	"testing"
	"time"
	"weak"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/tracer"
)

// hostsTransport is an in-memory RoundTripper for many hosts, with one
// fake connection per host, firing the hooks of a reused keep-alive
// connection like hookTransport.
type hostsTransport struct {
	conns map[string]net.Conn
}

func newHostsTransport(t testing.TB, hosts []string) *hostsTransport {
	ht := &hostsTransport{conns: make(map[string]net.Conn)}
	for _, h := range hosts {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		ht.conns[h] = a
	}
	return ht
}

func (ht *hostsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil {
		if tr.GetConn != nil {
			tr.GetConn(req.URL.Host)
		}
		if tr.GotConn != nil {
			tr.GotConn(httptrace.GotConnInfo{Conn: ht.conns[req.URL.Host], Reused: true, WasIdle: true, IdleTime: time.Millisecond})
		}
		if tr.WroteRequest != nil {
			tr.WroteRequest(httptrace.WroteRequestInfo{})
		}
		if tr.GotFirstResponseByte != nil {
			tr.GotFirstResponseByte()
		}
	}
	return &http.Response{StatusCode: 200, ProtoMajor: 1, Body: io.NopCloser(bytes.NewReader([]byte("ok"))), Request: req}, nil
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryBounded sends a million requests across 100 hosts and checks
// that the collector's heap does not grow with the request count: after a
// warm-up of 100,000, the next 900,000 may not add more than 256 KiB.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("sends a million requests")
	}
	total, warm := 1_000_000, 100_000
	if raceEnabled {
		total, warm = 200_000, 50_000
	}
	hosts := make([]string, 100)
	reqs := make([]*http.Request, len(hosts))
	for i := range hosts {
		hosts[i] = fmt.Sprintf("host-%d.example:80", i)
		reqs[i], _ = http.NewRequest(http.MethodGet, "http://"+hosts[i]+"/", nil)
	}
	col := NewCollector(CollectorOptions{})
	rt := Wrap(newHostsTransport(t, hosts), WithCollector(col), withRecycling())
	send := func(n int) {
		for i := range n {
			resp, err := rt.RoundTrip(reqs[i%len(reqs)])
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	send(warm)
	before := liveHeap()
	send(total - warm)
	after := liveHeap()
	s := col.Snapshot()
	var requests int64
	for _, h := range s.Hosts {
		requests += h.Requests
	}
	if requests != int64(total) || len(s.Hosts) != len(hosts) {
		t.Fatalf("snapshot: %d requests over %d hosts, want %d over %d", requests, len(s.Hosts), total, len(hosts))
	}
	growth := int64(after) - int64(before)
	t.Logf("live heap after %d requests: %d B; after %d: %d B (growth %d B)", warm, before, total, after, growth)
	if growth > 256<<10 {
		t.Errorf("heap grew by %d B over %d requests: the collector is not bounded", growth, total-warm)
	}
}

// TestClosedConnsReleased: the closed connections a collector remembers
// (for snapshots to show them a while) do not keep the connections
// themselves alive: a *tls.Conn holds its record buffers, tens of
// kilobytes once a large response went through.
func TestClosedConnsReleased(t *testing.T) {
	col := NewCollector(CollectorOptions{})
	weaks := closeTLSConns(t, col)
	// The transport's goroutines for those connections end a moment
	// after the close: collect until they have (bounded).
	alive := 0
	for deadline := time.Now().Add(5 * time.Second); ; {
		runtime.GC()
		alive = 0
		for _, w := range weaks {
			if w.Value() != nil {
				alive++
			}
		}
		if alive == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if alive > 0 {
		t.Errorf("%d of %d closed *tls.Conn still reachable: the remembered closed connections keep them", alive, len(weaks))
	}
	// A connection dialed for a request that another connection served
	// first carried no request, and has no session to show; every one
	// that did must show its session.
	used := 0
	for _, c := range col.Snapshot().Conns {
		if c.Requests == 0 {
			continue
		}
		used++
		if c.TLS == nil {
			t.Errorf("closed connection %d carried %d requests but shows no TLS session", c.ID, c.Requests)
		}
	}
	if used == 0 {
		t.Error("no closed connection that carried a request in the snapshot")
	}
}

// closeTLSConns opens 16 TLS connections through a probe recording into
// col (nil: no probe), each after a 64 KiB response (which grows its
// record buffer), closes them, and returns weak pointers to them once the
// probe saw every one close.
func closeTLSConns(t testing.TB, col *Collector) []weak.Pointer[tls.Conn] {
	srv, err := fixtures.NewServer(fixtures.Options{Proto: fixtures.HTTPS1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tr := srv.Transport()
	tr.MaxIdleConnsPerHost = 16
	var rt http.RoundTripper = tr
	if col != nil {
		rt = Wrap(tr, WithCollector(col))
	}
	const n = 16
	var mu sync.Mutex
	var weaks []weak.Pointer[tls.Conn]
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) {
		if tc, ok := ci.Conn.(*tls.Conn); ok {
			mu.Lock()
			weaks = append(weaks, weak.Make(tc))
			mu.Unlock()
		}
	}}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
				http.MethodGet, srv.URLFor("/", fixtures.Behavior{Size: 64 << 10, Latency: 20 * time.Millisecond}), nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	close(start)
	wg.Wait()
	tr.CloseIdleConnections()
	if col == nil {
		return weaks
	}
	if s := col.Snapshot(); len(s.Conns) < 2 {
		t.Fatalf("%d connections, want several", len(s.Conns))
	}
	// Closing is asynchronous (the transport's goroutines close them):
	// wait until the collector saw every connection close.
	for deadline := time.Now().Add(10 * time.Second); ; {
		s := col.Snapshot()
		open := 0
		for _, c := range s.Conns {
			if c.State != "closed" {
				open++
			}
		}
		if open == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open", open)
		}
		time.Sleep(10 * time.Millisecond) // polling the transport's own closing
	}
	return weaks
}

// noHooksTransport answers every request at once, without firing hooks or
// keeping anything: a request through it costs the probe its host and its
// in-flight state only.
type noHooksTransport struct{}

func (noHooksTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, ProtoMajor: 1, Body: io.NopCloser(bytes.NewReader(nil)), Request: req}, nil
}

// stubConn is a connection that does nothing, with fixed addresses.
type stubConn struct{ net.Conn }

var (
	stubLocal  = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	stubRemote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
)

func (stubConn) LocalAddr() net.Addr  { return stubLocal }
func (stubConn) RemoteAddr() net.Addr { return stubRemote }
func (stubConn) Close() error         { return nil }

// BenchmarkMemoryPerObject reports the probe's own live heap per object it
// tracks (B/object: heap after GC, divided by b.N), with a fixed number of
// objects (go test ./probe -run '^$' -bench MemoryPerObject -benchtime
// 2000x):
//
//   - host: a host requested once (its statistics: histograms, a minute
//     of per-second counters, the client's index entries).
//   - client: a client (WithName) wrapped around a RoundTripper: its
//     statistics, its queue of responses, the probe and its tracer.
//   - conn: an open connection the dial hook tracks (its record and the
//     counting wrapper the transport reads and writes through).
//   - inflight: a request whose response body is open (its span, body
//     wrapper, context and request copy, its slot in the open-body
//     registry), above the same request without the probe.
//   - closed: a closed connection the collector still remembers (it keeps
//     the last 64 for snapshots to show): its record, without the
//     connection.
//   - closed-tls: 16 TLS connections closed after a 64 KiB response each,
//     what the probe keeps of them (its host, queue and spans included),
//     above what stays without it, per connection.
func BenchmarkMemoryPerObject(b *testing.B) {
	b.Run("obj=host", func(b *testing.B) {
		col := NewCollector(CollectorOptions{MaxHosts: 1 << 20})
		rt := Wrap(noHooksTransport{}, WithCollector(col))
		reqs := make([]*http.Request, b.N)
		for i := range reqs {
			reqs[i], _ = http.NewRequest(http.MethodGet, fmt.Sprintf("http://host-%d.example/", i), nil)
		}
		before := liveHeap()
		for _, req := range reqs {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		after := liveHeap()
		runtime.KeepAlive(col)
		b.ReportMetric(float64(int64(after)-int64(before))/float64(b.N), "B/object")
	})
	b.Run("obj=client", func(b *testing.B) {
		col := NewCollector(CollectorOptions{})
		rts := make([]http.RoundTripper, 0, b.N)
		before := liveHeap()
		for i := range b.N {
			rts = append(rts, Wrap(noHooksTransport{}, WithCollector(col), WithName(fmt.Sprint("client-", i))))
		}
		after := liveHeap()
		runtime.KeepAlive(rts)
		b.ReportMetric(float64(int64(after)-int64(before))/float64(b.N), "B/object")
	})
	b.Run("obj=conn", func(b *testing.B) {
		col := NewCollector(CollectorOptions{})
		tr := tracer.New(col.stats, col.stats.Client("c"), tracer.Options{})
		dial := tr.Dial(func(context.Context, string, string) (net.Conn, error) { return stubConn{}, nil })
		conns := make([]net.Conn, 0, b.N+1)
		if c, err := dial(context.Background(), "tcp", "example.com:80"); err == nil {
			conns = append(conns, c) // the host, created before the count
		}
		before := liveHeap()
		for range b.N {
			c, err := dial(context.Background(), "tcp", "example.com:80")
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
		}
		after := liveHeap()
		runtime.KeepAlive(conns)
		b.ReportMetric(float64(int64(after)-int64(before))/float64(b.N), "B/object")
	})
	b.Run("obj=inflight", func(b *testing.B) {
		perRequest := func(wrap bool) float64 {
			var rt http.RoundTripper = newHookTransport(b)
			if wrap {
				rt = Wrap(rt, WithCollector(NewCollector(CollectorOptions{})), withRecycling())
			}
			reqs := make([]*http.Request, b.N)
			for i := range reqs {
				reqs[i], _ = http.NewRequest(http.MethodGet, "http://example.com/", nil)
			}
			resps := make([]*http.Response, 0, b.N)
			before := liveHeap()
			for _, req := range reqs {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resps = append(resps, resp)
			}
			after := liveHeap()
			for _, resp := range resps {
				resp.Body.Close()
			}
			return float64(int64(after)-int64(before)) / float64(b.N)
		}
		bare, wrapped := perRequest(false), perRequest(true)
		b.ReportMetric(wrapped-bare, "B/object")
	})
	b.Run("obj=closed-tls", func(b *testing.B) {
		// 16 TLS connections closed after a 64 KiB response each: what
		// stays on the heap with the probe remembering them, above what
		// stays without it.
		retained := func(col *Collector) int64 {
			before := liveHeap()
			weaks := closeTLSConns(b, col)
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
				runtime.GC()
				if col != nil || weaks[0].Value() == nil {
					break
				}
			}
			after := liveHeap()
			runtime.KeepAlive(col)
			return int64(after) - int64(before)
		}
		bare := retained(nil)
		probed := retained(NewCollector(CollectorOptions{}))
		b.ReportMetric(float64(probed-bare)/16, "B/object")
	})
	b.Run("obj=closed", func(b *testing.B) {
		col := NewCollector(CollectorOptions{})
		tr := tracer.New(col.stats, col.stats.Client("c"), tracer.Options{})
		dial := tr.Dial(func(context.Context, string, string) (net.Conn, error) { return stubConn{}, nil })
		const kept = 64 // poolstats' closedKept
		if c, err := dial(context.Background(), "tcp", "example.com:80"); err == nil {
			c.Close() // the host, created before the count, and the ring
		}
		before := liveHeap()
		for range kept {
			c, err := dial(context.Background(), "tcp", "example.com:80")
			if err != nil {
				b.Fatal(err)
			}
			c.Close()
		}
		after := liveHeap()
		runtime.KeepAlive(col)
		for range b.N {
			// More closed connections replace the remembered ones:
			// the memory stays what 64 take.
			c, _ := dial(context.Background(), "tcp", "example.com:80")
			c.Close()
		}
		if again := liveHeap(); int64(again)-int64(after) > kept*1024 {
			b.Errorf("%d more closed connections grew the heap by %d B: not bounded", b.N, int64(again)-int64(after))
		}
		b.ReportMetric(float64(int64(after)-int64(before))/kept, "B/object")
	})
}
