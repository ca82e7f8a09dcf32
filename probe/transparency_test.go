package probe_test

// Transparency tests: probe.Wrap must not change what a client does. Every
// case runs twice, once with the bare *http.Transport (or RoundTripper) and
// once with the same thing built the same way and wrapped, each against its
// own fresh servers, and the two runs' observations are compared line by
// line. The wrapped run also checks that the collector settles (nothing in
// flight, nothing waiting, the connections it counts are the ones the
// servers see), and both runs check that no client goroutine is left
// behind.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/httptop/httptop/probe"
)

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Describing what the program sees
// ---------------------------------------------------------------------------

var (
	tpAddrRE   = regexp.MustCompile(`(127\.0\.0\.1|\[::1\]|localhost):\d+`)
	tpRtTypeRE = regexp.MustCompile(`RoundTripper implementation \([^)]*\)`)
)

// tpNormMsg removes what legitimately differs between two runs of a case
// from an error message: the servers' ports, and the type of the client's
// outermost RoundTripper that net/http names in some messages.
func tpNormMsg(s string) string {
	s = tpAddrRE.ReplaceAllString(s, "ADDR")
	return tpRtTypeRE.ReplaceAllString(s, "RoundTripper implementation (RT)")
}

// errTPStop is the error a CheckRedirect returns to stop redirects.
var errTPStop = errors.New("test: stop redirecting")

var tpSentinels = []struct {
	name string
	err  error
}{
	{"context.Canceled", context.Canceled},
	{"context.DeadlineExceeded", context.DeadlineExceeded},
	{"os.ErrDeadlineExceeded", os.ErrDeadlineExceeded},
	{"io.EOF", io.EOF},
	{"io.ErrUnexpectedEOF", io.ErrUnexpectedEOF},
	{"ECONNRESET", syscall.ECONNRESET},
	{"ECONNREFUSED", syscall.ECONNREFUSED},
	{"EPIPE", syscall.EPIPE},
	{"net.ErrClosed", net.ErrClosed},
	{"http.ErrBodyReadAfterClose", http.ErrBodyReadAfterClose},
	{"http.ErrUseLastResponse", http.ErrUseLastResponse},
	{"errTPStop", errTPStop},
	{"errTPDial", errTPDial},
}

// tpDescribeErr says what a program can find out about err: its message,
// which tpSentinels errors.Is finds, which types errors.As finds, Timeout().
func tpDescribeErr(err error) string {
	if err == nil {
		return "err=<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "err=%q", tpNormMsg(err.Error()))
	for _, s := range tpSentinels {
		if errors.Is(err, s.err) {
			b.WriteString(" is:" + s.name)
		}
	}
	var (
		ue   *url.Error
		ne   net.Error
		oe   *net.OpError
		se   *os.SyscallError
		cve  *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		rhe  tls.RecordHeaderError
		dnse *net.DNSError
		tde  *tpTestDialError
	)
	if errors.As(err, &ue) {
		fmt.Fprintf(&b, " as:*url.Error{Op:%s Timeout:%v}", ue.Op, ue.Timeout())
	}
	if errors.As(err, &ne) {
		fmt.Fprintf(&b, " as:net.Error{Timeout:%v}", ne.Timeout())
	}
	if errors.As(err, &oe) {
		fmt.Fprintf(&b, " as:*net.OpError{Op:%s Net:%s}", oe.Op, oe.Net)
	}
	if errors.As(err, &se) {
		fmt.Fprintf(&b, " as:*os.SyscallError{%s}", se.Syscall)
	}
	if errors.As(err, &cve) {
		b.WriteString(" as:*tls.CertificateVerificationError")
	}
	if errors.As(err, &uae) {
		b.WriteString(" as:x509.UnknownAuthorityError")
	}
	if errors.As(err, &rhe) {
		b.WriteString(" as:tls.RecordHeaderError")
	}
	if errors.As(err, &dnse) {
		b.WriteString(" as:*net.DNSError")
	}
	if errors.As(err, &tde) {
		fmt.Fprintf(&b, " as:*tpTestDialError{%s}", tde.addr)
	}
	b.WriteString(" chain:")
	b.WriteString(tpTypeChain(err))
	return b.String()
}

// tpTypeChain lists the types along err's Unwrap chain.
func tpTypeChain(err error) string {
	var types []string
	for err != nil {
		types = append(types, fmt.Sprintf("%T", err))
		if m, ok := err.(interface{ Unwrap() []error }); ok {
			var inner []string
			for _, e := range m.Unwrap() {
				inner = append(inner, tpTypeChain(e))
			}
			types = append(types, "["+strings.Join(inner, " | ")+"]")
			break
		}
		err = errors.Unwrap(err)
	}
	return strings.Join(types, ">")
}

// noteResp records what the program sees of a response (or error) to req,
// reads the body to its end with io.ReadAll, closes it, and returns it.
func (e *tpEnv) noteResp(label string, req *http.Request, resp *http.Response, err error) []byte {
	e.note("%s: %s", label, tpDescribeErr(err))
	if resp == nil {
		e.note("%s: resp=<nil>", label)
		return nil
	}
	e.noteHead(label, req, resp)
	body, rerr := io.ReadAll(resp.Body)
	e.noteBody(label, body, rerr)
	e.note("%s: close: %s", label, tpDescribeErr(resp.Body.Close()))
	return body
}

// noteHead records a response's status line, headers the tests control and
// where it came from.
func (e *tpEnv) noteHead(label string, req *http.Request, resp *http.Response) {
	alpn := "-"
	if resp.TLS != nil {
		alpn = resp.TLS.NegotiatedProtocol
	}
	final := "<nil>"
	if resp.Request != nil && resp.Request.URL != nil {
		final = resp.Request.Method + " " + resp.Request.URL.RequestURI()
	}
	e.note("%s: status=%q proto=%s major=%d tls=%v alpn=%q req==sent:%v final=%q cl=%d te=%v uncompressed=%v close=%v nobody=%v",
		label, resp.Status, resp.Proto, resp.ProtoMajor, resp.TLS != nil, alpn, resp.Request == req, final,
		resp.ContentLength, resp.TransferEncoding, resp.Uncompressed, resp.Close, resp.Body == http.NoBody)
	var keys []string
	for k := range resp.Header {
		if strings.HasPrefix(k, "X-Test") || k == "Location" || k == "Content-Type" || k == "Content-Encoding" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		e.note("%s: header %s=%q", label, k, resp.Header.Values(k))
	}
	if len(resp.Trailer) > 0 {
		e.note("%s: trailer=%v", label, resp.Trailer)
	}
}

func (e *tpEnv) noteBody(label string, body []byte, err error) {
	if len(body) <= 128 {
		e.note("%s: body=%q read: %s", label, body, tpDescribeErr(err))
		return
	}
	e.note("%s: body len=%d sha256=%x read: %s", label, len(body), sha256.Sum256(body), tpDescribeErr(err))
}

// tpHookRec records every httptrace hook a program's own trace sees.
type tpHookRec struct {
	mu     sync.Mutex
	events []string
	reused []bool
}

func (r *tpHookRec) add(format string, args ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

// trace returns a ClientTrace with every hook set.
func (r *tpHookRec) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) { r.add("GetConn") },
		GotConn: func(i httptrace.GotConnInfo) {
			r.add("GotConn reused=%v wasIdle=%v", i.Reused, i.WasIdle)
			r.mu.Lock()
			r.reused = append(r.reused, i.Reused)
			r.mu.Unlock()
		},
		PutIdleConn:          func(err error) { r.add("PutIdleConn err=%v", err != nil) },
		GotFirstResponseByte: func() { r.add("GotFirstResponseByte") },
		Got100Continue:       func() { r.add("Got100Continue") },
		Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			r.add("Got1xxResponse %d", code)
			return nil
		},
		DNSStart:          func(i httptrace.DNSStartInfo) { r.add("DNSStart %s", i.Host) },
		DNSDone:           func(i httptrace.DNSDoneInfo) { r.add("DNSDone addrs=%d err=%v", len(i.Addrs), i.Err != nil) },
		ConnectStart:      func(network, _ string) { r.add("ConnectStart %s", network) },
		ConnectDone:       func(network, _ string, err error) { r.add("ConnectDone %s err=%v", network, err != nil) },
		TLSHandshakeStart: func() { r.add("TLSHandshakeStart") },
		TLSHandshakeDone: func(cs tls.ConnectionState, err error) {
			r.add("TLSHandshakeDone alpn=%q err=%v", cs.NegotiatedProtocol, err != nil)
		},
		WroteHeaderField: func(key string, _ []string) { r.add("WroteHeaderField %s", key) },
		WroteHeaders:     func() { r.add("WroteHeaders") },
		Wait100Continue:  func() { r.add("Wait100Continue") },
		WroteRequest:     func(i httptrace.WroteRequestInfo) { r.add("WroteRequest err=%v", i.Err != nil) },
	}
}

// count returns how many recorded events start with prefix.
func (r *tpHookRec) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if strings.HasPrefix(ev, prefix) {
			n++
		}
	}
	return n
}

// sorted returns the multiset of recorded events, sorted.
func (r *tpHookRec) sorted() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.events)
	slices.Sort(out)
	return out
}

func (r *tpHookRec) reuses() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reused)
}

// waitHooks polls until the hooks that fire on the transport's own
// goroutines (WroteRequest, which can come after the response) have caught
// up with the attempts: one WroteRequest per GotConn.
func (r *tpHookRec) waitHooks() {
	deadline := time.Now().Add(tpWaitFor)
	for r.count("WroteRequest") < r.count("GotConn") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// tpTraced returns req carrying rec's trace.
func tpTraced(req *http.Request, rec *tpHookRec) *http.Request {
	return req.WithContext(httptrace.WithClientTrace(req.Context(), rec.trace()))
}

func tpNewReq(t *testing.T, ctx context.Context, method, u string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		t.Fatalf("NewRequest(%s %s): %v", method, u, err)
	}
	return req
}

// tpOnlyReader hides everything but Read, so that http.NewRequest cannot set
// GetBody or ContentLength.
type tpOnlyReader struct{ r io.Reader }

func (o tpOnlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// tpPayload returns n deterministic, incompressible-looking bytes.
func tpPayload(n int) []byte {
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// tpEcho writes back the request's method, path and body.
func tpEcho(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("X-Test-Method", r.Method)
	fmt.Fprintf(w, "%s %s body=%q", r.Method, r.URL.Path, body)
}

// tpHijackClose takes the connection from the server and closes it, with an
// RST when rst is set (SO_LINGER 0), else with a FIN.
func tpHijackClose(w http.ResponseWriter, rst bool) {
	rc := http.NewResponseController(w)
	conn, _, err := rc.Hijack()
	if err != nil {
		panic(fmt.Sprintf("hijack: %v", err))
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		tc.SetLinger(0)
	}
	conn.Close()
}

// tpSignal returns a channel and a function closing it once.
func tpSignal() (chan struct{}, func()) {
	ch := make(chan struct{})
	var once sync.Once
	return ch, func() { once.Do(func() { close(ch) }) }
}

// tpAwait waits for ch, failing the test after tpWaitFor.
func tpAwait(t *testing.T, ch <-chan struct{}, what string) bool {
	t.Helper()
	select {
	case <-ch:
		return true
	case <-time.After(tpWaitFor):
		t.Errorf("timed out waiting for %s", what)
		return false
	}
}

// tpServerLog is what a server's handlers saw, in order.
type tpServerLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *tpServerLog) add(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *tpServerLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "; ")
}

// tpTestDialError is a custom dial error that errors.As must still find.
type tpTestDialError struct{ addr string }

func (e *tpTestDialError) Error() string { return "test dial refused " + e.addr }
func (e *tpTestDialError) Unwrap() error { return errTPDial }

var errTPDial = errors.New("test: dial error")

// tpRTFunc is a RoundTripper made of a function.
type tpRTFunc func(*http.Request) (*http.Response, error)

func (f tpRTFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// tpDoRecover sends req and recovers a panic, which it returns.
//
//lint:ignore ST1008 the panic's value comes after the error it replaces
func tpDoRecover(c *http.Client, req *http.Request) (resp *http.Response, err error, panicked bool, val any) {
	defer func() {
		if r := recover(); r != nil {
			panicked, val = true, r
		}
	}()
	resp, err = c.Do(req)
	return resp, err, false, nil
}

// ---------------------------------------------------------------------------
// 1. Redirects
// ---------------------------------------------------------------------------

func TestTransparencyRedirects(t *testing.T) {
	type redirectCase struct {
		name   string
		method string
		path   string
		body   func() io.Reader
		check  func(req *http.Request, via []*http.Request) error
	}
	bytesBody := func() io.Reader { return bytes.NewReader([]byte("payload")) }
	stringBody := func() io.Reader { return strings.NewReader("payload") }
	plainBody := func() io.Reader { return tpOnlyReader{strings.NewReader("payload")} }
	table := []redirectCase{
		{name: "GET chain 301 302 307 308", method: "GET", path: "/301"},
		{name: "POST 301 becomes GET", method: "POST", path: "/post301", body: bytesBody},
		{name: "POST 302 becomes GET", method: "POST", path: "/post302", body: bytesBody},
		{name: "POST 303 becomes GET", method: "POST", path: "/post303", body: stringBody},
		{name: "POST 307 resends body via GetBody", method: "POST", path: "/post307", body: bytesBody},
		{name: "PUT 308 resends body via GetBody", method: "PUT", path: "/post308", body: stringBody},
		{name: "POST 307 without GetBody is not followed", method: "POST", path: "/post307", body: plainBody},
		{name: "CheckRedirect error stops", method: "GET", path: "/301", check: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 2 {
				return errTPStop
			}
			return nil
		}},
		{name: "CheckRedirect ErrUseLastResponse", method: "GET", path: "/301", check: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		{name: "redirect loop", method: "GET", path: "/loop"},
		{name: "3xx without Location", method: "GET", path: "/noloc"},
		{name: "relative and absolute Location with query", method: "GET", path: "/abs"},
	}
	var cases []tpCase
	for _, rc := range table {
		cases = append(cases, tpCase{name: rc.name, run: func(e *tpEnv) {
			var slog tpServerLog
			mux := http.NewServeMux()
			redirect := func(code int, to string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					slog.add("%s %s body=%q", r.Method, r.URL.RequestURI(), b)
					if to != "" {
						w.Header().Set("Location", to)
					}
					w.Header().Set("X-Test-Hop", r.URL.Path)
					w.WriteHeader(code)
					fmt.Fprintf(w, "redirect body of %s", r.URL.Path)
				}
			}
			mux.Handle("/301", redirect(301, "/302"))
			mux.Handle("/302", redirect(302, "/307"))
			mux.Handle("/307", redirect(307, "/308"))
			mux.Handle("/308", redirect(308, "/echo"))
			for _, code := range []int{301, 302, 303, 307, 308} {
				mux.Handle(fmt.Sprintf("/post%d", code), redirect(code, "/echo"))
			}
			mux.Handle("/loop", redirect(302, "/loop"))
			mux.Handle("/noloc", redirect(302, ""))
			mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
				slog.add("%s %s final", r.Method, r.URL.RequestURI())
				tpEcho(w, r)
			})
			var srv *tpServer
			mux.HandleFunc("/abs", func(w http.ResponseWriter, r *http.Request) {
				slog.add("%s %s", r.Method, r.URL.RequestURI())
				http.Redirect(w, r, srv.URL+"/rel?x=1", http.StatusFound)
			})
			mux.HandleFunc("/rel", func(w http.ResponseWriter, r *http.Request) {
				slog.add("%s %s", r.Method, r.URL.RequestURI())
				http.Redirect(w, r, "echo?y=2", http.StatusMovedPermanently)
			})
			srv = e.server(kindHTTP1, mux)
			c := e.client(srv.transport())
			c.CheckRedirect = rc.check
			var body io.Reader
			if rc.body != nil {
				body = rc.body()
			}
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), rc.method, srv.URL+rc.path, body), rec)
			resp, err := c.Do(req)
			e.noteResp("resp", req, resp, err)
			e.note("reused=%v", rec.reuses())
			e.note("server saw: %s", slog.String())
			e.note("accepted=%d", srv.accepted.Load())
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 2. Streaming and chunked bodies
// ---------------------------------------------------------------------------

func TestTransparencyStreaming(t *testing.T) {
	big := tpPayload(1 << 20)
	cases := []tpCase{
		{name: "chunks read in lockstep with the handler's flushes", run: func(e *tpEnv) {
			ack := make(chan struct{})
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				w.Header().Set("X-Test-Stream", "yes")
				for i := range 5 {
					fmt.Fprintf(w, "chunk-%d;", i)
					if err := rc.Flush(); err != nil {
						return
					}
					// The next chunk is written only once the client
					// has read this one: a client that buffered the
					// body would never get it.
					select {
					case <-ack:
					case <-r.Context().Done():
						return
					}
				}
				fmt.Fprint(w, "end")
			}))
			c := e.client(srv.transport())
			ctx, cancel := context.WithTimeout(context.Background(), tpWaitFor)
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/stream", nil)
			resp, err := c.Do(req)
			e.note("do: %s", tpDescribeErr(err))
			if err != nil {
				return
			}
			e.noteHead("resp", req, resp)
			for i := range 5 {
				buf := make([]byte, len("chunk-0;"))
				n, err := io.ReadFull(resp.Body, buf)
				e.note("chunk %d: %q %s", i, buf[:n], tpDescribeErr(err))
				if err != nil {
					break
				}
				select {
				case ack <- struct{}{}:
				case <-ctx.Done():
				}
			}
			rest, err := io.ReadAll(resp.Body)
			e.noteBody("rest", rest, err)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
		}},
		{name: "1 MiB body with Content-Length", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				w.Write(big)
			}))
			c := e.client(srv.transport())
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/big", nil), rec)
				resp, err := c.Do(req)
				body := e.noteResp(fmt.Sprintf("get %d", i), req, resp, err)
				e.want(bytes.Equal(body, big), "body differs from the 1 MiB the server sent")
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "1 MiB chunked body", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				for off := 0; off < len(big); off += 32 << 10 {
					w.Write(big[off : off+32<<10])
					rc.Flush()
				}
			}))
			c := e.client(srv.transport())
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/big", nil)
			resp, err := c.Do(req)
			body := e.noteResp("get", req, resp, err)
			e.want(bytes.Equal(body, big), "body differs from the 1 MiB the server sent")
		}},
		{name: "body read in tiny reads", run: func(e *tpEnv) {
			small := big[:16<<10]
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rc := http.NewResponseController(w)
				for off := 0; off < len(small); off += 1000 {
					w.Write(small[off:min(off+1000, len(small))])
					rc.Flush()
				}
			}))
			c := e.client(srv.transport())
			for _, size := range []int{1, 7} {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/small", nil), rec)
				resp, err := c.Do(req)
				e.note("do: %s", tpDescribeErr(err))
				if err != nil {
					continue
				}
				var got []byte
				buf := make([]byte, size)
				var rerr error
				reads := 0
				for {
					n, err := resp.Body.Read(buf)
					reads++
					got = append(got, buf[:n]...)
					if n > size {
						e.t.Errorf("Read returned %d bytes into a %d-byte buffer", n, size)
					}
					if err != nil {
						rerr = err
						break
					}
				}
				e.want(bytes.Equal(got, small), "body read %d bytes at a time differs", size)
				e.note("read %d at a time: %s eof=%v", size, tpDescribeErr(rerr), rerr == io.EOF)
				e.noteBody("got", got, nil)
				e.note("read after EOF: %s", tpDescribeErr(func() error { _, err := resp.Body.Read(buf); return err }()))
				e.note("close: %s", tpDescribeErr(resp.Body.Close()))
				e.note("close again: %s", tpDescribeErr(resp.Body.Close()))
				e.note("read after close: %s", tpDescribeErr(func() error { _, err := resp.Body.Read(buf); return err }()))
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "gzip transparently decompressed", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Test-Accept-Encoding", r.Header.Get("Accept-Encoding"))
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				zw.Write(big[:100<<10])
				zw.Close()
			}))
			c := e.client(srv.transport())
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/gz", nil), rec)
				resp, err := c.Do(req)
				body := e.noteResp(fmt.Sprintf("get %d", i), req, resp, err)
				e.want(bytes.Equal(body, big[:100<<10]), "decompressed body differs")
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "trailers", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Test-Trailer")
				w.Write([]byte("body"))
				http.NewResponseController(w).Flush()
				w.Header().Set("X-Test-Trailer", "done")
			}))
			c := e.client(srv.transport())
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/t", nil)
			resp, err := c.Do(req)
			e.noteResp("get", req, resp, err)
			if resp != nil {
				e.note("trailer after EOF=%v", resp.Trailer)
			}
		}},
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 3. Request bodies retried via GetBody
// ---------------------------------------------------------------------------

// tpConnSeqKey carries, in a server request's context, the count of requests
// served on its connection.
type tpConnSeqKey struct{}

func tpWithConnSeq(s *httptest.Server) {
	s.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, tpConnSeqKey{}, new(atomic.Int64))
	}
}

// dropSecondServer serves every request but the second on each connection,
// on which it reads the request and then closes the connection without an
// answer: what a server closing an idle keep-alive connection looks like to
// the client that just reused it.
func (e *tpEnv) dropSecondServer(kind tpSrvKind, slog *tpServerLog, rst bool) *tpServer {
	return e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.Context().Value(tpConnSeqKey{}).(*atomic.Int64).Add(1)
		body, _ := io.ReadAll(r.Body)
		slog.add("conn-req %d: %s %s body=%d bytes %x", n, r.Method, r.URL.Path, len(body), sha256.Sum256(body))
		if n == 2 {
			tpHijackClose(w, rst)
			return
		}
		w.Header().Set("X-Test-Conn-Req", fmt.Sprint(n))
		fmt.Fprintf(w, "%s body=%q", r.Method, body)
	}), tpWithConnSeq)
}

func TestTransparencyRetries(t *testing.T) {
	type retryCase struct {
		name    string
		method  string
		body    func() io.Reader
		idemKey bool
		rst     bool
		retried bool
	}
	table := []retryCase{
		{name: "GET without body is retried", method: "GET", retried: true},
		{name: "GET after RST is retried", method: "GET", rst: true, retried: true},
		{name: "POST bytes.Reader with Idempotency-Key is retried via GetBody", method: "POST", idemKey: true, retried: true,
			body: func() io.Reader { return bytes.NewReader(tpPayload(3000)) }},
		{name: "PUT strings.Reader with Idempotency-Key is retried via GetBody", method: "PUT", idemKey: true, retried: true,
			body: func() io.Reader { return strings.NewReader("a string body") }},
		{name: "POST custom io.Reader without GetBody is not retried", method: "POST", idemKey: true,
			body: func() io.Reader { return tpOnlyReader{strings.NewReader("one-shot body")} }},
		{name: "POST bytes.Reader without Idempotency-Key is not retried", method: "POST",
			body: func() io.Reader { return bytes.NewReader([]byte("not idempotent")) }},
	}
	var cases []tpCase
	for _, rc := range table {
		cases = append(cases, tpCase{name: rc.name, run: func(e *tpEnv) {
			var slog tpServerLog
			srv := e.dropSecondServer(kindHTTP1, &slog, rc.rst)
			c := e.client(srv.transport())
			// Warm the pool: one connection, idle.
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/warm", nil)
			resp, err := c.Do(req)
			e.noteResp("warm", req, resp, err)

			var body io.Reader
			if rc.body != nil {
				body = rc.body()
			}
			rec := &tpHookRec{}
			req = tpTraced(tpNewReq(e.t, context.Background(), rc.method, srv.URL+"/again", body), rec)
			if rc.idemKey {
				req.Header.Set("Idempotency-Key", "k1")
			}
			e.note("GetBody set=%v ContentLength=%d", req.GetBody != nil, req.ContentLength)
			resp, err = c.Do(req)
			e.noteResp("again", req, resp, err)
			rec.waitHooks()
			e.note("reused=%v GetConn=%d WroteRequest=%d", rec.reuses(), rec.count("GetConn"), rec.count("WroteRequest"))
			// The first attempt must have gone to the reused
			// connection, or the case tests nothing.
			e.want(len(rec.reuses()) > 0 && rec.reuses()[0], "the request did not reuse the warm connection: %v", rec.reuses())
			e.want((err == nil) == rc.retried, "retried = %v, want %v", err == nil, rc.retried)
			if rc.retried {
				e.note("server open=%d", tpWaitOpen(srv, 1))
			} else {
				e.note("server open=%d", tpWaitOpen(srv, 0))
			}
			e.note("server saw: %s", slog.String())
			e.note("accepted=%d", srv.accepted.Load())
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 4. Cancellation in every phase
// ---------------------------------------------------------------------------

// tpHangServer accepts TCP connections and never answers, so that a TLS
// handshake with it never ends: the slow part of a dial, on the server's
// side (Wrap replaces the transport's DialContext).
type tpHangServer struct {
	ln       net.Listener
	accepted chan struct{}
	open     atomic.Int64
	n        atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
	wg       sync.WaitGroup
}

func (h *tpHangServer) openConns() int64 { return h.open.Load() }

func (e *tpEnv) tpHangServer() *tpHangServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	h := &tpHangServer{ln: ln, accepted: make(chan struct{}, 64)}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.n.Add(1)
			h.open.Add(1)
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			h.accepted <- struct{}{}
			h.wg.Add(1)
			go func() {
				defer h.wg.Done()
				io.Copy(io.Discard, c) // until the client closes
				c.Close()
				h.open.Add(-1)
			}()
		}
	}()
	e.t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
		h.wg.Wait()
	})
	e.counters = append(e.counters, h)
	return h
}

// tpBlockingHandler serves /block by waiting until release or until the
// request is canceled, /partial by writing "partial" and then doing the
// same, and anything else at once.
func tpBlockingHandler(enter func(), release <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/block":
			enter()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		case "/partial":
			w.Header().Set("X-Test-Partial", "yes")
			w.Write([]byte("partial"))
			http.NewResponseController(w).Flush()
			enter()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		fmt.Fprint(w, "ok "+r.URL.Path)
	})
}

func TestTransparencyCancellation(t *testing.T) {
	cases := []tpCase{
		{name: "before the request starts", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, ctx, "POST", srv.URL+"/x", strings.NewReader("body")), rec)
			resp, err := c.Do(req)
			e.noteResp("canceled", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			e.note("hooks=%v", rec.sorted())
			e.note("accepted=%d", srv.accepted.Load())
		}},
		{name: "while waiting for a connection", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			tr := srv.transport()
			tr.MaxConnsPerHost = 1
			c := e.client(tr)
			// A holds the only connection.
			reqA := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
			doneA := make(chan string, 1)
			go func() {
				resp, err := c.Do(reqA)
				if err != nil {
					doneA <- tpDescribeErr(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				doneA <- fmt.Sprintf("status=%d body=%q %s", resp.StatusCode, b, tpDescribeErr(err))
			}()
			if !tpAwait(e.t, entered, "request A to reach the handler") {
				return
			}
			// B waits for it and is canceled while waiting.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			waiting, isWaiting := tpSignal()
			rec := &tpHookRec{}
			trace := rec.trace()
			getConn := trace.GetConn
			trace.GetConn = func(hp string) { getConn(hp); isWaiting() }
			reqB := tpNewReq(e.t, httptrace.WithClientTrace(ctx, trace), "GET", srv.URL+"/b", nil)
			go func() {
				<-waiting
				cancel()
			}()
			resp, err := c.Do(reqB)
			e.noteResp("B", reqB, resp, err)
			e.want(errors.Is(err, context.Canceled), "B: err = %v, want context.Canceled", err)
			e.note("B hooks=%v", rec.sorted())
			rel()
			e.note("A: %s", <-doneA)
			// C gets the connection A used.
			rec = &tpHookRec{}
			reqC := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/c", nil), rec)
			resp, err = c.Do(reqC)
			e.noteResp("C", reqC, resp, err)
			e.note("C reused=%v", rec.reuses())
			e.note("accepted=%d", srv.accepted.Load())
		}},
		{name: "during the dial (TLS handshake never answered)", run: func(e *tpEnv) {
			h := e.tpHangServer()
			tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
			c := e.client(tr)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			handshaking, isHandshaking := tpSignal()
			rec := &tpHookRec{}
			trace := rec.trace()
			start := trace.TLSHandshakeStart
			trace.TLSHandshakeStart = func() { start(); isHandshaking() }
			req := tpNewReq(e.t, httptrace.WithClientTrace(ctx, trace), "GET", "https://"+h.ln.Addr().String()+"/", nil)
			go func() {
				<-handshaking
				cancel()
			}()
			resp, err := c.Do(req)
			e.noteResp("dial", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			e.note("hooks when Do returned=%v", rec.sorted())
			// Since Go 1.22 the dial outlives the request; closing idle
			// connections cancels it.
			e.note("server open before CloseIdleConnections=%d", tpWaitOpen(h, 1))
			c.CloseIdleConnections()
			e.note("server open after CloseIdleConnections=%d", tpWaitOpen(h, 0))
			deadline := time.Now().Add(tpWaitFor)
			for rec.count("TLSHandshakeDone") == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			e.note("hooks at the end=%v", rec.sorted())
			e.note("accepted=%d", h.n.Load())
		}},
		{name: "while waiting for response headers", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, ctx, "GET", srv.URL+"/block", nil), rec)
			go func() {
				<-entered
				cancel()
			}()
			resp, err := c.Do(req)
			e.noteResp("headers", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			rec.waitHooks()
			e.note("hooks=%v", rec.sorted())
			e.note("server open=%d", tpWaitOpen(srv, 0))
			e.note("accepted=%d", srv.accepted.Load())
		}},
		{name: "while waiting for response headers, legacy Request.Cancel", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			cancelCh := make(chan struct{})
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
			req.Cancel = cancelCh //lint:ignore SA1019 the deprecated way must keep working
			go func() {
				<-entered
				close(cancelCh)
			}()
			resp, err := c.Do(req)
			e.noteResp("headers", req, resp, err)
			e.want(err != nil, "request not canceled")
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "during the body read", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/partial", nil)
			resp, err := c.Do(req)
			e.note("do: %s", tpDescribeErr(err))
			if err != nil {
				return
			}
			e.noteHead("resp", req, resp)
			buf := make([]byte, len("partial"))
			n, err := io.ReadFull(resp.Body, buf)
			e.note("first read: %q %s", buf[:n], tpDescribeErr(err))
			tpAwait(e.t, entered, "the handler to flush")
			cancel()
			rest, err := io.ReadAll(resp.Body)
			e.noteBody("after cancel", rest, err)
			e.want(errors.Is(err, context.Canceled), "body read err = %v, want context.Canceled", err)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "h2 while waiting for response headers, then the connection is reused", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindH2, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/block", nil)
			go func() {
				<-entered
				cancel()
			}()
			resp, err := c.Do(req)
			e.noteResp("headers", req, resp, err)
			e.want(errors.Is(err, context.Canceled), "err = %v, want context.Canceled", err)
			rec := &tpHookRec{}
			req = tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/next", nil), rec)
			resp, err = c.Do(req)
			e.noteResp("next", req, resp, err)
			e.note("next reused=%v", rec.reuses())
			e.note("server open=%d accepted=%d", tpWaitOpen(srv, 1), srv.accepted.Load())
		}},
		{name: "h2 during the body read, then the connection is reused", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindH2, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/partial", nil)
			resp, err := c.Do(req)
			e.note("do: %s", tpDescribeErr(err))
			if err != nil {
				return
			}
			e.noteHead("resp", req, resp)
			buf := make([]byte, len("partial"))
			n, err := io.ReadFull(resp.Body, buf)
			e.note("first read: %q %s", buf[:n], tpDescribeErr(err))
			tpAwait(e.t, entered, "the handler to flush")
			cancel()
			rest, err := io.ReadAll(resp.Body)
			e.noteBody("after cancel", rest, err)
			e.want(errors.Is(err, context.Canceled), "body read err = %v, want context.Canceled", err)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
			rec := &tpHookRec{}
			req = tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/next", nil), rec)
			resp, err = c.Do(req)
			e.noteResp("next", req, resp, err)
			e.note("next reused=%v", rec.reuses())
			e.note("server open=%d accepted=%d", tpWaitOpen(srv, 1), srv.accepted.Load())
		}},
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 5. Timeouts
// ---------------------------------------------------------------------------

// With Client.Timeout set, net/http's Client treats a RoundTripper it does
// not know (anything but *http.Transport and http2.Transport) the legacy
// way: besides the context deadline it closes Request.Cancel from a timer
// of its own, and decides whether the request timed out by that timer. The
// error a program sees then depends on which of the two fires first. The
// Client.Timeout cases repeat the timeout and compare the set of distinct
// errors, which is one error for the bare transport.
const (
	tpTimeoutRuns   = 10
	tpTimeoutRepeat = 20 * time.Millisecond
)

func TestTransparencyTimeouts(t *testing.T) {
	const short = 100 * time.Millisecond
	cases := []tpCase{
		{name: "Client.Timeout while waiting for headers", run: func(e *tpEnv) {
			_, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			c.Timeout = tpTimeoutRepeat
			// The error is decided by a race in the wrapped case (see
			// TestTransparencyTimeouts's doc): repeat, and record every
			// distinct error seen.
			seen := map[string]bool{}
			for range tpTimeoutRuns {
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
				resp, err := c.Do(req)
				if resp != nil {
					resp.Body.Close()
				}
				var ue *url.Error
				e.want(errors.Is(err, context.DeadlineExceeded) && errors.As(err, &ue) && ue.Timeout(),
					"err = %v, want a url.Error that times out and is context.DeadlineExceeded", err)
				seen[tpDescribeErr(err)] = true
			}
			e.note("distinct errors: %q", slices.Sorted(maps.Keys(seen)))
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "Client.Timeout during the body read", run: func(e *tpEnv) {
			entered := make(chan struct{}, tpTimeoutRuns)
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(func() { entered <- struct{}{} }, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			c.Timeout = tpTimeoutRepeat
			seen := map[string]bool{}
			for range tpTimeoutRuns {
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/partial", nil)
				resp, err := c.Do(req)
				if err != nil {
					seen["do: "+tpDescribeErr(err)] = true
					continue
				}
				<-entered
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				var ne net.Error
				e.want(errors.Is(err, context.DeadlineExceeded) && errors.As(err, &ne) && ne.Timeout(),
					"body read err = %v, want a net.Error that times out and is context.DeadlineExceeded", err)
				seen[fmt.Sprintf("body=%q %s", body, tpDescribeErr(err))] = true
			}
			e.note("distinct outcomes: %q", slices.Sorted(maps.Keys(seen)))
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "Client.Timeout: timer goroutines per request", run: func(e *tpEnv) {
			entered, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			c.Timeout = tpWaitFor
			done := make(chan error, 1)
			go func() {
				resp, err := c.Get(srv.URL + "/block")
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				done <- err
			}()
			tpAwait(e.t, entered, "the request to reach the handler")
			// net/http starts a timer goroutine per request for a
			// RoundTripper it does not know (setRequestCancel), and
			// then cancels through Request.Cancel instead of the
			// context alone.
			n := 0
			for _, g := range tpClientGoroutines() {
				if strings.Contains(g, "net/http.setRequestCancel") {
					n++
				}
			}
			e.note("setRequestCancel goroutines while the request waits: %d", n)
			rel()
			e.note("do: %s", tpDescribeErr(<-done))
		}},
		{name: "Client.Timeout not reached", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			c.Timeout = tpWaitFor
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/echo", strings.NewReader("hi")), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("post ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
		}},
		{name: "context deadline while waiting for headers", run: func(e *tpEnv) {
			_, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			c := e.client(srv.transport())
			ctx, cancel := context.WithTimeout(context.Background(), short)
			defer cancel()
			req := tpNewReq(e.t, ctx, "GET", srv.URL+"/block", nil)
			resp, err := c.Do(req)
			e.noteResp("deadline", req, resp, err)
			e.want(errors.Is(err, context.DeadlineExceeded), "err = %v, want context.DeadlineExceeded", err)
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
		{name: "Transport.ResponseHeaderTimeout", run: func(e *tpEnv) {
			_, enter := tpSignal()
			release, rel := tpSignal()
			srv := e.server(kindHTTP1, tpBlockingHandler(enter, release))
			e.t.Cleanup(rel)
			tr := srv.transport()
			tr.ResponseHeaderTimeout = short
			c := e.client(tr)
			req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/block", nil)
			resp, err := c.Do(req)
			e.noteResp("header timeout", req, resp, err)
			var ue *url.Error
			e.want(errors.As(err, &ue) && ue.Timeout(), "err = %v, want a url.Error that times out", err)
			e.note("server open=%d", tpWaitOpen(srv, 0))
		}},
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 6. Connection resets
// ---------------------------------------------------------------------------

// tpResetHandler closes the connection at the point its path names, with an
// RST (SO_LINGER 0) or a FIN. Before closing after the headers or part of
// the body it waits for the client to say it has read them (clientRead),
// so that what the client sees does not depend on timing.
func tpResetHandler(clientRead <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		rst := strings.HasPrefix(r.URL.Path, "/rst")
		wait := func() bool {
			select {
			case <-clientRead:
				return true
			case <-r.Context().Done():
				return false
			}
		}
		switch strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/rst"), "/fin") {
		case "-before-headers":
			tpHijackClose(w, rst)
		case "-after-headers":
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			http.NewResponseController(w).Flush()
			if wait() {
				tpHijackClose(w, rst)
			}
		case "-mid-body":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("0123456789"))
			http.NewResponseController(w).Flush()
			if wait() {
				tpHijackClose(w, rst)
			}
		case "-mid-chunked-body":
			w.Write([]byte("0123456789"))
			http.NewResponseController(w).Flush()
			if wait() {
				tpHijackClose(w, rst)
			}
		default:
			fmt.Fprint(w, "ok")
		}
	})
}

func TestTransparencyResets(t *testing.T) {
	var cases []tpCase
	for _, how := range []string{"rst", "fin"} {
		for _, when := range []string{"before-headers", "after-headers", "mid-body", "mid-chunked-body"} {
			for _, warm := range []bool{false, true} {
				name := how + " " + when
				if warm {
					name += " on a reused connection"
				}
				path := "/" + how + "-" + when
				cases = append(cases, tpCase{name: name, run: func(e *tpEnv) {
					clientRead, read := tpSignal()
					srv := e.server(kindHTTP1, tpResetHandler(clientRead))
					c := e.client(srv.transport())
					if warm {
						req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/warm", nil)
						resp, err := c.Do(req)
						e.noteResp("warm", req, resp, err)
					}
					rec := &tpHookRec{}
					req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+path, nil), rec)
					resp, err := c.Do(req)
					e.note("do: %s", tpDescribeErr(err))
					e.note("reused=%v", rec.reuses())
					if err == nil {
						e.noteHead("resp", req, resp)
						buf := make([]byte, 10)
						if when != "after-headers" {
							n, err := io.ReadFull(resp.Body, buf)
							e.note("first read: %q %s", buf[:n], tpDescribeErr(err))
						}
						read()
						rest, err := io.ReadAll(resp.Body)
						e.noteBody("rest", rest, err)
						e.want(err != nil, "the body read did not fail")
						e.note("close: %s", tpDescribeErr(resp.Body.Close()))
					}
					// The connection is gone, so a new request dials.
					rec = &tpHookRec{}
					req = tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/after", nil), rec)
					resp, err = c.Do(req)
					e.noteResp("after", req, resp, err)
					e.note("after reused=%v", rec.reuses())
					e.note("server open=%d accepted=%d", tpWaitOpen(srv, 1), srv.accepted.Load())
				}})
			}
		}
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 7. HTTP/2
// ---------------------------------------------------------------------------

func TestTransparencyHTTP2(t *testing.T) {
	const concurrent = 8
	big := tpPayload(1 << 20)
	cases := []tpCase{
		{name: "concurrent requests share one connection", run: func(e *tpEnv) {
			var arrived atomic.Int64
			all, allArrived := tpSignal()
			srv := e.server(kindH2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/barrier" {
					// Every request waits for the others: they are
					// in flight at once.
					if arrived.Add(1) == concurrent {
						allArrived()
					}
					select {
					case <-all:
					case <-r.Context().Done():
						return
					}
				}
				w.Header().Set("X-Test-Proto", r.Proto)
				tpEcho(w, r)
			}))
			c := e.client(srv.transport())
			// One request first, so that the connection exists before
			// the concurrent ones ask for it.
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/first", nil), rec)
			resp, err := c.Do(req)
			e.noteResp("first", req, resp, err)
			e.note("first reused=%v", rec.reuses())
			e.want(err == nil && resp.ProtoMajor == 2, "first request did not use HTTP/2")

			results := make([][]string, concurrent)
			var wg sync.WaitGroup
			for i := range concurrent {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rec := &tpHookRec{}
					body := fmt.Sprintf("request %d", i)
					req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/barrier", strings.NewReader(body)), rec)
					resp, err := c.Do(req)
					var out []string
					out = append(out, tpDescribeErr(err))
					if err == nil {
						b, rerr := io.ReadAll(resp.Body)
						resp.Body.Close()
						out = append(out, fmt.Sprintf("status=%d proto=%s req==sent:%v tls=%v body=%q %s",
							resp.StatusCode, resp.Proto, resp.Request == req, resp.TLS != nil, b, tpDescribeErr(rerr)))
					}
					out = append(out, fmt.Sprintf("reused=%v", rec.reuses()))
					results[i] = out
				}()
			}
			wg.Wait()
			for i, r := range results {
				e.note("concurrent %d: %s", i, strings.Join(r, " | "))
			}
			e.note("server accepted=%d open=%d", srv.accepted.Load(), tpWaitOpen(srv, 1))
		}},
		{name: "1 MiB bodies both ways", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				w.Header().Set("X-Test-Got", fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)))
				w.Write(big)
			}))
			c := e.client(srv.transport())
			req := tpNewReq(e.t, context.Background(), "PUT", srv.URL+"/big", bytes.NewReader(big))
			resp, err := c.Do(req)
			body := e.noteResp("put", req, resp, err)
			e.want(bytes.Equal(body, big), "response body differs")
		}},
		{name: "redirect keeps the connection", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/from" {
					http.Redirect(w, r, "/to", http.StatusTemporaryRedirect)
					return
				}
				tpEcho(w, r)
			}))
			c := e.client(srv.transport())
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/from", strings.NewReader("payload")), rec)
			resp, err := c.Do(req)
			e.noteResp("redirected", req, resp, err)
			e.note("reused=%v accepted=%d", rec.reuses(), srv.accepted.Load())
		}},
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 8. Expect: 100-continue
// ---------------------------------------------------------------------------

func TestTransparencyExpectContinue(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/read":
			tpEcho(w, r)
		case "/noread":
			w.Header().Set("X-Test-Expect", r.Header.Get("Expect"))
			fmt.Fprint(w, "did not read the body")
		case "/417":
			w.WriteHeader(http.StatusExpectationFailed)
			fmt.Fprint(w, "no thanks")
		default:
			fmt.Fprint(w, "ok")
		}
	})
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		proto := "HTTP/1.1"
		if kind == kindH2 {
			proto = "h2"
		}
		for _, path := range []string{"/read", "/noread", "/417"} {
			cases = append(cases, tpCase{name: proto + " " + path, run: func(e *tpEnv) {
				srv := e.server(kind, handler)
				tr := srv.transport()
				tr.ExpectContinueTimeout = tpWaitFor
				c := e.client(tr)
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+path, bytes.NewReader(tpPayload(4096))), rec)
				req.Header.Set("Expect", "100-continue")
				resp, err := c.Do(req)
				e.noteResp("expect", req, resp, err)
				rec.waitHooks()
				e.note("hooks=%v", rec.sorted())
				// What happens to the connection afterwards.
				rec = &tpHookRec{}
				req = tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/next", nil), rec)
				resp, err = c.Do(req)
				e.noteResp("next", req, resp, err)
				e.note("next reused=%v accepted=%d", rec.reuses(), srv.accepted.Load())
			}})
		}
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 9. The program's own ClientTrace
// ---------------------------------------------------------------------------

func TestTransparencyClientTrace(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hints" {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
		}
		fmt.Fprint(w, "hello")
	})
	type traceCase struct {
		name string
		kind tpSrvKind
		host string // replaces 127.0.0.1 in the URL
		path string
	}
	table := []traceCase{
		{name: "HTTP/1.1 over TLS", kind: kindTLSHTTP1, path: "/"},
		{name: "HTTP/2", kind: kindH2, path: "/"},
		{name: "plain HTTP with a DNS lookup", kind: kindHTTP1, host: "localhost", path: "/"},
		{name: "HTTP/1.1 103 Early Hints", kind: kindHTTP1, path: "/hints"},
		{name: "HTTP/2 103 Early Hints", kind: kindH2, path: "/hints"},
	}
	var cases []tpCase
	for _, tc := range table {
		cases = append(cases, tpCase{name: tc.name, run: func(e *tpEnv) {
			srv := e.server(tc.kind, handler)
			u := srv.URL + tc.path
			if tc.host != "" {
				u = strings.Replace(u, "127.0.0.1", tc.host, 1)
			}
			c := e.client(srv.transport())
			for _, which := range []string{"first (new connection)", "second (reused)"} {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", u, nil), rec)
				resp, err := c.Do(req)
				e.noteResp(which, req, resp, err)
				rec.waitHooks()
				e.note("%s hooks=%v", which, rec.sorted())
			}
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// 10. Panics and odd RoundTrippers
// ---------------------------------------------------------------------------

// errTPBoom is the value a RoundTripper panics with.
var errTPBoom = errors.New("test: boom")

// tpRwBody is a response body that is also the connection's writer, like a
// 101 Switching Protocols response's.
type tpRwBody struct {
	io.Reader
	mu      sync.Mutex
	written bytes.Buffer
	closed  bool
}

func (b *tpRwBody) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.written.Write(p)
}

func (b *tpRwBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// tpCtxKey carries a value the program put on the request's context.
type tpCtxKey struct{}

func TestTransparencyOddRoundTrippers(t *testing.T) {
	// innerSeen describes the request a custom RoundTripper receives.
	innerSeen := func(req, orig *http.Request) string {
		b := "<nil>"
		if req.Body != nil {
			b = fmt.Sprintf("%T same=%v", req.Body, req.Body == orig.Body)
		}
		return fmt.Sprintf("method=%s url=%s host=%q header=%v cl=%d getbody=%v body=%s close=%v ctxValue=%v proto=%s",
			req.Method, tpNormMsg(req.URL.String()), tpNormMsg(req.Host), req.Header, req.ContentLength, req.GetBody != nil, b,
			req.Close, req.Context().Value(tpCtxKey{}), req.Proto)
	}
	type oddCase struct {
		name   string
		method string
		rt     func(e *tpEnv, orig **http.Request) http.RoundTripper
	}
	resp := func(req *http.Request, code int, body io.ReadCloser, cl int64) *http.Response {
		return &http.Response{
			Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), StatusCode: code,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"X-Test-Odd": {"1"}}, Body: body, ContentLength: cl, Request: req,
		}
	}
	table := []oddCase{
		{name: "panic with an error value", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { panic(errTPBoom) })
		}},
		{name: "panic with a string", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { panic("test: string panic") })
		}},
		{name: "panic(nil)", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { panic(nil) })
		}},
		{name: "runtime error", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) {
				var m map[string]int
				m["x"] = 1 //lint:ignore SA5000 the point: a runtime error inside RoundTrip
				return nil, nil
			})
		}},
		{name: "returns nil, nil", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
		}},
		{name: "returns an error wrapping a custom type", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(*http.Request) (*http.Response, error) {
				return nil, fmt.Errorf("custom: %w", &tpTestDialError{addr: "nowhere"})
			})
		}},
		{name: "returns a response and an error", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(req, 200, io.NopCloser(strings.NewReader("x")), 1), errTPBoom
			})
		}},
		{name: "nil Body, no content", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 200, nil, 0), nil })
		}},
		{name: "nil Body with a Content-Length", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 200, nil, 5), nil })
		}},
		{name: "nil Body with a Content-Length for HEAD", method: "HEAD", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 200, nil, 5), nil })
		}},
		{name: "http.NoBody", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) { return resp(req, 204, http.NoBody, 0), nil })
		}},
		{name: "101 with a ReadWriteCloser body", rt: func(e *tpEnv, _ **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				r := resp(req, 101, &tpRwBody{Reader: strings.NewReader("upgraded")}, -1)
				r.Header.Set("Upgrade", "test")
				return r, nil
			})
		}},
		{name: "200 with a body that is also a writer", rt: func(e *tpEnv, _ **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(req, 200, &tpRwBody{Reader: strings.NewReader("writable")}, -1), nil
			})
		}},
		{name: "response without Request", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(nil, 200, io.NopCloser(strings.NewReader("no request")), -1), nil
			})
		}},
		{name: "response naming another Request", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			other := httptest.NewRequest("GET", "http://other.invalid/other", nil)
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(other, 200, io.NopCloser(strings.NewReader("other request")), -1), nil
			})
		}},
		{name: "body whose Read fails", rt: func(*tpEnv, **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				return resp(req, 200, io.NopCloser(io.MultiReader(strings.NewReader("abc"), tpIotestErrReader{errTPBoom})), -1), nil
			})
		}},
		{name: "inner RoundTripper sees the request as sent", method: "POST", rt: func(e *tpEnv, orig **http.Request) http.RoundTripper {
			return tpRTFunc(func(req *http.Request) (*http.Response, error) {
				e.note("inner saw: %s", innerSeen(req, *orig))
				b, err := io.ReadAll(req.Body)
				e.note("inner read body %q %s", b, tpDescribeErr(err))
				req.Body.Close()
				return resp(req, 200, io.NopCloser(strings.NewReader("seen")), 4), nil
			})
		}},
	}
	var cases []tpCase
	for _, oc := range table {
		cases = append(cases, tpCase{name: oc.name, run: func(e *tpEnv) {
			var orig *http.Request
			inner := oc.rt(e, &orig)
			c := &http.Client{Transport: e.wrap(inner)}
			method := oc.method
			if method == "" {
				method = "GET"
			}
			var body io.Reader
			if method == "POST" {
				body = strings.NewReader("request body")
			}
			ctx := context.WithValue(context.Background(), tpCtxKey{}, "program's value")
			req := tpNewReq(e.t, ctx, method, "http://odd.invalid/path?q=1", body)
			req.Header.Set("X-Test-Req", "1")
			orig = req
			resp, err, panicked, val := tpDoRecover(c, req)
			if panicked {
				e.note("panicked: %T %v identical=%v", val, val, val == any(errTPBoom))
				return
			}
			e.note("do: %s", tpDescribeErr(err))
			if resp == nil {
				e.note("resp=<nil>")
				return
			}
			e.noteHead("resp", req, resp)
			if rw, ok := resp.Body.(io.ReadWriteCloser); ok {
				inner, same := rw.(*tpRwBody)
				n, werr := rw.Write([]byte("ping"))
				e.note("body is a ReadWriteCloser: identical=%v write n=%d %s", same, n, tpDescribeErr(werr))
				if same {
					e.note("written=%q", inner.written.String())
				}
			} else {
				e.note("body is not a ReadWriteCloser")
			}
			b, rerr := io.ReadAll(resp.Body)
			e.noteBody("body", b, rerr)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
		}})
	}
	tpRunCases(t, cases)
}

// tpIotestErrReader returns err from every Read.
type tpIotestErrReader struct{ err error }

func (r tpIotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestTransparencyNoBodyIdentity(t *testing.T) {
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		proto := "HTTP/1.1"
		if kind == kindH2 {
			proto = "h2"
		}
		for _, tc := range []struct{ method, path string }{
			{"HEAD", "/200"}, {"GET", "/204"}, {"GET", "/304"}, {"GET", "/empty"},
		} {
			cases = append(cases, tpCase{name: proto + " " + tc.method + " " + tc.path, run: func(e *tpEnv) {
				srv := e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					switch r.URL.Path {
					case "/200":
						w.Header().Set("Content-Length", "1234")
						w.WriteHeader(200)
					case "/204":
						w.WriteHeader(204)
					case "/304":
						w.WriteHeader(304)
					case "/empty":
						w.Header().Set("Content-Length", "0")
						w.WriteHeader(200)
					}
				}))
				c := e.client(srv.transport())
				for i := range 2 {
					rec := &tpHookRec{}
					req := tpTraced(tpNewReq(e.t, context.Background(), tc.method, srv.URL+tc.path, nil), rec)
					resp, err := c.Do(req)
					e.noteResp(fmt.Sprint("req ", i), req, resp, err)
					e.note("reused=%v", rec.reuses())
				}
			}})
		}
	}
	tpRunCases(t, cases)
}

// TestTransparencyPanickingHooks checks that a panic in the program's own
// httptrace hook, on the goroutine calling RoundTrip, reaches the program
// unchanged, and that the probe's books stay balanced.
func TestTransparencyPanickingHooks(t *testing.T) {
	var cases []tpCase
	for _, hook := range []string{"GetConn", "GotConn"} {
		cases = append(cases, tpCase{name: hook, run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			trace := &httptrace.ClientTrace{}
			switch hook {
			case "GetConn":
				trace.GetConn = func(string) { panic(errTPBoom) }
			case "GotConn":
				trace.GotConn = func(httptrace.GotConnInfo) { panic(errTPBoom) }
			}
			req := tpNewReq(e.t, httptrace.WithClientTrace(context.Background(), trace), "GET", srv.URL+"/x", nil)
			resp, err, panicked, val := tpDoRecover(c, req)
			e.note("panicked=%v value=%v identical=%v", panicked, val, val == any(errTPBoom))
			if resp != nil {
				resp.Body.Close()
			}
			e.note("err: %s", tpDescribeErr(err))
			// The transport still works.
			req = tpNewReq(e.t, context.Background(), "GET", srv.URL+"/after", nil)
			resp, err = c.Do(req)
			e.noteResp("after", req, resp, err)
			// The connection handed to the panicking request is lost
			// to the pool; closing the server ends it.
		}})
	}
	tpRunCases(t, cases)
}

// TestTransparencyDirectRoundTrip calls RoundTrip itself, as middleware
// does, with requests http.Client would refuse.
func TestTransparencyDirectRoundTrip(t *testing.T) {
	type directCase struct {
		name string
		req  func(srvURL string) *http.Request
	}
	table := []directCase{
		{name: "nil request", req: func(string) *http.Request { return nil }},
		{name: "nil URL", req: func(string) *http.Request { return &http.Request{Method: "GET", Header: http.Header{}} }},
		{name: "no host", req: func(string) *http.Request { return httptest.NewRequest("GET", "http:///path", nil) }},
		{name: "unsupported scheme", req: func(string) *http.Request {
			r, _ := http.NewRequest("GET", "ftp://127.0.0.1/x", nil)
			return r
		}},
		{name: "invalid header value", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			r.Header.Set("X-Test-Bad", "a\nb")
			return r
		}},
		{name: "invalid method", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			r.Method = "BAD METHOD"
			return r
		}},
		{name: "nil Header", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			r.Header = nil
			return r
		}},
		{name: "valid", req: func(u string) *http.Request {
			r, _ := http.NewRequest("GET", u+"/x", nil)
			return r
		}},
	}
	var cases []tpCase
	for _, dc := range table {
		cases = append(cases, tpCase{name: dc.name, run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			e.t.Cleanup(tr.CloseIdleConnections)
			if e.mode.wrap {
				e.instrumented = true
			}
			rt := e.wrap(tr)
			req := dc.req(srv.URL)
			var (
				resp     *http.Response
				err      error
				panicked bool
				val      any
			)
			func() {
				defer func() {
					if r := recover(); r != nil {
						panicked, val = true, r
					}
				}()
				resp, err = rt.RoundTrip(req)
			}()
			e.note("panicked=%v %v", panicked, val)
			e.noteResp("direct", req, resp, err)
		}})
	}
	tpRunCases(t, cases)
}

// TestTransparencyUpgrade switches protocols with a real server: the 101
// response's body must stay the connection's io.ReadWriteCloser.
func TestTransparencyUpgrade(t *testing.T) {
	tpRunCases(t, []tpCase{{name: "101 Switching Protocols over HTTP/1.1", run: func(e *tpEnv) {
		srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Upgrade") != "echo" {
				http.Error(w, "upgrade required", http.StatusUpgradeRequired)
				return
			}
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\nX-Test-Upgraded: yes\r\n\r\n")
			brw.Flush()
			for {
				line, err := brw.ReadString('\n')
				if err != nil {
					return
				}
				brw.WriteString("echo: " + line)
				brw.Flush()
			}
		}))
		c := e.client(srv.transport())
		rec := &tpHookRec{}
		req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/up", nil), rec)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := c.Do(req)
		e.note("do: %s", tpDescribeErr(err))
		if err != nil {
			return
		}
		e.noteHead("upgrade", req, resp)
		rw, ok := resp.Body.(io.ReadWriteCloser)
		e.note("body is a ReadWriteCloser: %v (%T)", ok, resp.Body)
		e.want(ok, "the 101 response's body is not an io.ReadWriteCloser")
		if !ok {
			resp.Body.Close()
			return
		}
		br := bufio.NewReader(rw)
		for _, msg := range []string{"ping", "pong"} {
			_, werr := io.WriteString(rw, msg+"\n")
			line, rerr := br.ReadString('\n')
			e.note("wrote %q %s, read %q %s", msg, tpDescribeErr(werr), line, tpDescribeErr(rerr))
		}
		e.note("close: %s", tpDescribeErr(rw.Close()))
		e.note("reused=%v server open=%d", rec.reuses(), tpWaitOpen(srv, 0))
	}}, {name: "101 then an echo that ends with a half-close (CloseWrite)", run: func(e *tpEnv) {
		// The server echoes until the client shuts its side down, then
		// says goodbye and closes: the client can only read the goodbye
		// if CloseWrite reached the TCP connection.
		srv := e.server(kindHTTP1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
			brw.Flush()
			n, err := io.Copy(brw, brw.Reader) // until the client's FIN
			fmt.Fprintf(brw, "\nbye after %d bytes (%v)\n", n, err)
			brw.Flush()
		}))
		c := e.client(srv.transport())
		req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/up", nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := c.Do(req)
		e.note("do: %s", tpDescribeErr(err))
		if err != nil {
			return
		}
		e.noteHead("upgrade", req, resp)
		rw, ok := resp.Body.(io.ReadWriteCloser)
		cw, canHalfClose := resp.Body.(interface{ CloseWrite() error })
		e.note("ReadWriteCloser %v, CloseWrite %v", ok, canHalfClose)
		if !ok || !canHalfClose {
			resp.Body.Close()
			return
		}
		// Should the server never see the half-close, nothing ends the
		// echo: close the connection after a while, so the run ends
		// and shows what it read.
		stop := time.AfterFunc(tpWaitFor, func() { rw.Close() })
		defer stop.Stop()
		_, werr := io.WriteString(rw, "one\ntwo\n")
		e.note("write: %s", tpDescribeErr(werr))
		e.note("close write: %s", tpDescribeErr(cw.CloseWrite()))
		all, rerr := io.ReadAll(rw)
		e.note("read %q %s", all, tpDescribeErr(rerr))
		e.note("close: %s", tpDescribeErr(rw.Close()))
		e.note("server open=%d", tpWaitOpen(srv, 0))
	}}})
}

// ---------------------------------------------------------------------------
// 11. Concurrency
// ---------------------------------------------------------------------------

func TestTransparencyConcurrency(t *testing.T) {
	const (
		n        = 1000
		maxConns = 16
	)
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		name := "1000 goroutines, one HTTP/1.1 client"
		if kind == kindH2 {
			name = "1000 goroutines, one HTTP/2 client"
		}
		cases = append(cases, tpCase{name: name, run: func(e *tpEnv) { tpConcurrencyRun(e, kind, n, maxConns) }})
	}
	tpRunCases(t, cases)
}

// tpConcurrencyRun sends n requests at once through one client, a fifth of
// each kind: GET, POST, canceled before starting, canceled while reading
// the body, canceled as soon as it asks for a connection.
func tpConcurrencyRun(e *tpEnv, kind tpSrvKind, n, maxConns int) {
	srv := e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			w.Write([]byte("partial"))
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
		default:
			tpEcho(w, r)
		}
	}))
	tr := srv.transport()
	tr.MaxConnsPerHost = maxConns
	tr.MaxIdleConnsPerHost = maxConns
	c := e.client(tr)
	start, begin := tpSignal()
	var (
		wg                        sync.WaitGroup
		doErrs, bodyErrs, gotConn atomic.Int64
	)
	results := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &tpHookRec{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			trace := rec.trace()
			gc := trace.GotConn
			trace.GotConn = func(info httptrace.GotConnInfo) { gotConn.Add(1); gc(info) }
			kind := i % 5
			var req *http.Request
			switch kind {
			case 0: // GET
				req, _ = http.NewRequest("GET", fmt.Sprintf("%s/get/%d", srv.URL, i), nil)
			case 1: // POST with a body
				req, _ = http.NewRequest("POST", srv.URL+"/post", strings.NewReader(fmt.Sprint("body ", i)))
			case 2: // canceled before it starts
				cancel()
				req, _ = http.NewRequest("GET", srv.URL+"/canceled", nil)
			case 3: // canceled while reading the body
				req, _ = http.NewRequest("GET", srv.URL+"/stall", nil)
			case 4: // canceled as soon as it asks for a connection
				gc := trace.GetConn
				trace.GetConn = func(hp string) { gc(hp); cancel() }
				req, _ = http.NewRequest("GET", srv.URL+"/racy", nil)
			}
			req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
			<-start
			resp, err := c.Do(req)
			if err != nil {
				doErrs.Add(1)
				results[i] = fmt.Sprintf("kind %d: do canceled=%v", kind, errors.Is(err, context.Canceled))
				if kind == 4 && errors.Is(err, context.Canceled) {
					results[i] = "kind 4: ok or canceled"
				}
				return
			}
			defer resp.Body.Close()
			var body []byte
			var rerr error
			if kind == 3 {
				buf := make([]byte, len("partial"))
				_, rerr = io.ReadFull(resp.Body, buf)
				cancel()
				if rerr == nil {
					_, rerr = io.ReadAll(resp.Body)
				}
			} else {
				body, rerr = io.ReadAll(resp.Body)
			}
			if rerr != nil {
				bodyErrs.Add(1)
			}
			switch kind {
			case 0:
				results[i] = fmt.Sprintf("kind 0: ok=%v", rerr == nil && string(body) == fmt.Sprintf("GET /get/%d body=\"\"", i))
			case 1:
				results[i] = fmt.Sprintf("kind 1: ok=%v", rerr == nil && string(body) == fmt.Sprintf("POST /post body=\"body %d\"", i))
			case 3:
				results[i] = fmt.Sprintf("kind 3: body canceled=%v", errors.Is(rerr, context.Canceled))
			case 4:
				results[i] = fmt.Sprintf("kind 4: unexpected body error %v", rerr)
				if rerr == nil || errors.Is(rerr, context.Canceled) {
					results[i] = "kind 4: ok or canceled"
				}
			}
		}()
	}
	begin()
	wg.Wait()
	counts := map[string]int{}
	for _, r := range results {
		counts[r]++
	}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		e.note("%s: %d", k, counts[k])
	}
	if e.col == nil {
		return
	}
	tpSettle(e.t, e)
	s := e.col.Snapshot()
	var requests, errs, conns int64
	for _, h := range s.Hosts {
		requests += h.Requests
		errs += h.Errors
		conns += h.NewConns + h.ReusedConns
		if h.Open != h.Active+h.Idle {
			e.t.Errorf("host %s: open %d != active %d + idle %d", h.Host, h.Open, h.Active, h.Idle)
		}
	}
	if requests != int64(n) {
		e.t.Errorf("snapshot counts %d requests, %d were issued%s", requests, n, tpHostSummary(s))
	}
	if want := doErrs.Load() + bodyErrs.Load(); errs != want {
		e.t.Errorf("snapshot counts %d errors, the program saw %d (%d from Do, %d from reading bodies)",
			errs, want, doErrs.Load(), bodyErrs.Load())
	}
	if conns != gotConn.Load() {
		e.t.Errorf("snapshot counts %d connections handed to requests, the program's GotConn hooks saw %d", conns, gotConn.Load())
	}
}

// ---------------------------------------------------------------------------
// 12. CloseIdleConnections and Unwrap
// ---------------------------------------------------------------------------

func TestTransparencyCloseIdleConnections(t *testing.T) {
	const conns = 3
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		name := "HTTP/1.1: three idle connections"
		if kind == kindH2 {
			name = "HTTP/2: one idle connection"
		}
		cases = append(cases, tpCase{name: name, run: func(e *tpEnv) {
			var arrived atomic.Int64
			all, allArrived := tpSignal()
			want := int64(conns)
			if kind == kindH2 {
				want = 1
			}
			srv := e.server(kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/hold" {
					if arrived.Add(1) == conns {
						allArrived()
					}
					select {
					case <-all:
					case <-r.Context().Done():
						return
					}
				}
				fmt.Fprint(w, "ok")
			}))
			e.t.Cleanup(allArrived)
			tr := srv.transport()
			tr.MaxIdleConnsPerHost = conns // the default, 2, would close one
			c := e.client(tr)
			if kind == kindH2 {
				// Establish the connection first, so that the
				// concurrent requests share it.
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/first", nil)
				resp, err := c.Do(req)
				e.noteResp("first", req, resp, err)
			}
			var wg sync.WaitGroup
			for range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), tpWaitFor)
					defer cancel()
					req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/hold", nil)
					resp, err := c.Do(req)
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			e.note("server open before CloseIdleConnections=%d", tpWaitOpen(srv, want))
			if e.col != nil {
				tpSettle(e.t, e)
			}
			c.CloseIdleConnections()
			e.note("server open after CloseIdleConnections=%d", tpWaitOpen(srv, 0))
		}})
	}
	tpRunCases(t, cases)
}

// tpCloseIdleRT counts CloseIdleConnections calls.
type tpCloseIdleRT struct {
	http.RoundTripper
	closed atomic.Int64
}

func (c *tpCloseIdleRT) CloseIdleConnections() { c.closed.Add(1) }

func TestTransparencyUnwrap(t *testing.T) {
	col := probe.NewCollector(probe.CollectorOptions{})
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	wrapped := probe.Wrap(tr, probe.WithCollector(col))
	if got := probe.Unwrap(wrapped); got != http.RoundTripper(tr) {
		t.Errorf("Unwrap(Wrap(tr)) = %T %p, want the transport %p", got, got, tr)
	}
	custom := &tpCloseIdleRT{RoundTripper: tpRTFunc(func(*http.Request) (*http.Response, error) { return nil, errTPBoom })}
	wc := probe.Wrap(custom, probe.WithCollector(col), probe.WithName("custom"))
	if got := probe.Unwrap(wc); got != http.RoundTripper(custom) {
		t.Errorf("Unwrap(Wrap(custom)) = %T, want the custom RoundTripper", got)
	}
	if got := probe.Unwrap(custom); got != http.RoundTripper(custom) {
		t.Errorf("Unwrap(custom) = %T, want custom itself", got)
	}
	twice := probe.Wrap(wrapped, probe.WithCollector(col), probe.WithName("outer"))
	if got := probe.Unwrap(twice); got != wrapped {
		t.Errorf("Unwrap(Wrap(Wrap(tr))) = %T, want the inner probe", got)
	}
	if got := probe.Unwrap(probe.Unwrap(twice)); got != http.RoundTripper(tr) {
		t.Errorf("Unwrap(Unwrap(Wrap(Wrap(tr)))) = %T, want the transport", got)
	}
	// http.Client.CloseIdleConnections reaches the RoundTripper inside.
	(&http.Client{Transport: wc}).CloseIdleConnections()
	if n := custom.closed.Load(); n != 1 {
		t.Errorf("CloseIdleConnections reached the custom RoundTripper %d times, want 1", n)
	}
	// A RoundTripper without CloseIdleConnections: nothing happens.
	(&http.Client{Transport: probe.Wrap(tpRTFunc(func(*http.Request) (*http.Response, error) { return nil, errTPBoom }),
		probe.WithCollector(col), probe.WithName("plain"))}).CloseIdleConnections()
}

// ---------------------------------------------------------------------------
// Transport configurations: Wrap rewrites DialContext (and may set
// ForceAttemptHTTP2); the protocols and the dial behaviour must stay.
// ---------------------------------------------------------------------------

func TestTransparencyTransportConfigs(t *testing.T) {
	// trust returns a TLS config trusting srv's certificate.
	trust := func(srv *tpServer) *tls.Config {
		cfg := srv.transport().TLSClientConfig.Clone()
		cfg.NextProtos = nil // the transport adds what it speaks
		return cfg
	}
	// tlsDial dials srv with TLS itself, offering protos.
	tlsDial := func(srv *tpServer, protos ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			cfg := trust(srv)
			cfg.NextProtos = protos
			d := &tls.Dialer{Config: cfg}
			return d.DialContext(ctx, network, addr)
		}
	}
	protocols := func(h1, h2, h2c bool) *http.Protocols {
		p := new(http.Protocols)
		p.SetHTTP1(h1)
		p.SetHTTP2(h2)
		p.SetUnencryptedHTTP2(h2c)
		return p
	}
	type configCase struct {
		name      string
		kind      tpSrvKind
		h2c       bool // the plain server also speaks HTTP/2 without TLS
		inferred  bool // a custom TLS dialer: the probe cannot see connections close
		transport func(srv *tpServer) *http.Transport
	}
	table := []configCase{
		{name: "zero Transport, plain HTTP", kind: kindHTTP1, transport: func(*tpServer) *http.Transport { return &http.Transport{} }},
		{name: "server's client Transport (TLSClientConfig, ForceAttemptHTTP2)", kind: kindH2, transport: func(s *tpServer) *http.Transport { return s.transport() }},
		{name: "TLSClientConfig without ForceAttemptHTTP2", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s)}
		}},
		{name: "TLSClientConfig and custom DialContext with ForceAttemptHTTP2", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), ForceAttemptHTTP2: true, DialContext: (&net.Dialer{}).DialContext}
		}},
		{name: "deprecated Dial", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), Dial: net.Dial} //lint:ignore SA1019 deprecated fields must keep working
		}},
		{name: "DialTLSContext without ForceAttemptHTTP2", kind: kindH2, inferred: true, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{DialTLSContext: tlsDial(s, "http/1.1")}
		}},
		{name: "DialTLSContext with ForceAttemptHTTP2", kind: kindH2, inferred: true, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{DialTLSContext: tlsDial(s, "h2", "http/1.1"), ForceAttemptHTTP2: true}
		}},
		{name: "deprecated DialTLS", kind: kindH2, inferred: true, transport: func(s *tpServer) *http.Transport {
			dial := tlsDial(s, "http/1.1")
			//lint:ignore SA1019 deprecated fields must keep working
			return &http.Transport{DialTLS: func(network, addr string) (net.Conn, error) {
				return dial(context.Background(), network, addr)
			}}
		}},
		{name: "empty TLSNextProto disables HTTP/2", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			tr := s.transport()
			tr.TLSClientConfig.NextProtos = nil
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
			return tr
		}},
		{name: "Protocols HTTP/1 only", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), Protocols: protocols(true, false, false)}
		}},
		{name: "Protocols HTTP/2 only", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{TLSClientConfig: trust(s), Protocols: protocols(false, true, false)}
		}},
		{name: "Protocols unencrypted HTTP/2", kind: kindHTTP1, h2c: true, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{Protocols: protocols(false, false, true)}
		}},
		{name: "DisableKeepAlives", kind: kindH2, transport: func(s *tpServer) *http.Transport {
			tr := s.transport()
			tr.DisableKeepAlives = true
			return tr
		}},
		{name: "DisableCompression", kind: kindHTTP1, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{DisableCompression: true}
		}},
		{name: "MaxIdleConnsPerHost -1 (no idle connections)", kind: kindHTTP1, transport: func(s *tpServer) *http.Transport {
			return &http.Transport{MaxIdleConnsPerHost: -1}
		}},
	}
	var cases []tpCase
	for _, cc := range table {
		cases = append(cases, tpCase{name: cc.name, run: func(e *tpEnv) {
			var configure []func(*httptest.Server)
			if cc.h2c {
				configure = append(configure, func(s *httptest.Server) { s.Config.Protocols = protocols(true, false, true) })
			}
			srv := e.server(cc.kind, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Test-Proto", r.Proto)
				w.Header().Set("X-Test-Accept-Encoding", r.Header.Get("Accept-Encoding"))
				tpEcho(w, r)
			}), configure...)
			tr := cc.transport(srv)
			c := e.client(tr)
			if cc.inferred {
				// Documented: connections from a custom TLS dialer
				// are inferred, their close is not seen.
				e.instrumented = false
			}
			for i := range 3 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/x", strings.NewReader(fmt.Sprint("body ", i))), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("req ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("accepted=%d", srv.accepted.Load())
		}})
	}
	tpRunCases(t, cases)
}

// ---------------------------------------------------------------------------
// Errors from the network and from TLS, through the probe's dial hook
// ---------------------------------------------------------------------------

func TestTransparencyErrors(t *testing.T) {
	type errCase struct {
		name string
		run  func(e *tpEnv) (*http.Client, string)
	}
	closedPort := func(e *tpEnv) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			e.t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	table := []errCase{
		{name: "connection refused", run: func(e *tpEnv) (*http.Client, string) {
			return e.client(&http.Transport{}), "http://" + closedPort(e) + "/"
		}},
		{name: "custom DialContext error", run: func(e *tpEnv) (*http.Client, string) {
			tr := &http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
				return nil, &tpTestDialError{addr: "somewhere"}
			}}
			return e.client(tr), "http://" + closedPort(e) + "/"
		}},
		{name: "DialContext returning nil, nil", run: func(e *tpEnv) (*http.Client, string) {
			tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, nil }}
			return e.client(tr), "http://" + closedPort(e) + "/"
		}},
		{name: "certificate signed by unknown authority", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindH2, http.HandlerFunc(tpEcho))
			return e.client(&http.Transport{}), srv.URL + "/"
		}},
		{name: "certificate for another name", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindTLSHTTP1, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			tr.TLSClientConfig.ServerName = "other.example"
			return e.client(tr), srv.URL + "/"
		}},
		{name: "TLS to a plain HTTP server", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			return e.client(&http.Transport{}), strings.Replace(srv.URL, "http://", "https://", 1) + "/"
		}},
		{name: "plain HTTP to a TLS server", run: func(e *tpEnv) (*http.Client, string) {
			srv := e.server(kindTLSHTTP1, http.HandlerFunc(tpEcho))
			return e.client(srv.transport()), strings.Replace(srv.URL, "https://", "http://", 1) + "/"
		}},
		{name: "malformed response", run: func(e *tpEnv) (*http.Client, string) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				e.t.Fatal(err)
			}
			var wg sync.WaitGroup
			e.t.Cleanup(func() { ln.Close(); wg.Wait() })
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					bufio.NewReader(c).ReadString('\n')
					c.Write([]byte("HELLO THERE\r\n\r\n"))
					c.Close()
				}
			}()
			return e.client(&http.Transport{}), "http://" + ln.Addr().String() + "/"
		}},
	}
	var cases []tpCase
	for _, ec := range table {
		cases = append(cases, tpCase{name: ec.name, run: func(e *tpEnv) {
			c, u := ec.run(e)
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, context.Background(), "GET", u, nil), rec)
			resp, err := c.Do(req)
			e.noteResp("err", req, resp, err)
			rec.waitHooks()
			e.note("hooks=%v", rec.sorted())
		}})
	}
	tpRunCases(t, cases)
}

// TestConfigureAfterWrap pins what Wrap documents for a transport
// configured after it (not a transparency case: the wrapped and the bare
// client differ, on purpose). Wrap decides a transport's protocols from
// the configuration it sees, because writing the transport later would
// race with a bare client using it (TestTransparencySharedTransport). So
// a zero Transport, which speaks HTTP/2 by default, keeps speaking it when
// given a TLSClientConfig after Wrap (without the probe, that config
// would turn HTTP/2 off), as does a clone of it; Protocols set after Wrap
// still decide.
func TestConfigureAfterWrap(t *testing.T) {
	trust := func(srv *httptest.Server) *tls.Config {
		cfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
		cfg.NextProtos = nil
		return cfg
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(tpEcho))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	col := probe.NewCollector(probe.CollectorOptions{})
	proto := func(rt http.RoundTripper) string {
		t.Helper()
		resp, err := (&http.Client{Transport: rt}).Get(srv.URL + "/x")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Proto
	}
	for _, tt := range []struct {
		name      string
		run       func(wrap bool) string
		bare, got string
	}{
		{"TLSClientConfig set after Wrap", func(wrap bool) string {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			rt := http.RoundTripper(tr)
			if wrap {
				rt = probe.Wrap(tr, probe.WithCollector(col))
			}
			tr.TLSClientConfig = trust(srv)
			return proto(rt)
		}, "HTTP/1.1", "HTTP/2.0"},
		{"cloned after Wrap and given a TLSClientConfig", func(wrap bool) string {
			tr := &http.Transport{}
			if wrap {
				probe.Wrap(tr, probe.WithCollector(col))
			}
			clone := tr.Clone()
			defer clone.CloseIdleConnections()
			clone.TLSClientConfig = trust(srv)
			return proto(clone)
		}, "HTTP/1.1", "HTTP/2.0"},
		{"TLSClientConfig and Protocols HTTP/1 set after Wrap", func(wrap bool) string {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			rt := http.RoundTripper(tr)
			if wrap {
				rt = probe.Wrap(tr, probe.WithCollector(col))
			}
			tr.TLSClientConfig = trust(srv)
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetHTTP1(true)
			return proto(rt)
		}, "HTTP/1.1", "HTTP/1.1"},
	} {
		if got := tt.run(false); got != tt.bare {
			t.Errorf("%s, bare: %s, want %s", tt.name, got, tt.bare)
		}
		if got := tt.run(true); got != tt.got {
			t.Errorf("%s, wrapped: %s, want %s (decided at Wrap)", tt.name, got, tt.got)
		}
	}
}

// TestTransparencySharedTransport wraps a transport before any goroutine
// starts (as Wrap's documentation asks), then uses it bare and through the
// probe at once: the race detector must find nothing (Wrap once deferred
// writing ForceAttemptHTTP2 and DialContext to the first request through
// the probe, racing with the bare client's first request), and both
// clients must get what two bare clients get.
func TestTransparencySharedTransport(t *testing.T) {
	tpRunCases(t, []tpCase{{name: "zero Transport used bare and wrapped at once", run: func(e *tpEnv) {
		srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
		tr := &http.Transport{}
		wrapped := e.client(tr)
		bare := &http.Client{Transport: tr}
		const n = 8
		results := make([]string, 2*n)
		var wg sync.WaitGroup
		for i := range 2 * n {
			c := bare
			if i%2 == 1 {
				c = wrapped
			}
			wg.Go(func() {
				req := tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil)
				resp, err := c.Do(req)
				if err != nil {
					results[i] = tpDescribeErr(err)
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				results[i] = fmt.Sprintf("%s %s %q %s", resp.Proto, resp.Status, body, tpDescribeErr(err))
			})
		}
		wg.Wait()
		for i, r := range results {
			e.note("request %d: %s", i, r)
		}
	}}})
}

// ---------------------------------------------------------------------------
// More shapes of use: full-duplex streaming, proxies, Request.Close, probes
// stacked on one transport.
// ---------------------------------------------------------------------------

// tpFullDuplexHandler echoes each line of the request body as soon as it
// arrives.
func tpFullDuplexHandler(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	rc.EnableFullDuplex()
	w.Header().Set("X-Test-Duplex", "yes")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	br := bufio.NewReader(r.Body)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			fmt.Fprintf(w, "echo %s", line)
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// tpProxyServer is a forward proxy on a raw listener: it answers plain HTTP
// requests for absolute URLs itself and tunnels CONNECT requests to their
// target. It counts its client connections.
type tpProxyServer struct {
	ln       net.Listener
	open     atomic.Int64
	accepted atomic.Int64
	log      tpServerLog
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func (p *tpProxyServer) openConns() int64 { return p.open.Load() }

func (e *tpEnv) proxy() *tpProxyServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	p := &tpProxyServer{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.accepted.Add(1)
			p.open.Add(1)
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer p.open.Add(-1)
				defer c.Close()
				p.serve(c)
			}()
		}
	}()
	e.t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	e.counters = append(e.counters, p)
	return p
}

func (p *tpProxyServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		p.log.add("%s %s", req.Method, tpNormMsg(req.RequestURI))
		if req.Method == http.MethodConnect {
			target, err := net.Dial("tcp", req.Host)
			if err != nil {
				fmt.Fprint(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
				continue
			}
			fmt.Fprint(c, "HTTP/1.1 200 Connection established\r\n\r\n")
			done := make(chan struct{})
			go func() {
				io.Copy(target, br)
				target.Close()
				close(done)
			}()
			io.Copy(c, target)
			c.Close()
			<-done
			return
		}
		body, _ := io.ReadAll(req.Body)
		msg := fmt.Sprintf("proxied %s %s body=%q", req.Method, tpNormMsg(req.URL.String()), body)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nX-Test-Proxy: yes\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg)
	}
}

func TestTransparencyMore(t *testing.T) {
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		proto := "HTTP/1.1"
		if kind == kindH2 {
			proto = "h2"
		}
		cases = append(cases, tpCase{name: proto + " full-duplex streaming request and response", run: func(e *tpEnv) {
			srv := e.server(kind, http.HandlerFunc(tpFullDuplexHandler))
			c := e.client(srv.transport())
			ctx, cancel := context.WithTimeout(context.Background(), tpWaitFor)
			defer cancel()
			pr, pw := io.Pipe()
			rec := &tpHookRec{}
			req := tpTraced(tpNewReq(e.t, ctx, "POST", srv.URL+"/duplex", pr), rec)
			// Headers come back while the request body is still open.
			resp, err := c.Do(req)
			e.note("do: %s", tpDescribeErr(err))
			if err != nil {
				pw.Close()
				return
			}
			e.noteHead("duplex", req, resp)
			br := bufio.NewReader(resp.Body)
			for i := range 3 {
				fmt.Fprintf(pw, "line %d\n", i)
				line, err := br.ReadString('\n')
				e.note("sent line %d, got %q %s", i, line, tpDescribeErr(err))
			}
			pw.Close()
			rest, err := io.ReadAll(br)
			e.noteBody("rest", rest, err)
			e.note("close: %s", tpDescribeErr(resp.Body.Close()))
			rec.waitHooks()
			e.note("hooks=%v", rec.sorted())
		}})
	}
	cases = append(cases,
		tpCase{name: "plain HTTP through a forward proxy", run: func(e *tpEnv) {
			p := e.proxy()
			proxyURL, _ := url.Parse("http://" + p.ln.Addr().String())
			tr := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
			c := e.client(tr)
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", "http://backend.invalid/x", strings.NewReader(fmt.Sprint("body ", i))), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("proxied ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("proxy saw: %s; accepted=%d", p.log.String(), p.accepted.Load())
		}},
		tpCase{name: "HTTPS through a CONNECT proxy", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(tpEcho))
			p := e.proxy()
			proxyURL, _ := url.Parse("http://" + p.ln.Addr().String())
			tr := srv.transport()
			tr.Proxy = http.ProxyURL(proxyURL)
			c := e.client(tr)
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "POST", srv.URL+"/x", strings.NewReader(fmt.Sprint("body ", i))), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("tunneled ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("proxy saw: %s; accepted=%d", p.log.String(), p.accepted.Load())
			// The backend's connection is the proxy's, not the
			// client's: compare the proxy's count only.
			e.counters = []tpConnCounter{p}
		}},
		tpCase{name: "Request.Close", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			c := e.client(srv.transport())
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil), rec)
				req.Close = true
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("close ", i), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("server open=%d accepted=%d", tpWaitOpen(srv, 0), srv.accepted.Load())
		}},
		tpCase{name: "two probes stacked on one transport", run: func(e *tpEnv) {
			srv := e.server(kindH2, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			e.t.Cleanup(tr.CloseIdleConnections)
			if e.mode.wrap {
				e.instrumented = true
			}
			rt := tr
			var outer http.RoundTripper = rt
			if e.mode.wrap {
				outer = probe.Wrap(probe.Wrap(rt, probe.WithCollector(e.col), probe.WithName("inner")),
					probe.WithCollector(e.col), probe.WithName("outer"))
			}
			c := &http.Client{Transport: outer}
			for i := range 2 {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("stacked ", i), req, resp, err)
				rec.waitHooks()
				e.note("hooks=%v", rec.sorted())
			}
		}},
		tpCase{name: "two probes side by side on one transport", run: func(e *tpEnv) {
			srv := e.server(kindHTTP1, http.HandlerFunc(tpEcho))
			tr := srv.transport()
			a := e.client(tr)
			b := &http.Client{Transport: tr}
			if e.mode.wrap {
				b.Transport = probe.Wrap(tr, probe.WithCollector(e.col), probe.WithName("second"))
			}
			for i, c := range []*http.Client{a, b, a, b} {
				rec := &tpHookRec{}
				req := tpTraced(tpNewReq(e.t, context.Background(), "GET", srv.URL+"/x", nil), rec)
				resp, err := c.Do(req)
				e.noteResp(fmt.Sprint("client ", i%2), req, resp, err)
				e.note("reused=%v", rec.reuses())
			}
			e.note("accepted=%d", srv.accepted.Load())
		}},
	)
	tpRunCases(t, cases)
}

// TestTransparencyResponseRequest checks what Response.Request is and
// carries. net/http sets it to the request given to RoundTrip, except that
// for a request with a body on a reused HTTP/2 connection it is the
// transport's own shallow copy of that request (same context, same
// fields). Without the probe the copy carries the program's context; with
// it, it must not carry the probe's (whose ClientTrace is bound to the
// probe's per-request state, recycled once the request ends).
func TestTransparencyResponseRequest(t *testing.T) {
	var cases []tpCase
	for _, kind := range []tpSrvKind{kindHTTP1, kindH2} {
		for _, method := range []string{"GET", "POST"} {
			proto := "HTTP/1.1"
			if kind == kindH2 {
				proto = "h2"
			}
			cases = append(cases, tpCase{name: proto + " " + method, run: func(e *tpEnv) {
				srv := e.server(kind, http.HandlerFunc(tpEcho))
				c := e.client(srv.transport())
				gotConns, requests := 0, 0
				for _, which := range []string{"new connection", "reused connection"} {
					var body io.Reader
					if method == "POST" {
						body = strings.NewReader("payload")
					}
					rec := &tpHookRec{}
					trace := rec.trace()
					ctx := context.WithValue(httptrace.WithClientTrace(context.Background(), trace), tpCtxKey{}, "program's value")
					req := tpNewReq(e.t, ctx, method, srv.URL+"/x", body)
					resp, err := c.Do(req)
					requests++
					e.note("%s: %s", which, tpDescribeErr(err))
					if err != nil {
						continue
					}
					// Every hook of the request has fired before its
					// body ends: the probe may reuse its state.
					rec.waitHooks()
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					rr := resp.Request
					e.note("%s: Request==req:%v same method/URL/header:%v ctx==req ctx:%v ctx value=%v trace is the program's:%v",
						which, rr == req, rr.Method == req.Method && rr.URL == req.URL && fmt.Sprint(rr.Header) == fmt.Sprint(req.Header),
						rr.Context() == req.Context(), rr.Context().Value(tpCtxKey{}),
						httptrace.ContextClientTrace(rr.Context()) == trace)
					// Send it again, as a retry would: a clone of
					// Response.Request with its context.
					again := rr.Clone(rr.Context())
					if rr.GetBody != nil {
						again.Body, _ = rr.GetBody()
					}
					before := rec.count("GotConn")
					resp, err = c.Do(again)
					requests++
					if err == nil {
						rec.waitHooks()
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					e.note("%s: sent again: %s; the program's GotConn fired %d more times", which, tpDescribeErr(err), rec.count("GotConn")-before)
					gotConns += rec.count("GotConn")
				}
				if e.col == nil {
					return
				}
				// The probe counts what the program saw.
				snap := e.col.Snapshot()
				var n, conns int64
				for _, h := range snap.Hosts {
					n += h.Requests
					conns += h.NewConns + h.ReusedConns
				}
				if n != int64(requests) || conns != int64(gotConns) {
					e.t.Errorf("snapshot counts %d requests and %d connections handed out; the program sent %d and its GotConn hooks fired %d times%s",
						n, conns, requests, gotConns, tpHostSummary(snap))
				}
			}})
		}
	}
	tpRunCases(t, cases)
}
