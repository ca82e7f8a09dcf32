package agent

import (
	"context"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/httptop/httptop/snapshot"
)

func TestProcessSample(t *testing.T) {
	p := newProcessSampler()
	got := p.sample(t.Context(), nil, nil)
	if got.Goroutines <= 0 || got.UptimeSeconds <= 0 || got.CPUPercent < 0 {
		t.Errorf("sample = %+v", got)
	}
	if runtime.GOOS == "linux" && (got.RSSBytes == 0 || got.Threads == 0 || got.FDs == 0) {
		t.Errorf("sample on linux = %+v, want rss, threads and fds", got)
	}
}

func TestProcessSampleCPU(t *testing.T) {
	now := time.Now()
	cpu := 2 * time.Second
	p := newProcessSampler()
	p.read = func() (procStat, error) { return procStat{cpu: cpu}, nil }
	p.sockets = func(context.Context) ([]socket, []socket, error) { return nil, nil, nil }
	p.sample(t.Context(), nil, nil)

	// Half a core over the last second.
	p.at = now.Add(-time.Second)
	p.cpu = cpu - 500*time.Millisecond
	if got := p.sample(t.Context(), nil, nil).CPUPercent; got < 45 || got > 50.1 {
		t.Errorf("cpu percent = %.1f, want about 50", got)
	}
	// Within minProcessSample the last reading is reused.
	cpu += time.Hour
	if got := p.sample(t.Context(), nil, nil).CPUPercent; got > 50.1 {
		t.Errorf("cpu percent = %.1f right after a reading, want the last reading", got)
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestProcessTCPAttribution checks which sockets are counted: all the
// sockets the process holds, and those orphaned sockets (closed, kept by
// the kernel) that are on a local address it listens on or towards a
// remote address it talked to.
func TestProcessTCPAttribution(t *testing.T) {
	owned := []socket{
		{state: "LISTEN", local: ap("0.0.0.0:8080")},
		{state: "LISTEN", local: ap("127.0.0.1:6060")},
		{state: "ESTABLISHED", local: ap("10.0.0.1:40000"), remote: ap("10.0.0.9:443")},
		{state: "ESTABLISHED", local: ap("10.0.0.1:8080"), remote: ap("10.0.0.7:51000")},
		{state: "CLOSE_WAIT", local: ap("10.0.0.1:40001"), remote: ap("10.0.0.8:5432")},
		{state: "SYN_SENT", local: ap("10.0.0.1:40002"), remote: ap("10.0.0.10:80")},
		{state: "FIN_WAIT2", local: ap("10.0.0.1:40003"), remote: ap("10.0.0.9:443")},
	}
	orphans := []socket{
		{state: "TIME_WAIT", local: ap("10.0.0.1:41000"), remote: ap("10.0.0.9:443")},   // to a peer
		{state: "TIME_WAIT", local: ap("10.0.0.1:41001"), remote: ap("10.0.0.9:443")},   // to a peer
		{state: "TIME_WAIT", local: ap("10.0.0.1:8080"), remote: ap("10.0.0.6:50000")},  // on a listener (any address)
		{state: "TIME_WAIT", local: ap("127.0.0.1:6060"), remote: ap("127.0.0.1:5555")}, // on a listener
		{state: "LAST_ACK", local: ap("10.0.0.1:41002"), remote: ap("10.0.0.11:80")},    // to a peer the collector knows
		{state: "TIME_WAIT", local: ap("10.0.0.1:41003"), remote: ap("10.0.0.99:443")},  // someone else's
		{state: "TIME_WAIT", local: ap("10.0.0.2:6060"), remote: ap("10.0.0.6:50000")},  // port of a listener, other address
		{state: "FIN_WAIT1", local: ap("10.0.0.1:41004"), remote: ap("10.0.0.8:5432")},  // to a peer
	}
	conns := []snapshot.Conn{{RemoteAddr: "10.0.0.11:80"}, {RemoteAddr: "[::ffff:10.0.0.12]:80"}, {RemoteAddr: ""}}

	p := newProcessSampler()
	p.sockets = func(context.Context) ([]socket, []socket, error) { return owned, orphans, nil }
	now := time.Now()
	got := p.tcp(t.Context(), conns, now)
	want := snapshot.TCP{Established: 2, SynSent: 1, TimeWait: 4, CloseWait: 1, FinWait: 2, Listen: 2, Other: 1}
	if got != want {
		t.Errorf("tcp = %+v\nwant %+v", got, want)
	}
	if _, ok := p.peers[ap("10.0.0.12:80")]; !ok {
		t.Error("an IPv4-mapped remote address of the collector was not remembered unmapped")
	}

	// Peers are remembered after the sockets close, then forgotten.
	p.sockets = func(context.Context) ([]socket, []socket, error) { return nil, orphans[:1], nil }
	if got := p.tcp(t.Context(), nil, now.Add(time.Minute)); got.TimeWait != 1 {
		t.Errorf("a minute later: time_wait = %d, want 1 (the peer is remembered)", got.TimeWait)
	}
	if got := p.tcp(t.Context(), nil, now.Add(time.Minute+peerMemory+time.Second)); got.TimeWait != 0 {
		t.Errorf("past peerMemory: time_wait = %d, want 0 (the peer is forgotten)", got.TimeWait)
	}
}

func TestProcessForgetPeersBounded(t *testing.T) {
	p := newProcessSampler()
	now := time.Now()
	for i := range maxPeers + 10 {
		p.peers[netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 80)] = now.Add(time.Duration(i))
	}
	p.forgetPeers(now)
	if len(p.peers) != maxPeers {
		t.Fatalf("%d peers, want %d", len(p.peers), maxPeers)
	}
	if _, ok := p.peers[netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 0}), 80)]; ok {
		t.Error("the oldest peer was kept")
	}
}

// TestProcessFDsThrottled: counting descriptors that costs 5 ms is done
// again only after fdCostFactor times that (2 s), while other figures are
// read at every reading.
func TestProcessFDsThrottled(t *testing.T) {
	p := newProcessSampler()
	calls := 0
	p.fds = func() (int, error) {
		calls++
		time.Sleep(5 * time.Millisecond) // what the count costs, not a wait
		return 100 + calls, nil
	}
	p.sockets = func(context.Context) ([]socket, []socket, error) { return nil, nil, nil }
	if got := p.sample(t.Context(), nil, nil).FDs; got != 101 || calls != 1 {
		t.Fatalf("first reading: fds %d after %d counts, want 101 after 1", got, calls)
	}
	if p.fdsEvery < fdCostFactor*5*time.Millisecond {
		t.Errorf("next count after %v, want at least %v", p.fdsEvery, fdCostFactor*5*time.Millisecond)
	}
	p.at = p.at.Add(-time.Second) // a reading due now
	if got := p.sample(t.Context(), nil, nil).FDs; got != 101 || calls != 1 {
		t.Errorf("a reading 1 s later: fds %d after %d counts, want the last count (101), not a new one", got, calls)
	}
	p.at, p.fdsAt = p.at.Add(-time.Minute), p.fdsAt.Add(-time.Minute)
	if got := p.sample(t.Context(), nil, nil).FDs; got != 102 || calls != 2 {
		t.Errorf("a reading once the count is due: fds %d after %d counts, want 102 after 2", got, calls)
	}
}
