package promexport

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/httptop/httptop/probe"
)

// traffic is a probe collector and a client wrapped with it whose
// requests to any host name go to one loopback server: each host name is
// a host of its own for the probe, with connections of its own.
type traffic struct {
	col    *probe.Collector
	client *http.Client
	tr     *http.Transport
}

func newTraffic(t testing.TB, handler http.HandlerFunc) *traffic {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	var d net.Dialer
	tr := &http.Transport{
		MaxConnsPerHost: 8,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, srv.Listener.Addr().String())
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	col := probe.NewCollector(probe.CollectorOptions{})
	return &traffic{
		col:    col,
		client: &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName("api"))},
		tr:     tr,
	}
}

// get sends a GET to http://host/path and reads the body to EOF.
func (tf *traffic) get(t testing.TB, host, path string) {
	t.Helper()
	resp, err := tf.client.Get("http://" + host + path)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

func okHandler(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }

// gather collects c into metric families by name.
func gather(t testing.TB, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily)
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// sample returns the metric of family name whose labels include want.
func sample(t testing.TB, mfs map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	if mfs[name] == nil {
		t.Fatalf("no metric %s", name)
	}
	ms := seriesOf(mfs, name, want)
	if len(ms) == 0 {
		t.Fatalf("no %s with labels %v", name, want)
	}
	return ms[0]
}

// seriesOf returns the series of family name whose labels include want.
func seriesOf(mfs map[string]*dto.MetricFamily, name string, want map[string]string) []*dto.Metric {
	var out []*dto.Metric
next:
	for _, m := range mfs[name].GetMetric() {
		have := make(map[string]string)
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		out = append(out, m)
	}
	return out
}

// labelsWith returns base with the extra labels, given as name, value,
// name, value…
func labelsWith(base map[string]string, extra ...string) map[string]string {
	m := maps.Clone(base)
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

func valueOf(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	}
	return math.NaN()
}

// The metrics pass client_golang's linter: names, units, help texts.
func TestLint(t *testing.T) {
	tf := newTraffic(t, okHandler)
	tf.get(t, "a.test", "/")
	problems, err := testutil.CollectAndLint(New(tf.col, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// Every figure of a small known workload: 10 requests to a.test and 3 to
// b.test answered after 20 ms, one request refused.
func TestValues(t *testing.T) {
	tf := newTraffic(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // the server's answer time, not synchronisation
		io.WriteString(w, "ok")
	})
	for range 10 {
		tf.get(t, "a.test", "/")
	}
	for range 3 {
		tf.get(t, "b.test", "/")
	}
	// A refused dial: a port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	bad := &http.Client{Transport: probe.Wrap(&http.Transport{}, probe.WithCollector(tf.col), probe.WithName("bad"))}
	if _, err := bad.Get("http://" + dead + "/"); err == nil {
		t.Fatal("request to a closed port succeeded")
	}

	mfs := gather(t, New(tf.col, Options{}))
	a := map[string]string{"client": "api", "scheme": "http", "host": "a.test:80"}
	with := func(extra ...string) map[string]string { return labelsWith(a, extra...) }
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"httptop_client_requests_total", a, 10},
		{"httptop_client_new_connections_total", a, 1},
		{"httptop_client_reused_connections_total", a, 9},
		{"httptop_client_open_connections", with("state", "idle"), 1},
		{"httptop_client_open_connections", with("state", "active"), 0},
		{"httptop_client_waiting_requests", a, 0},
		{"httptop_client_max_connections", a, 8},
		{"httptop_client_max_idle_connections", a, 2},
		{"httptop_client_errors_total", with("class", "timeout"), 0},
		{"httptop_client_tls_handshakes_total", with("resumed", "false"), 0},
		{"httptop_client_requests_total", map[string]string{"host": "b.test:80"}, 3},
		{"httptop_client_requests_total", map[string]string{"host": dead}, 1},
		{"httptop_client_errors_total", map[string]string{"host": dead, "class": "refused"}, 1},
		{"httptop_probe_errors_total", nil, 0},
	} {
		if got := valueOf(sample(t, mfs, c.name, c.labels)); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	// Latency: 10 values of 20 ms and a little more, all in the classic
	// bucket le=2^-5 (31.25 ms) and none below 2^-6 (15.6 ms).
	h := sample(t, mfs, "httptop_client_request_duration_seconds", a).GetHistogram()
	if h.GetSampleCount() != 10 || h.GetSampleSum() < 0.2 || h.GetSampleSum() > 0.3 {
		t.Errorf("latency count %d sum %v, want 10 and 0.2–0.3 s", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 0.03125 {
			want = 10
		}
		if b.GetUpperBound() == 0.015625 || b.GetUpperBound() == 0.03125 {
			if b.GetCumulativeCount() != want {
				t.Errorf("latency bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
	}
	if h.GetSchema() != 3 || h.GetZeroThreshold() != math.Exp2(-20) {
		t.Errorf("native schema %d zero threshold %v, want 3 and 2^-20", h.GetSchema(), h.GetZeroThreshold())
	}
	// The native buckets add up to the count and lie between 20 and
	// 31.25 ms (indexes 8·log2(0.020) ≈ -45.2 and -40).
	var n int64
	idx := h.GetPositiveSpan()[0].GetOffset()
	for _, d := range h.GetPositiveDelta() {
		n += d
		if n > 0 && (idx < -45 || idx > -40) {
			t.Errorf("native bucket %d holds %d values", idx, n)
		}
		idx++
	}
	var total int64
	n = 0
	for _, d := range h.GetPositiveDelta() {
		n += d
		total += n
	}
	if uint64(total)+h.GetZeroCount() != h.GetSampleCount() {
		t.Errorf("native buckets hold %d + %d in the zero bucket, count %d", total, h.GetZeroCount(), h.GetSampleCount())
	}
}

// Past MaxHosts, hosts are reported together under host="other".
func TestMaxHosts(t *testing.T) {
	tf := newTraffic(t, okHandler)
	for i := range 5 {
		tf.get(t, fmt.Sprintf("h%d.test", i), "/")
	}
	mfs := gather(t, New(tf.col, Options{MaxHosts: 2}))
	var hosts []string
	for _, m := range mfs["httptop_client_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "host" {
				hosts = append(hosts, fmt.Sprintf("%s=%v", l.GetValue(), valueOf(m)))
			}
		}
	}
	if got, want := strings.Join(hosts, " "), "h0.test:80=1 h1.test:80=1 other=3"; got != want {
		t.Errorf("requests by host: %s, want %s", got, want)
	}
}

// The handler serves the text format by default, and what it serves
// passes promtool's checks when promtool is installed (CI installs it).
func TestHandlerText(t *testing.T) {
	tf := newTraffic(t, okHandler)
	tf.get(t, "a.test", "/")
	srv := httptest.NewServer(NewHandler(tf.col, Options{}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q, want text/plain", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse served text: %v", err)
	}
	if got := mfs["httptop_client_requests_total"].GetMetric()[0].GetCounter().GetValue(); got != 1 {
		t.Errorf("requests_total = %v, want 1", got)
	}
	if !strings.Contains(string(body), `httptop_client_request_duration_seconds_bucket{client="api",host="a.test:80",scheme="http",le="0.0009765625"}`) {
		t.Errorf("no classic bucket le=2^-10 in:\n%s", body)
	}
	promtool := lookPromtool(t)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(string(body))
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// lookPromtool returns promtool's path; without it the test skips, unless
// HTTPTOP_REQUIRE_PROMETHEUS=1 (CI) makes it fail.
func lookPromtool(t *testing.T) string {
	t.Helper()
	return lookTool(t, "promtool")
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("HTTPTOP_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("%s not found and HTTPTOP_REQUIRE_PROMETHEUS=1: install Debian's prometheus package", name)
		}
		t.Skipf("%s not found (Debian package prometheus); set HTTPTOP_REQUIRE_PROMETHEUS=1 to require it", name)
	}
	return path
}

// normalized parses text-format metrics and writes them again in one
// order (families by name, series by labels), so that two writers'
// outputs can be compared.
func normalized(t *testing.T, text string) string {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	names := make([]string, 0, len(mfs))
	for n := range mfs {
		names = append(names, n)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		mf := mfs[n]
		key := func(m *dto.Metric) string {
			var s strings.Builder
			for _, l := range m.GetLabel() {
				s.WriteString(l.GetName() + "=" + l.GetValue() + ",")
			}
			return s.String()
		}
		for _, m := range mf.Metric {
			slices.SortFunc(m.Label, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
		}
		slices.SortFunc(mf.Metric, func(a, b *dto.Metric) int { return strings.Compare(key(a), key(b)) })
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// registryText returns what client_golang's (pedantic) registry encodes
// from c, in the text format.
func registryText(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// The text the handler writes straight from the figures says exactly
// what client_golang's registry encodes from the Collector, for traced
// hosts and dial-only ones, with their rows of their own and folded.
func TestWriteTextMatchesRegistry(t *testing.T) {
	tf := newTraffic(t, okHandler)
	// A clone of the instrumented transport inherits its dial hook, and
	// nothing else: its hosts are dial only (of the client
	// "(unwrapped)", which sorts first).
	clone := tf.tr.Clone()
	t.Cleanup(clone.CloseIdleConnections)
	bare := &http.Client{Transport: clone}
	bareGet := func(host string) {
		t.Helper()
		resp, err := bare.Get("http://" + host + "/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	bareGet("d0.test")
	for i := range 3 {
		for range i + 1 {
			tf.get(t, fmt.Sprintf("h%d.test", i), "/x")
		}
	}
	c := New(tf.col, Options{MaxHosts: 3})
	// The first reading gives rows of their own to d0, h0 and h1; the
	// hosts seen later are folded.
	if err := c.WriteText(io.Discard); err != nil {
		t.Fatal(err)
	}
	bareGet("d1.test")
	clone.CloseIdleConnections() // d0's and d1's connections close
	bareGet("d1.test")
	// A body left open by a client whose leak threshold is 1 ns: leaked
	// and diagnosed at once.
	leaky := &http.Client{Transport: probe.Wrap(tf.tr, probe.WithCollector(tf.col), probe.WithName("leaky"),
		probe.WithLeakAfter(time.Nanosecond))}
	resp, err := leaky.Get("http://leak.test/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })

	var direct strings.Builder
	if err := c.WriteText(&direct); err != nil {
		t.Fatal(err)
	}
	got, want := normalized(t, direct.String()), normalized(t, registryText(t, c))
	if got != want {
		t.Errorf("WriteText and the registry differ:\n--- WriteText\n%s\n--- registry\n%s", got, want)
	}
	for _, want := range []string{`host="other"`, `kind="body_leak"`} {
		if !strings.Contains(got, want) {
			t.Errorf("no %s in:\n%s", want, got)
		}
	}
	for _, want := range []string{
		`httptop_client_requests_started_total{client="(unwrapped)",host="d0.test:80",scheme=""} 0`,
		`httptop_client_requests_started_total{client="(unwrapped)",host="other",scheme=""} 0`,
		`httptop_client_closed_connections_total{client="(unwrapped)",host="other",scheme=""} 1`,
		`httptop_client_requests_total{client="api",host="other",scheme=""} 3`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("no %s in:\n%s", want, got)
		}
	}
	for _, notWant := range []string{
		`httptop_client_requests_total{client="(unwrapped)"`,
		`httptop_client_request_duration_seconds_count{client="(unwrapped)"`,
		`httptop_client_requests_started_total{client="api"`,
	} {
		if strings.Contains(got, notWant) {
			t.Errorf("%s… in:\n%s\nwant no such series", notWant, got)
		}
	}
}

// A program that only wraps its clients links neither Prometheus nor
// OpenTelemetry: package probe depends on no exporter's library.
func TestProbeLinksNoExporter(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/httptop/httptop/probe").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "prometheus") || strings.Contains(pkg, "opentelemetry") ||
			strings.HasPrefix(pkg, "github.com/httptop/httptop/promexport") || strings.HasPrefix(pkg, "github.com/httptop/httptop/otelexport") {
			t.Errorf("package probe links %s", pkg)
		}
	}
}

// The handler compresses when asked, and serves protocol buffers (with
// the native histograms) to a scraper that asks for them.
func TestHandlerNegotiates(t *testing.T) {
	tf := newTraffic(t, okHandler)
	tf.get(t, "a.test", "/")
	srv := httptest.NewServer(NewHandler(tf.col, Options{}))
	t.Cleanup(srv.Close)
	fetch := func(header, value string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set(header, value)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := fetch("Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), `httptop_client_requests_total{client="api",host="a.test:80",scheme="http"} 1`) {
		t.Errorf("gzipped text lacks the request counter:\n%s", text)
	}

	resp = fetch("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	found := false
	for {
		var mf dto.MetricFamily
		if err := dec.Decode(&mf); err != nil {
			if err != io.EOF {
				t.Fatalf("decode protobuf: %v", err)
			}
			break
		}
		if mf.GetName() == "httptop_client_request_duration_seconds" {
			h := mf.GetMetric()[0].GetHistogram()
			found = h.GetSchema() == 3 && h.GetSampleCount() == 1 && len(h.GetPositiveSpan()) == 1
		}
	}
	if !found {
		t.Errorf("no native request-duration histogram with one value in the protobuf answer")
	}
}
