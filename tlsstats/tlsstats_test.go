package tlsstats

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"reflect"
	"testing"
	"time"

	"github.com/httptop/httptop/fixtures"
)

func TestSizeClass(t *testing.T) {
	for _, tc := range []struct{ n, want int64 }{
		{-1, 0}, {0, 0}, {1, 8}, {8, 8}, {9, 16}, {872, 896}, {1025, 1152},
		{1792, 1792}, {4096, 4096}, {16384, 16384}, {16393, 18432},
		{32768, 32768}, {32769, 40960}, {40960, 40960}, {1 << 20, 1 << 20},
	} {
		if got := sizeClass(tc.n); got != tc.want {
			t.Errorf("sizeClass(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// tlsServer starts a fixture server speaking proto and returns it with a
// transport that trusts it, asking for the name "localhost" (which its
// certificate holds) and keeping sessions when cache is true.
func tlsServer(t *testing.T, proto fixtures.Proto, cache bool) (*fixtures.Server, *http.Transport) {
	t.Helper()
	srv, err := fixtures.NewServer(fixtures.Options{Proto: proto})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	tr := srv.Transport()
	tr.TLSClientConfig.ServerName = "localhost"
	if cache {
		tr.TLSClientConfig.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return srv, tr
}

// get sends a GET for size bytes and returns the TLS connection that
// carried it, with the body read.
func get(t *testing.T, srv *fixtures.Server, tr *http.Transport, size int) *tls.Conn {
	t.Helper()
	var tc *tls.Conn
	trace := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { tc, _ = ci.Conn.(*tls.Conn) }}
	req, err := http.NewRequest(http.MethodGet, srv.URLFor("/", fixtures.Behavior{Size: size}), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	if tc == nil {
		t.Fatal("the request's connection is not a *tls.Conn")
	}
	return tc
}

func TestReadSession(t *testing.T) {
	leaf := fixtures.Certificate()
	for _, tc := range []struct {
		name  string
		proto fixtures.Proto
		cache bool
		alpn  string
	}{
		{"http/1.1, no cache", fixtures.HTTPS1, false, "http/1.1"},
		{"http/1.1, cache", fixtures.HTTPS1, true, "http/1.1"},
		{"h2, cache", fixtures.HTTP2, true, "h2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, tr := tlsServer(t, tc.proto, tc.cache)
			for i, resumed := range []bool{false, tc.cache} {
				conn := get(t, srv, tr, 10)
				tr.CloseIdleConnections()
				s, ok := ReadSession(conn)
				if !ok {
					t.Fatalf("connection %d: no session", i)
				}
				cache := CacheNone
				if tc.cache {
					cache = CacheSet
				}
				want := Session{
					Version: tls.VersionTLS13, CipherSuite: s.CipherSuite, ALPN: tc.alpn, Resumed: resumed,
					ServerName: "localhost", PeerCerts: 1, PeerCertBytes: len(leaf.Raw), LeafNotAfter: s.LeafNotAfter,
					VerifiedChains: 1, VerifiedCerts: 1, SessionCache: cache,
				}
				if s != want {
					t.Errorf("connection %d: session %+v, want %+v", i, s, want)
				}
				if !s.LeafNotAfter.Equal(leaf.NotAfter) {
					t.Errorf("connection %d: leaf expires %v, want %v", i, s.LeafNotAfter, leaf.NotAfter)
				}
				if s.VersionName() != "TLS 1.3" || s.CipherName() != tls.CipherSuiteName(s.CipherSuite) || s.CipherSuite == 0 {
					t.Errorf("connection %d: %s %s, want TLS 1.3 and a named cipher suite", i, s.VersionName(), s.CipherName())
				}
				snap := s.Snapshot(3*time.Millisecond, 1234)
				if snap.Version != "TLS 1.3" || snap.ALPN != tc.alpn || snap.Resumed != resumed || snap.HandshakeMs != 3 ||
					snap.MemBytes != 1234 || snap.PeerCerts != 1 || snap.ServerName != "localhost" || !snap.LeafNotAfter.Equal(leaf.NotAfter) {
					t.Errorf("connection %d: snapshot %+v", i, snap)
				}
			}
		})
	}
}

func TestReadSessionNotReady(t *testing.T) {
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	for _, tc := range []struct {
		name string
		conn *tls.Conn
	}{
		{"nil", nil},
		{"zero value", &tls.Conn{}},
		{"before the handshake", tls.Client(a, &tls.Config{ServerName: "x"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, ok := ReadSession(tc.conn); ok || s != (Session{}) {
				t.Errorf("ReadSession = %+v, %v; want nothing", s, ok)
			}
			m := Measure(Conn{TLS: tc.conn})
			if m.Total() <= 0 || m.Goroutines != 2 {
				t.Errorf("Measure = %v, want an HTTP/1 connection's memory", &m)
			}
		})
	}
}

// TestMeasureLive checks the live reading of the TLS record buffers
// against the fields themselves, fresh and after a 256 KiB response. In a
// race-enabled build Measure must not read them and gives the model.
func TestMeasureLive(t *testing.T) {
	srv, tr := tlsServer(t, fixtures.HTTPS1, false)
	var conn *tls.Conn
	for _, tc := range []struct {
		name  string
		size  int
		grown bool
	}{
		{"fresh", 10, false},
		{"after 256 KiB", 256 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn = get(t, srv, tr, tc.size)
			s, _ := ReadSession(conn)
			in := Conn{TLS: conn, Session: &s, Proto: HTTP1, BytesIn: int64(tc.size) + 2000}
			m := Measure(in)
			if !LiveBuffers {
				if want := Estimate(in); m != want || !m.Estimated {
					t.Errorf("race-enabled build: Measure = %v, want the model %v", &m, &want)
				}
				return
			}
			v := reflect.ValueOf(conn).Elem()
			raw := sizeClass(int64(v.FieldByName("rawInput").FieldByName("buf").Cap()))
			hand := sizeClass(int64(v.FieldByName("hand").FieldByName("buf").Cap()))
			send := sizeClass(int64(v.FieldByName("sendBuf").Cap()))
			if m.RawInput != raw || m.Hand != hand || m.SendBuf != send || m.Estimated {
				t.Errorf("Measure = %v; the buffers hold %d, %d, %d; want those, not estimated", &m, raw, hand, send)
			}
			if grown := m.RawInput >= 16<<10; grown != tc.grown {
				t.Errorf("raw input buffer %d B, want grown past 16 KiB: %v", m.RawInput, tc.grown)
			}
		})
	}
}

// TestEstimate checks the model, component by component.
func TestEstimate(t *testing.T) {
	fresh := &Session{PeerCerts: 1, PeerCertBytes: 480, VerifiedChains: 1, VerifiedCerts: 1}
	rsaChain := &Session{PeerCerts: 2, PeerCertBytes: 2400, VerifiedChains: 1, VerifiedCerts: 3}
	resumed := &Session{PeerCerts: 2, PeerCertBytes: 2400, Resumed: true}
	anyTLS := &tls.Conn{}
	cases := []struct {
		name                    string
		in                      Conn
		raw, hand, bufio, frame int64
		certs                   int64
		goroutines              int
		stacks, transport       int64
	}{
		{"plain HTTP/1.1", Conn{Proto: HTTP1}, 0, 0, 8192, 0, 0, 2, 8192, http1Fixed},
		{"plain, 64 KiB buffers", Conn{Proto: HTTP1, ReadBufferSize: 64 << 10, WriteBufferSize: 1000}, 0, 0, 65536 + 1024, 0, 0, 2, 8192, http1Fixed},
		{"HTTP/1.1+TLS fresh", Conn{TLS: anyTLS, Session: fresh, Proto: HTTP1, BytesIn: 5000}, 1792, 1280, 8192, 0, 8 + 24 + 8, 2, 8192, http1Fixed},
		{"HTTP/1.1+TLS after bulk", Conn{TLS: anyTLS, Session: fresh, Proto: HTTP1, BytesIn: 1 << 20}, 40960, 1280, 8192, 0, 40, 2, 8192, http1Fixed},
		{"a longer chain", Conn{TLS: anyTLS, Session: rsaChain, Proto: HTTP1}, 1792, 2688, 8192, 0, 16 + 24 + 24, 2, 8192, http1Fixed},
		{"resumed", Conn{TLS: anyTLS, Session: resumed, Proto: HTTP1}, 1792, 1280, 8192, 0, 16, 2, 8192, http1Fixed},
		{"HTTP/2 fresh", Conn{TLS: anyTLS, Session: fresh, Proto: HTTP2, BytesIn: 5000}, 1792, 1280, 8192, 0, 40, 1, 8192, http2Fixed},
		{"HTTP/2 after bulk", Conn{TLS: anyTLS, Session: fresh, Proto: HTTP2, BytesIn: 1 << 20}, 40960, 1280, 8192, 16384, 40, 1, 8192, http2Fixed},
		{"HTTP/2 from ALPN", Conn{TLS: anyTLS, Session: &Session{ALPN: "h2"}}, 1792, 1280, 8192, 0, 0, 1, 8192, http2Fixed},
		{"HTTP/2 ignores the transport's buffer sizes", Conn{TLS: anyTLS, Session: fresh, Proto: HTTP2, ReadBufferSize: 1 << 20}, 1792, 1280, 8192, 0, 40, 1, 8192, http2Fixed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := Estimate(tc.in)
			want := Memory{
				RawInput: tc.raw, Hand: tc.hand, Bufio: tc.bufio, FrameBuf: tc.frame, Certs: tc.certs,
				Goroutines: tc.goroutines, Stacks: tc.stacks, Transport: tc.transport, Estimated: true,
			}
			if tc.in.TLS != nil {
				want.TLSState = tlsStructs + tlsOther
				if s := tc.in.Session; s != nil {
					want.SharedCerts = int64(s.PeerCertBytes + s.PeerCerts*sharedCertOverhead)
				}
			} else if tc.in.Proto != HTTP2 {
				want.Estimated = false
			}
			if m != want {
				t.Errorf("Estimate =\n%v, want\n%v", &m, &want)
			}
			if tls := want.RawInput + want.Hand + want.TLSState + want.Certs; m.TLS() != tls || m.Total() != tls+want.Bufio+want.FrameBuf+want.Transport+want.Stacks {
				t.Errorf("TLS() = %d, Total() = %d, do not add up the components of %v", m.TLS(), m.Total(), &m)
			}
		})
	}
}

// Transport settings that cannot be read make the result estimated.
func TestMeasureSettingsUnknown(t *testing.T) {
	for _, tc := range []struct {
		in   Conn
		want bool
	}{
		{Conn{Proto: HTTP1}, false},
		{Conn{Proto: HTTP1, SettingsUnknown: true}, true},
		{Conn{Proto: HTTP2}, true},
	} {
		if m := Measure(tc.in); m.Estimated != tc.want {
			t.Errorf("Measure(%+v).Estimated = %v, want %v", tc.in, m.Estimated, tc.want)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{CacheUnknown.String(), "unknown"}, {CacheNone.String(), "none"}, {CacheSet.String(), "set"},
		{ProtoUnknown.String(), "unknown"}, {HTTP1.String(), "http/1.1"}, {HTTP2.String(), "h2"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// sizeClass agrees with a plain search of the class table for every size.
func TestSizeClassTables(t *testing.T) {
	for n := int64(1); n <= maxSmallSize; n++ {
		want := int64(0)
		for _, c := range sizeClasses {
			if c >= n {
				want = c
				break
			}
		}
		if got := sizeClass(n); got != want {
			t.Fatalf("sizeClass(%d) = %d, want %d", n, got, want)
		}
	}
}
