package agentclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/internal/redact/redacttest"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/probe/agent"
	"github.com/httptop/httptop/snapshot"
)

// deadPID is a pid no process has: above Linux's largest pid_max.
const deadPID = 1 << 30

// agentDir points the discovery directory at a new temporary directory
// for the test and returns it.
func agentDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv(discovery.EnvDir, dir)
	t.Setenv(EnvToken, "")
	return dir
}

// startAgent starts an agent of this process writing its discovery file
// to dir ("" for none), with a collector of its own.
func startAgent(t *testing.T, dir string, opts agent.Options) (*agent.Agent, *probe.Collector) {
	t.Helper()
	col := probe.NewCollector(probe.CollectorOptions{})
	opts.Collector = col
	opts.DiscoveryDir = dir
	opts.NoDiscovery = dir == ""
	a, err := agent.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, col
}

// writeRecord writes a discovery file for a process that is not an agent
// of this test.
func writeRecord(t *testing.T, dir string, r discovery.Record) string {
	t.Helper()
	if r.Network == "" {
		r.Network = "tcp"
	}
	if r.Token == "" {
		r.Token = strings.Repeat("ab", 32)
	}
	if r.Protocol == 0 {
		r.Protocol = snapshot.ProtocolVersion
	}
	path, err := discovery.Write(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestListAndDial(t *testing.T) {
	dir := agentDir(t)
	a, col := startAgent(t, dir, agent.Options{})
	stale := writeRecord(t, dir, discovery.Record{PID: deadPID, Program: "gone", Addr: closedAddr(t)})

	infos, err := List()
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].PID != os.Getpid() || infos[0].Addr != a.Addr() || infos[0].DiscoveryFile != a.DiscoveryFile() {
		t.Fatalf("List() = %+v, want this process's agent only", infos)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale discovery file of a dead pid: %v, want it removed", err)
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: probe.Wrap(srv.Client().Transport.(*http.Transport).Clone(), probe.WithCollector(col))}
	for range 3 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	// Every loopback name of the agent's address finds its discovery
	// file, and so its token.
	_, port, _ := net.SplitHostPort(a.Addr())
	for _, target := range []string{"", strconv.Itoa(os.Getpid()), a.Addr(), "localhost:" + port, ":" + port, "[::1]:" + port} {
		t.Run("target="+target, func(t *testing.T) {
			c, err := Dial(t.Context(), target)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			in := c.Info()
			if in.PID != os.Getpid() || in.Protocol != snapshot.ProtocolVersion || in.SnapshotVersion != snapshot.Version || in.GoVersion == "" || in.Limits.MaxStreams == 0 {
				t.Errorf("Info() = %+v", in)
			}
			s, err := c.Snapshot(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if s.Process == nil || len(s.Hosts) != 1 || s.Hosts[0].Requests != 3 {
				t.Errorf("snapshot: process %v, hosts %+v; want process figures and one host with 3 requests", s.Process, s.Hosts)
			}
		})
	}
}

func TestDialUnixSocket(t *testing.T) {
	dir := agentDir(t)
	sock := filepath.Join(t.TempDir(), "agent.sock")
	startAgent(t, dir, agent.Options{Addr: "unix:" + sock})
	for _, target := range []string{sock, "unix:" + sock} {
		c, err := Dial(t.Context(), target)
		if err != nil {
			t.Fatalf("Dial(%q): %v", target, err)
		}
		if _, err := c.Snapshot(t.Context()); err != nil {
			t.Errorf("snapshot over %q: %v", target, err)
		}
		c.Close()
	}
}

// fakeAgent serves h on loopback and returns its address.
func fakeAgent(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// answerInfo sets the protocol header of a fake agent's answer and, when
// r asks for the agent's info, answers it, reporting whether it did.
func answerInfo(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set(snapshot.ProtocolHeader, strconv.Itoa(snapshot.ProtocolVersion))
	if !strings.HasSuffix(r.URL.Path, "/info") {
		return false
	}
	fmt.Fprintf(w, `{"agent":"httptop","protocol":1,"snapshot_version":1,"pid":%d}`, os.Getpid())
	return true
}

// rawServer accepts connections and hands each to serve.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// TestDialErrors checks each way Dial can fail: the sentinel it wraps and
// a one-line message saying what to do.
func TestDialErrors(t *testing.T) {
	v1 := strconv.Itoa(snapshot.ProtocolVersion)
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) (target string)
		want  error
		msg   string
	}{
		{"no agent", func(t *testing.T, dir string) string { return "" }, ErrNoAgent, "no httptop agent is running"},
		{"several agents", func(t *testing.T, dir string) string {
			startAgent(t, dir, agent.Options{})
			writeRecord(t, dir, discovery.Record{PID: 1, Program: "init", Addr: closedAddr(t)})
			return ""
		}, ErrSeveralAgents, "2 httptop agents are running"},
		{"dead pid", func(t *testing.T, dir string) string { return strconv.Itoa(deadPID) }, ErrNoAgent, "no process " + strconv.Itoa(deadPID) + " is running"},
		{"dead pid with a stale file", func(t *testing.T, dir string) string {
			writeRecord(t, dir, discovery.Record{PID: deadPID, Addr: closedAddr(t)})
			return strconv.Itoa(deadPID)
		}, ErrNoAgent, "is running"},
		{"live pid without agent", func(t *testing.T, dir string) string { return "1" }, ErrNoAgent, "runs no httptop agent"},
		{"agent not answering", func(t *testing.T, dir string) string {
			writeRecord(t, dir, discovery.Record{PID: 1, Addr: closedAddr(t)})
			return "1"
		}, ErrNoAgent, "does not answer"},
		{"nothing listening", func(t *testing.T, dir string) string { return closedAddr(t) }, ErrNoAgent, "nothing listens"},
		{"no socket", func(t *testing.T, dir string) string { return filepath.Join(dir, "none.sock") }, ErrNoAgent, "nothing listens"},
		{"plain web server", func(t *testing.T, dir string) string {
			return fakeAgent(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
		}, ErrNotAgent, "is not an httptop agent"},
		{"other server asking for auth", func(t *testing.T, dir string) string {
			return fakeAgent(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) })
		}, ErrNotAgent, "is not an httptop agent"},
		{"not HTTP", func(t *testing.T, dir string) string {
			return rawServer(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n") })
		}, ErrNotAgent, "does not speak HTTP"},
		{"closes at once", func(t *testing.T, dir string) string {
			return rawServer(t, func(c net.Conn) {})
		}, ErrNotAgent, "does not speak HTTP"},
		{"silent", func(t *testing.T, dir string) string {
			old := infoTimeout
			infoTimeout = 100 * time.Millisecond
			t.Cleanup(func() { infoTimeout = old })
			return rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
		}, ErrNotAgent, "did not answer"},
		{"header but other JSON", func(t *testing.T, dir string) string {
			return fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(snapshot.ProtocolHeader, v1)
				io.WriteString(w, `{"agent":"gops"}`)
			})
		}, ErrNotAgent, "names agent"},
		{"missing token", func(t *testing.T, dir string) string {
			a, _ := startAgent(t, "", agent.Options{})
			return a.Addr()
		}, ErrUnauthorized, "none was found"},
		{"wrong token from the environment", func(t *testing.T, dir string) string {
			a, _ := startAgent(t, "", agent.Options{})
			t.Setenv(EnvToken, "wrong")
			return a.Addr()
		}, ErrUnauthorized, "refused the token in $" + EnvToken + ": it is not this agent's"},
		{"wrong token in the discovery file", func(t *testing.T, dir string) string {
			a, _ := startAgent(t, "", agent.Options{})
			writeRecord(t, dir, discovery.Record{PID: 1, Addr: a.Addr()})
			return a.Addr()
		}, ErrUnauthorized, "1.json: the file may be stale"},
		{"newer protocol", func(t *testing.T, dir string) string {
			return fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(snapshot.ProtocolHeader, "2")
				w.WriteHeader(404)
			})
		}, ErrVersion, "protocol version 2"},
		{"newer protocol in info", func(t *testing.T, dir string) string {
			return fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(snapshot.ProtocolHeader, v1)
				fmt.Fprintf(w, `{"agent":"httptop","protocol":2,"snapshot_version":1,"pid":1,"version":"v9.0.0"}`)
			})
		}, ErrVersion, "v9.0.0"},
		{"newer snapshot format", func(t *testing.T, dir string) string {
			return fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(snapshot.ProtocolHeader, v1)
				fmt.Fprintf(w, `{"agent":"httptop","protocol":1,"snapshot_version":2,"pid":1}`)
			})
		}, ErrVersion, "snapshot format version 2"},
		{"agent of another pid at the address", func(t *testing.T, dir string) string {
			a, _ := startAgent(t, "", agent.Options{})
			writeRecord(t, dir, discovery.Record{PID: 1, Addr: a.Addr(), Token: a.Token()})
			return "1"
		}, ErrNoAgent, "stale"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := agentDir(t)
			target := tt.setup(t, dir)
			c, err := Dial(t.Context(), target)
			if err == nil {
				c.Close()
				t.Fatalf("Dial(%q) succeeded, want %v", target, tt.want)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Dial(%q) = %v, want errors.Is %v", target, err, tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.msg) || strings.ContainsAny(msg, "\n\r") {
				t.Errorf("message %q: want one line containing %q", msg, tt.msg)
			}
		})
	}
}

func TestBadTargets(t *testing.T) {
	agentDir(t)
	for _, target := range []string{"0", "-3", "nonsense", "host:port", "127.0.0.1:0", "127.0.0.1:70000", "unix:"} {
		if c, err := Dial(t.Context(), target); err == nil {
			c.Close()
			t.Errorf("Dial(%q) succeeded, want an error", target)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("Dial(%q): %q is not one line", target, err)
		}
	}
}

func TestStream(t *testing.T) {
	dir := agentDir(t)
	a, _ := startAgent(t, dir, agent.Options{})
	c, err := Dial(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	t.Run("until fn fails", func(t *testing.T) {
		stop := errors.New("enough")
		var n int
		err := c.Stream(t.Context(), time.Millisecond, func(s *snapshot.Snapshot) error {
			if s.Version != snapshot.Version || s.Process == nil {
				t.Errorf("snapshot %+v", s)
			}
			if n++; n == 3 {
				return stop
			}
			return nil
		})
		if err != stop {
			t.Errorf("Stream = %v, want fn's error", err)
		}
	})

	t.Run("until ctx is done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		err := c.Stream(ctx, 100*time.Millisecond, func(*snapshot.Snapshot) error { cancel(); return nil })
		if err != nil {
			t.Errorf("Stream = %v, want nil once ctx is done", err)
		}
	})

	t.Run("agent goes away", func(t *testing.T) {
		first := true
		err := c.Stream(t.Context(), 100*time.Millisecond, func(*snapshot.Snapshot) error {
			if first {
				first = false
				a.Close() // returns once the stream's handler has ended
			}
			return nil
		})
		if !errors.Is(err, ErrDisconnected) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Stream = %v, want one line wrapping ErrDisconnected", err)
		}
		if _, err := c.Snapshot(t.Context()); !errors.Is(err, ErrDisconnected) {
			t.Errorf("Snapshot after the agent closed = %v, want ErrDisconnected", err)
		}
	})
}

// TestStreamConnChanges: Stream asks for connection changes and hands fn
// whole snapshots, the connections the agent left out carried over from
// the snapshot before and aged; a change that names a connection it never
// sent ends the stream with a one-line error.
func TestStreamConnChanges(t *testing.T) {
	dir := agentDir(t)
	queries := make(chan string, 1)
	lines := []string{
		`{"version":1,"time":"2026-12-06T09:00:00Z","pid":%d,"hosts":[],"conns":[{"id":1,"state":"idle","age_s":10,"idle_s":2},{"id":2,"state":"active","age_s":5}],"diagnoses":[]}`,
		`{"version":1,"time":"2026-12-06T09:00:01.5Z","pid":%d,"hosts":[],"conns":[{"id":2,"state":"active","age_s":6.5,"requests":1}],"diagnoses":[],"conn_changes":true,"conn_ids":[2,1]}`,
		`{"version":1,"time":"2026-12-06T09:00:02Z","pid":%d,"hosts":[],"conns":[],"diagnoses":[],"conn_changes":true,"conn_ids":[3]}`,
	}
	addr := fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		if answerInfo(w, r) {
			return
		}
		queries <- r.URL.RawQuery
		for _, l := range lines {
			fmt.Fprintf(w, l+"\n", os.Getpid())
		}
	})
	writeRecord(t, dir, discovery.Record{PID: os.Getpid(), Addr: addr})
	c, err := Dial(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []*snapshot.Snapshot
	err = c.Stream(t.Context(), time.Second, func(s *snapshot.Snapshot) error {
		got = append(got, s)
		return nil
	})
	if q := <-queries; q != "conns=changes&interval=1s" {
		t.Errorf("stream asked with %q, want conns=changes", q)
	}
	if err == nil || !strings.Contains(err.Error(), "connection 3") || strings.Contains(err.Error(), "\n") {
		t.Errorf("Stream = %v, want one line about connection 3", err)
	}
	if len(got) != 2 {
		t.Fatalf("fn saw %d snapshots, want 2", len(got))
	}
	want := []snapshot.Conn{
		{ID: 2, State: snapshot.ConnActive, AgeSeconds: 6.5, Requests: 1},
		{ID: 1, State: snapshot.ConnIdle, AgeSeconds: 11.5, IdleSeconds: 3.5},
	}
	if s := got[1]; s.ConnChanges || s.ConnIDs != nil || len(s.Conns) != 2 || s.Conns[0] != want[0] || s.Conns[1] != want[1] {
		t.Errorf("second snapshot: conn_changes %v, ids %v, conns %+v; want whole, %+v", s.ConnChanges, s.ConnIDs, s.Conns, want)
	}
	if len(got[0].Conns) != 2 || got[0].Conns[0].AgeSeconds != 10 {
		t.Errorf("the first snapshot changed once fn had it: %+v", got[0].Conns)
	}
}

func TestProfile(t *testing.T) {
	dir := agentDir(t)
	startAgent(t, dir, agent.Options{})
	c, err := Dial(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range []struct {
		kind snapshot.ProfileKind
		d    time.Duration
	}{{"heap", 0}, {"goroutine", time.Hour}, {"wall", 50 * time.Millisecond}} {
		data, err := c.Profile(t.Context(), tt.kind, tt.d)
		if err != nil {
			t.Fatalf("%s: %v", tt.kind, err)
		}
		if _, err := profile.ParseData(data); err != nil {
			t.Errorf("%s: %v", tt.kind, err)
		}
	}
	for _, tt := range []struct {
		kind snapshot.ProfileKind
		d    time.Duration
	}{{"disk", 0}, {"cpu", 2 * time.Minute}, {"wall", -time.Second}} {
		if _, err := c.Profile(t.Context(), tt.kind, tt.d); err == nil {
			t.Errorf("Profile(%q, %v) succeeded, want an error", tt.kind, tt.d)
		}
	}
}

// TestProfileErrors checks how the agent's refusals reach the caller.
func TestProfileErrors(t *testing.T) {
	dir := agentDir(t)
	code := make(chan string, 1)
	addr := fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		if answerInfo(w, r) {
			return
		}
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, `{"error":%q,"message":"try later\nplease"}`, <-code)
	})
	writeRecord(t, dir, discovery.Record{PID: os.Getpid(), Addr: addr})
	c, err := Dial(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tt := range []snapshot.ErrorCode{snapshot.ErrCodeBusy, snapshot.ErrCodeProfilerInUse} {
		code <- string(tt)
		_, err := c.Profile(t.Context(), snapshot.ProfileCPU, time.Second)
		if !snapshot.HasCode(err, tt) || !strings.Contains(err.Error(), "try later please") {
			t.Errorf("409 %s: Profile = %v, want code %s with the agent's message on one line", tt, err, tt)
		}
		other := snapshot.ErrCodeBusy
		if tt == snapshot.ErrCodeBusy {
			other = snapshot.ErrCodeProfilerInUse
		}
		if snapshot.HasCode(err, other) {
			t.Errorf("409 %s: error also has code %s", tt, other)
		}
	}
}

// Printing or logging a client never shows the agent's token.
func TestClientTokenRedacted(t *testing.T) {
	dir := agentDir(t)
	a, _ := startAgent(t, dir, agent.Options{})
	c, err := Dial(t.Context(), a.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	redacttest.Check(t, "*Client", c, a.Token())
}

// TestRollingProfileQuery checks what a rolling profile asks for: it
// yields, and a wall-clock one samples at RollingWallHz.
func TestRollingProfileQuery(t *testing.T) {
	dir := agentDir(t)
	queries := make(chan string, 4)
	addr := fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		if answerInfo(w, r) {
			return
		}
		queries <- r.URL.RawQuery
		w.Write([]byte{0x1f, 0x8b, 0})
	})
	writeRecord(t, dir, discovery.Record{PID: os.Getpid(), Addr: addr})
	c, err := Dial(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for kind, want := range map[snapshot.ProfileKind]string{
		snapshot.ProfileWall: "hz=" + strconv.Itoa(RollingWallHz) + "&kind=wall&seconds=2&yield=1",
		snapshot.ProfileCPU:  "kind=cpu&seconds=2&yield=1",
	} {
		c.RollingProfile(t.Context(), kind, 2*time.Second)
		if got := <-queries; got != want {
			t.Errorf("rolling %s profile asks %q, want %q", kind, got, want)
		}
	}
	c.Profile(t.Context(), snapshot.ProfileWall, 2*time.Second)
	if got := <-queries; got != "kind=wall&seconds=2" {
		t.Errorf("a capture's wall profile asks %q, want fgprof's rate (no hz)", got)
	}
}

// TestProfileTooLarge: an agent that answers a profile of 40 MiB (far
// beyond any real one) is refused before the client holds it all.
func TestProfileTooLarge(t *testing.T) {
	dir := agentDir(t)
	addr := fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		if answerInfo(w, r) {
			return
		}
		w.Write([]byte{0x1f, 0x8b})
		chunk := make([]byte, 1<<20)
		for range 40 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	writeRecord(t, dir, discovery.Record{PID: os.Getpid(), Addr: addr})
	c, err := Dial(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	data, err := c.Profile(t.Context(), snapshot.ProfileHeap, 0)
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Profile of 40 MiB = %d bytes, %v; want it refused as too large", len(data), err)
	}
}

// TestStalledAgentMessages: an agent that accepts and never answers is
// reported in words saying how long the client waited, with the caller's
// deadline when it is the shorter (ps waits 3 s, not Dial's 5 s), and a
// snapshot it never sends is not a bare "context deadline exceeded".
func TestStalledAgentMessages(t *testing.T) {
	silent := rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := Dial(ctx, silent)
	// Within 300ms: what is left of it once the discovery directory was
	// read, not Dial's own 5s.
	var waited time.Duration
	if err != nil {
		if m := regexp.MustCompile(`did not answer within (\S+):`).FindStringSubmatch(err.Error()); m != nil {
			waited, _ = time.ParseDuration(m[1])
		}
	}
	if waited <= 0 || waited > 300*time.Millisecond {
		t.Errorf("Dial with a 300ms deadline = %v, want it to say it waited (at most) 300ms", err)
	}

	dir := agentDir(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	addr := fakeAgent(t, func(w http.ResponseWriter, r *http.Request) {
		if answerInfo(w, r) {
			return
		}
		select { // a program stopped in a debugger
		case <-release:
		case <-r.Context().Done():
		}
	})
	writeRecord(t, dir, discovery.Record{PID: os.Getpid(), Addr: addr})
	c, err := Dial(t.Context(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	old := replyTimeout
	replyTimeout = 200 * time.Millisecond
	defer func() { replyTimeout = old }()
	_, err = c.Snapshot(t.Context())
	if err == nil || !strings.Contains(err.Error(), "did not answer within 200ms") || !errors.Is(err, ErrDisconnected) {
		t.Errorf("Snapshot of a stalled agent = %v, want ErrDisconnected saying it waited 200ms", err)
	}
}
