package agent

import (
	"context"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/httptop/httptop/snapshot"
)

// processStart approximates the process's start: the probe package is
// initialised within milliseconds of it.
var processStart = time.Now()

const (
	// minProcessSample is the least time between two readings of the
	// process's figures: snapshots asked for more often (several streams
	// at 100 ms) share the last reading instead of reading /proc again.
	minProcessSample = 200 * time.Millisecond
	// peerMemory is how long a remote address the process talked to is
	// remembered, to attribute its closed sockets (TIME_WAIT lasts 60 s
	// on Linux).
	peerMemory = 2 * time.Minute
	// maxPeers bounds that memory.
	maxPeers = 4096
)

// processSampler reads the figures of the whole process for snapshots:
// CPU, memory, goroutines, threads, file descriptors, TCP sockets and the
// Go runtime's figures (runtimeReader). CPU percent and the runtime's
// rates are computed over the time since its previous reading (since the
// process started, for the first).
type processSampler struct {
	mu      sync.Mutex
	at      time.Time     // time of the last reading; zero before the first
	cpu     time.Duration // CPU time at the last reading
	last    snapshot.Process
	peers   map[netip.AddrPort]time.Time // remote addresses, last seen
	read    func() (procStat, error)     // the OS's figures; readProcStat
	sockets func(context.Context) ([]socket, []socket, error)
	rt      *runtimeReader // the Go runtime's figures
	cpuWin  *cpuWindow     // CPU per request and the cores it may use
	fds     func() (int, error)

	// File descriptors are counted at most every fdsEvery, which grows
	// with the time a count takes: a stat on Linux 6.2 and later, but
	// on older kernels listing /proc/self/fd of a process with 10,000
	// connections costs the kernel about 15 ms.
	fdsAt    time.Time
	fdsEvery time.Duration
	lastFDs  int

	// The TCP table is read at most every tcpEvery, which grows with
	// the time a read takes: /proc/net/tcp of a host with thousands of
	// TIME_WAIT sockets takes tens of milliseconds to produce.
	tcpAt    time.Time
	tcpEvery time.Duration
	lastTCP  snapshot.TCP
}

// tcpCostFactor bounds the share of a core the TCP table may take: it is
// read again at the earliest after tcpCostFactor times its last cost
// (1000: a tenth of a percent of a core at most, a tenth of the agent's
// budget, see agentBudget; a table of 10,000 sockets of the program's
// and 5,000 in TIME_WAIT costs 50 to 100 ms, so it is read every one to
// two minutes, and snapshots in between carry the last reading with its
// age, tcp.age_s; a table of a few hundred sockets costs a millisecond
// and is read every second).
const tcpCostFactor = 1000

// fdCostFactor does the same for counting file descriptors (400: a
// quarter of a percent of a core at most; on Linux 6.2 and later a count
// costs microseconds and is taken for every sample).
const fdCostFactor = 400

// procStat holds what the operating system says about the process.
type procStat struct {
	cpu     time.Duration // user + system CPU time since start
	rss     uint64
	threads int
}

// socket is one TCP socket: its state (gopsutil's names: ESTABLISHED,
// TIME_WAIT, ...) and addresses.
type socket struct {
	state         string
	local, remote netip.AddrPort
}

func newProcessSampler() *processSampler {
	return &processSampler{
		peers:   make(map[netip.AddrPort]time.Time),
		read:    readProcStat,
		sockets: newSocketReader(),
		rt:      newRuntimeReader(),
		cpuWin:  newCPUWindow(),
		fds:     readFDs,
	}
}

// sample returns the process's figures now. hosts are the collector's
// hosts, whose request counts give the CPU per request; conns are its
// connections, whose remote addresses help attribute closed sockets.
func (p *processSampler) sample(ctx context.Context, hosts []snapshot.Host, conns []snapshot.Conn) snapshot.Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !p.at.IsZero() && now.Sub(p.at) < minProcessSample {
		out := p.last
		out.Goroutines = runtime.NumGoroutine()
		out.UptimeSeconds = now.Sub(processStart).Seconds()
		out.TCP.AgeSeconds = now.Sub(p.tcpAt).Seconds()
		return out
	}
	out := snapshot.Process{
		Goroutines:    runtime.NumGoroutine(),
		UptimeSeconds: now.Sub(processStart).Seconds(),
	}
	st, err := p.read()
	if err == nil {
		since, base := processStart, time.Duration(0)
		if !p.at.IsZero() {
			since, base = p.at, p.cpu
		}
		if wall := now.Sub(since); wall > 0 && st.cpu >= base {
			out.CPUPercent = 100 * float64(st.cpu-base) / float64(wall)
		}
		out.RSSBytes, out.Threads = st.rss, st.threads
		p.cpu = st.cpu
	}
	if p.fdsAt.IsZero() || now.Sub(p.fdsAt) >= p.fdsEvery {
		start := time.Now()
		if n, err := p.fds(); err == nil {
			p.lastFDs = n
		}
		p.fdsAt, p.fdsEvery = now, max(minProcessSample, fdCostFactor*time.Since(start))
	}
	out.FDs = p.lastFDs
	p.rt.read(&out, now)
	p.cpuWin.read(&out, now, st.cpu, err == nil, hosts, p.rt)
	if p.tcpAt.IsZero() || now.Sub(p.tcpAt) >= p.tcpEvery {
		start := time.Now()
		p.lastTCP = p.tcp(ctx, conns, now)
		p.tcpAt, p.tcpEvery = now, max(minProcessSample, tcpCostFactor*time.Since(start))
	}
	out.TCP = p.lastTCP
	if !p.tcpAt.Equal(now) {
		out.TCP.AgeSeconds = now.Sub(p.tcpAt).Seconds()
	}
	p.at, p.last = now, out
	return out
}

// tcp counts the process's TCP sockets by state.
//
// The sockets the process holds (it has a file descriptor for them) come
// from gopsutil and are exact. A socket the process has closed but the
// kernel keeps (TIME_WAIT after an active close, FIN_WAIT, LAST_ACK,
// CLOSING) belongs to no process any more; on Linux it is read from
// /proc/self/net/tcp{,6} and counted when its local address is one the
// process listens on, or its remote address is one the process talked to
// in the last peerMemory (from its own sockets and the collector's
// connections, seen at this or an earlier sample). Sockets of other
// programs in the same network namespace that talk to the same remote
// address are counted too.
func (p *processSampler) tcp(ctx context.Context, conns []snapshot.Conn, now time.Time) snapshot.TCP {
	var t snapshot.TCP
	owned, orphans, err := p.sockets(ctx)
	if err != nil {
		return t
	}
	var listeners []netip.AddrPort
	for _, s := range owned {
		countState(&t, s.state)
		switch {
		case s.state == "LISTEN":
			listeners = append(listeners, s.local)
		case s.remote.IsValid() && s.remote.Port() != 0:
			p.peers[s.remote] = now
		}
	}
	for _, c := range conns {
		if ap, err := netip.ParseAddrPort(c.RemoteAddr); err == nil {
			p.peers[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())] = now
		}
	}
	p.forgetPeers(now)
	for _, s := range orphans {
		if _, ok := p.peers[s.remote]; ok || listensOn(listeners, s.local) {
			countState(&t, s.state)
		}
	}
	return t
}

// forgetPeers drops remote addresses not seen for peerMemory, then the
// oldest while there are more than maxPeers.
func (p *processSampler) forgetPeers(now time.Time) {
	for a, seen := range p.peers {
		if now.Sub(seen) > peerMemory {
			delete(p.peers, a)
		}
	}
	for len(p.peers) > maxPeers {
		var oldest netip.AddrPort
		var at time.Time
		for a, seen := range p.peers {
			if at.IsZero() || seen.Before(at) {
				oldest, at = a, seen
			}
		}
		delete(p.peers, oldest)
	}
}

// listensOn reports whether local is the address of one of the listeners
// (a listener on an unspecified address takes every address of its port).
func listensOn(listeners []netip.AddrPort, local netip.AddrPort) bool {
	for _, l := range listeners {
		if l.Port() == local.Port() && (l.Addr().IsUnspecified() || l.Addr() == local.Addr()) {
			return true
		}
	}
	return false
}

// countState adds one socket in the given state to t.
func countState(t *snapshot.TCP, state string) {
	switch state {
	case "ESTABLISHED":
		t.Established++
	case "SYN_SENT":
		t.SynSent++
	case "TIME_WAIT":
		t.TimeWait++
	case "CLOSE_WAIT":
		t.CloseWait++
	case "FIN_WAIT1", "FIN_WAIT2":
		t.FinWait++
	case "LISTEN":
		t.Listen++
	default:
		t.Other++
	}
}
