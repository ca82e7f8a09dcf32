package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/httptop/httptop/probe"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tcnksm/go-httpstat"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// A Client sends one GET to a URL through one variant, reads the body to
// EOF and closes it.
type Client interface {
	Get(url string) error
	// Close releases the client's connections and background work.
	Close()
}

// A Variant is one way of instrumenting an HTTP client.
type Variant struct {
	Name string
	// New returns a client for the variant sending through tr, which
	// belongs to it.
	New func(tr *http.Transport) Client
}

// Variants returns every variant, bare first.
func Variants() []Variant {
	return append([]Variant{
		{"bare", func(tr *http.Transport) Client { return newRTClient(tr, tr, nil) }},
		{"withcontext", func(tr *http.Transport) Client { return newRTClient(tr, withContext{tr}, nil) }},
		{"lean", func(tr *http.Transport) Client { return newRTClient(tr, NewLean(tr), nil) }},
		{"httpstat", newHTTPStat},
		{"httptop", func(tr *http.Transport) Client {
			return newRTClient(tr, probe.Wrap(tr, probe.WithCollector(probe.NewCollector(probe.CollectorOptions{}))), nil)
		}},
		{"promhttp", newPromHTTP},
		{"otelhttp-noop", func(tr *http.Transport) Client { return newRTClient(tr, otelhttp.NewTransport(tr), nil) }},
		{"otelhttp-sdk", newOtelSDK},
	}, extraVariants...)
}

// extraVariants are variants built only on request (run.sh adds
// httptop-before through an overlay when BEFORE is set).
var extraVariants []Variant

// Select returns the variants named, in the order given, or an error
// naming one that does not exist.
func Select(names []string) ([]Variant, error) {
	all := Variants()
	var out []Variant
	for _, n := range names {
		i := slices.IndexFunc(all, func(v Variant) bool { return v.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("bench: no variant %q", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

// NewTransport returns the transport a variant gets: a clone of
// http.DefaultTransport keeping enough idle connections for 64 goroutines.
func NewTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	return tr
}

// rtClient is a variant that is a RoundTripper around the transport.
type rtClient struct {
	tr     *http.Transport
	client *http.Client
	close  func()
}

func newRTClient(tr *http.Transport, rt http.RoundTripper, close func()) *rtClient {
	return &rtClient{tr: tr, client: &http.Client{Transport: rt}, close: close}
}

func (c *rtClient) Get(url string) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	return drain(resp)
}

func (c *rtClient) Close() {
	c.tr.CloseIdleConnections()
	if c.close != nil {
		c.close()
	}
}

// drain reads a response's body to EOF and closes it, as every variant
// does.
func drain(resp *http.Response) error {
	_, err := io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("bench: status %s", resp.Status)
	}
	return err
}

// httpStat uses go-httpstat as its README shows: a Result on each
// request's context, ended once the body is read.
type httpStat struct{ rtClient }

func newHTTPStat(tr *http.Transport) Client {
	return &httpStat{*newRTClient(tr, tr, nil)}
}

func (c *httpStat) Get(url string) error {
	var result httpstat.Result
	ctx := httpstat.WithHTTPStat(context.Background(), &result)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	err = drain(resp)
	result.End(time.Now())
	return err
}

// newPromHTTP stacks promhttp's client middleware as its documentation's
// example does, with every trace hook observed.
func newPromHTTP(tr *http.Transport) Client {
	reg := prometheus.NewRegistry()
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "client_in_flight_requests", Help: "In-flight requests."})
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "client_requests_total", Help: "Requests."}, []string{"code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "client_request_duration_seconds", Help: "Latency.", Buckets: prometheus.DefBuckets}, []string{"method"})
	events := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "client_trace_seconds", Help: "Trace events.", Buckets: prometheus.DefBuckets}, []string{"event"})
	reg.MustRegister(inFlight, counter, duration, events)
	obs := func(event string) func(float64) {
		o := events.WithLabelValues(event)
		return o.Observe
	}
	trace := &promhttp.InstrumentTrace{
		GotConn:              obs("got_conn"),
		PutIdleConn:          obs("put_idle_conn"),
		GotFirstResponseByte: obs("first_byte"),
		Got100Continue:       obs("got_100"),
		DNSStart:             obs("dns_start"),
		DNSDone:              obs("dns_done"),
		ConnectStart:         obs("connect_start"),
		ConnectDone:          obs("connect_done"),
		TLSHandshakeStart:    obs("tls_start"),
		TLSHandshakeDone:     obs("tls_done"),
		WroteHeaders:         obs("wrote_headers"),
		Wait100Continue:      obs("wait_100"),
		WroteRequest:         obs("wrote_request"),
	}
	rt := promhttp.InstrumentRoundTripperInFlight(inFlight,
		promhttp.InstrumentRoundTripperCounter(counter,
			promhttp.InstrumentRoundTripperTrace(trace,
				promhttp.InstrumentRoundTripperDuration(duration, tr))))
	return newRTClient(tr, rt, nil)
}

// newOtelSDK instruments with otelhttp and the OpenTelemetry SDK: every
// request is sampled and its span batched to an exporter that discards
// it; metrics are aggregated for a manual reader.
func newOtelSDK(tr *http.Transport) Client {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(tracetest.NewNoopExporter()),
	)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	rt := otelhttp.NewTransport(tr, otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))
	return newRTClient(tr, rt, func() {
		ctx := context.Background()
		tp.Shutdown(ctx)
		mp.Shutdown(ctx)
	})
}
