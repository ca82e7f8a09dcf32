package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// encodeSnapshot builds a snapshot of n connections with the awkward
// values encoding/json has rules for: HTML characters, control
// characters, non-ASCII and invalid UTF-8 in strings, tiny and huge
// floats, zero values of omitempty fields, TLS with and without its
// optional fields.
// With plain set, strings are the plain ASCII of real connections.
func encodeSnapshot(n int, seed uint64, plain bool) *snapshot.Snapshot {
	rng := rand.New(rand.NewPCG(seed, 7))
	strs := []string{"", "api.example.com:443", "a<b>&c", "tab\there", "quote\"back\\slash", "naïve 🚀", "bad\xffutf8", "\u2028line", "h2", "10.0.0.1:40000"}
	if plain {
		strs = []string{"default", "api.example.com:443", "h2", "http/1.1", "active", "idle", "10.0.0.1:40000", "TLS_AES_128_GCM_SHA256"}
	}
	floats := []float64{0, 1, 0.5, 1e-7, 3.2e-9, 1e21, 123456.789, 1e20, -2.5, 0.000001, 42}
	s := &snapshot.Snapshot{
		Version: snapshot.Version, Time: time.Date(2026, 3, 14, 9, 26, 53, 123456789, time.UTC), PID: 4242, Program: "prog<1>",
		Process:   &snapshot.Process{CPUPercent: 12.5, GCCPUPercent: 3.25, RunnableGoroutines: 2},
		Hosts:     []snapshot.Host{{Client: "default", Scheme: "https", Host: "conns.example:443", NewConns: 3, ReusedConns: 4}},
		Diagnoses: []snapshot.Diagnosis{{Kind: snapshot.KindPoolSaturated, Summary: "conns"}},
	}
	pick := func() string { return strs[rng.IntN(len(strs))] }
	for i := range n {
		c := snapshot.Conn{
			ID: uint64(i + 1), Client: pick(), Host: pick(), Proto: pick(), State: snapshot.ConnState(pick()),
			AgeSeconds: floats[rng.IntN(len(floats))], IdleSeconds: floats[rng.IntN(len(floats))],
			Requests: rng.Int64N(1 << 40), Streams: rng.IntN(100), MaxStreams: rng.IntN(250),
			BytesIn: rng.Int64N(1 << 50), BytesOut: -rng.Int64N(3), DialMs: floats[rng.IntN(len(floats))],
			LocalAddr: pick(), RemoteAddr: pick(), Inferred: rng.IntN(2) == 0,
			MemBytes: rng.Int64N(1 << 30), MemEstimated: rng.IntN(2) == 0,
		}
		if rng.IntN(3) > 0 {
			c.TLS = &snapshot.TLS{Version: "TLS 1.3", Cipher: pick(), ALPN: pick(), Resumed: rng.IntN(2) == 0, ServerName: pick(),
				HandshakeMs: floats[rng.IntN(len(floats))], PeerCerts: rng.IntN(4), PeerCertBytes: rng.IntN(9000), MemBytes: rng.Int64N(1 << 20)}
			if rng.IntN(2) == 0 {
				c.TLS.LeafNotAfter = time.Date(2027, 1, 2, 3, 4, 5, rng.IntN(1e9), time.FixedZone("x", 3600))
			}
		}
		s.Conns = append(s.Conns, c)
	}
	return s
}

// TestAppendSnapshotMatchesEncodingJSON checks that the agent's encoder
// writes exactly what encoding/json writes.
func TestAppendSnapshotMatchesEncodingJSON(t *testing.T) {
	for seed := range uint64(20) {
		for _, n := range []int{0, 1, 37} {
			s := encodeSnapshot(n, seed, seed%4 == 3)
			if seed == 19 {
				s = realSnapshot(n)
			}
			if seed%5 == 1 {
				// A snapshot of connection changes.
				s.ConnChanges, s.ConnIDs = true, []uint64{3, 1, 4, 1, 5, 9, 2, 6}
			}
			if n == 0 && seed%2 == 0 {
				s.Conns = nil // "conns": null, as encoding/json writes a nil slice
			}
			want, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := appendSnapshot([]byte("prefix"), s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(got, []byte("prefix")) || !bytes.Equal(got[len("prefix"):], want) {
				t.Fatalf("seed %d, %d conns:\n got %s\nwant %s", seed, n, got, want)
			}
		}
	}
}

// realSnapshot builds a snapshot of n TLS connections as a program's
// collector reports them: a few clients and hosts, each connection's row
// beside those of its host, sharing their strings and the server's
// certificate, with addresses, ages and counters of their own.
func realSnapshot(n int) *snapshot.Snapshot {
	s := encodeSnapshot(0, 1, true)
	hosts := []string{"api.example.com:443", "auth.example.com:443", "s3.eu-west-1.amazonaws.com:443", "10.0.3.7:8443"}
	notAfter := time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		h := hosts[i*len(hosts)/n]
		s.Conns = append(s.Conns, snapshot.Conn{
			ID: uint64(i + 1), Client: "default", Host: h, Proto: "HTTP/1.1", State: snapshot.ConnActive,
			AgeSeconds: 600 + float64(i)*0.0137, Requests: int64(i % 50), BytesIn: int64(9000 + i), BytesOut: 180,
			DialMs: 1.25 + float64(i%97)/7, LocalAddr: fmt.Sprintf("127.0.0.1:%d", 20000+i), RemoteAddr: "127.0.0.1:8443",
			MemBytes: 75000 + int64(i%13),
			TLS: &snapshot.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "http/1.1", ServerName: h[:len(h)-4],
				HandshakeMs: 3 + float64(i%89)/11, PeerCerts: 1, PeerCertBytes: 500, LeafNotAfter: notAfter, MemBytes: 40000},
		})
	}
	return s
}

// BenchmarkEncodeSnapshot compares the agent's encoder with
// encoding/json on 10,000 connections, as a stream writes them: of
// varied strings (as in TestAppendSnapshotMatchesEncodingJSON), and as
// a program's collector reports them (realSnapshot).
func BenchmarkEncodeSnapshot(b *testing.B) {
	s, real := encodeSnapshot(10000, 1, true), realSnapshot(10000)
	for _, bc := range []struct {
		name string
		enc  func([]byte) ([]byte, error)
	}{
		{"agent", func(buf []byte) ([]byte, error) { return appendSnapshot(buf[:0], s) }},
		{"agent_real", func(buf []byte) ([]byte, error) { return appendSnapshot(buf[:0], real) }},
		{"encoding_json", func(buf []byte) ([]byte, error) {
			w := bytes.NewBuffer(buf[:0])
			err := json.NewEncoder(w).Encode(s)
			return w.Bytes(), err
		}},
	} {
		b.Run(fmt.Sprintf("%s/conns=%d", bc.name, len(s.Conns)), func(b *testing.B) {
			b.ReportAllocs()
			var buf []byte
			for b.Loop() {
				var err error
				if buf, err = bc.enc(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
