// Package otelexport exports what a probe.Collector measures through
// OpenTelemetry metrics, read when the SDK collects, never on a request's
// path: registering costs the instrumented clients nothing.
//
// Gauges and counters are observable instruments on a metric.Meter (see
// Exporter.Register). The histograms (request duration, connection
// duration, connection wait) cannot be: the OpenTelemetry metrics API has
// no asynchronous histogram, and recording each request into a synchronous
// one would put the SDK on the request path. They come from the Exporter
// as an sdk/metric Producer instead, already aggregated as cumulative
// exponential histograms of scale 3, the probe's own buckets:
//
//	exp := otelexport.New(probe.Default(), otelexport.Options{})
//	reader := sdkmetric.NewPeriodicReader(otlpExporter, sdkmetric.WithProducer(exp))
//	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
//	if _, err := exp.Register(mp.Meter(otelexport.ScopeName)); err != nil { … }
//
// Names follow the OpenTelemetry HTTP semantic conventions where they
// define the figure (http.client.open_connections with
// http.connection.state, http.client.active_requests,
// http.client.request.duration, http.client.connection.duration; the
// attributes server.address, server.port, url.scheme, error.type,
// tls.resumed) and are prefixed httptop. where they do not (requests
// waiting for a connection, dials, pool limits, connection and TLS memory,
// leaked and undrained bodies, diagnoses). Every data point also carries
// httptop.client, the probe's client name.
//
// As in package promexport, at most Options.MaxHosts hosts (100 by
// default) get data points of their own; the others are folded per client
// into server.address="other", whose counters never go down.
//
// # Dial-only hosts
//
// The hosts of the client "(unwrapped)" (probe.UnwrappedClient) are dial
// only: httptop sees their connections through the dial hook their
// transport inherited (a clone of http.DefaultTransport made after
// probe/attach, or a client with a nil Transport), not their requests
// (see probe.HostMetrics.DialOnly). Such a host has data points of what
// is known: http.client.open_connections (states inferred from the
// traffic), dialing connections, closed connections, TLS handshakes,
// connection and TLS memory, http.client.connection.duration, and
// httptop.client.requests_started, the requests seen starting through
// its transport's Proxy function, which only dial-only hosts have. It has
// none of the figures about requests (active, waiting and completed
// requests, errors, new and reused connections, pool limits, leaked and
// undrained bodies, request duration, connection wait): they are unknown,
// not zero.
package otelexport

import (
	"context"
	"net"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/httptop/httptop/internal/hostfold"
	"github.com/httptop/httptop/probe"
)

// ScopeName is the instrumentation scope of the histograms the Exporter
// produces; use it for the Meter passed to Register too.
const ScopeName = "github.com/httptop/httptop/otelexport"

// DefaultMaxHosts is how many hosts get data points of their own when
// Options.MaxHosts is 0.
const DefaultMaxHosts = hostfold.DefaultMaxHosts

// OtherHost is the server.address of the data points that fold the hosts
// past Options.MaxHosts.
const OtherHost = hostfold.Other

// Attribute keys of httptop's own.
const (
	ClientKey            = attribute.Key("httptop.client")
	DiagnosisKindKey     = attribute.Key("httptop.diagnosis.kind")
	DiagnosisSeverityKey = attribute.Key("httptop.diagnosis.severity")
)

// Options configure an Exporter. The zero value is ready to use.
type Options struct {
	// MaxHosts is how many hosts get data points of their own; the others
	// are folded into server.address="other". DefaultMaxHosts when 0 or
	// less.
	MaxHosts int
}

// Exporter reads a probe.Collector for OpenTelemetry. Its methods are safe
// for concurrent use.
type Exporter struct {
	col  *probe.Collector
	fold *hostfold.Folder

	mu  sync.Mutex // guards buf, one reading at a time
	buf []probe.HostMetrics
}

var _ sdkmetric.Producer = (*Exporter)(nil)

// New returns an Exporter of the metrics of col. Create one per collector:
// it remembers which hosts have data points of their own.
func New(col *probe.Collector, opts Options) *Exporter {
	return &Exporter{col: col, fold: hostfold.New(opts.MaxHosts)}
}

// read reads the collector and folds the hosts past the limit, then calls
// f with the rows, under e.mu.
func (e *Exporter) read(f func(rows []probe.HostMetrics)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buf = e.col.ReadMetrics(e.buf[:0])
	f(e.fold.Fold(e.buf))
}

// hostAttrs returns the attributes of a host's data points, plus extra.
func hostAttrs(h *probe.HostMetrics, extra ...attribute.KeyValue) attribute.Set {
	kvs := make([]attribute.KeyValue, 0, 4+len(extra))
	kvs = append(kvs, ClientKey.String(h.Client))
	if h.Scheme != "" {
		kvs = append(kvs, semconv.URLSchemeKey.String(h.Scheme))
	}
	addr := h.Host
	if host, port, err := net.SplitHostPort(h.Host); err == nil {
		addr = host
		if p, err := strconv.Atoi(port); err == nil {
			kvs = append(kvs, semconv.ServerPortKey.Int(p))
		}
	}
	kvs = append(kvs, semconv.ServerAddressKey.String(addr))
	kvs = append(kvs, extra...)
	return attribute.NewSet(kvs...)
}

// instruments are the observable instruments Register creates.
type instruments struct {
	open, active, waiting, dialing, leaked, mem, tlsMem metric.Int64ObservableUpDownCounter
	maxConns, maxIdle, diagnosis                        metric.Int64ObservableGauge
	requests, errors, newConns, reused, closed          metric.Int64ObservableCounter
	handshakes, undrained, started, probeErrors         metric.Int64ObservableCounter
}

// Register creates the gauges and counters on meter and a callback that
// reads the collector each time the meter's provider collects. Unregister
// the returned registration to stop.
func (e *Exporter) Register(meter metric.Meter) (metric.Registration, error) {
	var (
		ins  instruments
		errs []error
	)
	upDown := func(dst *metric.Int64ObservableUpDownCounter, name, unit, desc string) {
		var err error
		*dst, err = meter.Int64ObservableUpDownCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	gauge := func(dst *metric.Int64ObservableGauge, name, unit, desc string) {
		var err error
		*dst, err = meter.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	counter := func(dst *metric.Int64ObservableCounter, name, unit, desc string) {
		var err error
		*dst, err = meter.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
	}
	upDown(&ins.open, "http.client.open_connections", "{connection}",
		"Number of outbound HTTP connections that are currently active or idle on the client.")
	upDown(&ins.active, "http.client.active_requests", "{request}",
		"Number of active HTTP requests: from RoundTrip until the response body is read to EOF or closed.")
	upDown(&ins.waiting, "httptop.client.waiting_requests", "{request}",
		"Requests waiting for a connection from the pool (httptrace GetConn to GotConn).")
	upDown(&ins.dialing, "httptop.client.dialing_connections", "{connection}",
		"Connections being dialed (DNS and TCP connect).")
	upDown(&ins.leaked, "httptop.client.leaked_bodies", "{body}",
		"Response bodies open and not read for longer than the leak threshold (30 s by default): each holds its connection.")
	upDown(&ins.mem, "httptop.client.connection.memory", "By",
		"Memory held by the open connections: TLS state and buffers, transport buffers, goroutine stacks.")
	upDown(&ins.tlsMem, "httptop.client.tls.memory", "By",
		"The TLS part of httptop.client.connection.memory.")
	gauge(&ins.maxConns, "httptop.client.max_connections", "{connection}",
		"The transport's limit on connections per host (http.Transport.MaxConnsPerHost); 0 means unlimited.")
	gauge(&ins.maxIdle, "httptop.client.max_idle_connections", "{connection}",
		"The transport's effective limit on idle connections kept per host (http.Transport.MaxIdleConnsPerHost); 0 means unlimited.")
	gauge(&ins.diagnosis, "httptop.client.diagnosis", "{diagnosis}",
		"1 while httptop diagnoses a problem of the kind httptop.diagnosis.kind for the host, with its severity.")
	counter(&ins.requests, "httptop.client.requests", "{request}",
		"Requests completed: responded (any status) or failed.")
	counter(&ins.errors, "httptop.client.errors", "{error}",
		"Failed requests and failed response-body reads, by error.type: timeout, canceled, dns, refused, reset, tls, other.")
	counter(&ins.newConns, "httptop.client.connections.new", "{connection}",
		"Requests that got a newly dialed connection.")
	counter(&ins.reused, "httptop.client.connections.reused", "{connection}",
		"Requests that got a connection from the pool.")
	counter(&ins.closed, "httptop.client.connections.closed", "{connection}",
		"Connections that closed.")
	counter(&ins.handshakes, "httptop.client.tls.handshakes", "{handshake}",
		"TLS handshakes of new connections, full or resumed (tls.resumed).")
	counter(&ins.undrained, "httptop.client.undrained_bodies", "{body}",
		"HTTP/1.x response bodies closed before EOF: each costs its connection.")
	counter(&ins.started, RequestsStartedName, "{request}",
		"Requests seen starting, for hosts whose requests httptop does not trace (dial only, httptop.client \"(unwrapped)\"): those of a clone of http.DefaultTransport made after probe/attach, or of a client with a nil Transport, counted by the transport's Proxy function (HTTP/1.x requests, and the first of each HTTP/2 connection).")
	counter(&ins.probeErrors, "httptop.probe.errors", "{error}",
		"Panics httptop recovered from in its own code, never passed on to the program: 0 unless httptop has a bug.")
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		e.observe(o, &ins)
		return nil
	}, ins.open, ins.active, ins.waiting, ins.dialing, ins.leaked, ins.mem, ins.tlsMem,
		ins.maxConns, ins.maxIdle, ins.diagnosis, ins.requests, ins.errors, ins.newConns,
		ins.reused, ins.closed, ins.handshakes, ins.undrained, ins.started, ins.probeErrors)
}

// observe reports one reading of the collector to o.
func (e *Exporter) observe(o metric.Observer, ins *instruments) {
	classes := probe.ErrorClassNames()
	e.read(func(rows []probe.HostMetrics) {
		for i := range rows {
			h := &rows[i]
			set := hostAttrs(h)
			at := metric.WithAttributeSet(set)
			with := func(kv ...attribute.KeyValue) metric.ObserveOption {
				return metric.WithAttributeSet(hostAttrs(h, kv...))
			}
			o.ObserveInt64(ins.open, h.Active, with(semconv.HTTPConnectionStateActive))
			o.ObserveInt64(ins.open, h.Idle, with(semconv.HTTPConnectionStateIdle))
			// Not a semantic-conventions state: dialed, TLS handshake
			// in progress, neither active nor idle.
			o.ObserveInt64(ins.open, h.Handshaking, with(semconv.HTTPConnectionStateKey.String("handshaking")))
			o.ObserveInt64(ins.dialing, h.Dialing, at)
			o.ObserveInt64(ins.mem, h.MemBytes, at)
			o.ObserveInt64(ins.tlsMem, h.TLSMemBytes, at)
			if h.LimitsKnown {
				o.ObserveInt64(ins.maxConns, h.MaxConnsPerHost, at)
				o.ObserveInt64(ins.maxIdle, h.MaxIdleConnsPerHost, at)
			}
			for _, d := range h.Diagnoses {
				o.ObserveInt64(ins.diagnosis, 1, with(DiagnosisKindKey.String(string(d.Kind)), DiagnosisSeverityKey.String(string(d.Severity))))
			}
			o.ObserveInt64(ins.closed, h.ClosedConns, at)
			o.ObserveInt64(ins.handshakes, h.TLSFullHandshakes, with(semconv.TLSResumedKey.Bool(false)))
			o.ObserveInt64(ins.handshakes, h.TLSResumedHandshakes, with(semconv.TLSResumedKey.Bool(true)))
			if h.DialOnly {
				// Its requests are unknown, not zero: no data point.
				o.ObserveInt64(ins.started, h.RequestsStarted, at)
				continue
			}
			o.ObserveInt64(ins.active, h.InFlight, at)
			o.ObserveInt64(ins.waiting, h.Waiting, at)
			o.ObserveInt64(ins.leaked, h.LeakedBodies, at)
			o.ObserveInt64(ins.requests, h.Requests, at)
			for k, n := range h.ErrorClasses {
				o.ObserveInt64(ins.errors, n, with(semconv.ErrorTypeKey.String(classes[k])))
			}
			o.ObserveInt64(ins.newConns, h.NewConns, at)
			o.ObserveInt64(ins.reused, h.ReusedConns, at)
			o.ObserveInt64(ins.undrained, h.UndrainedBodies, at)
		}
	})
	o.ObserveInt64(ins.probeErrors, e.col.ProbeErrors())
}

// RequestsStartedName is the name of the counter of the requests seen
// starting of a dial-only host, the only figure of its requests known.
const RequestsStartedName = "httptop.client.requests_started"

// Histogram names, units and descriptions.
const (
	RequestDurationName    = "http.client.request.duration"
	ConnectionDurationName = "http.client.connection.duration"
	ConnectionWaitName     = "httptop.client.connection.wait_duration"
)

// Produce returns the histograms of every host as cumulative exponential
// histograms of scale 3, for an sdk/metric Reader (sdkmetric.WithProducer).
func (e *Exporter) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	now := time.Now()
	lat := metricdata.ExponentialHistogram[float64]{Temporality: metricdata.CumulativeTemporality}
	life, wait := lat, lat
	e.read(func(rows []probe.HostMetrics) {
		for i := range rows {
			h := &rows[i]
			set := hostAttrs(h)
			life.DataPoints = append(life.DataPoints, dataPoint(set, h.Created, now, &h.ConnDuration))
			if h.DialOnly {
				continue // its requests' latencies and waits are unknown
			}
			lat.DataPoints = append(lat.DataPoints, dataPoint(set, h.Created, now, &h.Latency))
			wait.DataPoints = append(wait.DataPoints, dataPoint(set, h.Created, now, &h.ConnWait))
		}
	})
	return []metricdata.ScopeMetrics{{
		Scope: instrumentation.Scope{Name: ScopeName},
		Metrics: []metricdata.Metrics{
			{Name: RequestDurationName, Unit: "s", Data: lat,
				Description: "Duration of HTTP client requests: from RoundTrip until the response headers arrived, including the wait for a connection."},
			{Name: ConnectionDurationName, Unit: "s", Data: life,
				Description: "The duration of the successfully established outbound HTTP connections, from the end of their dial to their close."},
			{Name: ConnectionWaitName, Unit: "s", Data: wait,
				Description: "Time requests waited for a connection from the pool (httptrace GetConn to GotConn)."},
		},
	}}, nil
}

// dataPoint converts a probe histogram into an exponential-histogram data
// point. Its counts are copied: the reading is reused by the next one.
func dataPoint(set attribute.Set, start, now time.Time, h *probe.Histogram) metricdata.ExponentialHistogramDataPoint[float64] {
	return metricdata.ExponentialHistogramDataPoint[float64]{
		Attributes:    set,
		StartTime:     start,
		Time:          now,
		Count:         h.Count,
		Sum:           h.Sum,
		Scale:         probe.HistogramSchema,
		ZeroCount:     h.ZeroCount,
		ZeroThreshold: probe.HistogramZeroThreshold,
		// OpenTelemetry's bucket k holds (base^k, base^(k+1)],
		// Prometheus's and the probe's bucket k holds (base^(k-1), base^k].
		PositiveBucket: metricdata.ExponentialBucket{
			Offset: h.Offset - 1,
			Counts: append([]uint64(nil), h.Counts...),
		},
	}
}
