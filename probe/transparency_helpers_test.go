package probe_test

// Helpers the transparency cases share: what a program can see of an
// error, a response and its own httptrace hooks, written down as notes
// the bare and the wrapped run must agree on; requests, payloads and
// handlers; RoundTrippers and errors of the tests' own.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

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

// tpCtxKey carries a value the program put on the request's context.
type tpCtxKey struct{}
