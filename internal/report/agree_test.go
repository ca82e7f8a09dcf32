package report

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httptop/httptop/internal/capture"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// TestLittleAgreesWithDiagnosis runs the saturated pool (a pool of 4, 32
// workers, a 50 ms server), records its snapshots as a capture does, and
// checks that the report's W is the dashboard's: the W the pool_saturated
// advice gives in the last snapshot, within 10%, and that the pool carried
// N ÷ W.
func TestLittleAgreesWithDiagnosis(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a workload for 3 s")
	}
	const (
		pool    = 4
		workers = 32
		delay   = 50 * time.Millisecond
	)
	var served atomic.Int64
	mark := make(chan int64, 64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "ok")
		if n := served.Add(1); n%40 == 0 {
			select {
			case mark <- n:
			default:
			}
		}
	}))
	t.Cleanup(srv.Close)
	col := probe.NewCollector(probe.CollectorOptions{})
	tr := &http.Transport{MaxConnsPerHost: pool, MaxIdleConnsPerHost: pool}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName("sat"))}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		})
	}
	// A snapshot every 40 responses (about 0.5 s) from the first second
	// on, for about 3 s, as a capture takes them.
	var c *capture.Capture
	var last snapshot.Snapshot
	for n := range mark {
		if n < 80 {
			continue
		}
		last = col.Snapshot()
		if c == nil {
			c = capture.NewCapture(last.Time)
		}
		c.AddSnapshot(&last)
		if n >= 80+6*40 {
			break
		}
	}
	c.End = last.Time
	cancel()
	wg.Wait()

	r := Build(c, capture.Profiles{})
	var d *snapshot.Diagnosis
	for i := range last.Diagnoses {
		if last.Diagnoses[i].Kind == snapshot.KindPoolSaturated {
			d = &last.Diagnoses[i]
		}
	}
	if d == nil || len(r.Hosts) != 1 {
		t.Fatalf("diagnoses %+v, hosts %d: want pool_saturated and one host", last.Diagnoses, len(r.Hosts))
	}
	lt := r.Hosts[0].Little
	dash := d.Evidence["service_ms"]
	t.Logf("report: W = %.1f ms, λ = %.1f req/s over %d s; dashboard: W = %.1f ms", lt.Service, lt.Lambda, r.Hosts[0].Seconds, dash)
	// The report's W covers the whole seconds of the capture, the
	// dashboard's its last 10 s: on a loaded machine they may drift a
	// little apart, never as far as a quantile difference did (33 against
	// 66 ms).
	if math.Abs(lt.Service-dash) > 0.1*dash {
		t.Errorf("report W = %.1f ms, dashboard W = %.1f ms: they must agree (within 10%%)", lt.Service, dash)
	}
	// The server's 50 ms and what the machine adds (1 to 2 ms when it is
	// quiet; more under load, for the dashboard and the report alike).
	if ms := float64(delay / time.Millisecond); lt.Service < ms || lt.Service > 1.5*ms {
		t.Errorf("W = %.1f ms, want the server's %v and what the machine adds", lt.Service, delay)
	}
	if carry := float64(pool) / lt.Service * 1000; math.Abs(carry-lt.Lambda) > 0.1*lt.Lambda {
		t.Errorf("N ÷ W = %.1f req/s, λ = %.1f req/s: a saturated pool carries N ÷ W", carry, lt.Lambda)
	}
}
