package agent

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// The workloads behind the next-bottleneck diagnoses (cpu_saturated,
// scheduler_latency, gc_pressure): healthy ones, which must stay silent,
// and sick ones, which must show. Each runs its servers in this process,
// so the process's CPU covers both ends of every request, and runs until
// its context ends.

// workload is one fixture: run starts its servers and clients on col,
// the clients on goroutines of wg that end with ctx, and returns the
// server whose requests count its traffic.
type workload struct {
	name string
	// sick names the diagnoses the workload must show; none for a
	// healthy one, which must show none of them.
	sick []snapshot.DiagnosisKind
	// may names those it shows or not depending on the CPU the machine
	// gives it: a workload that computes as fast as it can is at the
	// CPU's limit when it gets its cores.
	may []snapshot.DiagnosisKind
	run runFunc
}

// runFunc starts a workload (see workload).
type runFunc func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server

// serve starts a fixture server that stops with the test.
func serve(t testing.TB, opts fixtures.Options) *fixtures.Server {
	t.Helper()
	srv, err := fixtures.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// client wraps a transport of srv with limits into col under name.
func client(t testing.TB, col *probe.Collector, srv *fixtures.Server, name string, pool int) *http.Client {
	tr := srv.Transport()
	if pool > 0 {
		tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = pool, pool
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName(name))}
}

// loop runs a closed loop of workers in the background until ctx ends.
func loop(ctx context.Context, wg *sync.WaitGroup, c *http.Client, w fixtures.ClosedLoop, req fixtures.Request) {
	wg.Go(func() { w.Run(ctx, c, req) })
}

// cpuServerLatency is how long the server of the CPU proofs takes to
// answer: fast enough that 64 connections carry thousands of requests a
// second, slow enough that 4 connections are the limit.
const cpuServerLatency = 20 * time.Millisecond

// cpuClient is the client of the CPU proofs: 64 workers that each spend
// cpu of CPU time before every request (BurnCPU), a pool of pool
// connections, a server answering after cpuServerLatency.
func cpuClient(cpu time.Duration, pool int) runFunc {
	return func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server {
		srv := serve(t, fixtures.Options{Defaults: fixtures.Behavior{Latency: cpuServerLatency}})
		c := client(t, col, srv, "cpu", pool)
		loop(ctx, wg, c, fixtures.ClosedLoop{Workers: 64}, fixtures.Request{URL: srv.URL + "/", CPU: cpu})
		return srv
	}
}

// scenario runs a fixtures scenario until ctx ends.
func scenario(name string) runFunc {
	return func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server {
		srv := serve(t, fixtures.Options{})
		c := client(t, col, srv, name, 0)
		sc, _ := fixtures.ScenarioByName(name)
		sc.Requests = 0
		wg.Go(func() { sc.Run(ctx, c, srv.URL) })
		return srv
	}
}

// workloads lists the fixtures, healthy first.
var workloads = []workload{
	{name: "pool_saturated", run: func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server {
		// The pool_saturated scenario: pool 4, 32 workers, 50 ms.
		srv := serve(t, fixtures.Options{Defaults: fixtures.Behavior{Latency: 50 * time.Millisecond}})
		loop(ctx, wg, client(t, col, srv, "sat", 4), fixtures.ClosedLoop{Workers: 32}, fixtures.Request{URL: srv.URL + "/"})
		return srv
	}},
	{name: "light_cpu_pool4", run: cpuClient(50*time.Microsecond, 4)},
	{name: "light_cpu_pool64", run: cpuClient(50*time.Microsecond, 64)},
	{name: "catalog", run: func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server {
		// The demo's healthy client: HTTP/2, TLS, signing and decoding.
		srv := serve(t, fixtures.Options{Proto: fixtures.HTTP2,
			Defaults: fixtures.Behavior{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond, Size: 8 << 10}})
		loop(ctx, wg, client(t, col, srv, "catalog", 0), fixtures.ClosedLoop{Workers: 8, Think: 10 * time.Millisecond},
			fixtures.Request{URL: srv.URLFor("/json", fixtures.Behavior{}), SignKey: []byte("k"), Decode: true})
		return srv
	}},
	// 64 workers reading 200 B, 10 KiB and 1 MiB bodies.
	{name: "bodies_c64", run: scenario("bodies_c64")},
	{name: "churn", run: func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server {
		srv := serve(t, fixtures.Options{Defaults: fixtures.Behavior{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Size: 2 << 10}})
		c := client(t, col, srv, "search", 0)
		wg.Go(func() {
			fixtures.Batches{Size: 50, Pause: 150 * time.Millisecond}.Run(ctx, c, fixtures.Request{URL: srv.URL + "/query"})
		})
		return srv
	}},
	// Eight workers signing requests and decoding 16 KiB JSON documents
	// as fast as they can: a busy client, CPU-bound by design.
	{name: "json_decode_c8", run: scenario("cpu_client")},
	// The pool binds (and says the CPU binds next); with 64 connections
	// the CPU does.
	{name: "cpu_2ms_pool4", run: cpuClient(2*time.Millisecond, 4)},
	{name: "cpu_2ms_pool64", sick: []snapshot.DiagnosisKind{snapshot.KindCPUSaturated, snapshot.KindSchedulerLatency},
		run: cpuClient(2*time.Millisecond, 64)},
	{name: "runnable_10000", sick: []snapshot.DiagnosisKind{snapshot.KindSchedulerLatency},
		may: []snapshot.DiagnosisKind{snapshot.KindCPUSaturated}, run: func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server {
			// 10,000 goroutines that stay runnable, beside a light client.
			wg.Go(fixtures.Runnable(ctx, 10000))
			srv := serve(t, fixtures.Options{Defaults: fixtures.Behavior{Latency: 10 * time.Millisecond}})
			loop(ctx, wg, client(t, col, srv, "sched", 0), fixtures.ClosedLoop{Workers: 4}, fixtures.Request{URL: srv.URL + "/"})
			return srv
		}},
	{name: "garbage", sick: []snapshot.DiagnosisKind{snapshot.KindGCPressure},
		may: []snapshot.DiagnosisKind{snapshot.KindCPUSaturated}, run: func(ctx context.Context, t testing.TB, col *probe.Collector, wg *sync.WaitGroup) *fixtures.Server {
			// A 256 MiB live heap of small linked objects (a cache), and
			// 16 workers that each allocate 20,000 small objects per
			// response, as decoding into maps does.
			heap := fixtures.NewGarbageHeap(256)
			srv := serve(t, fixtures.Options{Defaults: fixtures.Behavior{Latency: time.Millisecond}})
			loop(ctx, wg, client(t, col, srv, "alloc", 0), fixtures.ClosedLoop{Workers: 16},
				fixtures.Request{URL: srv.URL + "/", Garbage: heap, GarbageObjects: 20000})
			return srv
		}},
}
