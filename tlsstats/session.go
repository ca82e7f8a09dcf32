package tlsstats

import (
	"crypto/tls"
	"reflect"
	"sync"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// Session is what a connection's TLS handshake settled. It does not change
// once the handshake is done, so it is read once per connection (see
// ReadSession), when a request first uses the connection.
type Session struct {
	// Version is the TLS version (tls.VersionTLS13, ...).
	Version uint16
	// CipherSuite is the negotiated cipher suite (tls.TLS_AES_128_GCM_SHA256, ...).
	CipherSuite uint16
	// ALPN is the application protocol negotiated ("h2", "http/1.1"), or
	// empty.
	ALPN string
	// Resumed is true when the handshake resumed an earlier session (a
	// session ticket from the client's ClientSessionCache) instead of a
	// full handshake with certificate verification.
	Resumed bool
	// ServerName is the name the client asked for (SNI) and verified the
	// certificate against.
	ServerName string
	// PeerCerts is the number of certificates the server presented (or,
	// on a resumed session, that the session recorded), PeerCertBytes
	// their total DER size and LeafNotAfter the expiry of the first.
	PeerCerts     int
	PeerCertBytes int
	LeafNotAfter  time.Time
	// VerifiedChains and VerifiedCerts count the chains the client built
	// to a trusted root and the certificates in them.
	VerifiedChains int
	VerifiedCerts  int
	// SessionCache tells whether the client's tls.Config has a
	// ClientSessionCache, without which no connection can resume.
	SessionCache Cache
}

// Cache tells whether a client can resume TLS sessions.
type Cache uint8

// What a Session knows of the client's session cache.
const (
	// CacheUnknown: the configuration could not be read.
	CacheUnknown Cache = iota
	// CacheNone: tls.Config.ClientSessionCache is nil, so every new
	// connection does a full handshake.
	CacheNone
	// CacheSet: tls.Config.ClientSessionCache is set.
	CacheSet
)

// String returns "unknown", "none" or "set".
func (c Cache) String() string {
	switch c {
	case CacheNone:
		return "none"
	case CacheSet:
		return "set"
	}
	return "unknown"
}

// ReadSession reads what tc's handshake settled. It reports false when the
// handshake has not completed (or failed), in which case there is nothing
// to read yet. It takes tc's handshake lock, so it is safe while other
// goroutines use tc, and costs about a microsecond: call it once per
// connection, not per request.
func ReadSession(tc *tls.Conn) (s Session, ok bool) {
	if tc == nil {
		return Session{}, false
	}
	defer func() {
		// A tls.Conn not made by tls.Client or tls.Server (the zero
		// value) has no configuration to read.
		if recover() != nil {
			s, ok = Session{}, false
		}
	}()
	st := tc.ConnectionState()
	if !st.HandshakeComplete {
		return Session{}, false
	}
	s = Session{
		Version:        st.Version,
		CipherSuite:    st.CipherSuite,
		ALPN:           st.NegotiatedProtocol,
		Resumed:        st.DidResume,
		ServerName:     st.ServerName,
		PeerCerts:      len(st.PeerCertificates),
		VerifiedChains: len(st.VerifiedChains),
		SessionCache:   sessionCache(tc),
	}
	for _, c := range st.PeerCertificates {
		s.PeerCertBytes += len(c.Raw)
	}
	if len(st.PeerCertificates) > 0 {
		s.LeafNotAfter = st.PeerCertificates[0].NotAfter
	}
	for _, ch := range st.VerifiedChains {
		s.VerifiedCerts += len(ch)
	}
	return s, true
}

// VersionName returns the TLS version as "TLS 1.3", "TLS 1.2", ....
func (s *Session) VersionName() string { return tls.VersionName(s.Version) }

// CipherName returns the cipher suite's standard name, such as
// "TLS_AES_128_GCM_SHA256".
func (s *Session) CipherName() string {
	if name, ok := cipherNames()[s.CipherSuite]; ok {
		return name
	}
	return tls.CipherSuiteName(s.CipherSuite)
}

// cipherNames maps the cipher suites crypto/tls implements to their names.
// tls.CipherSuiteName builds the list of suites on every call, which a
// snapshot of thousands of connections would feel.
var cipherNames = sync.OnceValue(func() map[uint16]string {
	m := make(map[uint16]string)
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, c := range list {
			m[c.ID] = c.Name
		}
	}
	return m
})

// Snapshot returns the session as a snapshot's conns[].tls, with the
// handshake time and the TLS part of the connection's memory (see
// Memory.TLS).
func (s *Session) Snapshot(handshake time.Duration, memBytes int64) *snapshot.TLS {
	return &snapshot.TLS{
		Version:       s.VersionName(),
		Cipher:        s.CipherName(),
		ALPN:          s.ALPN,
		Resumed:       s.Resumed,
		ServerName:    s.ServerName,
		HandshakeMs:   float64(handshake) / 1e6,
		PeerCerts:     s.PeerCerts,
		PeerCertBytes: s.PeerCertBytes,
		LeafNotAfter:  s.LeafNotAfter,
		MemBytes:      memBytes,
	}
}

// configFields locates tls.Conn's unexported config pointer and, in
// tls.Config, ClientSessionCache, once per process. The layout of a type
// never changes while a program runs, so this is not state.
var configFields = sync.OnceValues(func() (config, cache []int) {
	f, ok := reflect.TypeFor[tls.Conn]().FieldByName("config")
	if !ok || f.Type != reflect.TypeFor[*tls.Config]() {
		return nil, nil
	}
	c, _ := reflect.TypeFor[tls.Config]().FieldByName("ClientSessionCache")
	return f.Index, c.Index
})

// sessionCache reads whether tc's configuration has a ClientSessionCache.
// The configuration is set when tc is created and never written after, so
// reading it races with nothing. Reflection on another package's
// unexported field may only read; a layout this code does not recognise
// gives CacheUnknown.
func sessionCache(tc *tls.Conn) (c Cache) {
	defer func() {
		if recover() != nil {
			c = CacheUnknown
		}
	}()
	config, cache := configFields()
	if config == nil {
		return CacheUnknown
	}
	cfg := reflect.ValueOf(tc).Elem().FieldByIndex(config)
	if cfg.IsNil() || cfg.Elem().FieldByIndex(cache).IsNil() {
		return CacheNone
	}
	return CacheSet
}
