package otelexport

import (
	"net"
	"strconv"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/httptop/httptop/internal/exporttest"
	"github.com/httptop/httptop/probe"
)

// points counts metric name's data points with the attributes want: 0
// when the metric has none at all (the SDK then leaves it out).
func points(rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int {
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			var sets []attribute.Set
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			case metricdata.ExponentialHistogram[float64]:
				for _, p := range d.DataPoints {
					sets = append(sets, p.Attributes)
				}
			}
			for _, set := range sets {
				if matches(set, want) {
					n++
				}
			}
		}
	}
	return n
}

// hostOf returns the attributes naming the host host:port of client.
func hostOf(t *testing.T, client, hostport string) []attribute.KeyValue {
	t.Helper()
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return []attribute.KeyValue{ClientKey.String(client), semconv.ServerAddressKey.String(host), semconv.ServerPortKey.Int(p)}
}

// A clone of http.DefaultTransport made after it was instrumented (as
// after probe/attach) sends 6 requests, on two connections one after the
// other: its host is dial only. It has data points of its connections and
// of the requests seen starting, 6, and none of the figures about its
// requests, which are unknown; the traced client beside it has its
// request figures and no requests started.
func TestDialOnlyHost(t *testing.T) {
	if !exporttest.InChild(t) {
		return
	}
	s := exporttest.RunDialOnly(t)
	rm := collect(t, New(s.Collector, Options{}))
	host := hostOf(t, probe.UnwrappedClient, s.Host)
	for _, name := range []string{
		"http.client.open_connections", "httptop.client.dialing_connections", "httptop.client.connections.closed",
		"httptop.client.tls.handshakes", "httptop.client.connection.memory", "httptop.client.tls.memory",
		ConnectionDurationName, RequestsStartedName,
	} {
		if points(rm, name, host...) == 0 {
			t.Errorf("no %s%v: a dial-only host has it", name, host)
		}
	}
	for _, name := range []string{
		"http.client.active_requests", "httptop.client.waiting_requests", "httptop.client.leaked_bodies",
		"httptop.client.max_connections", "httptop.client.max_idle_connections", "httptop.client.diagnosis",
		"httptop.client.requests", "httptop.client.errors", "httptop.client.connections.new",
		"httptop.client.connections.reused", "httptop.client.undrained_bodies",
		RequestDurationName, ConnectionWaitName,
	} {
		if n := points(rm, name, host...); n > 0 {
			t.Errorf("%s%v: %d data points, want none: a dial-only host's request figures are unknown", name, host, n)
		}
	}
	open := int64(0)
	for _, state := range []attribute.KeyValue{semconv.HTTPConnectionStateActive, semconv.HTTPConnectionStateIdle,
		semconv.HTTPConnectionStateKey.String("handshaking")} {
		open += int64Point(t, rm, "http.client.open_connections", append(host, state)...)
	}
	for _, f := range []struct {
		what      string
		got, want int64
	}{
		{"requests started", int64Point(t, rm, RequestsStartedName, host...), exporttest.StartedRequests},
		{"open connections", open, 1},
		{"closed connections", int64Point(t, rm, "httptop.client.connections.closed", host...), 1},
		{"connection lifetimes", int64(histPoint(t, rm, ConnectionDurationName, host...).Count), 1},
		{"dialing", int64Point(t, rm, "httptop.client.dialing_connections", host...), 0},
	} {
		if f.got != f.want {
			t.Errorf("dial-only host: %s = %d, want %d", f.what, f.got, f.want)
		}
	}

	traced := hostOf(t, exporttest.TracedClient, s.TracedHost)
	if got := int64Point(t, rm, "httptop.client.requests", traced...); got != exporttest.TracedRequests {
		t.Errorf("traced host: requests = %d, want %d", got, exporttest.TracedRequests)
	}
	if n := points(rm, RequestsStartedName, traced...); n > 0 {
		t.Errorf("traced host: %d %s data points, want none", n, RequestsStartedName)
	}
	if n := points(rm, RequestDurationName, traced...); n != 1 {
		t.Errorf("traced host: %d %s data points, want 1", n, RequestDurationName)
	}
}
