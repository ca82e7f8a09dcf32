// Package tlstest runs fixture servers in a child process, so that a test
// measuring a client's memory sees the client's allocations alone.
//
// The child is the test binary itself, re-executed to run one helper test
// (by convention TestHelperServers) that calls Serve. The parent calls Start,
// which returns the servers' URLs and a certificate pool trusting them; the
// child stops when the parent's test ends.
//
// Only tests import this package.
package tlstest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
)

// envSpec carries the Spec from parent to child.
const envSpec = "HTTPTOP_TLSTEST_SPEC"

// readyPrefix starts the line the child prints once its servers listen.
const readyPrefix = "TLSTEST-READY "

// Spec says which servers the child runs.
type Spec struct {
	// Proto is the protocol every server speaks.
	Proto fixtures.Proto
	// Servers is how many servers to start (at least 1).
	Servers int
	// DisableSessionTickets turns TLS session resumption off.
	DisableSessionTickets bool
}

// ready is what the child reports.
type ready struct {
	URLs []string `json:"urls"`
	Cert []byte   `json:"cert"` // DER of the fixture certificate
}

// Servers are fixture servers running in a child process.
type Servers struct {
	// URLs are the servers' base URLs, one per server.
	URLs []string
	// Roots trusts the servers' certificate (nil for plain text).
	Roots *x509.CertPool
}

// ClientTLSConfig returns a TLS configuration trusting the servers.
func (s *Servers) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.Roots}
}

// Transport returns a new transport, configured like
// http.DefaultTransport but without a proxy, that trusts the servers and
// speaks their protocol. It keeps up to idle idle connections per host.
func (s *Servers) Transport(proto fixtures.Proto, idle int) *http.Transport {
	tr := &http.Transport{
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     5 * time.Minute,
		TLSHandshakeTimeout: 30 * time.Second,
	}
	if proto.TLS() {
		tr.TLSClientConfig = s.ClientTLSConfig()
	}
	return tr
}

// Start runs the helper test named helper (which must call Serve) in a
// child process with spec, and returns once its servers listen. The child
// is stopped when tb's test ends.
func Start(tb testing.TB, helper string, spec Spec) *Servers {
	tb.Helper()
	s, err := start(tb, helper, spec)
	if err != nil {
		tb.Fatalf("tlstest: %v", err)
	}
	return s
}

func start(tb testing.TB, helper string, spec Spec) (*Servers, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+helper+"$", "-test.count=1", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), envSpec+"="+string(js))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("child stdin: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("child stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start child: %w", err)
	}
	done := make(chan error, 1)
	tb.Cleanup(func() {
		stdin.Close() // the child's cue to stop
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 64<<10), 64<<20)
	var r ready
	found := false
	for lines.Scan() {
		if l, ok := strings.CutPrefix(lines.Text(), readyPrefix); ok {
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				return nil, fmt.Errorf("decode child's servers: %w", err)
			}
			found = true
			break
		}
	}
	go func() {
		io.Copy(io.Discard, stdout)
		done <- cmd.Wait()
	}()
	if !found {
		return nil, errors.New("child exited before its servers listened")
	}
	s := &Servers{URLs: r.URLs}
	if len(r.Cert) > 0 {
		cert, err := x509.ParseCertificate(r.Cert)
		if err != nil {
			return nil, fmt.Errorf("parse child's certificate: %w", err)
		}
		s.Roots = x509.NewCertPool()
		s.Roots.AddCert(cert)
	}
	return s, nil
}

// Serve is the body of the helper test: in the child process it starts the
// servers the parent asked for, reports them, and serves until the parent
// closes the child's standard input. In any other process it skips t.
func Serve(t *testing.T) {
	js := os.Getenv(envSpec)
	if js == "" {
		t.Skip("helper process for tlstest.Start")
	}
	var spec Spec
	if err := json.Unmarshal([]byte(js), &spec); err != nil {
		t.Fatalf("tlstest: decode spec: %v", err)
	}
	r := ready{}
	for range max(spec.Servers, 1) {
		srv, err := fixtures.NewServer(fixtures.Options{Proto: spec.Proto, DisableSessionTickets: spec.DisableSessionTickets})
		if err != nil {
			t.Fatalf("tlstest: %v", err)
		}
		defer srv.Close()
		r.URLs = append(r.URLs, srv.URL)
	}
	if spec.Proto.TLS() {
		r.Cert = fixtures.Certificate().Raw
	}
	js2, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("tlstest: encode servers: %v", err)
	}
	fmt.Printf("%s%s\n", readyPrefix, js2)
	io.Copy(io.Discard, os.Stdin)
}

// Hold opens n connections from c to url, each held busy by a request the
// server answers in ten minutes, and returns once every request has its
// connection (or failed). The requests are cancelled, and c's idle
// connections closed, when tb's test ends. c's transport must allow n
// connections per host.
func Hold(tb testing.TB, c *http.Client, url string, n int) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var got, done sync.WaitGroup
	tb.Cleanup(func() { cancel(); done.Wait(); c.CloseIdleConnections() })
	got.Add(n)
	for range n {
		done.Go(func() {
			var once sync.Once
			trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { once.Do(got.Done) }}
			req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, url+"/?latency=10m", nil)
			resp, err := c.Do(req)
			once.Do(got.Done)
			if err == nil {
				resp.Body.Close()
			} else if ctx.Err() == nil {
				tb.Error(err)
			}
		})
	}
	got.Wait()
}
