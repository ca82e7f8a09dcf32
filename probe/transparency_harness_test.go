package probe_test

// Transparency tests: probe.Wrap must not change what a client does. Every
// case runs twice, once with the bare *http.Transport (or RoundTripper) and
// once with the same thing built the same way and wrapped, each against its
// own fresh servers, and the two runs' observations are compared line by
// line. The wrapped run also checks that the collector settles (nothing in
// flight, nothing waiting, the connections it counts are the ones the
// servers see), and both runs check that no client goroutine is left
// behind.
//
// This file holds the harness that runs and compares the two runs;
// transparency_helpers_test.go what the cases share to observe and to
// build requests and servers; the other transparency_*_test.go files the
// cases, one topic a file.

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/httptop/httptop/probe"
)

// tpMode is one of the two ways every case runs.
type tpMode struct {
	name string
	wrap bool
}

var tpModes = [...]tpMode{{"bare", false}, {"wrapped", true}}

// tpWaitFor is how long a bounded polling loop waits for a condition.
const tpWaitFor = 5 * time.Second

// tpCase is one scenario; run drives it and records what the program
// observes with tpEnv.note.
type tpCase struct {
	name string
	run  func(e *tpEnv)
}

// tpEnv is one run of a case: bare or wrapped.
type tpEnv struct {
	t    *testing.T
	mode tpMode
	col  *probe.Collector

	mu    sync.Mutex
	notes []string

	// counters are the servers whose open connections the probe's
	// snapshot must match once the run settles (when instrumented).
	counters []tpConnCounter
	// instrumented is set when an *http.Transport was wrapped: the probe
	// then sees every connection dial and close.
	instrumented bool
}

// tpConnCounter is a server that knows how many connections it has open.
type tpConnCounter interface {
	openConns() int64
}

func newTPEnv(t *testing.T, m tpMode) *tpEnv {
	e := &tpEnv{t: t, mode: m}
	if m.wrap {
		e.col = probe.NewCollector(probe.CollectorOptions{})
	}
	return e
}

// note records one observation. Both runs of a case must record the same
// notes in the same order.
func (e *tpEnv) note(format string, args ...any) {
	e.mu.Lock()
	e.notes = append(e.notes, fmt.Sprintf(format, args...))
	e.mu.Unlock()
}

// want fails the run when a premise of the case does not hold (in either
// run: a case whose premise fails in the bare run tests nothing).
func (e *tpEnv) want(ok bool, format string, args ...any) {
	e.t.Helper()
	if !ok {
		e.t.Errorf("%s run: "+format, append([]any{e.mode.name}, args...)...)
	}
}

// wrap returns rt itself in the bare run and probe.Wrap(rt) in the
// wrapped one.
func (e *tpEnv) wrap(rt http.RoundTripper) http.RoundTripper {
	if !e.mode.wrap {
		return rt
	}
	return probe.Wrap(rt, probe.WithCollector(e.col), probe.WithName("transparency"))
}

// client returns a client on tr (wrapped in the wrapped run) whose idle
// connections are closed when the run ends.
func (e *tpEnv) client(tr *http.Transport) *http.Client {
	if e.mode.wrap {
		e.instrumented = true
	}
	rt := e.wrap(tr)
	e.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: rt}
}

// tpSrvKind says how a test server speaks.
type tpSrvKind int

const (
	kindHTTP1    tpSrvKind = iota // HTTP/1.1 over TCP
	kindTLSHTTP1                  // HTTP/1.1 over TLS
	kindH2                        // HTTP/2 (ALPN h2) over TLS
)

// tpProtoName names, for a case's name, the protocol a server of kind
// speaks: "h2" or "HTTP/1.1".
func tpProtoName(kind tpSrvKind) string {
	if kind == kindH2 {
		return "h2"
	}
	return "HTTP/1.1"
}

// tpServer is an httptest server that counts its connections.
type tpServer struct {
	*httptest.Server
	accepted atomic.Int64
	open     atomic.Int64
}

func (s *tpServer) openConns() int64 { return s.open.Load() }

// server starts a server on 127.0.0.1, closed when the run ends. configure,
// when given, runs before the server starts.
func (e *tpEnv) server(kind tpSrvKind, h http.Handler, configure ...func(*httptest.Server)) *tpServer {
	s := &tpServer{}
	hs := httptest.NewUnstartedServer(h)
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			s.accepted.Add(1)
			s.open.Add(1)
		case http.StateClosed, http.StateHijacked:
			s.open.Add(-1)
		}
	}
	for _, f := range configure {
		f(hs)
	}
	switch kind {
	case kindHTTP1:
		hs.Start()
	case kindTLSHTTP1:
		hs.StartTLS()
	case kindH2:
		hs.EnableHTTP2 = true
		hs.StartTLS()
	}
	s.Server = hs
	e.t.Cleanup(hs.Close)
	e.counters = append(e.counters, s)
	return s
}

// transport returns a new transport configured like the server's own
// client's (trusting its certificate, HTTP/2 when the server speaks it).
func (s *tpServer) transport() *http.Transport {
	return s.Client().Transport.(*http.Transport).Clone()
}

// tpRawServer is a server on a raw listener, for what an httptest server
// cannot be: it serves each connection on a goroutine of its own and counts
// its connections.
type tpRawServer struct {
	ln       net.Listener
	accepted atomic.Int64
	open     atomic.Int64
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func (s *tpRawServer) openConns() int64 { return s.open.Load() }

// rawServer starts a tpRawServer on 127.0.0.1 that calls serve with each
// connection it accepts and closes the connection when serve returns. When
// the run ends it closes the listener and every connection, and waits for
// its goroutines.
func (e *tpEnv) rawServer(serve func(net.Conn)) *tpRawServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	s := &tpRawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			s.open.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer s.open.Add(-1)
				defer c.Close()
				serve(c)
			}()
		}
	}()
	e.t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	e.counters = append(e.counters, s)
	return s
}

// tpWaitOpen polls until the server has n connections open and returns how
// many it has when it stops waiting.
func tpWaitOpen(c tpConnCounter, n int64) int64 {
	deadline := time.Now().Add(tpWaitFor)
	for {
		got := c.openConns()
		if got == n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(time.Millisecond)
	}
}

// tpRunCases runs every case bare and wrapped and compares what they saw.
func tpRunCases(t *testing.T, cases []tpCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var notes [len(tpModes)][]string
			for i, m := range tpModes {
				before := tpClientGoroutines()
				t.Run(m.name, func(t *testing.T) {
					e := newTPEnv(t, m)
					tc.run(e)
					if e.col != nil {
						tpSettle(t, e)
					}
					e.mu.Lock()
					notes[i] = e.notes
					e.mu.Unlock()
				})
				// The run's cleanups (transports, then servers) have
				// run: nothing of the client may be left.
				tpNoLeakedGoroutines(t, m.name, before)
			}
			if os.Getenv("TRANSPARENCY_NOTES") != "" {
				t.Logf("bare run observed:\n  %s", strings.Join(notes[0], "\n  "))
			}
			tpCompareNotes(t, notes[0], notes[1])
		})
	}
}

// tpCompareNotes reports every observation that differs between the bare
// and the wrapped run.
func tpCompareNotes(t *testing.T, bare, wrapped []string) {
	t.Helper()
	if len(bare) == 0 {
		t.Errorf("the case recorded no observation")
	}
	n := max(len(bare), len(wrapped))
	var diffs []string
	for i := range n {
		var b, w string
		if i < len(bare) {
			b = bare[i]
		}
		if i < len(wrapped) {
			w = wrapped[i]
		}
		if b != w {
			diffs = append(diffs, fmt.Sprintf("  #%d\n    bare:    %s\n    wrapped: %s", i, b, w))
		}
	}
	if len(diffs) > 0 {
		t.Errorf("wrapped client behaves differently from the bare one:\n%s", strings.Join(diffs, "\n"))
	}
}

// tpSettle polls the collector until nothing is in flight, waiting, dialing
// or active, and (for an instrumented transport) until the connections it
// counts open are the ones the servers have open.
func tpSettle(t *testing.T, e *tpEnv) {
	t.Helper()
	deadline := time.Now().Add(tpWaitFor)
	for {
		s := e.col.Snapshot()
		if s.ProbeErrors != 0 {
			t.Errorf("the probe recovered from %d panics of its own; last: %s", s.ProbeErrors, s.LastProbeError)
			return
		}
		why := tpUnsettled(s, e)
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("collector did not settle within %v: %s\nhosts: %+v", tpWaitFor, why, tpHostSummary(s))
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func tpUnsettled(s probe.Snapshot, e *tpEnv) string {
	open := 0
	for _, h := range s.Hosts {
		switch {
		case h.InFlight != 0:
			return fmt.Sprintf("host %s: in_flight = %d, want 0", h.Host, h.InFlight)
		case h.Waiting != 0:
			return fmt.Sprintf("host %s: waiting = %d, want 0", h.Host, h.Waiting)
		case h.Dialing != 0:
			return fmt.Sprintf("host %s: dialing = %d, want 0", h.Host, h.Dialing)
		case h.Active != 0:
			return fmt.Sprintf("host %s: active = %d, want 0", h.Host, h.Active)
		case h.Open != h.Active+h.Idle:
			return fmt.Sprintf("host %s: open %d != active %d + idle %d", h.Host, h.Open, h.Active, h.Idle)
		}
		open += h.Open
	}
	if e.instrumented && len(e.counters) > 0 {
		var srv int64
		for _, c := range e.counters {
			srv += c.openConns()
		}
		if int64(open) != srv {
			return fmt.Sprintf("snapshot counts %d open connections, the servers have %d", open, srv)
		}
	}
	return ""
}

func tpHostSummary(s probe.Snapshot) string {
	var b strings.Builder
	for _, h := range s.Hosts {
		fmt.Fprintf(&b, "\n  %s %s://%s open=%d active=%d idle=%d waiting=%d dialing=%d in_flight=%d requests=%d errors=%d new=%d reused=%d",
			h.Client, h.Scheme, h.Host, h.Open, h.Active, h.Idle, h.Waiting, h.Dialing, h.InFlight, h.Requests, h.Errors, h.NewConns, h.ReusedConns)
	}
	for _, c := range s.Conns {
		fmt.Fprintf(&b, "\n  conn %d %s %s state=%s requests=%d streams=%d", c.ID, c.Host, c.Proto, c.State, c.Requests, c.Streams)
	}
	return b.String()
}

// tpClientGoroutines returns the stacks, by goroutine id, of the goroutines
// that belong to HTTP clients or to the probe.
func tpClientGoroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := make(map[string]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		id, _, ok := strings.Cut(strings.TrimPrefix(g, "goroutine "), " ")
		if !ok || !tpClientStack(g) {
			continue
		}
		out[id] = g
	}
	return out
}

var tpClientFrames = []string{
	"net/http.(*persistConn).",
	"net/http.(*http2ClientConn).",
	"net/http.(*Transport).",
	"net/http.(*Client).",
	"net/http.setRequestCancel",
	"github.com/httptop/httptop/probe.",
	"github.com/httptop/httptop/tracer.",
	"github.com/httptop/httptop/poolstats.",
}

func tpClientStack(stack string) bool {
	for _, f := range tpClientFrames {
		if strings.Contains(stack, f) {
			return true
		}
	}
	return false
}

// tpNoLeakedGoroutines polls until every client goroutine started since
// before has ended.
func tpNoLeakedGoroutines(t *testing.T, run string, before map[string]string) {
	t.Helper()
	deadline := time.Now().Add(tpWaitFor)
	for {
		var leaked []string
		for id, g := range tpClientGoroutines() {
			if _, ok := before[id]; !ok {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s run left %d client goroutines behind:\n%s", run, len(leaked), strings.Join(leaked, "\n\n"))
			return
		}
		time.Sleep(time.Millisecond)
	}
}
