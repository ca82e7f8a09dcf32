package exporttest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/probe"
)

// The dial-only scenario: what probe/attach does to http.DefaultTransport
// (Wrap instruments it), a client wrapping it that sends TracedRequests
// to one server, and a client on a clone of it made afterwards, whose
// requests no probe traces, that sends StartedRequests to another, in two
// rounds with its idle connection closed between them. The clone's host
// is then a dial-only host of the client probe.UnwrappedClient with
// StartedRequests requests seen starting (through the Proxy function the
// clone inherited), one connection open and one closed, and no request
// figure; the wrapped client's host has TracedRequests requests and none
// started.
const (
	StartedRequests = 6
	TracedRequests  = 2
	// TracedClient is the probe client name of the wrapped client.
	TracedClient = "api"
)

// DialOnly is the dial-only scenario, run.
type DialOnly struct {
	// Collector records both clients.
	Collector *probe.Collector
	// Host is the clone's server's host:port, dial only, and TracedHost
	// the wrapped client's.
	Host, TracedHost string
}

// RunDialOnly runs the dial-only scenario with a collector of its own. It
// instruments http.DefaultTransport for the rest of the process, which
// cannot be undone (the first Wrap of a transport installs the hooks that
// record into its collector): run it in a process of its own (see
// InChild).
func RunDialOnly(t testing.TB) *DialOnly {
	t.Helper()
	if os.Getenv(childEnv) == "" {
		t.Fatal("exporttest.RunDialOnly instruments http.DefaultTransport: call it in a child process (see InChild)")
	}
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }
	traced := httptest.NewServer(http.HandlerFunc(ok))
	t.Cleanup(traced.Close)
	untraced := httptest.NewServer(http.HandlerFunc(ok))
	t.Cleanup(untraced.Close)

	base, isTransport := http.DefaultTransport.(*http.Transport)
	if !isTransport {
		t.Fatalf("http.DefaultTransport is a %T, not an *http.Transport", http.DefaultTransport)
	}
	col := probe.NewCollector(probe.CollectorOptions{})
	wrapped := &http.Client{Transport: probe.Wrap(base, probe.WithCollector(col), probe.WithName(TracedClient))}
	t.Cleanup(base.CloseIdleConnections)
	clone := base.Clone() // after instrumenting, as after the import
	t.Cleanup(clone.CloseIdleConnections)
	cloned := &http.Client{Transport: clone}

	for range TracedRequests {
		get(t, wrapped, traced.URL)
	}
	for k := range StartedRequests {
		if k == StartedRequests/2 {
			// Each body was read to EOF, which returns its connection to
			// the pool before the read returns: it is idle, and closes now.
			clone.CloseIdleConnections()
		}
		get(t, cloned, untraced.URL)
	}
	return &DialOnly{
		Collector:  col,
		Host:       untraced.Listener.Addr().String(),
		TracedHost: traced.Listener.Addr().String(),
	}
}

// get sends a GET to url with client and reads the body to EOF.
func get(t testing.TB, client *http.Client, url string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
}

// childEnv holds, in a process InChild started, the name of the test it
// runs.
const childEnv = "HTTPTOP_EXPORTTEST_CHILD"

// InChild runs the test t (a top-level test) again in a new process of
// the test binary and reports false, failing t with the process's output
// unless it ran the test and the test passed (a test the new process
// skips is skipped); in that process it reports true, for the test to go
// on. A test that changes what a process cannot undo, such as
// instrumenting http.DefaultTransport, begins with
//
//	if !exporttest.InChild(t) {
//		return
//	}
func InChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in a child process: %v\n%s", t.Name(), err, out)
	}
	if testing.Verbose() {
		t.Logf("child process:\n%s", out)
	}
	switch {
	case strings.Contains(string(out), "--- PASS: "+t.Name()+" "):
	case strings.Contains(string(out), "--- SKIP: "+t.Name()+" "):
		t.Skipf("skipped in the child process:\n%s", out)
	default:
		t.Fatalf("the child process did not run %s:\n%s", t.Name(), out)
	}
	return false
}
