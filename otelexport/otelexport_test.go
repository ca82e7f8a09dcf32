package otelexport

import (
	"context"
	"math"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/httptop/httptop/internal/exporttest"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// collect sets up an SDK with a ManualReader over exp and collects once.
func collect(t *testing.T, exp *Exporter) metricdata.ResourceMetrics {
	t.Helper()
	reader := sdkmetric.NewManualReader(sdkmetric.WithProducer(exp))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	if _, err := exp.Register(mp.Meter(ScopeName)); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// find returns the metric called name.
func find(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Aggregation {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

// matches reports whether set has every attribute of want.
func matches(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// int64Point returns the value of metric name's data point with the
// attributes want, from a sum or a gauge.
func int64Point(t *testing.T, rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	var points []metricdata.DataPoint[int64]
	switch d := find(t, rm, name).(type) {
	case metricdata.Sum[int64]:
		points = d.DataPoints
	case metricdata.Gauge[int64]:
		points = d.DataPoints
	default:
		t.Fatalf("%s is a %T", name, d)
	}
	for _, p := range points {
		if matches(p.Attributes, want) {
			return p.Value
		}
	}
	t.Fatalf("%s has no data point with %v", name, want)
	return 0
}

func histPoint(t *testing.T, rm metricdata.ResourceMetrics, name string, want ...attribute.KeyValue) metricdata.ExponentialHistogramDataPoint[float64] {
	t.Helper()
	d, ok := find(t, rm, name).(metricdata.ExponentialHistogram[float64])
	if !ok {
		t.Fatalf("%s is not an exponential histogram", name)
	}
	for _, p := range d.DataPoints {
		if matches(p.Attributes, want) {
			return p
		}
	}
	t.Fatalf("%s has no data point with %v", name, want)
	return metricdata.ExponentialHistogramDataPoint[float64]{}
}

// quantile returns the q quantile of an exponential histogram: the middle
// of the bucket holding it.
func quantile(p metricdata.ExponentialHistogramDataPoint[float64], q float64) float64 {
	rank := q * float64(p.Count)
	cum := float64(p.ZeroCount)
	if cum >= rank {
		return p.ZeroThreshold / 2
	}
	base := math.Exp2(math.Exp2(-float64(p.Scale)))
	for k, n := range p.PositiveBucket.Counts {
		cum += float64(n)
		if cum >= rank {
			i := float64(int(p.PositiveBucket.Offset) + k)
			return (math.Pow(base, i) + math.Pow(base, i+1)) / 2
		}
	}
	return math.NaN()
}

// The saturated-pool scenario (pool 4, 32 workers, 50 ms server) read
// through the OpenTelemetry SDK: the figures match the probe's snapshots
// taken just before and after, and the scenario's known answers.
func TestSaturatedPool(t *testing.T) {
	s := exporttest.StartSaturated(t)
	exp := New(s.Collector, Options{})
	before := s.Collector.Snapshot()
	rm := collect(t, exp)
	after := s.Collector.Snapshot()

	hb, ha := hostRow(t, before), hostRow(t, after)
	host := []attribute.KeyValue{ClientKey.String(exporttest.Client), semconv.ServerAddressKey.String("127.0.0.1")}

	waiting := int64Point(t, rm, "httptop.client.waiting_requests", host...)
	t.Logf("waiting: otel %d, snapshots %d and %d", waiting, hb.Waiting, ha.Waiting)
	if waiting < exporttest.WantWaiting-2 || waiting > exporttest.WantWaiting+2 {
		t.Errorf("waiting = %d, want %d ± 2", waiting, exporttest.WantWaiting)
	}
	active := int64Point(t, rm, "http.client.open_connections", append(host, semconv.HTTPConnectionStateActive)...)
	idle := int64Point(t, rm, "http.client.open_connections", append(host, semconv.HTTPConnectionStateIdle)...)
	if active+idle != int64(ha.Open) || active+idle != exporttest.Pool {
		t.Errorf("open connections = %d active + %d idle, snapshot says %d, want %d", active, idle, ha.Open, exporttest.Pool)
	}
	if got := int64Point(t, rm, "httptop.client.max_connections", host...); got != exporttest.Pool {
		t.Errorf("max_connections = %d, want %d", got, exporttest.Pool)
	}
	between := func(name string, got, lo, hi int64) {
		t.Helper()
		if got < lo || got > hi {
			t.Errorf("%s = %d, snapshots before and after say %d and %d", name, got, lo, hi)
		}
	}
	between("requests", int64Point(t, rm, "httptop.client.requests", host...), hb.Requests, ha.Requests)
	between("new connections", int64Point(t, rm, "httptop.client.connections.new", host...), hb.NewConns, ha.NewConns)
	between("reused connections", int64Point(t, rm, "httptop.client.connections.reused", host...), hb.ReusedConns, ha.ReusedConns)
	if got := int64Point(t, rm, "httptop.client.errors", append(host, semconv.ErrorTypeKey.String("timeout"))...); got != 0 {
		t.Errorf("timeouts = %d, want 0", got)
	}

	lat := histPoint(t, rm, RequestDurationName, host...)
	between("request duration count", int64(lat.Count), hb.Requests-hb.Errors, ha.Requests-ha.Errors)
	wait := histPoint(t, rm, ConnectionWaitName, host...)
	p50 := quantile(wait, 0.5) * 1e3
	t.Logf("conn wait p50: otel %.0f ms (cumulative), snapshot %.0f ms (window); count %d, sum %.1f s", p50, ha.ConnWait.P50, wait.Count, wait.Sum)
	want := float64(exporttest.WantWaitP50.Milliseconds())
	if p50 < want*0.75 || p50 > want*1.25 {
		t.Errorf("conn wait p50 = %.0f ms, want %.0f ms ± 25%%", p50, want)
	}
	if p50 < ha.ConnWait.P50*0.85 || p50 > ha.ConnWait.P50*1.15 {
		t.Errorf("conn wait p50 = %.0f ms, snapshot says %.0f ms", p50, ha.ConnWait.P50)
	}
	if mean := wait.Sum / float64(wait.Count) * 1e3; mean < want*0.5 || mean > want*1.25 {
		t.Errorf("conn wait mean %.0f ms, want about %.0f ms", mean, want)
	}
	if wait.Scale != 3 || wait.ZeroThreshold != math.Exp2(-20) {
		t.Errorf("scale %d zero threshold %v, want 3 and 2^-20", wait.Scale, wait.ZeroThreshold)
	}

	d := diagnosisOf(after, snapshot.KindPoolSaturated)
	if d == nil {
		t.Fatalf("the snapshot has no pool_saturated diagnosis: %+v", after.Diagnoses)
	}
	kind := DiagnosisKindKey.String(string(snapshot.KindPoolSaturated))
	sev := DiagnosisSeverityKey.String(string(d.Severity))
	if got := int64Point(t, rm, "httptop.client.diagnosis", append(host, kind, sev)...); got != 1 {
		t.Errorf("pool_saturated diagnosis = %d, want 1", got)
	}
}

func hostRow(t *testing.T, s probe.Snapshot) snapshot.Host {
	t.Helper()
	for _, h := range s.Hosts {
		if h.Client == exporttest.Client {
			return h
		}
	}
	t.Fatalf("no host of client %s in %+v", exporttest.Client, s.Hosts)
	return snapshot.Host{}
}

func diagnosisOf(s probe.Snapshot, kind snapshot.DiagnosisKind) *snapshot.Diagnosis {
	for i := range s.Diagnoses {
		if s.Diagnoses[i].Kind == kind {
			return &s.Diagnoses[i]
		}
	}
	return nil
}

// A collector with no traffic yet exports the probe's own counter and no
// host.
func TestEmptyCollector(t *testing.T) {
	col := probe.NewCollector(probe.CollectorOptions{})
	rm := collect(t, New(col, Options{}))
	if h, ok := find(t, rm, RequestDurationName).(metricdata.ExponentialHistogram[float64]); !ok || len(h.DataPoints) != 0 {
		t.Errorf("request durations: %+v, want no data point", h)
	}
	if got := int64Point(t, rm, "httptop.probe.errors"); got != 0 {
		t.Errorf("probe errors = %d, want 0", got)
	}
}
