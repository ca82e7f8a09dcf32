//go:build linux

package agent

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
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
//	go test ./probe/agent -run '^$' -bench AgentCost -benchtime 20x
//
// "stream" is the snapshot stream alone as the dashboard asks for it,
// connection changes only (the dashboard with the hot functions pane
// hidden); "stream+profiles" adds the rolling CPU and wall-clock profiles
// the pane takes while it is on screen (2 s each, back to back, side by
// side, the wall-clock one at agentclient.RollingWallHz), and
// "stream+cpu" and "stream+wall" each of them alone. "stream-whole" is
// the stream of whole snapshots a client gets that does not ask for
// connection changes (httptop before it did, or a script).
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
							q := "profile?kind=" + kind + "&seconds=2&yield=1"
							if kind == "wall" {
								q += "&hz=" + strconv.Itoa(agentclient.RollingWallHz)
							}
							r, err := call(sctx, q)
							if err != nil {
								return
							}
							io.Copy(io.Discard, r.Body)
							r.Body.Close()
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
			b.ResetTimer()
			c0, t0 := processCPU(), time.Now()
			for range b.N {
				time.Sleep(time.Second) // one second of the dashboard watching
			}
			busy := (processCPU() - c0).Seconds() / time.Since(t0).Seconds()
			b.StopTimer()
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

// processCPU returns the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(fmt.Sprintf("getrusage: %v", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
