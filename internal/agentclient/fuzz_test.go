package agentclient

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// seedSnapshot is a snapshot as an agent sends it, with every part filled.
func seedSnapshot(tb testing.TB) []byte {
	tb.Helper()
	s := snapshot.Snapshot{
		Version: snapshot.Version,
		Time:    time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		PID:     4242,
		Program: "checkout",
		Process: &snapshot.Process{CPUPercent: 12.5, RSSBytes: 1 << 26, Goroutines: 40, Threads: 9, FDs: 30, TCP: snapshot.TCP{Established: 4, TimeWait: 120}},
		Hosts: []snapshot.Host{{
			Client: "default", Scheme: "https", Host: "api.example.com:443", Open: 4, Active: 3, Idle: 1, Waiting: 2,
			Requests: 1000, RPS: 50, Latency: snapshot.Percentiles{Count: 1000, P50: 12, P95: 40, P99: 90, Max: 120},
			ErrorClasses: map[string]int64{"timeout": 2}, Series: []snapshot.Point{{Time: 1700000000, Requests: 50}},
		}},
		Conns: []snapshot.Conn{{ID: 1, Client: "default", Host: "api.example.com:443", Proto: "h2", State: "active",
			TLS: &snapshot.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", ALPN: "h2"}}},
		Diagnoses: []snapshot.Diagnosis{{Kind: snapshot.KindPoolSaturated, Client: "default", Host: "api.example.com:443",
			Severity: snapshot.SeverityWarning, Summary: "requests wait", Advice: "raise MaxConnsPerHost",
			Evidence: map[string]float64{"conn_wait_p95_ms": 30}, Sites: []snapshot.Site{{Function: "main.f", File: "f.go", Line: 3, Count: 2}}}},
	}
	data, err := json.Marshal(&s)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// FuzzDecodeSnapshot feeds arbitrary bytes to the snapshot decoder: it
// must not panic, and what it accepts is a snapshot of this version that
// survives a round trip.
func FuzzDecodeSnapshot(f *testing.F) {
	seed := seedSnapshot(f)
	f.Add(seed)
	f.Add([]byte(`{"version":1,"pid":1}`))
	f.Add([]byte(`{"version":2,"pid":1}`))
	f.Add([]byte(`{"version":1,"pid":1} {"version":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"version":1,"pid":1,"hosts":[{"requests":1e400}]}`))
	f.Add([]byte(`{"version":1,"pid":1,"hosts":"x"}`))
	f.Add(seed[:len(seed)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := decodeSnapshot(data)
		if err != nil {
			if s != nil {
				t.Fatal("snapshot returned with an error")
			}
			return
		}
		if s.Version != snapshot.Version || s.PID <= 0 {
			t.Fatalf("accepted version %d, pid %d", s.Version, s.PID)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := decodeSnapshot(again); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzDecodeInfo checks the info decoder: no panic, and what it accepts
// is an httptop agent of this protocol.
func FuzzDecodeInfo(f *testing.F) {
	good, _ := json.Marshal(snapshot.AgentInfo{Agent: snapshot.AgentName, Protocol: snapshot.ProtocolVersion, SnapshotVersion: snapshot.Version, PID: 7})
	f.Add(good)
	f.Add([]byte(`{"agent":"httptop","protocol":2,"snapshot_version":1,"pid":1}`))
	f.Add([]byte(`{"agent":"gops"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := decodeInfo(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error %q is not one line", err)
			}
			if !errors.Is(err, ErrNotAgent) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v is neither ErrNotAgent nor ErrVersion", err)
			}
			return
		}
		if in.Agent != snapshot.AgentName || in.Protocol != snapshot.ProtocolVersion || in.SnapshotVersion != snapshot.Version || in.PID <= 0 {
			t.Fatalf("accepted %+v", in)
		}
	})
}

// FuzzReplyError checks the reading of a reply's status, protocol header
// and error body: nil exactly for a 200 with this protocol's header, and
// otherwise one bounded line.
func FuzzReplyError(f *testing.F) {
	f.Add(200, "1", []byte(`{}`))
	f.Add(401, "1", []byte(`{"error":"unauthorized","message":"no"}`))
	f.Add(409, "1", []byte(`{"error":"busy","message":"later"}`))
	f.Add(409, "1", []byte(`{"error":"profiler_in_use","message":"later"}`))
	f.Add(404, "2", []byte(``))
	f.Add(200, "", []byte(`hello`))
	f.Add(500, "1", []byte("\x00\xff\n\r{"))
	f.Add(400, "1x", bytes.Repeat([]byte("a"), 10000))
	f.Fuzz(func(t *testing.T, status int, proto string, body []byte) {
		h := http.Header{}
		if proto != "" {
			h.Set(snapshot.ProtocolHeader, proto)
		}
		err := replyError("the agent", status, h, bytes.NewReader(body))
		ok := status == 200 && h.Get(snapshot.ProtocolHeader) == "1"
		if (err == nil) != ok {
			t.Fatalf("status %d, header %q: error %v", status, proto, err)
		}
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 2000 {
				t.Fatalf("message %q is not one bounded line", msg)
			}
		}
	})
}

// FuzzStream feeds arbitrary bytes as a stream body to the line reader and
// the snapshot decoder, as Stream does: no panic, no line above the limit,
// and the end of the data is reported.
func FuzzStream(f *testing.F) {
	seed := seedSnapshot(f)
	f.Add(append(append(append([]byte{}, seed...), '\n'), seed...), 1<<20)
	f.Add(append(append([]byte{}, seed...), "\n\n"...), 1<<20)
	f.Add([]byte("{}\n{\"version\":1,\"pid\":1}\n"), 16)
	f.Add([]byte("no newline"), 4)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max <= 0 || max > 1<<20 {
			max = 1 << 20
		}
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		for {
			line, err := readLine(br, max)
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, errTooLarge) {
					t.Fatalf("readLine: unexpected error %v", err)
				}
				return
			}
			if len(line) > max {
				t.Fatalf("line of %d bytes past the limit %d", len(line), max)
			}
			if bytes.IndexByte(line, '\n') >= 0 {
				t.Fatal("line holds a newline")
			}
			decodeSnapshot(line)
		}
	})
}
