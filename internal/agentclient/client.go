// Package agentclient is the httptop command's side of the agent protocol
// (docs/protocol.md): it finds the agents running on this machine through
// their discovery files, connects to one by pid, address or socket,
// checks that it is an httptop agent speaking this protocol and accepting
// the token, and fetches snapshots, snapshot streams and profiles.
//
// Everything read from an agent is bounded in size and decoded strictly
// into the shared wire types (snapshot.Snapshot, snapshot.AgentInfo), with
// versions checked. Errors wrap one of the sentinel errors below and read
// as one line saying what to do next.
package agentclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/httptop/httptop/internal/discovery"
	"github.com/httptop/httptop/internal/redact"
	"github.com/httptop/httptop/snapshot"
)

// EnvToken names the environment variable holding the token for an agent
// reached by address that has no discovery file on this machine (an agent
// mounted with agent.Handler, one in a container).
const EnvToken = "HTTPTOP_TOKEN"

// Timeouts of the client's own making; the caller's context may end
// things sooner. Variables for tests.
var (
	// infoTimeout bounds Dial's check of the agent.
	infoTimeout = 5 * time.Second
	// replyTimeout bounds a snapshot.
	replyTimeout = 30 * time.Second
)

// stallGrace is how long past its interval (or a profile past its
// duration) the client waits for the agent before taking it for gone.
const stallGrace = 30 * time.Second

// Info describes an agent: from its discovery file (List), completed by
// its info endpoint once connected (Client.Info).
type Info struct {
	PID     int
	Program string
	// Addr is host:port for TCP, the socket's path for a unix socket.
	Addr string
	// Network is "tcp" or "unix".
	Network string
	// Protocol is the agent protocol version it speaks.
	Protocol int
	// Version is the httptop module version the program was built with.
	Version string
	// Started is when the agent started.
	Started time.Time
	// DiscoveryFile is the path of its discovery file; empty when it was
	// reached by address without one.
	DiscoveryFile string

	// Known once connected: the Go release of the program, its snapshot
	// format version and the bounds the agent applies.
	GoVersion       string
	SnapshotVersion int
	Limits          snapshot.AgentLimits
	// MainModule and Modules are the program's module list (its main
	// module and dependencies), for attributing its profiles; empty
	// from an agent that does not send them.
	MainModule string
	Modules    []string
}

// List returns the agents running on this machine, by pid, from the
// discovery directory ($HTTPTOP_DIR or the per-user default). Files of
// processes that are gone are removed on the way.
func List() ([]Info, error) {
	_, recs, err := list()
	infos := make([]Info, 0, len(recs))
	for _, r := range recs {
		infos = append(infos, infoOf(r))
	}
	return infos, err
}

func list() (dir string, recs []discovery.Record, err error) {
	dir, err = discovery.Dir()
	if err != nil {
		return "", nil, fmt.Errorf("agentclient: %w", err)
	}
	recs, err = discovery.List(dir)
	if err != nil {
		return dir, nil, fmt.Errorf("agentclient: %w", err)
	}
	return dir, recs, nil
}

func infoOf(r discovery.Record) Info {
	return Info{
		PID:           r.PID,
		Program:       r.Program,
		Addr:          r.Addr,
		Network:       r.Network,
		Protocol:      r.Protocol,
		Version:       r.Version,
		Started:       r.Started,
		DiscoveryFile: r.Path,
	}
}

// Client is a connection to one agent. Its methods are safe for
// concurrent use.
type Client struct {
	info      Info
	where     string // "the agent of pid N (ADDR)", for messages
	base      string // URL of the API, ending in /
	token     string
	transport *http.Transport
	http      *http.Client
}

// String names the agent the client talks to, without the token.
func (c *Client) String() string {
	if c == nil {
		return "httptop agent client <nil>"
	}
	return "httptop agent client of " + c.where + " (token " + redact.Mark + ")"
}

// Format prints the client with String whatever the verb, so that no verb
// prints its fields and the token.
func (c *Client) Format(f fmt.State, verb rune) { redact.Format(f, verb, c.String(), c.String()) }

// LogValue logs the client as the agent it talks to, the token redacted.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

var (
	_ fmt.Formatter  = (*Client)(nil)
	_ slog.LogValuer = (*Client)(nil)
)

// Dial finds the agent named by target and checks it: it answers, speaks
// this protocol and snapshot version, and accepts the token. target is
// one of:
//
//   - "": the one agent running on this machine (ErrNoAgent when there is
//     none, ErrSeveralAgents, listing them, when there are several);
//   - a pid: that process's agent, from its discovery file;
//   - host:port, or a unix socket path (or unix:PATH): the agent there,
//     with the token of the discovery file naming that address, else
//     $HTTPTOP_TOKEN.
func Dial(ctx context.Context, target string) (*Client, error) {
	dir, recs, err := list()
	if err != nil {
		return nil, err
	}
	info, token, tokenFrom, err := resolve(target, dir, recs)
	if err != nil {
		return nil, err
	}
	c := newClient(info, token)
	if err := c.check(ctx, tokenFrom, dir); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// resolve finds the agent target names among the discovery records, and
// its token and where the token came from.
func resolve(target, dir string, recs []discovery.Record) (info Info, token, tokenFrom string, err error) {
	t, err := parseTarget(target)
	if err != nil {
		return Info{}, "", "", err
	}
	var rec *discovery.Record
	switch {
	case t.any:
		switch len(recs) {
		case 0:
			return Info{}, "", "", newError(ErrNoAgent, nil, "no httptop agent is running on this machine (none in %s): start the program built with the probe/attach import (go build -tags debug, when the import is in a debug-only file) or calling agent.Start, or set %s to the directory its agent writes to", dir, discovery.EnvDir)
		case 1:
			rec = &recs[0]
		default:
			var names []string
			for _, r := range recs {
				names = append(names, fmt.Sprintf("%d (%s)", r.PID, r.Program))
			}
			return Info{}, "", "", newError(ErrSeveralAgents, nil, "%d httptop agents are running, pids %s: name one, e.g. 'httptop snapshot %d'", len(recs), strings.Join(names, ", "), recs[0].PID)
		}
	case t.pid > 0:
		for i := range recs {
			if recs[i].PID == t.pid {
				rec = &recs[i]
			}
		}
		if rec == nil {
			if !discovery.Alive(t.pid) {
				return Info{}, "", "", newError(ErrNoAgent, nil, "no process %d is running: run 'httptop ps' to list the agents", t.pid)
			}
			return Info{}, "", "", newError(ErrNoAgent, nil, "process %d runs no httptop agent known here (no discovery file in %s): build it with the probe/attach import (go build -tags debug, when the import is in a debug-only file) or call agent.Start, or name the agent's host:port", t.pid, dir)
		}
	default:
		for i := range recs {
			if sameAddr(recs[i].Network, recs[i].Addr, t.network, t.addr) {
				rec = &recs[i]
				break
			}
		}
	}
	if rec != nil {
		return infoOf(*rec), rec.Token, rec.Path, nil
	}
	info = Info{Network: t.network, Addr: t.addr}
	if tok := os.Getenv(EnvToken); tok != "" {
		return info, tok, "$" + EnvToken, nil
	}
	return info, "", "", nil
}

// target is a parsed TARGET argument.
type target struct {
	any           bool
	pid           int
	network, addr string
}

// parseTarget reads a pid, host:port, unix:PATH or socket path.
func parseTarget(s string) (target, error) {
	if s == "" {
		return target{any: true}, nil
	}
	if pid, err := strconv.Atoi(s); err == nil {
		if pid <= 0 {
			return target{}, newError(nil, nil, "%q is not a valid pid", s)
		}
		return target{pid: pid}, nil
	}
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		return unixTarget(p)
	}
	if strings.ContainsRune(s, '/') || strings.ContainsRune(s, filepath.Separator) {
		return unixTarget(s)
	}
	host, port, err := net.SplitHostPort(s)
	if err == nil {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return target{}, newError(nil, nil, "%q: port %q is not a number from 1 to 65535", s, port)
		}
		if host == "" {
			host = "127.0.0.1"
		}
		return target{network: "tcp", addr: net.JoinHostPort(host, port)}, nil
	}
	if fi, err := os.Stat(s); err == nil && fi.Mode().Type() == os.ModeSocket {
		return unixTarget(s)
	}
	return target{}, newError(nil, nil, "%q is not a pid, a host:port or a unix socket path: run 'httptop ps' to list the agents", s)
}

func unixTarget(p string) (target, error) {
	if p == "" {
		return target{}, newError(nil, nil, "unix: names no socket path")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return target{}, newError(nil, err, "socket path %q: %v", p, err)
	}
	return target{network: "unix", addr: abs}, nil
}

// sameAddr reports whether two agent addresses are the same: the same
// socket path, or the same port on the same host, where all loopback
// names count as one and an agent listening on every address matches
// any host.
func sameAddr(net1, addr1, net2, addr2 string) bool {
	if net1 != net2 {
		return false
	}
	if net1 == "unix" {
		return filepath.Clean(addr1) == filepath.Clean(addr2)
	}
	h1, p1, err1 := net.SplitHostPort(addr1)
	h2, p2, err2 := net.SplitHostPort(addr2)
	if err1 != nil || err2 != nil || p1 != p2 {
		return false
	}
	return h1 == h2 || (loopback(h1) && loopback(h2)) || unspecified(h1)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func unspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

// newClient returns a client of the agent at info's address. It uses a
// transport of its own: no proxy (the token must not go through one), and
// no instrumentation.
func newClient(info Info, token string) *Client {
	network, addr := info.Network, info.Addr
	var d net.Dialer
	tr := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	host := addr
	if network == "unix" {
		host = "httptop-agent" // any name: DialContext ignores it
	}
	where := "the agent at " + addr
	if info.PID > 0 {
		where = fmt.Sprintf("the agent of pid %d (%s)", info.PID, addr)
	}
	return &Client{
		info:      info,
		where:     where,
		base:      (&url.URL{Scheme: "http", Host: host, Path: snapshot.APIPath}).String(),
		token:     token,
		transport: tr,
		http:      &http.Client{Transport: tr},
	}
}

// check asks the agent for its info and checks it; tokenFrom says where
// the token came from, for messages.
func (c *Client) check(ctx context.Context, tokenFrom, dir string) error {
	wait := waitFor(ctx, infoTimeout)
	ctx, cancel := context.WithTimeout(ctx, infoTimeout)
	defer cancel()
	resp, err := c.get(ctx, snapshot.EndpointInfo, nil)
	if err != nil {
		return c.dialError(ctx, wait, err)
	}
	defer resp.Body.Close()
	if err := replyError(c.where, resp.StatusCode, resp.Header, resp.Body); err != nil {
		if errors.Is(err, ErrUnauthorized) {
			if c.token == "" {
				return newError(ErrUnauthorized, nil, "%s wants a token and none was found: no discovery file in %s names this address; set %s, or %s to the directory the program's agent writes to", c.where, dir, EnvToken, discovery.EnvDir)
			}
			if tokenFrom == "$"+EnvToken {
				return newError(ErrUnauthorized, nil, "%s refused the token in $%s: it is not this agent's; set it to the token the agent was given (agent.Options.Token, or the token of its discovery file)", c.where, EnvToken)
			}
			return newError(ErrUnauthorized, nil, "%s refused the token from %s: the file may be stale or belong to another agent; run 'httptop ps'", c.where, tokenFrom)
		}
		return err
	}
	data, err := readLimited(resp.Body, maxInfoBytes)
	if err != nil {
		return newError(ErrNotAgent, err, "%s: reading its info: %v", c.where, err)
	}
	in, err := decodeInfo(data)
	if err != nil {
		return newError(nil, err, "%s: %v", c.where, err)
	}
	if c.info.PID > 0 && in.PID != c.info.PID {
		return newError(ErrNoAgent, nil, "the discovery file of pid %d points at %s, where the agent of pid %d answers: the file is stale; run 'httptop ps'", c.info.PID, c.info.Addr, in.PID)
	}
	c.info.PID = in.PID
	c.info.Program = in.Program
	c.info.Protocol = in.Protocol
	c.info.Version = in.Version
	c.info.Started = in.Started
	c.info.GoVersion = in.GoVersion
	c.info.SnapshotVersion = in.SnapshotVersion
	c.info.Limits = in.Limits
	c.info.MainModule = in.MainModule
	c.info.Modules = in.Modules
	c.where = fmt.Sprintf("the agent of pid %d (%s)", in.PID, c.info.Addr)
	return nil
}

// dialError explains why Dial could not get an answer within wait: the
// connection failed (ErrNoAgent), or something accepted it and did not
// answer as an HTTP server would (ErrNotAgent).
func (c *Client) dialError(ctx context.Context, wait time.Duration, err error) error {
	var op *net.OpError
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	switch {
	case ctx.Err() != nil && !timedOut:
		return ctx.Err() // the caller gave up
	case errors.As(err, &op) && op.Op == "dial":
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			if c.info.DiscoveryFile != "" {
				return newError(ErrNoAgent, err, "%s does not answer (connection refused): the program may be exiting, or its discovery file %s is stale; run 'httptop ps'", c.where, c.info.DiscoveryFile)
			}
			return newError(ErrNoAgent, err, "nothing listens at %s: run 'httptop ps' to list the agents", c.info.Addr)
		}
		return newError(ErrNoAgent, err, "cannot reach %s: %v", c.where, op.Err)
	case timedOut:
		return newError(ErrNotAgent, err, "%s did not answer within %v: it is not an httptop agent, or the program is stuck", c.where, wait)
	}
	return newError(ErrNotAgent, err, "%s does not speak HTTP (%v): it is not an httptop agent; run 'httptop ps' to list the agents", c.info.Addr, rootCause(err))
}

// rootCause strips the *url.Error wrapping, whose message repeats the URL.
func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// get sends a GET for the API endpoint name with the query q.
func (c *Client) get(ctx context.Context, name string, q url.Values) (*http.Response, error) {
	u := c.base + name
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "httptop")
	return c.http.Do(req)
}

// call sends a GET after Dial and checks the reply. An agent that no
// longer answers gives ErrDisconnected; the caller's ctx ending gives its
// error.
func (c *Client) call(ctx context.Context, name string, q url.Values) (*http.Response, error) {
	resp, err := c.get(ctx, name, q)
	if err != nil {
		return nil, c.lost(ctx, err)
	}
	if err := replyError(c.where, resp.StatusCode, resp.Header, resp.Body); err != nil {
		resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// lost returns the error for a failure after Dial: the context's when it
// ended, else ErrDisconnected.
func (c *Client) lost(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return newError(ErrDisconnected, err, "%s went away (%v): the program may have exited; run 'httptop ps'", c.where, rootCause(err))
}

// waitFor returns how long a request under ctx with a timeout of d may
// wait: d, or less when ctx's own deadline comes sooner (rounded, for
// messages).
func waitFor(ctx context.Context, d time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if u := time.Until(dl); u < d {
			return max(u, 0).Round(10 * time.Millisecond)
		}
	}
	return d
}

// stalled returns the error of a request under rctx (derived from parent
// with a timeout) that failed with err: the caller's when it canceled,
// ErrDisconnected saying how long the client waited when a deadline
// passed (not a bare "context deadline exceeded"), else err.
func (c *Client) stalled(parent, rctx context.Context, wait time.Duration, err error) error {
	switch {
	case errors.Is(parent.Err(), context.Canceled):
		return parent.Err()
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		return newError(ErrDisconnected, err, "%s did not answer within %v: the program may be stopped (in a debugger) or overloaded; run 'httptop ps'", c.where, wait)
	}
	return err
}

// Redial finds the agent c lost, again, through the discovery directory:
// a program that restarted at c's address has a new pid or a new token in
// its discovery file, and Redial returns a client of that agent, checked
// as Dial checks. It returns an error wrapping ErrExited when c's process
// is gone and no agent answers at its address, and nil, nil when nothing
// changed (the agent may only be busy) or c was not found through a
// discovery file (there is nothing to read again). c itself is left as
// it is; the caller closes it once it uses the new client.
func Redial(ctx context.Context, c *Client) (*Client, error) {
	info := c.Info()
	if info.DiscoveryFile == "" {
		return nil, nil
	}
	dir, recs, err := list()
	if err != nil {
		return nil, err
	}
	for i := range recs {
		r := &recs[i]
		if !sameAddr(r.Network, r.Addr, info.Network, info.Addr) || (r.PID == info.PID && r.Token == c.token) {
			continue
		}
		nc := newClient(infoOf(*r), r.Token)
		if err := nc.check(ctx, r.Path, dir); err != nil {
			nc.Close()
			return nil, err
		}
		return nc, nil
	}
	if !discovery.Alive(info.PID) {
		return nil, newError(ErrExited, nil, "process %d (%s) exited: its agent is gone; run 'httptop ps'", info.PID, info.Program)
	}
	return nil, nil
}

// Info returns what is known of the agent.
func (c *Client) Info() Info { return c.info }

// Snapshot returns the program's current snapshot, process figures
// included.
func (c *Client) Snapshot(ctx context.Context) (*snapshot.Snapshot, error) {
	wait := waitFor(ctx, replyTimeout)
	rctx, cancel := context.WithTimeout(ctx, replyTimeout)
	defer cancel()
	resp, err := c.call(rctx, snapshot.EndpointSnapshot, nil)
	if err != nil {
		return nil, c.stalled(ctx, rctx, wait, err)
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, maxSnapshotBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, newError(nil, err, "%s: %v", c.where, err)
		}
		return nil, c.stalled(ctx, rctx, wait, c.lost(rctx, err))
	}
	s, err := decodeSnapshot(data)
	if err != nil {
		return nil, newError(nil, err, "%s: %v", c.where, err)
	}
	return s, nil
}

// Stream calls fn with a snapshot at once, then one per interval (which
// the agent brings within snapshot.MinStreamInterval and
// snapshot.MaxStreamInterval), until ctx is done (Stream then returns nil),
// fn returns an error (Stream returns it), or the agent goes away or
// stops sending (an error wrapping ErrDisconnected). fn is called on
// Stream's goroutine, one snapshot at a time, and may keep the snapshot.
//
// Stream asks for connection changes only (snapshot.StreamConnsChanges)
// and makes each snapshot whole again before fn sees it
// (snapshot.ApplyConnChanges); an agent that predates them sends whole
// snapshots.
func (c *Client) Stream(ctx context.Context, interval time.Duration, fn func(*snapshot.Snapshot) error) error {
	interval = min(max(interval, snapshot.MinStreamInterval), snapshot.MaxStreamInterval)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The watchdog ends the request when the agent stays silent well past
	// the interval: a program stopped in a debugger, a dead network path.
	stall := interval + stallGrace
	var stalled atomic.Bool
	watchdog := time.AfterFunc(stall, func() { stalled.Store(true); cancel() })
	defer watchdog.Stop()

	resp, err := c.call(sctx, snapshot.EndpointStream, url.Values{
		"interval":                {interval.String()},
		snapshot.StreamConnsParam: {snapshot.StreamConnsChanges},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var prev *snapshot.Snapshot // the last whole snapshot
	for {
		line, err := readLine(br, maxSnapshotBytes)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, errTooLarge) {
				return newError(nil, err, "%s: %v", c.where, err)
			}
			if watchdog.Stop(); stalled.Load() {
				return newError(ErrDisconnected, err, "%s sent nothing for %v: the program may be stopped; run 'httptop ps'", c.where, stall)
			}
			return newError(ErrDisconnected, err, "%s went away mid-stream (%v): the program may have exited; run 'httptop ps'", c.where, rootCause(err))
		}
		watchdog.Reset(stall)
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s, err := decodeSnapshot(line)
		if err == nil {
			err = snapshot.ApplyConnChanges(prev, s)
		}
		if err != nil {
			return newError(nil, err, "%s: %v", c.where, err)
		}
		prev = s
		if err := fn(s); err != nil {
			return err
		}
	}
}

// Profile takes a profile of the program and returns it as the agent sent
// it: gzipped pprof (.pb.gz, readable with go tool pprof or
// profile.ParseData). d is the duration of a cpu or wall profile (0 means
// the agent's default, snapshot.DefaultProfileDuration; at most
// snapshot.MaxProfileDuration) and is ignored for heap and goroutine. When
// the agent is already taking a profile of that kind (it answers at once,
// never queues), the error has the code snapshot.ErrCodeBusy; when the
// program runs a CPU profile of its own, snapshot.ErrCodeProfilerInUse
// (see snapshot.HasCode).
//
// When ctx ends while a cpu or wall profile runs, Profile asks the agent to
// end it early (agents that can, see snapshot.AgentLimits.ProfileEnd) and
// returns what it gathered together with ctx's error, so that a capture
// stopped with Ctrl-C keeps what was profiled until then.
func (c *Client) Profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	return c.profile(ctx, kind, d, false)
}

// endWait bounds what ending a profile early may take: the request that
// ends it, then the profile's own answer.
const endWait = 5 * time.Second

// endable returns the context to take a profile under, named id, when ctx
// may end before it: one that outlives ctx, so that when ctx ends the
// agent is asked to end the profile (endProfile) and answers its request
// with what it gathered, and that is cancelled, dropping the profile, only
// when the agent cannot end it or takes longer than endWait. stop releases
// it.
func (c *Client) endable(ctx context.Context, kind snapshot.ProfileKind, id string) (pctx context.Context, stop func()) {
	pctx, abort := context.WithCancel(context.WithoutCancel(ctx))
	unhook := context.AfterFunc(ctx, func() {
		ectx, cancel := context.WithTimeout(pctx, endWait)
		defer cancel()
		if err := c.endProfile(ectx, kind, id); err != nil {
			abort()
			return
		}
		time.AfterFunc(endWait, abort)
	})
	return pctx, func() { unhook(); abort() }
}

// endProfile asks the agent to end the profile of kind named id early.
func (c *Client) endProfile(ctx context.Context, kind snapshot.ProfileKind, id string) error {
	resp, err := c.get(ctx, snapshot.EndpointProfile, url.Values{"kind": {string(kind)}, snapshot.ProfileEndParam: {id}})
	if err != nil {
		return c.lost(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := replyError(c.where, resp.StatusCode, resp.Header, resp.Body); err != nil {
		return err
	}
	return newError(nil, nil, "%s answered HTTP %d to ending a profile, want 204", c.where, resp.StatusCode)
}

// newProfileID returns a random id for a profile (ProfileIDParam).
func newProfileID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RollingWallHz is the rate of the wall-clock profiles RollingProfile
// takes (fgprof, and captures, sample at 99 Hz).
const RollingWallHz = 19

// RollingDuration is the length of the rolling profiles the dashboard's
// hot functions pane takes, back to back, while it is on screen. Each CPU
// profile has a fixed price: runtime/pprof allocates a 1 MB buffer and a
// compressor for it, about 2.5 MB in all, whose collection costs a
// program of 230 MB of heap and 30,000 goroutines a quarter of a second
// of CPU; 4 s profiles make half the garbage 2 s ones made, and keep the
// agent within its 1% of a core (BenchmarkAgentCost).
const RollingDuration = 4 * time.Second

// RollingProfile is Profile for a profile that gives way: when another
// client asks for a profile with Profile (a capture) while this one runs,
// the agent ends this one early and returns what it gathered. The
// dashboard's hot functions pane takes these, so that a capture never
// finds the agent busy because someone is watching. A wall-clock one is
// sampled at RollingWallHz, a fifth of a capture's rate, since it runs as
// long as someone watches.
func (c *Client) RollingProfile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration) ([]byte, error) {
	return c.profile(ctx, kind, d, true)
}

func (c *Client) profile(ctx context.Context, kind snapshot.ProfileKind, d time.Duration, yield bool) ([]byte, error) {
	k, err := snapshot.ParseProfileKind(string(kind))
	if err != nil {
		return nil, newError(nil, err, "profile kind %q: want cpu, wall, heap, goroutine, mutex or block", oneLine(string(kind), 40))
	}
	q := url.Values{"kind": {string(k)}}
	timeout := replyTimeout
	if k.Continuous() {
		if d < 0 || d > snapshot.MaxProfileDuration {
			return nil, newError(nil, nil, "profile duration %v: want at most %v", d, snapshot.MaxProfileDuration)
		}
		if d == 0 {
			d = snapshot.DefaultProfileDuration
		}
		q.Set("seconds", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
		if yield {
			q.Set("yield", "1")
			if k == snapshot.ProfileWall {
				// A fifth of fgprof's rate: walking every goroutine's
				// stack 99 times a second is what a wall-clock profile
				// costs, and a rolling one runs as long as someone
				// watches.
				q.Set("hz", strconv.Itoa(RollingWallHz))
			}
		}
		timeout = d + stallGrace
	}
	outer := ctx
	if k.Continuous() && !yield && c.info.Limits.ProfileEnd {
		id := newProfileID()
		q.Set(snapshot.ProfileIDParam, id)
		var stop func()
		ctx, stop = c.endable(ctx, k, id)
		defer stop()
	}
	wait := waitFor(outer, timeout)
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.call(rctx, snapshot.EndpointProfile, q)
	if err != nil {
		if outer.Err() != nil {
			return nil, outer.Err()
		}
		return nil, c.stalled(ctx, rctx, wait, err)
	}
	defer resp.Body.Close()
	data, err := readLimited(resp.Body, maxProfileBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, newError(nil, err, "%s: profile: %v", c.where, err)
		}
		if outer.Err() != nil {
			return nil, outer.Err()
		}
		return nil, c.stalled(ctx, rctx, wait, c.lost(rctx, err))
	}
	if err := checkProfile(data); err != nil {
		return nil, newError(nil, err, "%s: %v", c.where, err)
	}
	// Ended early because outer ended: what was gathered, and why.
	return data, outer.Err()
}

// checkProfile checks that data looks like a pprof profile as Go writes
// them: gzip.
func checkProfile(data []byte) error {
	if len(data) < 2 || data[0] != 0x1f || data[1] != 0x8b {
		return errors.New("the profile is not gzipped pprof")
	}
	return nil
}

// Close releases the client's idle connections. It does not stop the
// agent.
func (c *Client) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}
