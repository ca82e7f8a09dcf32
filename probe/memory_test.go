package probe

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"runtime"
	"testing"
	"time"
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
