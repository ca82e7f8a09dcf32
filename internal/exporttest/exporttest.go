// Package exporttest runs the workloads the metrics exporters' tests
// check their figures against.
package exporttest

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/probe"
)

// The saturated-pool scenario: a server answering after Delay, a pool of
// Pool connections (MaxConnsPerHost) and Workers callers in a closed loop.
// At most Pool requests are served at a time, so Workers-Pool wait, each
// for (Workers/Pool - 1) rounds of Delay.
const (
	Pool    = 4
	Workers = 32
	Delay   = 50 * time.Millisecond
	// Client is the probe client name of the scenario's requests.
	Client = "sat"
	// WantWaiting and WantWaitP50 are the scenario's answers.
	WantWaiting = Workers - Pool             // 28
	WantWaitP50 = (Workers/Pool - 1) * Delay // 350 ms
	steadyAfter = 3 * Workers                // requests before every worker has queued twice
)

// Saturated is a running saturated-pool scenario.
type Saturated struct {
	// Collector records the scenario's client.
	Collector *probe.Collector
	// Host is the server's host:port, as the probe names it.
	Host   string
	server *fixtures.Server
}

// StartSaturated starts the saturated-pool scenario with a collector of
// its own, waits until it is in its steady state (every worker has queued
// twice) and stops it when the test ends.
func StartSaturated(t testing.TB) *Saturated {
	t.Helper()
	srv, err := fixtures.NewServer(fixtures.Options{Defaults: fixtures.Behavior{Latency: Delay}})
	if err != nil {
		t.Fatal(err)
	}
	col := probe.NewCollector(probe.CollectorOptions{})
	tr := srv.Transport()
	tr.MaxConnsPerHost = Pool
	tr.MaxIdleConnsPerHost = Pool
	client := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName(Client))}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		fixtures.ClosedLoop{Workers: Workers}.Run(ctx, client, fixtures.Request{URL: srv.URL + "/"})
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()
		srv.Close()
	})
	s := &Saturated{Collector: col, Host: srv.Addr(), server: srv}
	s.WaitRequests(t, steadyAfter)
	return s
}

// WaitRequests blocks until the server has received n requests since the
// scenario started.
func (s *Saturated) WaitRequests(t testing.TB, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.server.WaitFor(ctx, func(st fixtures.Stats) bool { return st.Requests >= n }); err != nil {
		t.Fatal(err)
	}
}

// Requests returns how many requests the server has received.
func (s *Saturated) Requests() int64 { return s.server.Stats().Requests }
