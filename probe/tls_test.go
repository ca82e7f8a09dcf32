package probe_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
	"github.com/httptop/httptop/tlsstats"
	"github.com/httptop/httptop/tlsstats/tlstest"
)

var tlsFigures = flag.String("tlsfigures", "", "write TestConnMemory's per-connection figures to this markdown file")

// TestHelperTLSServers is the server process of tlstest.Start; it skips in
// any other process.
func TestHelperTLSServers(t *testing.T) { tlstest.Serve(t) }

// tlsMemConns is how many idle connections TestConnMemory opens.
const tlsMemConns = 200

// envTLSMemClient makes the test binary TestHelperTLSMemClient's process;
// its value is the protocol to measure.
const envTLSMemClient = "HTTPTOP_TLSMEM_CLIENT"

// tlsMemPrefix starts each line of results TestHelperTLSMemClient prints.
const tlsMemPrefix = "TLSMEM-RESULT "

// tlsMemResult is one measurement of TestHelperTLSMemClient.
type tlsMemResult struct {
	Step string
	// Heap and Stack are the growth of HeapAlloc and StackInuse since
	// the baseline, Goroutines that of the goroutine count.
	Heap, Stack int64
	Goroutines  int
	// Open counts the snapshot's open connections, Estimated those
	// marked estimated; Reported is the sum of their mem_bytes, TLS of
	// their tls.mem_bytes; MinBytesIn is the fewest bytes one read.
	Open, Estimated  int
	Reported, TLS    int64
	MinBytesIn       int64
	HostSumsMismatch string
}

// TestConnMemory opens 200 idle keep-alive connections from one client
// whose servers run in another process, and checks that the memory the
// snapshot reports for them (the sum of conns[].mem_bytes) matches the
// growth of the process's live heap plus goroutine stacks within ±25%:
// fresh, and again after every connection carried a 256 KiB response.
// HTTP/2 multiplexes one connection per host, so its 200 connections go
// to 200 servers.
//
// Each protocol is measured in a process of its own (see
// TestHelperTLSMemClient). Stacks are measured by StackInuse, which counts
// stack spans, not stacks: in a process that has already opened and
// closed hundreds of connections, free stacks sit in partly used spans,
// and new goroutines fill them without the figure moving.
func TestConnMemory(t *testing.T) {
	if !tlsstats.LiveBuffers {
		// The race detector changes what every allocation costs; the
		// model path is checked for what it promises instead.
		testTLSConnMemoryRace(t)
		return
	}
	var rows []string
	for _, tc := range []struct {
		name  string
		proto fixtures.Proto
	}{
		{"HTTP/1.1+TLS", fixtures.HTTPS1},
		{"HTTP/2+TLS", fixtures.HTTP2},
		{"plain HTTP/1.1", fixtures.HTTP1},
	} {
		t.Run(tc.proto.String(), func(t *testing.T) {
			for _, r := range runTLSMemClient(t, tc.proto) {
				if r.Open != tlsMemConns {
					t.Fatalf("%s: snapshot shows %d open connections, want %d", r.Step, r.Open, tlsMemConns)
				}
				if r.HostSumsMismatch != "" {
					t.Errorf("%s: %s", r.Step, r.HostSumsMismatch)
				}
				if r.Step != "fresh" && r.MinBytesIn < 256<<10 {
					t.Errorf("%s: a connection read %d bytes, want every connection to carry 256 KiB", r.Step, r.MinBytesIn)
				}
				measured := r.Heap + r.Stack
				errPct := 100 * float64(r.Reported-measured) / float64(measured)
				per := func(v int64) float64 { return float64(v) / tlsMemConns }
				t.Logf("%s: measured %.0f B per connection (live heap %.0f + stacks %.0f for %.2f goroutines), reported %.0f (TLS %.0f, %d of %d estimated): %+.1f%%",
					r.Step, per(measured), per(r.Heap), per(r.Stack), per(int64(r.Goroutines)), per(r.Reported), per(r.TLS), r.Estimated, r.Open, errPct)
				rows = append(rows, fmt.Sprintf("| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %+.1f%% |",
					tc.name, r.Step, per(r.Heap)/1000, per(r.Stack)/1000, per(measured)/1000, per(r.Reported)/1000, per(r.TLS)/1000, errPct))
				if math.Abs(errPct) > 25 {
					t.Errorf("%s: the snapshot reports %d B for %d connections, the process grew by %d B (heap %d + stacks %d): %+.1f%%, want within ±25%%",
						r.Step, r.Reported, tlsMemConns, measured, r.Heap, r.Stack, errPct)
				}
			}
		})
	}
	if *tlsFigures != "" && !t.Failed() {
		tlsWriteFigures(t, *tlsFigures, rows)
	}
}

// runTLSMemClient runs TestHelperTLSMemClient for proto in a new process
// and returns its measurements.
func runTLSMemClient(t *testing.T, proto fixtures.Proto) []tlsMemResult {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperTLSMemClient$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), envTLSMemClient+"="+proto.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("client process: %v\n%s", err, out)
	}
	var res []tlsMemResult
	for _, l := range strings.Split(string(out), "\n") {
		if js, ok := strings.CutPrefix(l, tlsMemPrefix); ok {
			var r tlsMemResult
			if err := json.Unmarshal([]byte(js), &r); err != nil {
				t.Fatalf("client process: decode %q: %v", js, err)
			}
			res = append(res, r)
		}
	}
	if len(res) != 2 {
		t.Fatalf("client process reported %d measurements, want 2:\n%s", len(res), out)
	}
	return res
}

// TestHelperTLSMemClient is TestConnMemory's client process: it opens the
// connections, measures its process and prints the results. It skips in
// any other process.
func TestHelperTLSMemClient(t *testing.T) {
	name := os.Getenv(envTLSMemClient)
	if name == "" {
		t.Skip("helper process for TestConnMemory")
	}
	var proto fixtures.Proto
	hosts := 1
	switch name {
	case fixtures.HTTPS1.String():
		proto = fixtures.HTTPS1
	case fixtures.HTTP2.String():
		proto, hosts = fixtures.HTTP2, tlsMemConns
	case fixtures.HTTP1.String():
		proto = fixtures.HTTP1
	default:
		t.Fatalf("unknown protocol %q", name)
	}
	srv := tlstest.Start(t, "TestHelperTLSServers", tlstest.Spec{Proto: proto, Servers: hosts})
	m := newTLSMemRun(t, srv, proto)
	for _, step := range []struct {
		name  string
		query string
	}{
		{"fresh", "latency=300ms"},
		{"after 256 KiB", "latency=300ms&size=262144"},
	} {
		m.round(step.query)
		r := tlsMemResult{Step: step.name, MinBytesIn: math.MaxInt64}
		r.Heap, r.Stack = m.growth()
		r.Goroutines = runtime.NumGoroutine() - m.g0
		s := m.col.Snapshot()
		for _, c := range s.Conns {
			if c.State == "closed" {
				continue
			}
			r.Open++
			r.Reported += c.MemBytes
			if c.MemEstimated {
				r.Estimated++
			}
			if c.TLS != nil {
				r.TLS += c.TLS.MemBytes
			}
			r.MinBytesIn = min(r.MinBytesIn, c.BytesIn)
		}
		r.HostSumsMismatch = tlsHostSumsMismatch(&s)
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%s%s\n", tlsMemPrefix, js)
	}
}

// tlsMemRun drives one client's connections for TestHelperTLSMemClient
// and measures its process.
type tlsMemRun struct {
	t     *testing.T
	srv   *tlstest.Servers
	tr    *http.Transport
	col   *probe.Collector
	cl    *http.Client
	work  []chan string
	wg    sync.WaitGroup
	heap0 uint64
	stk0  uint64
	g0    int
}

// newTLSMemRun prepares the client and takes the baseline. What the client
// keeps once per process or per host is made first, so that the baseline
// holds it: one connection is opened and closed, and every host is asked
// for once with a request canceled before it could dial (which makes the
// probe's statistics for the host). The workers that will send the
// measured requests are started before the baseline too.
func newTLSMemRun(t *testing.T, srv *tlstest.Servers, proto fixtures.Proto) *tlsMemRun {
	g0 := runtime.NumGoroutine()
	m := &tlsMemRun{t: t, srv: srv, tr: srv.Transport(proto, tlsMemConns), col: probe.NewCollector(probe.CollectorOptions{})}
	m.cl = &http.Client{Transport: probe.Wrap(m.tr, probe.WithCollector(m.col), probe.WithName("mem"))}
	m.get(0, "")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, u := range srv.URLs {
		req, err := http.NewRequestWithContext(canceled, http.MethodGet, u+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := m.cl.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s with a canceled context succeeded", u)
		}
	}
	m.tr.CloseIdleConnections()
	tlsSettle(t, g0)
	t.Cleanup(func() {
		m.tr.CloseIdleConnections()
		tlsSettle(t, g0)
	})

	m.work = make([]chan string, tlsMemConns)
	for i := range m.work {
		m.work[i] = make(chan string)
		go func() {
			// A worker's stack grows with its requests and the
			// collector shrinks it back no further than 4 KiB: start
			// it there.
			tlsGrowStack(16)
			for q := range m.work[i] {
				m.get(i, q)
				m.wg.Done()
			}
		}()
	}
	t.Cleanup(func() {
		for _, w := range m.work {
			close(w)
		}
	})
	m.heap0, m.stk0 = tlsLiveMemory()
	m.g0 = runtime.NumGoroutine()
	return m
}

// get sends one request for worker i, reading the response to the end.
func (m *tlsMemRun) get(i int, query string) {
	url := m.srv.URLs[i%len(m.srv.URLs)] + "/?" + query
	resp, err := m.cl.Get(url)
	if err != nil {
		m.t.Errorf("GET %s: %v", url, err)
		return
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		m.t.Errorf("GET %s: read body: %v", url, err)
	}
}

// round sends one request per worker, all at once: each lasts long
// enough (the server waits 300 ms) that every request needs its own
// connection.
func (m *tlsMemRun) round(query string) {
	m.wg.Add(len(m.work))
	for _, w := range m.work {
		w <- query
	}
	m.wg.Wait()
}

// growth returns how much the live heap and the goroutine stacks grew
// since the baseline.
func (m *tlsMemRun) growth() (heap, stack int64) {
	h, s := tlsLiveMemory()
	return int64(h) - int64(m.heap0), int64(s) - int64(m.stk0)
}

// tlsLiveMemory returns the live heap and the stack spans in use, after
// enough collections for idle goroutines' stacks to shrink to what they
// use (each collection halves a stack at most).
func tlsLiveMemory() (heap, stack uint64) {
	for range 6 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.StackInuse
}

// tlsSettle waits until the goroutines of closed connections have exited,
// leaving at most n.
func tlsSettle(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines still running, want at most %d", runtime.NumGoroutine(), n)
		}
		runtime.Gosched()
	}
}

// tlsGrowStack makes its goroutine's stack about depth×100 bytes deep, so
// that the stack grows to hold it.
//
//go:noinline
func tlsGrowStack(depth int) byte {
	var pad [64]byte
	if depth == 0 {
		return pad[0]
	}
	pad[depth%len(pad)] = byte(depth)
	return tlsGrowStack(depth-1) + pad[(depth+1)%len(pad)]
}

// tlsHostSumsMismatch checks that each host's mem_bytes and tls_mem_bytes
// add up its open connections', and describes the first host where they
// do not.
func tlsHostSumsMismatch(s *snapshot.Snapshot) string {
	type sums struct{ mem, tls int64 }
	want := make(map[string]sums)
	for _, c := range s.Conns {
		if c.State == "closed" {
			continue
		}
		w := want[c.Client+" "+c.Host]
		w.mem += c.MemBytes
		if c.TLS != nil {
			w.tls += c.TLS.MemBytes
		}
		want[c.Client+" "+c.Host] = w
	}
	for _, h := range s.Hosts {
		w := want[h.Client+" "+h.Host]
		if h.MemBytes != w.mem || h.TLSMemBytes != w.tls {
			return fmt.Sprintf("host %s: mem_bytes %d, tls_mem_bytes %d; its connections add up to %d and %d",
				h.Host, h.MemBytes, h.TLSMemBytes, w.mem, w.tls)
		}
	}
	return ""
}

// tlsWriteFigures writes the per-connection table of TestConnMemory.
func tlsWriteFigures(t *testing.T, path string, rows []string) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Memory per idle client connection\n\n")
	fmt.Fprintf(&b, "Measured by `go test ./probe -run 'TestConnMemory$' -v -count=1 -tlsfigures ../tlsstats/README-figures.md`\n")
	fmt.Fprintf(&b, "(%s, %s/%s, %d CPUs): %d idle keep-alive connections of one client, servers in another process,\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), tlsMemConns)
	fmt.Fprintf(&b, "TLS 1.3 with an ECDSA P-256 certificate, default transport buffers. *Measured* is the growth of the live heap\n")
	fmt.Fprintf(&b, "(HeapAlloc after GC) and of StackInuse; *reported* is what the snapshot says (conns[].mem_bytes, and\n")
	fmt.Fprintf(&b, "conns[].tls.mem_bytes for the TLS part). KB = 1000 bytes, per connection.\n\n")
	fmt.Fprintf(&b, "| connection | state | live heap | stacks | measured | reported | of which TLS | error |\n")
	fmt.Fprintf(&b, "|---|---|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Errorf("write figures: %v", err)
	}
}

// testTLSConnMemoryRace checks what a race-enabled build reports: the
// model, marked estimated.
func testTLSConnMemoryRace(t *testing.T) {
	srv := tlstest.Start(t, "TestHelperTLSServers", tlstest.Spec{Proto: fixtures.HTTPS1, Servers: 1})
	tr := srv.Transport(fixtures.HTTPS1, 8)
	t.Cleanup(tr.CloseIdleConnections)
	col := probe.NewCollector(probe.CollectorOptions{})
	cl := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}
	for _, size := range []int{10, 256 << 10} {
		resp, err := cl.Get(fmt.Sprintf("%s/?size=%d", srv.URLs[0], size))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		s := col.Snapshot()
		if len(s.Conns) != 1 {
			t.Fatalf("%d connections, want 1", len(s.Conns))
		}
		c := s.Conns[0]
		want := tlsstats.Estimate(tlsstats.Conn{Proto: tlsstats.HTTP1, BytesIn: c.BytesIn, TLS: &tls.Conn{}, Session: &tlsstats.Session{PeerCerts: 1}})
		if !c.MemEstimated || c.TLS == nil || c.MemBytes < want.Total()-want.Certs || c.MemBytes > want.Total()+1024 {
			t.Errorf("after %d B: mem_bytes %d (estimated %v, tls %+v), want about %d, estimated", size, c.MemBytes, c.MemEstimated, c.TLS, want.Total())
		}
	}
}

// TestNoTLSResumption runs the workloads that make a client re-handshake
// a host, against a TLS 1.3 server with and without session tickets, and
// checks that no_tls_resumption fires exactly when new connections keep
// doing full handshakes, with the advice that fits the client.
func TestNoTLSResumption(t *testing.T) {
	for _, tc := range []struct {
		name        string
		noTickets   bool // the server does not resume
		cache       bool // the client has a ClientSessionCache
		workload    string
		want        bool
		full, resum int64 // the host's handshake counts, when exact (-1: not)
		advice      string
	}{
		{"no keep-alive, no cache", false, false, "nokeepalive", true, 50, 0, "ClientSessionCache = tls.NewLRUClientSessionCache"},
		{"no keep-alive, cache", false, true, "nokeepalive", false, 1, 49, ""},
		{"batches over a small idle pool, no cache", false, false, "batches", true, -1, 0, "ClientSessionCache = tls.NewLRUClientSessionCache"},
		{"batches over a small idle pool, cache", false, true, "batches", false, -1, -1, ""},
		{"one burst, no cache", false, false, "burst", false, -1, 0, ""},
		{"keep-alive pool, no cache", false, false, "keepalive", false, -1, 0, ""},
		{"server without tickets, cache", true, true, "nokeepalive", true, 50, 0, "issues session tickets"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := fixtures.NewServer(fixtures.Options{Proto: fixtures.HTTPS1, DisableSessionTickets: tc.noTickets})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			tr := srv.Transport()
			t.Cleanup(tr.CloseIdleConnections)
			if tc.cache {
				tr.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(8)
			}
			col := probe.NewCollector(probe.CollectorOptions{})
			cl := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}
			ctx := context.Background()
			req := fixtures.Request{URL: srv.URLFor("/", fixtures.Behavior{Size: 100})}
			var res fixtures.Result
			switch tc.workload {
			case "nokeepalive":
				tr.DisableKeepAlives = true
				res, err = fixtures.ClosedLoop{Workers: 1, Count: 50}.Run(ctx, cl, req)
			case "batches":
				// Each request lasts long enough for the batch to need
				// 50 connections; the pool keeps 2 of them.
				tr.MaxIdleConnsPerHost = 2
				overlap := fixtures.Request{URL: srv.URLFor("/", fixtures.Behavior{Size: 100, Latency: 50 * time.Millisecond})}
				res, err = fixtures.Batches{Size: 50, Count: 5}.Run(ctx, cl, overlap)
			case "burst":
				tr.MaxIdleConnsPerHost = 100
				slow := fixtures.Request{URL: srv.URLFor("/", fixtures.Behavior{Latency: time.Second})}
				res, err = fixtures.Batches{Size: 100, Count: 1}.Run(ctx, cl, slow)
			case "keepalive":
				tr.MaxIdleConnsPerHost = 8
				res, err = fixtures.ClosedLoop{Workers: 8, Count: 400}.Run(ctx, cl, req)
			}
			if err != nil || res.Errors > 0 {
				t.Fatalf("workload: %v (%d errors)", err, res.Errors)
			}
			s := col.Snapshot()
			if len(s.Hosts) != 1 {
				t.Fatalf("%d hosts, want 1", len(s.Hosts))
			}
			h := s.Hosts[0]
			// Closed connections that carried a request keep what
			// their handshake settled (it is read at the first use),
			// and hold no memory.
			for _, c := range s.Conns {
				if c.State == "closed" && c.Requests > 0 && (c.TLS == nil || c.TLS.Version == "" || c.TLS.MemBytes != 0 || c.MemBytes != 0) {
					t.Errorf("closed connection %d: tls %+v, mem_bytes %d; want its TLS session and no memory", c.ID, c.TLS, c.MemBytes)
					break
				}
			}
			t.Logf("%d requests, %d new connections: %d full handshakes, %d resumed; handshake p50 %.2f ms p95 %.2f ms",
				h.Requests, h.NewConns, h.TLSFullHandshakes, h.TLSResumedHandshakes, h.TLSHandshake.P50, h.TLSHandshake.P95)
			// A connection is counted when a request first uses it,
			// which can be a request that finds it idle in the pool
			// (so that requests see fewer new connections than there
			// are handshakes), and never when the pool closes it
			// unused (so that the server may see more).
			hs := h.TLSFullHandshakes + h.TLSResumedHandshakes
			if accepted := srv.Stats().Accepted; hs < h.NewConns || hs > accepted {
				t.Errorf("%d handshakes counted, want between the %d new connections requests got and the %d the server accepted", hs, h.NewConns, accepted)
			}
			if tc.full >= 0 && h.TLSFullHandshakes != tc.full {
				t.Errorf("%d full handshakes, want %d", h.TLSFullHandshakes, tc.full)
			}
			if tc.resum >= 0 && h.TLSResumedHandshakes != tc.resum {
				t.Errorf("%d resumed handshakes, want %d", h.TLSResumedHandshakes, tc.resum)
			}
			if h.TLSHandshake.Count != hs || h.TLSHandshake.P50 <= 0 || h.TLSHandshake.P95 < h.TLSHandshake.P50 {
				t.Errorf("handshake times %+v, want one per handshake (%d), p95 >= p50 > 0", h.TLSHandshake, hs)
			}
			var d *snapshot.Diagnosis
			for i := range s.Diagnoses {
				if s.Diagnoses[i].Kind == snapshot.KindNoTLSResumption {
					d = &s.Diagnoses[i]
				}
			}
			switch {
			case tc.want && d == nil:
				t.Fatalf("no %s diagnosis; diagnoses: %+v", snapshot.KindNoTLSResumption, s.Diagnoses)
			case !tc.want && d != nil:
				t.Fatalf("unexpected diagnosis: %s (%v)", d.Summary, d.Evidence)
			case d != nil:
				t.Logf("%s: %s %v", d.Severity, d.Summary, d.Evidence)
				if !strings.Contains(d.Advice, tc.advice) {
					t.Errorf("advice %q does not mention %q", d.Advice, tc.advice)
				}
				wantCache := 0.0
				if tc.cache {
					wantCache = 1
				}
				if d.Evidence["session_cache"] != wantCache || d.Evidence["avoidable_full_handshakes"] < 10 || d.Client != h.Client || d.Host != h.Host {
					t.Errorf("diagnosis %+v, want session_cache %v, at least 10 avoidable handshakes, for host %s", d, wantCache, h.Host)
				}
			}
		})
	}
}

// TestConnTLSDetails checks conns[].tls against what the connection's own
// tls.ConnectionState says, for HTTP/1.1 and HTTP/2, fresh and resumed.
func TestConnTLSDetails(t *testing.T) {
	for _, proto := range []fixtures.Proto{fixtures.HTTPS1, fixtures.HTTP2} {
		t.Run(proto.String(), func(t *testing.T) {
			srv, err := fixtures.NewServer(fixtures.Options{Proto: proto})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { srv.Close() })
			tr := srv.Transport()
			t.Cleanup(tr.CloseIdleConnections)
			tr.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(8)
			col := probe.NewCollector(probe.CollectorOptions{})
			cl := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}
			for i, wantResumed := range []bool{false, true} {
				resp, err := cl.Get(srv.URLFor("/", fixtures.Behavior{Size: 1000}))
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				st := resp.TLS
				s := col.Snapshot()
				tr.CloseIdleConnections() // the next request dials again
				var c *snapshot.Conn
				for j := range s.Conns {
					if s.Conns[j].State != "closed" {
						c = &s.Conns[j]
					}
				}
				if c == nil || c.TLS == nil || st == nil {
					t.Fatalf("request %d: connection %+v, response TLS %v: want an open TLS connection", i, c, st)
				}
				leaf := fixtures.Certificate()
				want := snapshot.TLS{
					Version:       tls.VersionName(st.Version),
					Cipher:        tls.CipherSuiteName(st.CipherSuite),
					ALPN:          st.NegotiatedProtocol,
					Resumed:       wantResumed,
					ServerName:    st.ServerName, // empty: no SNI for an IP address
					PeerCerts:     1,
					PeerCertBytes: len(leaf.Raw),
					LeafNotAfter:  leaf.NotAfter,
				}
				got := *c.TLS
				got.HandshakeMs, got.MemBytes = 0, 0
				if !got.LeafNotAfter.Equal(want.LeafNotAfter) {
					t.Errorf("request %d: leaf expiry %v, want %v", i, got.LeafNotAfter, want.LeafNotAfter)
				}
				got.LeafNotAfter = want.LeafNotAfter
				if got != want {
					t.Errorf("request %d: tls %+v, want %+v", i, got, want)
				}
				if want.Version != "TLS 1.3" || (proto == fixtures.HTTP2) != (want.ALPN == "h2") {
					t.Errorf("request %d: negotiated %s, ALPN %q; the fixture speaks TLS 1.3 and %v", i, want.Version, want.ALPN, proto)
				}
				if c.TLS.HandshakeMs <= 0 || c.TLS.HandshakeMs > c.AgeSeconds*1000 {
					t.Errorf("request %d: handshake %.3f ms, want more than 0 and less than the connection's age (%.3f s)", i, c.TLS.HandshakeMs, c.AgeSeconds)
				}
				if c.TLS.MemBytes < 4<<10 || c.MemBytes < c.TLS.MemBytes+8<<10 {
					t.Errorf("request %d: mem_bytes %d, tls %d: want at least 4 KiB of TLS and the transport's 8 KiB of buffers on top", i, c.MemBytes, c.TLS.MemBytes)
				}
			}
		})
	}
}

// BenchmarkSnapshotTLS measures a whole snapshot (Collector.Snapshot) of
// one client holding 10,000 open TLS connections to a server in another
// process, each carrying a request the server holds: everything a
// snapshot reads per connection (state, TLS session, memory) included.
// Goal: under 5 ms. "fresh" is Collector.Snapshot, which allocates the
// connection table anew; "agent" is how the agent takes them, reusing it.
//
//	go test ./probe -run '^$' -bench SnapshotTLS -benchtime 50x
func BenchmarkSnapshotTLS(b *testing.B) {
	const n = 10000
	srv := tlstest.Start(b, "TestHelperTLSServers", tlstest.Spec{Proto: fixtures.HTTPS1, Servers: 1})
	tr := srv.Transport(fixtures.HTTPS1, n)
	tr.TLSHandshakeTimeout = 0
	tr.TLSClientConfig.CurvePreferences = []tls.CurveID{tls.X25519} // only the setup's speed depends on it
	col := probe.NewCollector(probe.CollectorOptions{})
	cl := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}

	tlstest.Hold(b, cl, srv.URLs[0], n)
	if s := col.Snapshot(); len(s.Conns) != n || s.Conns[0].TLS == nil {
		b.Fatalf("%d connections (first TLS %v), want %d TLS connections", len(s.Conns), s.Conns[0].TLS, n)
	}
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			col.Snapshot()
		}
	})
	b.Run("agent", func(b *testing.B) {
		var s probe.Snapshot
		b.ReportAllocs()
		for b.Loop() {
			col.SnapshotInto(&s)
		}
	})
}

// TestConnTLSRowShared: while no byte flows on a connection, the
// snapshots share its conns[].tls (no allocation per idle connection per
// snapshot); once bytes flow, the next snapshot reads the connection
// again and makes a new one.
func TestConnTLSRowShared(t *testing.T) {
	srv, err := fixtures.NewServer(fixtures.Options{Proto: fixtures.HTTPS1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tr := srv.Transport()
	t.Cleanup(tr.CloseIdleConnections)
	col := probe.NewCollector(probe.CollectorOptions{})
	cl := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}
	get := func() {
		resp, err := cl.Get(srv.URLFor("/", fixtures.Behavior{Size: 1000}))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	tlsRow := func() *snapshot.TLS {
		s := col.Snapshot()
		if len(s.Conns) != 1 || s.Conns[0].TLS == nil {
			t.Fatalf("conns %+v: want one TLS connection", s.Conns)
		}
		return s.Conns[0].TLS
	}
	get()
	first, second := tlsRow(), tlsRow()
	if first != second {
		t.Errorf("two snapshots of an idle connection made two tls rows (%p, %p), want one shared", first, second)
	}
	get()
	if third := tlsRow(); third == second {
		t.Errorf("after a request on the connection, the snapshot kept the old tls row")
	} else if third.Version != second.Version || third.HandshakeMs != second.HandshakeMs {
		t.Errorf("tls row after a request %+v, before %+v: the session's figures changed", *third, *second)
	}
}
