package poolstats

import (
	"fmt"
	"testing"

	"github.com/httptop/httptop/snapshot"
)

// populate builds a Stats with hosts × connsPerHost open connections, each
// host with a few hundred requests recorded in the current windows.
func populate(hosts, connsPerHost int, now int64) *Stats {
	s := New(Options{MaxHosts: hosts + 1})
	c := s.Client("bench")
	for i := range hosts {
		h := c.Host("https", fmt.Sprintf("host-%d.example:443", i))
		for j := range connsPerHost {
			conn := s.NewConn(h, DialTiming{Start: now - 2e6, End: now - 1e6}, nil, nil)
			conn.Used(now-1e6, 0, nil)
			conn.SetProto(1 + j%2)
			if j%3 == 0 {
				conn.BeginRequest()
			}
		}
		for k := range 200 {
			h.RequestStarted(now)
			h.WaitStarted()
			h.GotConn(now, k%10 != 0, int64(k)*1000)
			h.Responded(now, int64(k)*50_000, 0, 200, Got{})
			h.RequestEnded()
		}
	}
	return s
}

// BenchmarkFill measures a whole snapshot of 1,000 hosts and 10,000 live
// connections: percentiles, rates, series, connection rows, diagnoses.
// Goal: under 5 ms.
func BenchmarkFill(b *testing.B) {
	for _, size := range []struct{ hosts, conns int }{{10, 10}, {100, 10}, {1000, 10}} {
		b.Run(fmt.Sprintf("hosts=%d/conns=%d", size.hosts, size.hosts*size.conns), func(b *testing.B) {
			now := Now()
			s := populate(size.hosts, size.conns, now)
			b.ReportAllocs()
			for b.Loop() {
				var snap snapshot.Snapshot
				s.Fill(&snap, now)
				if len(snap.Conns) != size.hosts*size.conns {
					b.Fatalf("conns = %d", len(snap.Conns))
				}
			}
		})
	}
}

func TestFillCounts(t *testing.T) {
	now := Now()
	s := populate(3, 6, now)
	snap := fillAt(s, now)
	if len(snap.Hosts) != 3 || len(snap.Conns) != 18 {
		t.Fatalf("hosts %d conns %d, want 3 and 18", len(snap.Hosts), len(snap.Conns))
	}
	for _, h := range snap.Hosts {
		if h.Open != 6 || h.Active != 2 || h.Idle != 4 || h.Requests != 200 || h.NewConns != 20 || h.ReusedConns != 180 {
			t.Errorf("host %s: open %d active %d idle %d requests %d new %d reused %d", h.Host, h.Open, h.Active, h.Idle, h.Requests, h.NewConns, h.ReusedConns)
		}
		if h.Latency.Count != 200 || h.ConnWait.Count != 200 {
			t.Errorf("host %s: latency n %d wait n %d, want 200", h.Host, h.Latency.Count, h.ConnWait.Count)
		}
	}
	streams := 0
	for _, c := range snap.Conns {
		streams += c.Streams
	}
	if streams != 3 { // one active HTTP/2 connection with one stream per host
		t.Errorf("streams = %d, want 3", streams)
	}
}

// TestFillConnYoungerThanSnapshot: a connection dialed, and a request
// finished, after the instant a snapshot is taken as of (which another
// goroutine may do while Fill runs) have an age and an idle time of 0, not
// a negative one that a capture would refuse to read.
func TestFillConnYoungerThanSnapshot(t *testing.T) {
	now := Now()
	s := New(Options{})
	h := s.Client("c").Host("http", "a:80")
	conn := s.NewConn(h, DialTiming{Start: now + 1e6, End: now + 2e6}, nil, nil)
	conn.Used(now+3e6, 0, nil)
	conn.BeginRequest()
	conn.EndRequest(now+4e6, true)
	snap := fillAt(s, now)
	if len(snap.Conns) != 1 {
		t.Fatalf("conns = %d, want 1", len(snap.Conns))
	}
	if c := snap.Conns[0]; c.AgeSeconds != 0 || c.IdleSeconds != 0 {
		t.Errorf("age %v s idle %v s, want 0 and 0", c.AgeSeconds, c.IdleSeconds)
	}
}
