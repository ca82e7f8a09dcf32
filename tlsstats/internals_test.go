package tlsstats

import (
	"testing"

	"github.com/httptop/httptop/fixtures"
)

// TestSessionCacheInternals pins the unexported field of crypto/tls that
// sessionCache reads (tls.Conn.config, a *tls.Config): if a Go release
// renames or retypes it, this fails loudly, rather than every connection
// quietly reporting CacheUnknown (and no_tls_resumption losing its
// advice).
func TestSessionCacheInternals(t *testing.T) {
	config, cache := configFields()
	if config == nil || cache == nil {
		t.Fatal("crypto/tls.Conn has no field config of type *tls.Config (or tls.Config no ClientSessionCache): update configFields in session.go for this Go release")
	}
	for _, withCache := range []bool{false, true} {
		srv, tr := tlsServer(t, fixtures.HTTPS1, withCache)
		conn := get(t, srv, tr, 10)
		want := map[bool]Cache{false: CacheNone, true: CacheSet}[withCache]
		if got := sessionCache(conn); got != want {
			t.Errorf("cache %v: sessionCache = %v, want %v", withCache, got, want)
		}
	}
}
