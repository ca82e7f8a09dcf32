package agent

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// The kernel's TCP table through netlink (sock_diag, what ss uses)
// rather than /proc/net/tcp: the kernel formats /proc/net/tcp as text,
// which for tens of thousands of sockets takes over a second of CPU;
// sock_diag hands over binary records. The process's own sockets are
// told by their inodes, which fstat reads from its descriptors.

// diagSockets returns the TCP sockets the process holds and the orphaned
// sockets of its network namespace (no inode: closed by their program,
// kept by the kernel), as readSockets does, through sock_diag. It also
// returns the number of open descriptors it saw.
func diagSockets() (owned, orphans []socket, fds int, err error) {
	inodes, fds, err := socketInodes()
	if err != nil {
		return nil, nil, 0, err
	}
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := dumpTCP(family, func(s socket, inode uint32) {
			switch {
			case inode != 0:
				if _, ok := inodes[uint64(inode)]; ok {
					owned = append(owned, s)
				}
			case s.state != "LISTEN":
				orphans = append(orphans, s)
			}
		})
		if err != nil && !(family == unix.AF_INET6 && errors.Is(err, unix.EAFNOSUPPORT)) {
			return nil, nil, 0, err
		}
	}
	return owned, orphans, fds, nil
}

// socketInodes lists /proc/self/fd and returns the inodes of the sockets
// among the descriptors (fstat of each), and how many descriptors there
// are.
func socketInodes() (map[uint64]struct{}, int, error) {
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	inodes := make(map[uint64]struct{})
	buf := make([]byte, 32<<10)
	n := 0
	for {
		k, err := syscall.ReadDirent(int(f.Fd()), buf)
		if err != nil {
			return nil, 0, err
		}
		if k <= 0 {
			break
		}
		for off := 0; off+19 < k; {
			reclen := int(binary.NativeEndian.Uint16(buf[off+16:]))
			if reclen == 0 {
				break
			}
			name := buf[off+19 : off+reclen]
			off += reclen
			if name[0] == '.' {
				continue
			}
			n++
			end := 0
			for end < len(name) && name[end] != 0 {
				end++
			}
			fd, err := strconv.Atoi(string(name[:end]))
			if err != nil {
				continue
			}
			var st unix.Stat_t
			if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK {
				inodes[st.Ino] = struct{}{}
			}
		}
	}
	return inodes, n, nil
}

// tcpStateNames are the kernel's TCP states by number
// (include/net/tcp_states.h), by gopsutil's names.
var tcpStateNames = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
	7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}

// Sizes of the sock_diag structures (linux/inet_diag.h).
const (
	sizeofInetDiagReqV2 = 56 // family, protocol, ext, pad, states, sockid
	sizeofInetDiagMsg   = 72 // family, state, timer, retrans, sockid, expires, rqueue, wqueue, uid, inode
)

// dumpTCP asks the kernel for every TCP socket of one address family in
// the process's network namespace and calls fn with each and its inode.
func dumpTCP(family uint8, fn func(s socket, inode uint32)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	req := make([]byte, unix.SizeofNlMsghdr+sizeofInetDiagReqV2)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence
	r := req[unix.SizeofNlMsghdr:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 0xffffffff) // every state
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: send: %w", err)
	}
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return fmt.Errorf("sock_diag: receive: %w", err)
		}
		for b := buf[:n]; len(b) >= unix.SizeofNlMsghdr; {
			l := int(ne.Uint32(b[0:]))
			typ := ne.Uint16(b[4:])
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return errors.New("sock_diag: malformed message")
			}
			msg := b[unix.SizeofNlMsghdr:l]
			b = b[min((l+3)&^3, len(b)):]
			switch typ {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(msg) >= 4 {
					if errno := int32(ne.Uint32(msg)); errno != 0 {
						return fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
					}
				}
				return nil
			}
			if len(msg) < sizeofInetDiagMsg {
				continue
			}
			state := int(msg[1])
			if state <= 0 || state >= len(tcpStateNames) {
				continue
			}
			id := msg[4:52]
			local := diagAddr(family, id[4:20], binary.BigEndian.Uint16(id[0:]))
			remote := diagAddr(family, id[20:36], binary.BigEndian.Uint16(id[2:]))
			fn(socket{state: tcpStateNames[state], local: local, remote: remote}, ne.Uint32(msg[68:]))
		}
	}
}

// diagAddr turns a sock_diag address (4 or 16 bytes used of 16) and port
// into an address, IPv4-mapped IPv6 unmapped.
func diagAddr(family uint8, ip []byte, port uint16) netip.AddrPort {
	var a netip.Addr
	if family == unix.AF_INET {
		a = netip.AddrFrom4([4]byte(ip[:4]))
	} else {
		a = netip.AddrFrom16([16]byte(ip[:16])).Unmap()
	}
	return netip.AddrPortFrom(a, port)
}
