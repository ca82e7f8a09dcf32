//go:build linux

package agent

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/flame"
	"github.com/httptop/httptop/internal/agentclient"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
	"github.com/httptop/httptop/tlsstats/tlstest"
)

// TestHelperServers is the server process of tlstest.Start for
// BenchmarkAgentCost; it skips in any other process.
func TestHelperServers(t *testing.T) { tlstest.Serve(t) }

// Sizes of BenchmarkAgentCost's scenario.
const (
	costOpen     = 10000 // open TLS connections of the program
	costTimeWait = 5000  // sockets the program closed, in TIME_WAIT
)

// BenchmarkAgentCost measures what the agent costs a program holding
// 10,000 open TLS connections (servers in another process) with 5,000
// more sockets in TIME_WAIT, while a dashboard streams snapshots at 1 s:
// the process's CPU time (getrusage) per second of wall time during the
// run, less what it spends idle in the same state, as a percentage of one
// core (%core). Each iteration is one second of streaming, so run it as
//
//	go test ./probe/agent -run '^$' -bench AgentCost -benchtime 60x
//
// "stream" is the snapshot stream alone as the dashboard asks for it,
// connection changes only (the dashboard with the hot functions pane
// hidden); "stream+profiles" adds the rolling CPU and wall-clock profiles
// the pane takes while it is on screen (agentclient.RollingDuration
// each, back to back, side by side, the wall-clock one at
// agentclient.RollingWallHz), and
// "stream+cpu" and "stream+wall" each of them alone. "stream-whole" is
// the stream of whole snapshots a client gets that does not ask for
// connection changes (httptop before it did, or a script).
//
// Besides %core it reports the garbage the agent made (alloc-B/s; each
// collection of this program's heap and goroutine stacks costs it about
// a quarter of a second of CPU, so a window that holds one, gcs, reads
// higher), the share of a core the agent measured its streams at and
// left the wall-clock profile (stream-meter-%core, wall-share-%core,
// see wallShare) and how many times that profile sampled the goroutines
// (wall-samples). HTTPTOP_COST_PROFILE=<file> writes a CPU profile of
// the measured span (cases without the CPU profile), and
// HTTPTOP_COST_PERF=<file> a perf(1) recording of it, runtime and
// profilers included.
func BenchmarkAgentCost(b *testing.B) {
	srv := tlstest.Start(b, "TestHelperServers", tlstest.Spec{Proto: fixtures.HTTPS1, Servers: 1})
	// Plain HTTP for the churn: a TLS client closing a connection with
	// a session ticket still unread resets it rather than leaving it in
	// TIME_WAIT.
	churn := tlstest.Start(b, "TestHelperServers", tlstest.Spec{Proto: fixtures.HTTP1, Servers: 1})
	tr := srv.Transport(fixtures.HTTPS1, costOpen)
	tr.TLSHandshakeTimeout = 0
	tr.TLSClientConfig.CurvePreferences = []tls.CurveID{tls.X25519}
	col := probe.NewCollector(probe.CollectorOptions{})
	cl := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col))}

	// 10,000 connections held open by requests the server answers in
	// ten minutes.
	tlstest.Hold(b, cl, srv.URLs[0], costOpen)

	a, err := Start(Options{Collector: col, NoDiscovery: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	hc := &http.Client{Transport: &http.Transport{}}
	call := func(ctx context.Context, q string) (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+a.Addr()+snapshot.APIPath+q, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+a.Token())
		return hc.Do(req)
	}
	s := a.handler.col.Snapshot()
	if len(s.Conns) < costOpen {
		b.Fatalf("%d connections open, want %d", len(s.Conns), costOpen)
	}

	// timeWait closes 5,000 connections from the program's side, which
	// leaves their sockets in TIME_WAIT for a minute; each measurement
	// makes its own, so that they last through it.
	timeWait := func(b *testing.B) {
		b.Helper()
		tw := churn.Transport(fixtures.HTTP1, costTimeWait)
		// Through the program's instrumented client: the agent learns
		// the server as a peer and counts the sockets left behind.
		c := &http.Client{Transport: probe.Wrap(tw, probe.WithCollector(col), probe.WithName("churn"))}
		// All at once, each slow enough to need a connection of its
		// own; then close them all from this side.
		var wg sync.WaitGroup
		for range costTimeWait {
			wg.Go(func() {
				resp, err := c.Get(churn.URLs[0] + "/?size=10&latency=1s")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		tw.CloseIdleConnections()
	}

	// cpuPerSecond measures the process's CPU time per second of wall
	// time over d.
	cpuPerSecond := func(d time.Duration) float64 {
		c0, t0 := processCPU(), time.Now()
		time.Sleep(d) // the span measured, not a wait for an event
		return (processCPU() - c0).Seconds() / time.Since(t0).Seconds()
	}

	for _, bc := range []struct {
		name     string
		whole    bool
		profiles []string
	}{
		{name: "stream"}, {name: "stream-whole", whole: true},
		{name: "stream+cpu", profiles: []string{"cpu"}}, {name: "stream+wall", profiles: []string{"wall"}},
		{name: "stream+profiles", profiles: []string{"cpu", "wall"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			timeWait(b)
			// A few of the requests may share a connection.
			tws := waitTimeWait(b, strings.TrimPrefix(churn.URLs[0], "http://"), costTimeWait*95/100)
			idle := cpuPerSecond(3 * time.Second)

			var wallSamples atomic.Int64
			sctx, stop := context.WithCancel(context.Background())
			var loops sync.WaitGroup
			defer func() { stop(); loops.Wait() }()
			q := "stream?interval=1s"
			if !bc.whole {
				q += "&" + snapshot.StreamConnsParam + "=" + snapshot.StreamConnsChanges
			}
			resp, err := call(sctx, q)
			if err != nil {
				b.Fatal(err)
			}
			loops.Go(func() {
				defer resp.Body.Close()
				io.Copy(io.Discard, resp.Body)
			})
			{
				for _, kind := range bc.profiles {
					loops.Go(func() {
						for sctx.Err() == nil {
							q := "profile?kind=" + kind + "&seconds=" + strconv.Itoa(int(agentclient.RollingDuration/time.Second)) + "&yield=1"
							if kind == "wall" {
								q += "&hz=" + strconv.Itoa(agentclient.RollingWallHz)
							}
							r, err := call(sctx, q)
							if err != nil {
								return
							}
							data, _ := io.ReadAll(r.Body)
							r.Body.Close()
							if kind == "wall" {
								// How many times the goroutines were
								// sampled: the resolution the pane has.
								if p, err := profile.ParseData(data); err == nil {
									wallSamples.Add(int64(flame.WallSamples(p)))
								}
							}
						}
					})
				}
			}
			time.Sleep(2 * time.Second) // let the stream and profiles settle: part of the scenario, not synchronisation

			if f := os.Getenv("HTTPTOP_COST_PROFILE"); f != "" && !slices.Contains(bc.profiles, "cpu") {
				// A CPU profile of the measured span, to see where the
				// agent's time goes.
				out, err := os.Create(f + "." + strings.ReplaceAll(bc.name, "+", "_"))
				if err != nil {
					b.Fatal(err)
				}
				if err := pprof.StartCPUProfile(out); err == nil {
					defer pprof.StopCPUProfile()
				}
			}
			if f := os.Getenv("HTTPTOP_COST_PERF"); f != "" {
				// perf's profile of the measured span, the Go runtime's
				// work and the CPU profiler's own included.
				perfRecord(b, f+"."+strings.ReplaceAll(bc.name, "+", "_"), time.Duration(b.N)*time.Second)
			}
			b.ResetTimer()
			m0, w0 := readGC(), wallSamples.Load()
			c0, t0 := processCPU(), time.Now()
			for range b.N {
				time.Sleep(time.Second) // one second of the dashboard watching
			}
			span := time.Since(t0).Seconds()
			busy := (processCPU() - c0).Seconds() / span
			m1 := readGC()
			b.StopTimer()
			// The garbage the agent makes costs the program collections
			// of its whole heap and of every goroutine's stack.
			b.ReportMetric(float64(m1.allocs-m0.allocs)/span, "alloc-B/s")
			b.ReportMetric(float64(m1.cycles-m0.cycles), "gcs")
			b.ReportMetric(float64(m1.live)/1e6, "live-MB")
			// What the agent measured of its snapshots, and the share
			// of a core the wall-clock profile was left (wallShare).
			spent := a.handler.cost.share(time.Now())
			b.ReportMetric(100*spent, "stream-meter-%core")
			if slices.Contains(bc.profiles, "wall") {
				b.ReportMetric(100*wallShare(spent), "wall-share-%core")
				// Those of the profiles that ended in the span.
				b.ReportMetric(float64(wallSamples.Load()-w0), "wall-samples")
			}
			b.ReportMetric(100*(busy-idle), "%core")
			b.ReportMetric(100*idle, "idle-%core")
			p := a.handler.proc
			p.mu.Lock()
			every := p.tcpEvery
			p.mu.Unlock()
			// The TCP table is read again after tcpCostFactor times
			// its last cost.
			b.ReportMetric(every.Seconds(), "tcp-every-s")
			b.ReportMetric(float64(tws), "time-wait")
		})
	}
}

// perfRecord starts perf(1) recording the process's stacks into file for
// d, in the background; the benchmark waits for it before it ends.
func perfRecord(b *testing.B, file string, d time.Duration) {
	b.Helper()
	cmd := exec.Command("perf", "record", "-F", "997", "-g", "-o", file, "-p", strconv.Itoa(os.Getpid()), "--", "sleep", strconv.Itoa(int(d.Seconds())))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("perf: %v", err)
	}
	b.Cleanup(func() { cmd.Wait() })
}

// waitTimeWait waits until the process's network namespace holds n
// sockets in TIME_WAIT towards addr (host:port), as the agent reads them,
// and returns how many it holds.
func waitTimeWait(b *testing.B, addr string, n int) int {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		_, orphans, err := readSockets(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		got = 0
		for _, o := range orphans {
			if o.state == "TIME_WAIT" && o.remote.String() == addr {
				got++
			}
		}
		if got >= n {
			return got
		}
		time.Sleep(100 * time.Millisecond) // polling the kernel's table
	}
	b.Fatalf("%d sockets in TIME_WAIT towards %s, want %d", got, addr, n)
	return got
}

// gcFigures are the runtime's cumulative allocation and collection counts.
type gcFigures struct{ allocs, cycles, live uint64 }

// readGC returns the bytes allocated on the heap and the collections
// finished so far, and the heap's live bytes at the last collection.
func readGC() gcFigures {
	ms := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(ms)
	return gcFigures{allocs: ms[0].Value.Uint64(), cycles: ms[1].Value.Uint64(), live: ms[2].Value.Uint64()}
}

// processCPU returns the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(fmt.Sprintf("getrusage: %v", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
