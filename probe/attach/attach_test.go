package attach

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/poolstats"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

func TestEnabled(t *testing.T) {
	tests := []struct {
		v            string
		prog, inTest bool
	}{
		{"", true, false},
		{"off", false, false},
		{"OFF", false, false},
		{" 0 ", false, false},
		{"false", false, false},
		{"no", false, false},
		{"on", true, true},
		{"1", true, true},
		{"yes", true, true},
		{"TRUE", true, true},
		{"maybe", true, false},
	}
	for _, tt := range tests {
		if got := enabled(tt.v, false); got != tt.prog {
			t.Errorf("enabled(%q) in a program = %v, want %v", tt.v, got, tt.prog)
		}
		if got := enabled(tt.v, true); got != tt.inTest {
			t.Errorf("enabled(%q) in a test = %v, want %v", tt.v, got, tt.inTest)
		}
	}
}

// env returns a getenv reading m.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// get sends a GET with c and reads the body to its end.
func get(t *testing.T, c *http.Client, url string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// setupRan is set once TestSetup has instrumented this process, which
// cannot be undone (go test -count=2 runs it again).
var setupRan bool

// TestSetup runs what the import does, in this test binary, where the
// package's own init did nothing, and checks what shows up for each kind
// of client the package documentation lists.
func TestSetup(t *testing.T) {
	if enabled(os.Getenv(EnvEnable), true) {
		t.Skip("HTTPTOP is on in the environment: the package's init already ran the setup")
	}
	if setupRan {
		t.Skip("the process is already instrumented by an earlier run")
	}
	if Agent() != nil || http.DefaultClient.Transport != nil {
		t.Fatal("the import acted in a test binary without HTTPTOP=on")
	}
	var stderr bytes.Buffer
	for _, v := range []string{"off", ""} {
		if a := setup(env(map[string]string{EnvEnable: v}), &stderr, true); a != nil || stderr.Len() != 0 || http.DefaultClient.Transport != nil {
			t.Fatalf("HTTPTOP=%q in a test: setup acted (agent %v, stderr %q)", v, a, stderr.String())
		}
	}

	servers := make(map[string]*httptest.Server)
	for _, name := range []string{"default", "nil", "clone", "early", "wrapped"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		t.Cleanup(srv.Close)
		servers[name] = srv
	}
	early := http.DefaultTransport.(*http.Transport).Clone() // cloned before the import acts

	dir := t.TempDir()
	t.Setenv(discovery.EnvDir, dir)
	a := setup(env(map[string]string{EnvEnable: "on"}), &stderr, true)
	setupRan = true
	if a == nil {
		t.Fatalf("setup: no agent; stderr %q", stderr.String())
	}
	t.Cleanup(func() { a.Close() })
	if line := stderr.String(); !strings.HasPrefix(line, "httptop: agent of pid ") || !strings.Contains(line, a.Addr()) || strings.Count(line, "\n") != 1 {
		t.Errorf("stderr %q: want one line with the pid and %s", line, a.Addr())
	}
	if _, err := os.Stat(a.DiscoveryFile()); err != nil {
		t.Errorf("discovery file: %v", err)
	}

	// The default transport is still an *http.Transport, and clones work.
	dt, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		t.Fatalf("http.DefaultTransport is a %T", http.DefaultTransport)
	}
	if probe.Unwrap(http.DefaultClient.Transport) != http.DefaultTransport {
		t.Errorf("http.DefaultClient.Transport = %T, want probe.Wrap(http.DefaultTransport)", http.DefaultClient.Transport)
	}
	clone := dt.Clone()
	wrapped := dt.Clone()
	for _, tr := range []*http.Transport{clone, wrapped, early} {
		t.Cleanup(tr.CloseIdleConnections)
	}

	const n = 4
	for range n {
		get(t, http.DefaultClient, servers["default"].URL)
		get(t, &http.Client{}, servers["nil"].URL)
		get(t, &http.Client{Transport: clone}, servers["clone"].URL)
		get(t, &http.Client{Transport: early}, servers["early"].URL)
		get(t, &http.Client{Transport: probe.Wrap(wrapped, probe.WithName("mine"))}, servers["wrapped"].URL)
	}

	s := probe.Default().Snapshot()
	hosts := make(map[string]snapshot.Host)
	for _, h := range s.Hosts {
		hosts[h.Host] = h
	}
	addr := func(name string) string { return servers[name].Listener.Addr().String() }

	// http.DefaultClient: everything.
	if h := hosts[addr("default")]; h.Client != probe.DefaultClientName || h.Requests != n || h.Latency.Count != n || h.NewConns != 1 || h.Open != 1 {
		t.Errorf("DefaultClient: %+v\nwant client default, %d requests with latencies, 1 connection", h, n)
	}
	// A nil Transport, a clone made after the import: the connection and
	// the requests starting, not the requests themselves; dial only, under
	// the (unwrapped) client, limits unknown.
	for _, name := range []string{"nil", "clone"} {
		h, ok := hosts[addr(name)]
		if !ok || h.Client != poolstats.UnwrappedClient || h.Scheme != "http" || !h.DialOnly || h.LimitsKnown ||
			h.Open != 1 || h.Dial.Count != 1 || h.RequestsStarted != n || h.Requests != 0 || h.Latency.Count != 0 {
			t.Errorf("%s: %+v (seen %v)\nwant client %s, dial only, 1 open connection dialed once, %d requests started, none seen complete, limits unknown",
				name, h, ok, poolstats.UnwrappedClient, n)
		}
	}
	// A clone made before the import: nothing.
	if h, ok := hosts[addr("early")]; ok {
		t.Errorf("clone made before the import: %+v, want it unseen", h)
	}
	// A clone wrapped with probe.Wrap: everything, under its own name.
	if h := hosts[addr("wrapped")]; h.Client != "mine" || h.Requests != n || h.Open != 1 {
		t.Errorf("wrapped clone: %+v\nwant client mine, %d requests, 1 connection", h, n)
	}

	// An agent that cannot start leaves the program running, and says so.
	stderr.Reset()
	if b := setup(env(map[string]string{EnvEnable: "on", EnvAddr: "no-port"}), &stderr, true); b != nil {
		b.Close()
		t.Error("setup with a bad HTTPTOP_ADDR started an agent")
	}
	if line := stderr.String(); !strings.HasPrefix(line, "httptop: agent not started: ") || strings.Count(line, "\n") != 1 {
		t.Errorf("stderr %q: want one line saying the agent did not start", line)
	}
}

// TestDebugRecipe checks ./example: the blank import is linked in only
// with -tags debug.
func TestDebugRecipe(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool:", err)
	}
	for _, tags := range []string{"", "debug"} {
		out, err := exec.Command(gotool, "list", "-tags", tags, "-deps", "./example").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		linked := strings.Contains(string(out), "github.com/httptop/httptop/probe/attach\n")
		if linked != (tags == "debug") {
			t.Errorf("tags %q: probe/attach linked = %v", tags, linked)
		}
	}
}
