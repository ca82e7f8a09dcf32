package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// startAgent starts an agent with its own collector and discovery
// directory, closed when the test ends.
func startAgent(t *testing.T, opts Options) *Agent {
	t.Helper()
	if opts.Collector == nil {
		opts.Collector = probe.NewCollector(probe.CollectorOptions{})
	}
	if opts.DiscoveryDir == "" && !opts.NoDiscovery {
		opts.DiscoveryDir = t.TempDir()
	}
	a, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// agentClient sends requests to an agent, with its token unless told
// otherwise.
type agentClient struct {
	t     *testing.T
	base  string
	token string
	hc    *http.Client
}

func newAgentClient(t *testing.T, a *Agent) *agentClient {
	t.Helper()
	tr := &http.Transport{}
	base := "http://" + a.Addr()
	if a.Network() == "unix" {
		path := a.Addr()
		tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}
		base = "http://agent"
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &agentClient{t: t, base: base, token: a.Token(), hc: &http.Client{Transport: tr}}
}

// do sends a request for path (relative to the host) with the given
// Authorization header ("" for none).
func (c *agentClient) do(ctx context.Context, method, path, auth string, body io.Reader) *http.Response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp
}

// get sends an authorized GET and returns the status and body.
func (c *agentClient) get(ctx context.Context, endpoint string) (int, []byte) {
	c.t.Helper()
	resp := c.do(ctx, http.MethodGet, snapshot.APIPath+endpoint, "Bearer "+c.token, nil)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, data
}

func TestAgentDiscoveryFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agents") // created by Start
	a := startAgent(t, Options{DiscoveryDir: dir})

	host, _, err := net.SplitHostPort(a.Addr())
	if err != nil || host != "127.0.0.1" {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", a.Addr())
	}
	path := a.DiscoveryFile()
	if want := filepath.Join(dir, fmt.Sprintf("%d.json", os.Getpid())); path != want {
		t.Fatalf("DiscoveryFile() = %q, want %q", path, want)
	}
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
	rec, err := discovery.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if rec.PID != os.Getpid() || rec.Addr != a.Addr() || rec.Network != "tcp" || rec.Token != a.Token() ||
		rec.Protocol != snapshot.ProtocolVersion || rec.Program != programName() || rec.Started.IsZero() {
		t.Errorf("discovery record = %+v, want this process's agent at %s", rec, a.Addr())
	}
	if len(rec.Token) != 64 {
		t.Errorf("token %q: want 64 hex digits (32 random bytes)", rec.Token)
	}

	// A second agent of the same process may not take the file over.
	if b, err := Start(Options{DiscoveryDir: dir, Collector: probe.NewCollector(probe.CollectorOptions{})}); err == nil {
		b.Close()
		t.Error("second agent with the same discovery directory started, want an error")
	}
	// Without a discovery file it may.
	b := startAgent(t, Options{NoDiscovery: true})
	if b.DiscoveryFile() != "" {
		t.Errorf("NoDiscovery agent has discovery file %q", b.DiscoveryFile())
	}

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("discovery file after Close: %v, want it removed", err)
	}
	if c, err := net.Dial("tcp", a.Addr()); err == nil {
		c.Close()
		t.Error("agent still accepts connections after Close")
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestAgentUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "a.sock")
	a := startAgent(t, Options{Addr: "unix:" + sock})
	if a.Network() != "unix" || a.Addr() != sock {
		t.Fatalf("Network(), Addr() = %q, %q, want unix, %q", a.Network(), a.Addr(), sock)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
	status, body := newAgentClient(t, a).get(t.Context(), "info")
	if status != http.StatusOK {
		t.Fatalf("info over the socket: %d %s", status, body)
	}
	a.Close()
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket after Close: %v, want it removed", err)
	}
}

func TestAgentAddrErrors(t *testing.T) {
	for _, addr := range []string{"unix:", "127.0.0.1", "nonsense:port:here"} {
		if a, err := Start(Options{Addr: addr, NoDiscovery: true}); err == nil {
			a.Close()
			t.Errorf("Start(Addr: %q) succeeded, want an error", addr)
		}
	}
}

func TestAgentTokenRequired(t *testing.T) {
	a := startAgent(t, Options{})
	c := newAgentClient(t, a)
	tests := []struct {
		name, auth string
		want       int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer " + strings.Repeat("0", 64), http.StatusUnauthorized},
		{"token with a suffix", "Bearer " + a.Token() + "0", http.StatusUnauthorized},
		{"token prefix", "Bearer " + a.Token()[:63], http.StatusUnauthorized},
		{"other scheme", "Basic " + a.Token(), http.StatusUnauthorized},
		{"no scheme", a.Token(), http.StatusUnauthorized},
		{"right token", "Bearer " + a.Token(), http.StatusOK},
	}
	for _, tt := range tests {
		for _, ep := range []string{"info", "snapshot", "profile?kind=heap", "nosuch"} {
			t.Run(tt.name+"/"+ep, func(t *testing.T) {
				resp := c.do(t.Context(), http.MethodGet, snapshot.APIPath+ep, tt.auth, nil)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := tt.want
				if ep == "nosuch" && want == http.StatusOK {
					want = http.StatusNotFound
				}
				if resp.StatusCode != want {
					t.Fatalf("status %d, want %d (%s)", resp.StatusCode, want, body)
				}
				if got := resp.Header.Get(snapshot.ProtocolHeader); got != "1" {
					t.Errorf("%s header %q, want 1", snapshot.ProtocolHeader, got)
				}
				if want == http.StatusUnauthorized {
					var e snapshot.AgentError
					if err := json.Unmarshal(body, &e); err != nil || e.Code != snapshot.ErrCodeUnauthorized {
						t.Errorf("body %s, want an snapshot.AgentError with code %s", body, snapshot.ErrCodeUnauthorized)
					}
				}
			})
		}
	}
}

func TestHandlerOnOwnMux(t *testing.T) {
	col := probe.NewCollector(probe.CollectorOptions{})
	token := NewToken()
	mux := http.NewServeMux()
	mux.Handle(snapshot.APIPath, Handler(col, token))
	mux.Handle("/open/"+snapshot.APIPath[1:], Handler(col, "")) // an empty token refuses everything
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tests := []struct {
		path, token string
		want        int
	}{
		{snapshot.APIPath + "info", token, http.StatusOK},
		{snapshot.APIPath + "snapshot", token, http.StatusOK},
		{snapshot.APIPath + "info", "", http.StatusUnauthorized},
		{"/open" + snapshot.APIPath + "info", "", http.StatusUnauthorized},
		{"/open" + snapshot.APIPath + "info", "Bearer ", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+tt.path, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s with token %q: %d, want %d", tt.path, tt.token, resp.StatusCode, tt.want)
		}
	}
}

func TestAgentBadRequests(t *testing.T) {
	a := startAgent(t, Options{})
	c := newAgentClient(t, a)
	auth := "Bearer " + a.Token()
	tests := []struct {
		name, method, path string
		body               io.Reader
		want               int
		code               snapshot.ErrorCode
	}{
		{"unknown endpoint", "GET", snapshot.APIPath + "nosuch", nil, 404, snapshot.ErrCodeNotFound},
		{"nested path", "GET", snapshot.APIPath + "info/x", nil, 404, snapshot.ErrCodeNotFound},
		{"other version", "GET", "/debug/httptop/v2/info", nil, 404, snapshot.ErrCodeNotFound},
		{"root", "GET", "/", nil, 404, snapshot.ErrCodeNotFound},
		{"post", "POST", snapshot.APIPath + "snapshot", nil, 405, snapshot.ErrCodeMethodNotAllowed},
		{"body", "GET", snapshot.APIPath + "snapshot", strings.NewReader("x"), 413, snapshot.ErrCodeBodyNotAllowed},
		{"long query", "GET", snapshot.APIPath + "snapshot?x=" + strings.Repeat("a", 2000), nil, 400, snapshot.ErrCodeBadRequest},
		{"bad interval", "GET", snapshot.APIPath + "stream?interval=soon", nil, 400, snapshot.ErrCodeBadRequest},
		{"bad kind", "GET", snapshot.APIPath + "profile?kind=disk", nil, 400, snapshot.ErrCodeBadRequest},
		{"no kind", "GET", snapshot.APIPath + "profile", nil, 400, snapshot.ErrCodeBadRequest},
		{"zero seconds", "GET", snapshot.APIPath + "profile?kind=cpu&seconds=0", nil, 400, snapshot.ErrCodeBadRequest},
		{"negative seconds", "GET", snapshot.APIPath + "profile?kind=wall&seconds=-1", nil, 400, snapshot.ErrCodeBadRequest},
		{"too long", "GET", snapshot.APIPath + "profile?kind=cpu&seconds=61", nil, 400, snapshot.ErrCodeBadRequest},
		{"NaN seconds", "GET", snapshot.APIPath + "profile?kind=cpu&seconds=NaN", nil, 400, snapshot.ErrCodeBadRequest},
		{"seconds not a number", "GET", snapshot.APIPath + "profile?kind=cpu&seconds=ten", nil, 400, snapshot.ErrCodeBadRequest},
		{"zero hz", "GET", snapshot.APIPath + "profile?kind=wall&seconds=1&hz=0", nil, 400, snapshot.ErrCodeBadRequest},
		{"hz above fgprof's", "GET", snapshot.APIPath + "profile?kind=wall&seconds=1&hz=100", nil, 400, snapshot.ErrCodeBadRequest},
		{"hz of a cpu profile", "GET", snapshot.APIPath + "profile?kind=cpu&seconds=1&hz=10", nil, 400, snapshot.ErrCodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := c.do(t.Context(), tt.method, tt.path, auth, tt.body)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var e snapshot.AgentError
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %q is not an snapshot.AgentError: %v", body, err)
			}
			if resp.StatusCode != tt.want || e.Code != tt.code || e.Message == "" {
				t.Errorf("got %d %+v, want %d with code %s and a message", resp.StatusCode, e, tt.want, tt.code)
			}
			if resp.Header.Get(snapshot.ProtocolHeader) != "1" {
				t.Errorf("no %s header", snapshot.ProtocolHeader)
			}
		})
	}
}

func TestAgentInfo(t *testing.T) {
	a := startAgent(t, Options{MaxStreams: 3})
	status, body := newAgentClient(t, a).get(t.Context(), "info")
	if status != http.StatusOK {
		t.Fatalf("info: %d %s", status, body)
	}
	var in snapshot.AgentInfo
	if err := json.Unmarshal(body, &in); err != nil {
		t.Fatal(err)
	}
	if in.Agent != snapshot.AgentName || in.Protocol != snapshot.ProtocolVersion || in.SnapshotVersion != snapshot.Version ||
		in.PID != os.Getpid() || in.Version == "" || in.GoVersion == "" || in.Started.IsZero() {
		t.Errorf("info = %+v", in)
	}
	if in.Limits.MaxStreams != 3 || in.Limits.MaxProfileSeconds != 60 || in.Limits.MinIntervalMs != 100 {
		t.Errorf("limits = %+v", in.Limits)
	}
	// A test binary records its main module (and no dependencies).
	if in.MainModule != "github.com/httptop/httptop" {
		t.Errorf("main module = %q, want github.com/httptop/httptop", in.MainModule)
	}
	if !slices.Contains(in.Limits.ProfileKinds, snapshot.ProfileMutex) || !slices.Contains(in.Limits.ProfileKinds, snapshot.ProfileBlock) {
		t.Errorf("profile kinds %v lack mutex and block", in.Limits.ProfileKinds)
	}
}

// TestAgentSnapshot checks that a snapshot served by the agent holds the
// traffic of the collector, the process's figures, and nothing of the
// requests' query strings or headers.
func TestAgentSnapshot(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	col := probe.NewCollector(probe.CollectorOptions{})
	tr := srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: probe.Wrap(tr, probe.WithCollector(col), probe.WithName("api"))}
	const n = 7
	for i := range n {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("%s/users/%d?secret=hunter%d", srv.URL, i, i), nil)
		req.Header.Set("X-Api-Key", "sesame-open")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	a := startAgent(t, Options{Collector: col})
	status, body := newAgentClient(t, a).get(t.Context(), "snapshot")
	if status != http.StatusOK {
		t.Fatalf("snapshot: %d %s", status, body)
	}
	for _, secret := range []string{"/users/", "hunter", "secret=", "sesame", "X-Api-Key"} {
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("snapshot contains %q", secret)
		}
	}
	var s snapshot.Snapshot
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatal(err)
	}
	if s.Version != snapshot.Version || s.PID != os.Getpid() {
		t.Errorf("version, pid = %d, %d", s.Version, s.PID)
	}
	if len(s.Hosts) != 1 || s.Hosts[0].Client != "api" || s.Hosts[0].Requests != n {
		t.Fatalf("hosts = %+v, want one host of client api with %d requests", s.Hosts, n)
	}
	p := s.Process
	if p == nil {
		t.Fatal("snapshot has no process figures")
	}
	if p.Goroutines <= 0 || p.UptimeSeconds <= 0 {
		t.Errorf("process = %+v", *p)
	}
}

func TestAgentStream(t *testing.T) {
	a := startAgent(t, Options{MaxStreams: 1})
	c := newAgentClient(t, a)
	auth := "Bearer " + a.Token()

	resp := c.do(t.Context(), "GET", snapshot.APIPath+"stream?interval=1ms", auth, nil)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	if got := resp.Header.Get("Httptop-Interval"); got != snapshot.MinStreamInterval.String() {
		t.Errorf("interval 1ms served as %q, want it raised to %v", got, snapshot.MinStreamInterval)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q", ct)
	}
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadBytes('\n')
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		var s snapshot.Snapshot
		if err := json.Unmarshal(line, &s); err != nil || s.Version != snapshot.Version || s.Process == nil {
			t.Fatalf("line %d is not a snapshot with process figures: %v", i, err)
		}
	}

	// One stream is the limit: a second is refused at once.
	second := c.do(t.Context(), "GET", snapshot.APIPath+"stream", auth, nil)
	second.Body.Close()
	if second.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second stream: %d, want 429", second.StatusCode)
	}

	// Close ends the stream and returns once its handler has.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, br); err == nil {
		t.Error("stream ended cleanly after Close, want a broken connection")
	}
}

// TestAgentProfileBusy asks for a 2-second CPU profile, then, while it
// runs, for a second one, which is refused at once as busy, a wall-clock
// profile, which runs beside it (a capture takes both over the same
// window), and a snapshot, which is served before the first profile ends.
func TestAgentProfileBusy(t *testing.T) {
	a := startAgent(t, Options{})
	started := make(chan snapshot.ProfileKind, 4)
	a.handler.profileStarted = func(k snapshot.ProfileKind) { started <- k }
	c := newAgentClient(t, a)

	type result struct {
		status int
		body   []byte
	}
	first := make(chan result, 1)
	go func() {
		status, body := c.get(context.Background(), "profile?kind=cpu&seconds=2")
		first <- result{status, body}
	}()
	select {
	case <-started:
	case r := <-first:
		if bytes.Contains(r.body, []byte(snapshot.ErrCodeProfilerInUse)) {
			t.Skip("the test binary runs a CPU profile (-cpuprofile)")
		}
		t.Fatalf("first profile ended before starting: %d %s", r.status, r.body)
	}

	status, body := c.get(t.Context(), "profile?kind=cpu&seconds=1")
	var e snapshot.AgentError
	json.Unmarshal(body, &e)
	if status != http.StatusConflict || e.Code != snapshot.ErrCodeBusy {
		t.Errorf("cpu profile during the first: %d %s, want 409 %s", status, body, snapshot.ErrCodeBusy)
	}
	if status, body := c.get(t.Context(), "profile?kind=wall&seconds=0.2"); status != http.StatusOK {
		t.Errorf("wall profile during the cpu profile: %d %s, want 200", status, body)
	} else if p, err := profile.ParseData(body); err != nil || p.DurationNanos < int64(150*time.Millisecond) {
		t.Errorf("wall profile during the cpu profile: %v, want 0.2 s of it", err)
	}
	if status, body := c.get(t.Context(), "snapshot"); status != http.StatusOK {
		t.Errorf("snapshot during the profile: %d %s", status, body)
	}
	// Heap and goroutine profiles are instant and not exclusive.
	if status, body := c.get(t.Context(), "profile?kind=goroutine"); status != http.StatusOK {
		t.Errorf("goroutine profile during the cpu profile: %d %s", status, body)
	}
	select {
	case r := <-first:
		t.Fatalf("the first profile ended (%d) before the snapshot was served", r.status)
	default: // still running: the snapshot did not wait for it
	}

	r := <-first
	if r.status != http.StatusOK {
		t.Fatalf("first profile: %d %s", r.status, r.body)
	}
	p, err := profile.ParseData(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	// runtime/pprof starts its clock when its writer goroutine first
	// runs, which on a loaded machine can be a little after
	// StartCPUProfile returned: allow 100 ms.
	if d := time.Duration(p.DurationNanos); d < 2*time.Second-100*time.Millisecond {
		t.Errorf("profile covers %v, want 2s", d)
	}
	// The slot is free again.
	if status, body := c.get(t.Context(), "profile?kind=wall&seconds=0.05"); status != http.StatusOK {
		t.Errorf("wall profile after the first: %d %s", status, body)
	}
}

// TestAgentProfilerInUse checks the answer when the program runs its own
// CPU profile.
func TestAgentProfilerInUse(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Skip("a CPU profile already runs:", err)
	}
	defer pprof.StopCPUProfile()
	a := startAgent(t, Options{})
	c := newAgentClient(t, a)
	status, body := c.get(t.Context(), "profile?kind=cpu&seconds=1")
	var e snapshot.AgentError
	json.Unmarshal(body, &e)
	if status != http.StatusConflict || e.Code != snapshot.ErrCodeProfilerInUse {
		t.Fatalf("cpu profile: %d %s, want 409 %s", status, body, snapshot.ErrCodeProfilerInUse)
	}
	// The refusal released the agent's slot.
	if status, body := c.get(t.Context(), "profile?kind=wall&seconds=0.05"); status != http.StatusOK {
		t.Errorf("wall profile: %d %s", status, body)
	}
}

func TestAgentProfileKinds(t *testing.T) {
	a := startAgent(t, Options{})
	c := newAgentClient(t, a)
	for _, q := range []string{"kind=heap", "kind=goroutine", "kind=goroutine&seconds=999", "kind=wall&seconds=0.05", "kind=cpu&seconds=0.05", "kind=mutex&seconds=0.05", "kind=block&seconds=0.05", "kind=wall&seconds=0.2&hz=19"} {
		t.Run(q, func(t *testing.T) {
			status, body := c.get(t.Context(), "profile?"+q)
			if status == http.StatusConflict && bytes.Contains(body, []byte(snapshot.ErrCodeProfilerInUse)) {
				t.Skip("the test binary runs a CPU profile")
			}
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			p, err := profile.ParseData(body)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.CheckValid(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestAgentProfileYields runs a 60-second wall profile that yields (the
// dashboard's rolling one) and asks for a wall profile that does not (a
// capture) of the same kind: the first ends at once with what it
// gathered, the second is taken, and a third yielding profile of that kind
// is refused as busy meanwhile.
func TestAgentProfileYields(t *testing.T) {
	a := startAgent(t, Options{})
	started := make(chan snapshot.ProfileKind, 2)
	a.handler.profileStarted = func(k snapshot.ProfileKind) { started <- k }
	c := newAgentClient(t, a)

	type result struct {
		status int
		body   []byte
	}
	rolling := make(chan result, 1)
	go func() {
		status, body := c.get(t.Context(), "profile?kind=wall&seconds=60&yield=1")
		rolling <- result{status, body}
	}()
	if k := <-started; k != snapshot.ProfileWall {
		t.Fatalf("started %s, want wall", k)
	}
	capture := make(chan result, 1)
	go func() {
		status, body := c.get(t.Context(), "profile?kind=wall&seconds=1")
		capture <- result{status, body}
	}()
	r := <-rolling
	if r.status != http.StatusOK {
		t.Fatalf("yielding profile: %d %s, want 200 with what it gathered", r.status, r.body)
	}
	if _, err := profile.ParseData(r.body); err != nil {
		t.Errorf("yielding profile: %v", err)
	}
	<-started // the capture's profile
	status, body := c.get(t.Context(), "profile?kind=wall&seconds=1&yield=1")
	var e snapshot.AgentError
	json.Unmarshal(body, &e)
	if status != http.StatusConflict || e.Code != snapshot.ErrCodeBusy {
		t.Errorf("yielding profile during a capture: %d %s, want 409 %s", status, body, snapshot.ErrCodeBusy)
	}
	if r := <-capture; r.status != http.StatusOK {
		t.Errorf("capture profile: %d %s", r.status, r.body)
	}
}

// TestAgentProfileEnd runs a 60-second CPU profile named by its client and
// asks for it to end: the profile answers at once with what it gathered (a
// valid profile covering well under 60 s), the end request is answered
// 204, and ending a profile that does not run (another id, or once more)
// is 404.
func TestAgentProfileEnd(t *testing.T) {
	a := startAgent(t, Options{})
	started := make(chan snapshot.ProfileKind, 1)
	a.handler.profileStarted = func(k snapshot.ProfileKind) { started <- k }
	c := newAgentClient(t, a)
	if status, body := c.get(t.Context(), "info"); status != http.StatusOK || !strings.Contains(string(body), `"profile_end":true`) {
		t.Errorf("info: %d %s, want it to say profiles can be ended", status, body)
	}

	type result struct {
		status int
		body   []byte
	}
	done := make(chan result, 1)
	go func() {
		status, body := c.get(t.Context(), "profile?kind=cpu&seconds=60&id=abc")
		done <- result{status, body}
	}()
	<-started
	if status, body := c.get(t.Context(), "profile?kind=cpu&end=other"); status != http.StatusNotFound {
		t.Errorf("ending another id: %d %s, want 404", status, body)
	}
	if status, body := c.get(t.Context(), "profile?kind=cpu&end=abc"); status != http.StatusNoContent {
		t.Fatalf("ending the profile: %d %s, want 204", status, body)
	}
	r := <-done
	if r.status != http.StatusOK {
		t.Fatalf("the ended profile: %d %s, want 200 with what it gathered", r.status, r.body)
	}
	p, err := profile.ParseData(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if p.DurationNanos <= 0 || p.DurationNanos >= int64(30*time.Second) {
		t.Errorf("the ended profile covers %v, want less than the 60 s asked for", time.Duration(p.DurationNanos))
	}
	if status, body := c.get(t.Context(), "profile?kind=cpu&end=abc"); status != http.StatusNotFound {
		t.Errorf("ending it again: %d %s, want 404", status, body)
	}
	if status, _ := c.get(t.Context(), "profile?kind=cpu&end="+strings.Repeat("x", snapshot.MaxProfileIDLen+1)); status != http.StatusBadRequest {
		t.Errorf("an id too long: %d, want 400", status)
	}
}

// TestAgentProfileClientGone checks that a profile whose client goes away
// stops and frees the slot.
func TestAgentProfileClientGone(t *testing.T) {
	a := startAgent(t, Options{})
	started := make(chan snapshot.ProfileKind, 1)
	ended := make(chan struct{})
	a.handler.profileStarted = func(k snapshot.ProfileKind) { started <- k }
	c := newAgentClient(t, a)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		defer close(ended)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+snapshot.APIPath+"profile?kind=wall&seconds=60", nil)
		req.Header.Set("Authorization", "Bearer "+a.Token())
		if resp, err := c.hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	cancel()
	<-ended
	// Close waits for the handler, which the cancellation ended: it
	// must not wait the 60 seconds.
	done := make(chan struct{})
	go func() { a.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the abandoned profile")
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:1", true},
		{"[::1]:1", true},
		{"0.0.0.0:1", false},
		{"[::]:1", false},
		{"192.168.1.2:1", false},
	}
	for _, tt := range tests {
		ap, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := isLoopback(ap); got != tt.want {
			t.Errorf("isLoopback(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
