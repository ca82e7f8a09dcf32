// Package demo runs the workload behind `httptop demo`: local fixture
// servers and instrumented clients that show, side by side, the pathologies
// httptop diagnoses, so that a new user sees every column and diagnosis
// light up within seconds, without setting anything up.
//
// The tour (the default) runs these clients, each against its own server:
//
//	catalog   healthy: HTTP/2, 5 ms, 8 workers that sign each request and
//	          decode the JSON answer (the hot functions)
//	payments  a saturated pool: 32 workers, MaxConnsPerHost 4, 50 ms server
//	search    idle-pool churn: batches of 50 against the default idle pool
//	          of 2 connections per host
//	auth      a slow TLS host: a 120 ms handshake, and a server that closes
//	          every connection, so each request pays a full handshake
//	export    a body leak: one response in four is never closed
//	llm       token streams (server-sent events) that stay open for
//	          seconds while being read: streams, not leaks
//
// With Options.Scenario it runs one pathology of the tour instead, named
// by what it shows (saturated, churn, tls, leak, stream, healthy) or by
// its client, the pathology the tour leaves out, or one of the fixtures'
// benchmark scenarios (small_post, parallel_50, large_body, bodies_c64,
// ...). The tour leaves out
//
//	ingest    the next bottleneck (cpu): 64 workers that spend 2 ms of
//	          CPU before each request, MaxConnsPerHost 16, a 20 ms
//	          server. The pool is full and requests wait for it, but the
//	          CPU binds first: the pool advice says so, and with all the
//	          CPU in use, cpu_saturated. It would take the CPU of every
//	          other client of the tour.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/httptop/httptop/fixtures"
	"github.com/httptop/httptop/probe"
)

// Options configure a Demo.
type Options struct {
	// Collector receives the workload's statistics; nil means a new one.
	Collector *probe.Collector
	// Scenario names a fixtures scenario to run instead of the tour.
	Scenario string
	// Log receives errors the workloads meet (other than their being
	// stopped); nil discards them.
	Log io.Writer
}

// Demo is a running workload.
type Demo struct {
	col     *probe.Collector
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	servers []*fixtures.Server
	clients []*http.Client
	log     io.Writer
	logMu   sync.Mutex

	leakMu sync.Mutex
	leaked []*http.Response
}

// pathologies are the tour's workloads by the pathology each shows, and
// by the name of its client, then those the tour leaves out:
// Options.Scenario accepts both names.
var pathologies = []struct {
	name, client string
	start        func(*Demo, context.Context) error
}{
	{"saturated", "payments", (*Demo).payments},
	{"churn", "search", (*Demo).search},
	{"tls", "auth", (*Demo).auth},
	{"leak", "export", (*Demo).export},
	{"stream", "llm", (*Demo).llm},
	{"healthy", "catalog", (*Demo).catalog},
	{"cpu", "ingest", (*Demo).ingest},
}

// Pathologies returns the names of the pathologies, which
// Options.Scenario accepts (as it does their clients' names).
func Pathologies() []string {
	var names []string
	for _, p := range pathologies {
		names = append(names, p.name)
	}
	return names
}

// Scenarios returns the names of the benchmark scenarios Options.Scenario
// accepts besides the pathologies.
func Scenarios() []string {
	var names []string
	for _, s := range fixtures.Scenarios() {
		names = append(names, s.Name)
	}
	return names
}

// Start starts the servers and the workload; it runs until Close.
func Start(opts Options) (*Demo, error) {
	d := &Demo{col: opts.Collector, log: opts.Log}
	if d.col == nil {
		d.col = probe.NewCollector(probe.CollectorOptions{})
	}
	if d.log == nil {
		d.log = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	var err error
	if opts.Scenario != "" {
		err = d.startScenario(ctx, opts.Scenario)
	} else {
		err = d.startTour(ctx)
	}
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Collector returns the collector the workload records into.
func (d *Demo) Collector() *probe.Collector { return d.col }

// Close stops the workload, closes the leaked bodies and the servers.
func (d *Demo) Close() error {
	d.cancel()
	d.wg.Wait()
	d.leakMu.Lock()
	fixtures.CloseAll(d.leaked)
	d.leaked = nil
	d.leakMu.Unlock()
	for _, c := range d.clients {
		c.CloseIdleConnections()
	}
	var errs []error
	for _, s := range d.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// server starts a fixture server that Close will stop.
func (d *Demo) server(opts fixtures.Options) (*fixtures.Server, error) {
	s, err := fixtures.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("demo: start %s server: %w", opts.Proto, err)
	}
	d.servers = append(d.servers, s)
	return s, nil
}

// client wraps t with the probe under name.
func (d *Demo) client(name string, t *http.Transport, opts ...probe.Option) *http.Client {
	opts = append([]probe.Option{probe.WithCollector(d.col), probe.WithName(name)}, opts...)
	c := &http.Client{Transport: probe.Wrap(t, opts...)}
	d.clients = append(d.clients, c)
	return c
}

// run runs a workload until ctx is done, logging how it failed otherwise.
func (d *Demo) run(ctx context.Context, name string, work func(context.Context) error) {
	d.wg.Go(func() {
		for ctx.Err() == nil {
			if err := work(ctx); err != nil && ctx.Err() == nil {
				d.logf("%s: %v", name, err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	})
}

func (d *Demo) logf(format string, args ...any) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	fmt.Fprintf(d.log, "demo: "+format+"\n", args...)
}

// CheckScenario returns an error naming the scenarios there are when name
// is none of them (nor "", the tour).
func CheckScenario(name string) error {
	if name == "" {
		return nil
	}
	for _, p := range pathologies {
		if name == p.name || name == p.client {
			return nil
		}
	}
	if _, ok := fixtures.ScenarioByName(name); ok {
		return nil
	}
	return fmt.Errorf("demo: unknown scenario %q: name a pathology (%s) or a benchmark scenario (%s)",
		name, strings.Join(Pathologies(), ", "), strings.Join(Scenarios(), ", "))
}

func (d *Demo) startScenario(ctx context.Context, name string) error {
	for _, p := range pathologies {
		if name == p.name || name == p.client {
			return p.start(d, ctx)
		}
	}
	sc, ok := fixtures.ScenarioByName(name)
	if !ok {
		return CheckScenario(name)
	}
	srv, err := d.server(fixtures.Options{Proto: fixtures.HTTP1})
	if err != nil {
		return err
	}
	sc.Requests = 0 // until stopped
	c := d.client(sc.Name, srv.Transport())
	d.run(ctx, sc.Name, func(ctx context.Context) error {
		res, err := sc.Run(ctx, c, srv.URL)
		if err == nil {
			err = res.Err
		}
		return ignoreStop(ctx, err)
	})
	return nil
}

// ignoreStop drops the errors of a workload being stopped.
func ignoreStop(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
