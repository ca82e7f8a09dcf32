//go:build !race

package tlsstats

import (
	"testing"

	"github.com/httptop/httptop/fixtures"
)

// TestBufferInternals pins the unexported fields of crypto/tls that
// readBuffers reads (tls.Conn.rawInput and hand, bytes.Buffer with its
// buf, and sendBuf, []byte): if a Go release changes them, this fails
// loudly, rather than Measure quietly estimating every connection's
// buffers (Memory.Estimated) in builds that are meant to read them.
func TestBufferInternals(t *testing.T) {
	if bufferFields() == nil {
		t.Fatal("crypto/tls.Conn lacks rawInput/hand (bytes.Buffer with field buf []byte) or sendBuf ([]byte): update bufferFields in live_norace.go for this Go release")
	}
	srv, tr := tlsServer(t, fixtures.HTTPS1, false)
	conn := get(t, srv, tr, 64<<10)
	raw, hand, _, ok := readBuffers(conn)
	if !ok || raw < 16<<10 || hand == 0 {
		t.Errorf("readBuffers after a 64 KiB response = raw %d, hand %d, ok %v: want the grown record buffer and the handshake buffer", raw, hand, ok)
	}
	s, _ := ReadSession(conn)
	if m := Measure(Conn{TLS: conn, Session: &s, Proto: HTTP1, BytesIn: 64 << 10}); m.Estimated {
		t.Errorf("Measure of a live connection is estimated: %v", &m)
	}
}
