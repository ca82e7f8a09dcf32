package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/internal/redact"
	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/snapshot"
)

// Options configure the agent Start runs. The zero value listens on
// 127.0.0.1 on a port the system picks, serves probe.Default() and writes a
// discovery file in the per-user directory.
type Options struct {
	// Addr is where the agent listens: "host:port" for TCP (an empty
	// host or port 0 as net.Listen reads them), or "unix:/path" for a
	// unix socket, created with mode 0600. Empty means "127.0.0.1:0". An
	// address that is not loopback is allowed, with a warning: anyone who
	// can reach it and learns the token can read the program's HTTP
	// statistics and profile it.
	Addr string
	// Collector is the collector served; nil means probe.Default().
	Collector *probe.Collector
	// DiscoveryDir is where the discovery file goes; empty means
	// $HTTPTOP_DIR, else the per-user default (see cmd/httptop).
	DiscoveryDir string
	// NoDiscovery skips the discovery file; clients then need the
	// address and the token (Agent.Addr, Agent.Token).
	NoDiscovery bool
	// Token is the secret clients must send; empty means a new random
	// one (NewToken).
	Token string
	// MaxStreams bounds the snapshot streams served at once
	// (snapshot.DefaultMaxStreams when zero).
	MaxStreams int
	// MaxConns bounds the connections the agent holds at once
	// (DefaultMaxConns when zero); a connection past it is answered
	// 503 (snapshot.ErrCodeUnavailable) and closed. Whatever the bound,
	// the agent leaves the program the last of its file descriptors.
	MaxConns int
	// Logger receives the agent's warnings; nil means slog.Default().
	Logger *slog.Logger
}

// Agent serves a program's snapshots and profiles to the httptop command
// (see docs/protocol.md). Start one with Start, stop it with Close.
type Agent struct {
	network, addr string
	token         string
	started       time.Time
	ln            net.Listener
	srv           *http.Server
	handler       *handler
	cancel        context.CancelFunc
	served        chan struct{} // closed when Serve returns
	gate          gate
	file          string // discovery file; "" when none

	closeOnce sync.Once
	closeErr  error
}

// Start starts an agent: it listens, writes the discovery file (a JSON
// file named after the pid, mode 0600, in a directory of mode 0700) and
// serves clients concurrently on goroutines of its own until Close.
func Start(opts Options) (*Agent, error) {
	network, address, err := splitAgentAddr(opts.Addr)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ln, err := listenAgent(network, address)
	if err != nil {
		return nil, fmt.Errorf("agent: listen: %w", err)
	}
	col := opts.Collector
	if col == nil {
		col = probe.Default()
	}
	token := opts.Token
	if token == "" {
		token = NewToken()
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{
		network: network,
		addr:    address,
		token:   token,
		ln:      ln,
		handler: newHandler(col, token, opts.MaxStreams),
		cancel:  cancel,
		served:  make(chan struct{}),
	}
	a.started = a.handler.started
	if network == "tcp" {
		a.addr = ln.Addr().String()
		if !isLoopback(ln.Addr()) {
			logger.Warn("httptop agent listens on an address that is not loopback: whoever can reach it and learns its token can read this program's HTTP statistics and profile it",
				"addr", a.addr)
		}
	}
	if !opts.NoDiscovery {
		if err := a.writeDiscovery(opts.DiscoveryDir); err != nil {
			ln.Close()
			cancel()
			return nil, err
		}
	}
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	ln = newLimitListener(ln, maxConns)
	a.srv = &http.Server{
		Handler: a.gate.wrap(a.handler),
		// Short: the httptop command sends its headers at once, and a
		// connection that sends nothing holds one of MaxConns.
		ReadHeaderTimeout: 2 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		// Requests' contexts carry the agent's pprof labels, so that the
		// handler's pprof.Do, returning, restores them on the connection's
		// goroutine rather than clearing them.
		BaseContext: func(net.Listener) context.Context { return pprof.WithLabels(ctx, agentLabels) },
		ErrorLog:    log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(a.served)
		// The server's goroutines (one per connection) inherit the
		// agent's pprof labels.
		pprof.Do(ctx, agentLabels, func(context.Context) { a.srv.Serve(ln) })
	}()
	return a, nil
}

// Addr returns the address the agent listens on: host:port, or the unix
// socket's path.
func (a *Agent) Addr() string { return a.addr }

// Network returns "tcp" or "unix".
func (a *Agent) Network() string { return a.network }

// Token returns the token clients must send.
func (a *Agent) Token() string { return a.token }

// String describes the agent without its token, which would give whoever
// reads a log a door into the program: "httptop agent on tcp
// 127.0.0.1:7070 (token REDACTED)".
func (a *Agent) String() string {
	if a == nil {
		return "httptop agent <nil>"
	}
	return "httptop agent on " + a.network + " " + a.addr + " (token " + redact.Mark + ")"
}

// GoString is the %#v form of the agent, without its token.
func (a *Agent) GoString() string {
	if a == nil {
		return "(*agent.Agent)(nil)"
	}
	return fmt.Sprintf("&agent.Agent{Network: %q, Addr: %q, Token: %q}", a.network, a.addr, redact.Mark)
}

// Format prints the agent with String (GoString for %#v) whatever the
// verb, so that no verb prints its fields and the token.
func (a *Agent) Format(f fmt.State, verb rune) { redact.Format(f, verb, a.String(), a.GoString()) }

// LogValue logs the agent as its network and address, the token redacted.
func (a *Agent) LogValue() slog.Value {
	if a == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("network", a.network), slog.String("addr", a.addr), slog.String("token", redact.Mark))
}

// String describes the options with the token redacted.
func (o Options) String() string { return o.GoString() }

// GoString is the %#v form of the options, with the token redacted when
// one is set.
func (o Options) GoString() string {
	token := ""
	if o.Token != "" {
		token = redact.Mark
	}
	return fmt.Sprintf("agent.Options{Addr: %q, Collector: %p, DiscoveryDir: %q, NoDiscovery: %t, Token: %q, MaxStreams: %d, Logger: %p}",
		o.Addr, o.Collector, o.DiscoveryDir, o.NoDiscovery, token, o.MaxStreams, o.Logger)
}

// Format prints the options with String whatever the verb, so that no verb
// prints the token.
func (o Options) Format(f fmt.State, verb rune) { redact.Format(f, verb, o.String(), o.GoString()) }

// LogValue logs the options with the token redacted.
func (o Options) LogValue() slog.Value {
	token := ""
	if o.Token != "" {
		token = redact.Mark
	}
	return slog.GroupValue(slog.String("addr", o.Addr), slog.String("discovery_dir", o.DiscoveryDir),
		slog.Bool("no_discovery", o.NoDiscovery), slog.String("token", token), slog.Int("max_streams", o.MaxStreams))
}

var (
	_ fmt.Formatter  = (*Agent)(nil)
	_ slog.LogValuer = (*Agent)(nil)
	_ fmt.Formatter  = Options{}
	_ slog.LogValuer = Options{}
)

// DiscoveryFile returns the path of the agent's discovery file, or "" when
// it has none.
func (a *Agent) DiscoveryFile() string { return a.file }

// Close stops the agent: it removes the discovery file, stops listening,
// closes every connection (ending streams and stopping a profile being
// taken) and returns once no request of the agent is being served. Close
// may be called more than once.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		var errs []error
		if a.file != "" {
			errs = append(errs, discovery.Remove(a.file))
			discoveryFiles.Delete(a.file)
		}
		a.cancel()
		if err := a.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("agent: close: %w", err))
		}
		<-a.served
		a.gate.close()
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// discoveryFiles holds the discovery files the agents of this process
// have written, so that a second agent does not overwrite the first's
// while a file of the same pid left by an earlier process is replaced.
var discoveryFiles sync.Map // path → struct{}

func (a *Agent) writeDiscovery(dir string) error {
	if dir == "" {
		d, err := discovery.Dir()
		if err != nil {
			return fmt.Errorf("agent: discovery directory: %w", err)
		}
		dir = d
	}
	pid := os.Getpid()
	rec := discovery.Record{
		PID:      pid,
		Program:  programName(),
		Network:  a.network,
		Addr:     a.addr,
		Token:    a.token,
		Protocol: snapshot.ProtocolVersion,
		Version:  moduleVersion(),
		Started:  a.started,
	}
	path := discovery.Path(dir, pid)
	if _, loaded := discoveryFiles.LoadOrStore(path, struct{}{}); loaded {
		return fmt.Errorf("agent: another agent of this process already has the discovery file %s: set Options.NoDiscovery or another DiscoveryDir", path)
	}
	if _, err := discovery.Write(dir, rec); err != nil {
		discoveryFiles.Delete(path)
		return fmt.Errorf("agent: %w (set %s to a private directory, or Options.NoDiscovery)", err, discovery.EnvDir)
	}
	a.file = path
	return nil
}

// isLoopback reports whether a TCP listener's address is a loopback one
// (127.0.0.0/8, ::1); an unspecified address (all interfaces) is not.
func isLoopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// splitAgentAddr reads Options.Addr.
func splitAgentAddr(addr string) (network, address string, err error) {
	switch {
	case addr == "":
		return "tcp", "127.0.0.1:0", nil
	case strings.HasPrefix(addr, "unix:"):
		path := strings.TrimPrefix(addr, "unix:")
		if path == "" {
			return "", "", errors.New(`agent: address "unix:" names no socket path`)
		}
		return "unix", path, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", "", fmt.Errorf("agent: address %q: want host:port or unix:/path: %w", addr, err)
	}
	return "tcp", addr, nil
}

// listenAgent listens on a TCP address or a unix socket. A socket file
// left by an agent that is gone (nothing accepts on it) is replaced; the
// socket is made private to the user.
func listenAgent(network, address string) (net.Listener, error) {
	if network == "tcp" {
		return net.Listen("tcp", address)
	}
	ln, err := net.Listen("unix", address)
	if err != nil && errors.Is(err, syscall.EADDRINUSE) && staleSocket(address) {
		os.Remove(address)
		ln, err = net.Listen("unix", address)
	}
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(address, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// staleSocket reports whether path is a unix socket nobody accepts on.
func staleSocket(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != fs.ModeSocket {
		return false
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	c.Close()
	return false
}

// gate counts the requests being served so that Close can wait for them,
// and turns new ones away once it has closed.
type gate struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

func (g *gate) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return
		}
		g.wg.Add(1)
		g.mu.Unlock()
		defer g.wg.Done()
		h.ServeHTTP(w, r)
	})
}

// close turns new requests away and waits for those being served.
func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
