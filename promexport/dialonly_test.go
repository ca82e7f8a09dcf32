package promexport

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/httptop/httptop/internal/exporttest"
	"github.com/httptop/httptop/probe"
)

// The families a dial-only host has series of, and those it has none of.
var (
	dialOnlyHas = []string{
		"httptop_client_open_connections",
		"httptop_client_dialing_connections",
		"httptop_client_closed_connections_total",
		"httptop_client_tls_handshakes_total",
		"httptop_client_connection_memory_bytes",
		"httptop_client_tls_memory_bytes",
		"httptop_client_connection_duration_seconds",
		"httptop_client_requests_started_total",
	}
	dialOnlyHasNot = []string{
		"httptop_client_waiting_requests",
		"httptop_client_in_flight_requests",
		"httptop_client_max_connections",
		"httptop_client_max_idle_connections",
		"httptop_client_requests_total",
		"httptop_client_errors_total",
		"httptop_client_new_connections_total",
		"httptop_client_reused_connections_total",
		"httptop_client_undrained_bodies_total",
		"httptop_client_leaked_bodies",
		"httptop_client_request_duration_seconds",
		"httptop_client_connection_wait_seconds",
		"httptop_client_diagnosis",
	}
)

// A clone of http.DefaultTransport made after it was instrumented (as
// after probe/attach) sends 6 requests, on two connections one after the
// other: its host is dial only. Its series are those of its connections
// and of the requests seen starting, 6; every request figure is absent,
// not zero. The traced client beside it has its request series and no
// requests started. The output passes client_golang's linter and
// promtool, and the text writer says what the registry does.
func TestDialOnlyHost(t *testing.T) {
	if !exporttest.InChild(t) {
		return
	}
	s := exporttest.RunDialOnly(t)
	c := New(s.Collector, Options{})
	mfs := gather(t, c)
	host := map[string]string{"client": probe.UnwrappedClient, "scheme": "http", "host": s.Host}
	for _, name := range dialOnlyHas {
		if len(seriesOf(mfs, name, host)) == 0 {
			t.Errorf("no %s%v: a dial-only host has it", name, host)
		}
	}
	for _, name := range dialOnlyHasNot {
		if got := seriesOf(mfs, name, host); len(got) > 0 {
			t.Errorf("%s%v: %d series, want none: a dial-only host's request figures are unknown", name, host, len(got))
		}
	}
	open := 0.0
	for _, m := range seriesOf(mfs, "httptop_client_open_connections", host) {
		open += valueOf(m)
	}
	lifetimes := sample(t, mfs, "httptop_client_connection_duration_seconds", host).GetHistogram()
	for _, f := range []struct {
		what      string
		got, want float64
	}{
		{"requests started", valueOf(sample(t, mfs, "httptop_client_requests_started_total", host)), exporttest.StartedRequests},
		{"open connections", open, 1},
		{"closed connections", valueOf(sample(t, mfs, "httptop_client_closed_connections_total", host)), 1},
		{"connection lifetimes", float64(lifetimes.GetSampleCount()), 1},
		{"dialing", valueOf(sample(t, mfs, "httptop_client_dialing_connections", host)), 0},
		{"full TLS handshakes", valueOf(sample(t, mfs, "httptop_client_tls_handshakes_total", labelsWith(host, "resumed", "false"))), 0},
	} {
		if f.got != f.want {
			t.Errorf("dial-only host: %s = %v, want %v", f.what, f.got, f.want)
		}
	}

	traced := map[string]string{"client": exporttest.TracedClient, "host": s.TracedHost}
	if got := valueOf(sample(t, mfs, "httptop_client_requests_total", traced)); got != exporttest.TracedRequests {
		t.Errorf("traced host: requests_total = %v, want %d", got, exporttest.TracedRequests)
	}
	if got := seriesOf(mfs, "httptop_client_requests_started_total", traced); len(got) > 0 {
		t.Errorf("traced host: %d requests_started_total series, want none", len(got))
	}

	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
	var text strings.Builder
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if got, want := normalized(t, text.String()), normalized(t, registryText(t, c)); got != want {
		t.Errorf("WriteText and the registry differ:\n--- WriteText\n%s\n--- registry\n%s", got, want)
	}
	t.Logf("the dial-only host's series:\n%s", grepLines(text.String(), `host="`+s.Host+`"`))
	promtool := lookPromtool(t)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text.String())
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if strings.Contains(line, s) {
			b.WriteString(line)
		}
	}
	return b.String()
}
