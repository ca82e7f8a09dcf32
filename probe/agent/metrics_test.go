package agent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// TestAgentMetrics scrapes the agent's metrics endpoint as Prometheus
// does (authorization: credentials TOKEN sends a bearer token): the
// collector's figures in the text format, which promtool finds nothing to
// complain about; without the token, nothing.
func TestAgentMetrics(t *testing.T) {
	col := probe.NewCollector(probe.CollectorOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: probe.Wrap(&http.Transport{}, probe.WithCollector(col), probe.WithName("api"))}
	for range 3 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	a := startAgent(t, Options{Collector: col})
	c := newAgentClient(t, a)

	resp := c.do(t.Context(), http.MethodGet, snapshot.APIPath+snapshot.EndpointMetrics, "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("metrics without the token: %d, want 401", resp.StatusCode)
	}
	status, body := c.get(t.Context(), "metrics")
	if status != http.StatusOK {
		t.Fatalf("metrics: %d %s", status, body)
	}
	for _, want := range []string{`httptop_client_requests_total{client="api"`, "httptop_client_open_connections{", "# HELP httptop_client_waiting_requests "} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if !bytes.Contains(body, []byte(`} 3`)) {
		t.Errorf("metrics do not count the 3 requests:\n%s", body)
	}

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("HTTPTOP_REQUIRE_PROMETHEUS") == "1" {
			t.Fatal("promtool not found and HTTPTOP_REQUIRE_PROMETHEUS=1: install Debian's prometheus package")
		}
		t.Skip("promtool not found (Debian package prometheus)")
	}
	cmd := exec.CommandContext(context.Background(), promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
