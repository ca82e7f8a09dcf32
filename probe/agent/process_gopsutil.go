package agent

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	psnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// self is this process as gopsutil sees it.
var self = sync.OnceValues(func() (*process.Process, error) {
	return process.NewProcess(int32(os.Getpid()))
})

// readProcStat reads the process's CPU time (user + system), resident set
// and thread count through gopsutil (file descriptors: readFDs). A figure
// gopsutil cannot read on this system stays zero.
func readProcStat() (procStat, error) {
	var st procStat
	p, err := self()
	if err != nil {
		return st, err
	}
	t, err := p.Times()
	if err != nil {
		return st, err
	}
	st.cpu = time.Duration((t.User + t.System) * float64(time.Second))
	if m, err := p.MemoryInfo(); err == nil {
		st.rss = m.RSS
	}
	if n, err := p.NumThreads(); err == nil {
		st.threads = int(n)
	}

	return st, nil
}

// readFDs counts the process's open file descriptors: countFDs where it
// works, gopsutil elsewhere.
func readFDs() (int, error) {
	if n, err := countFDs(); err == nil {
		return n, nil
	}
	p, err := self()
	if err != nil {
		return 0, err
	}
	n, err := p.NumFDs()
	return int(n), err
}

// ownedSockets returns the TCP sockets the process holds, from gopsutil.
func ownedSockets(ctx context.Context) ([]socket, error) {
	cs, err := psnet.ConnectionsPidWithoutUidsWithContext(ctx, "tcp", int32(os.Getpid()))
	if err != nil {
		return nil, err
	}
	out := make([]socket, 0, len(cs))
	for _, c := range cs {
		out = append(out, socket{
			state:  strings.ToUpper(c.Status),
			local:  addrPort(c.Laddr),
			remote: addrPort(c.Raddr),
		})
	}
	return out, nil
}

// addrPort converts gopsutil's address, unmapping IPv4-in-IPv6.
func addrPort(a psnet.Addr) netip.AddrPort {
	ip, err := netip.ParseAddr(a.IP)
	if err != nil || a.Port > 0xffff {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(a.Port))
}
