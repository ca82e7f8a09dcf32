package agent

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// readSockets returns the TCP sockets the process holds and the orphaned
// ones of its network namespace: sockets closed by their program that the
// kernel keeps a while (TIME_WAIT, FIN_WAIT, LAST_ACK, CLOSING), which
// have no inode and so no owner. It asks the kernel through sock_diag
// (diagSockets); where netlink is refused, it falls back to gopsutil for
// the sockets the process holds and to the process's own view of the
// table, /proc/self/net/tcp, where orphans have inode 0 (gopsutil can
// list those only by mapping every process's file descriptors to
// sockets, far too costly for a snapshot). Reading /proc/net/tcp costs
// the kernel over a second of CPU for tens of thousands of sockets.
func readSockets(ctx context.Context) (owned, orphans []socket, err error) {
	if owned, orphans, err := diagSockets(); err == nil {
		return owned, orphans, nil
	}
	return procSockets(ctx)
}

// newSocketReader returns readSockets for one processSampler, which
// remembers between readings which sockets are the process's
// (socketOwners). It is called under the sampler's lock.
func newSocketReader() func(context.Context) (owned, orphans []socket, err error) {
	o := new(socketOwners)
	return func(ctx context.Context) (owned, orphans []socket, err error) {
		if owned, orphans, err := diagSocketsWith(o); err == nil {
			return owned, orphans, nil
		}
		return procSockets(ctx)
	}
}

// procSockets is readSockets through gopsutil and /proc/self/net/tcp.
func procSockets(ctx context.Context) (owned, orphans []socket, err error) {
	owned, err = ownedSockets(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range []string{"/proc/self/net/tcp", "/proc/self/net/tcp6"} {
		data, err := os.ReadFile(name)
		if err != nil {
			continue // no IPv6, or no /proc
		}
		orphans = append(orphans, parseOrphans(data)...)
	}
	return owned, orphans, nil
}

// tcpStates are the kernel's TCP states as /proc/net/tcp prints them
// (include/net/tcp_states.h), by gopsutil's names.
var tcpStates = map[string]string{
	"01": "ESTABLISHED",
	"02": "SYN_SENT",
	"03": "SYN_RECV",
	"04": "FIN_WAIT1",
	"05": "FIN_WAIT2",
	"06": "TIME_WAIT",
	"07": "CLOSE",
	"08": "CLOSE_WAIT",
	"09": "LAST_ACK",
	"0A": "LISTEN",
	"0B": "CLOSING",
}

// parseOrphans returns the sockets of a /proc/net/tcp or tcp6 table that
// no process owns (inode 0) and that are not listening: after the header
// line, each line is "sl local remote st tx:rx tr:when retrnsmt uid
// timeout inode ...". Malformed lines are skipped.
func parseOrphans(data []byte) []socket {
	var out []socket
	lines := bytes.Split(data, []byte("\n"))
	for _, line := range lines[1:] {
		f := bytes.Fields(line)
		if len(f) < 10 || string(f[9]) != "0" {
			continue
		}
		state, ok := tcpStates[string(f[3])]
		if !ok || state == "LISTEN" {
			continue
		}
		local, err1 := parseProcAddr(string(f[1]))
		remote, err2 := parseProcAddr(string(f[2]))
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, socket{state: state, local: local, remote: remote})
	}
	return out
}

// parseProcAddr decodes an address of /proc/net/tcp{,6}: the IP as 32-bit
// words in hex, each in the host's byte order, then ':' and the port in
// hex. IPv4-mapped IPv6 addresses are unmapped.
func parseProcAddr(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return netip.AddrPort{}, errors.New("malformed address")
	}
	ipHex, portHex := s[:i], s[i+1:]
	if (len(ipHex) != 8 && len(ipHex) != 32) || len(portHex) != 4 {
		return netip.AddrPort{}, errors.New("malformed address")
	}
	raw, err := hex.DecodeString(ipHex)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	// Each word was printed as a number; put it back in memory order.
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(raw[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	ip, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)), nil
}
