package probe

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/poolstats"
	"github.com/httptop/httptop/snapshot"
)

// TestScenarioClonedTransport is the debug-build way of making a client
// after probe/attach: a clone of the (instrumented) default transport with
// MaxConnsPerHost 2, used by 10 workers against a 200 ms server. Its
// requests go through no probe: httptop sees its connections through the
// dial hook the clone inherited and its requests start through the Proxy
// function it inherited, nothing else. The snapshot must say so — a dial
// only host of the (unwrapped) client whose limits are unknown, both
// connections busy, the requests started counted — and must not claim
// the default transport's limits, zero requests per second, idle
// connections or a diagnosis drawn from zeros. A client with a nil
// Transport sharing the instrumented transport is seen the same way,
// while the wrapped client's own requests count once, as traced.
func TestScenarioClonedTransport(t *testing.T) {
	const (
		pool    = 2
		workers = 10
		delay   = 200 * time.Millisecond
		served  = 20 // 2 s at 2 ÷ 200 ms
	)
	// What probe/attach does to http.DefaultTransport, on a copy of it.
	base := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	old := watchProxy
	watchProxy = func(tr *http.Transport) bool { return tr == base }
	t.Cleanup(func() { watchProxy = old })
	col := NewCollector(CollectorOptions{})
	wrapped := &http.Client{Transport: Wrap(base, WithCollector(col))}

	clone := base.Clone() // after instrumenting, as after the import
	clone.MaxConnsPerHost = pool
	t.Cleanup(clone.CloseIdleConnections)
	cloned := &http.Client{Transport: clone}
	shared := &http.Client{Transport: base} // a client with a nil Transport, in effect

	enough := make(chan struct{})
	slow := slowServer(t, delay, func(n int64) {
		if n == served {
			close(enough)
		}
	})
	fast := slowServer(t, 0, nil)
	other := slowServer(t, 0, nil)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				get(ctx, cloned, slow.URL)
			}
		})
	}
	const n = 5
	for range n {
		if !get(ctx, wrapped, fast.URL) || !get(ctx, shared, other.URL) {
			t.Fatal("request failed")
		}
	}
	<-enough
	s := col.Snapshot()
	cancel()
	wg.Wait()

	rows := map[string]snapshot.Host{}
	for _, h := range s.Hosts {
		rows[h.Host] = h
	}
	h, ok := rows[slow.Listener.Addr().String()]
	t.Logf("clone's host: %+v", h)
	switch {
	case !ok:
		t.Fatalf("the clone's host is missing: %+v", s.Hosts)
	case h.Client != poolstats.UnwrappedClient || h.Scheme != "http" || !h.DialOnly:
		t.Errorf("client %q scheme %q dial only %v, want %q, http, true", h.Client, h.Scheme, h.DialOnly, poolstats.UnwrappedClient)
	case h.LimitsKnown || h.MaxConnsPerHost != 0:
		t.Errorf("limits known %v, max %d: the clone's limits cannot be read (and are not the default transport's)", h.LimitsKnown, h.MaxConnsPerHost)
	case h.Open != pool || h.Active != pool || h.Idle != 0 || h.DialOnlyConns != pool:
		t.Errorf("open/active/idle = %d/%d/%d (dial only %d), want %d/%d/0: both connections carry requests without pause",
			h.Open, h.Active, h.Idle, h.DialOnlyConns, pool, pool)
	case h.RequestsStarted < served || h.RequestsStarted > served+workers:
		t.Errorf("requests started = %d, want %d served plus at most %d in flight", h.RequestsStarted, served, workers)
	case h.StartsPerSecond <= 0 || h.Requests != 0 || h.RPS != 0:
		t.Errorf("starts/s %.1f, requests %d, rps %.1f: want starts counted apart from the requests seen complete", h.StartsPerSecond, h.Requests, h.RPS)
	}
	for _, c := range s.Conns {
		if c.Host == h.Host && (!c.DialOnly || c.Requests != 0) {
			t.Errorf("connection %+v: want dial only, no requests counted", c)
		}
	}
	for _, d := range s.Diagnoses {
		if d.Client == poolstats.UnwrappedClient {
			t.Errorf("diagnosis drawn from invisible requests: %+v", d)
		}
	}
	if h := rows[other.Listener.Addr().String()]; h.Client != poolstats.UnwrappedClient || !h.DialOnly || h.RequestsStarted != n || h.Open != 1 {
		t.Errorf("client sharing the transport without the probe: %+v\nwant dial only, %d requests started, 1 connection", h, n)
	}
	if h := rows[fast.Listener.Addr().String()]; h.Client != DefaultClientName || h.DialOnly || h.Requests != n || h.RequestsStarted != 0 || h.Open != 1 {
		t.Errorf("wrapped client: %+v\nwant %d requests traced, none counted as untraced", h, n)
	}
}

// WithName cannot name a traced client like the untraced one: their rows
// would be told apart by nothing, in snapshots and in exported series.
func TestWithNameReservesUnwrapped(t *testing.T) {
	col := NewCollector(CollectorOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	c := &http.Client{Transport: Wrap(&http.Transport{}, WithCollector(col), WithName(UnwrappedClient))}
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range col.Snapshot().Hosts {
		if h.Client != DefaultClientName || h.DialOnly {
			t.Errorf("host %s of client %q (dial only %v), want client %q", h.Host, h.Client, h.DialOnly, DefaultClientName)
		}
	}
}
