package agent

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The TCP table through netlink's sock_diag (linux/inet_diag.h): the
// kernel answers a dump request with one binary record per socket, which
// costs a fraction of producing and parsing /proc/net/tcp as text, so the
// table can be read at every snapshot even with thousands of TIME_WAIT
// sockets. No library does this without costs of its own (the well-known
// one allocates a record per socket and brings a namespace package); the
// protocol is two fixed structures.

// Sizes of the structures of linux/inet_diag.h and linux/netlink.h.
const (
	nlmsgHeaderLen   = 16 // struct nlmsghdr
	inetDiagReqV2Len = 56 // struct inet_diag_req_v2
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	// inetDiagSockIDOff is where the struct inet_diag_sockid starts in
	// both the request and the answer.
	inetDiagSockIDOff = 4
)

// tcpStateNames are the kernel's TCP states (include/net/tcp_states.h)
// by gopsutil's names, indexed by number.
var tcpStateNames = [...]string{
	1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
	6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING",
}

// diagSeq numbers the dump requests.
var diagSeq atomic.Uint32

// diagSockets returns the TCP sockets the process holds (their inode is
// one of its file descriptors) and the orphaned ones of its network
// namespace (inode 0: closed by their program, kept by the kernel a while;
// listeners excluded), as readSockets does, from netlink.
func diagSockets() (owned, orphans []socket, err error) {
	return diagSocketsWith(nil)
}

// socketOwners remembers, between readings of the TCP table, which of the
// sockets of the network namespace still open (inode not 0) are the
// process's. Telling them apart takes a readlink of each of the process's
// descriptors (socketInodes: 45 ms for 10,000), twice what the table
// itself costs; but a socket's inode names it for its lifetime and a
// socket does not change hands (but for a descriptor passed to or from
// another process, which an HTTP client does not do), so the descriptors
// are read again only when the table holds a socket the last reading did
// not see, and at least every socketWalkMaxAge.
type socketOwners struct {
	mine   map[uint32]bool // inode → the process's (true) or another's
	walked time.Time       // when the descriptors were last read
	walks  int             // how many times they were read
}

// socketWalkMaxAge bounds how long socketOwners goes without reading the
// process's descriptors, and so how long a socket passed to or from
// another process may be counted on the wrong side.
const socketWalkMaxAge = 2 * time.Minute

// diagSocketsWith is diagSockets, telling the process's sockets from the
// others' with o when it is not nil.
func diagSocketsWith(o *socketOwners) (owned, orphans []socket, err error) {
	var inodes map[uint64]bool
	if o == nil {
		if inodes, err = socketInodes(); err != nil {
			return nil, nil, err
		}
	}
	var seen []uint32      // the inodes of the open sockets
	var unknown []diagSock // the open sockets o does not know
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, nil, fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, nil, fmt.Errorf("sock_diag: bind: %w", err)
	}
	buf := make([]byte, 32<<10)
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		err := dumpTCP(fd, family, buf, func(state uint8, local, remote netip.AddrPort, inode uint32) {
			name := ""
			if int(state) < len(tcpStateNames) {
				name = tcpStateNames[state]
			}
			s := socket{state: name, local: local, remote: remote}
			switch {
			case name == "":
			case inode == 0:
				if name != "LISTEN" {
					orphans = append(orphans, s)
				}
			case o == nil:
				if inodes[uint64(inode)] {
					owned = append(owned, s)
				}
			default:
				seen = append(seen, inode)
				if mine, ok := o.mine[inode]; !ok {
					unknown = append(unknown, diagSock{s, inode})
				} else if mine {
					owned = append(owned, s)
				}
			}
		})
		if err != nil && !(family == unix.AF_INET6 && errors.Is(err, unix.ENOENT)) {
			return nil, nil, err // a kernel without IPv6 answers ENOENT
		}
	}
	if o == nil {
		return owned, orphans, nil
	}
	switch {
	case len(unknown) > 0 || o.mine == nil || time.Since(o.walked) >= socketWalkMaxAge:
		inodes, err := socketInodes()
		if err != nil {
			return nil, nil, err
		}
		o.walked, o.walks = time.Now(), o.walks+1
		o.mine = make(map[uint32]bool, len(seen))
		for _, ino := range seen {
			o.mine[ino] = inodes[uint64(ino)]
		}
		for _, u := range unknown {
			if o.mine[u.inode] {
				owned = append(owned, u.socket)
			}
		}
	case len(o.mine) > len(seen):
		// Forget the sockets that are gone.
		mine := make(map[uint32]bool, len(seen))
		for _, ino := range seen {
			mine[ino] = o.mine[ino]
		}
		o.mine = mine
	}
	return owned, orphans, nil
}

// diagSock is an open socket of the table and its inode.
type diagSock struct {
	socket
	inode uint32
}

// dumpTCP asks for every TCP socket of family (AF_INET or AF_INET6) on the
// netlink socket fd and calls fn for each, reading into buf.
func dumpTCP(fd int, family uint8, buf []byte, fn func(state uint8, local, remote netip.AddrPort, inode uint32)) error {
	seq := diagSeq.Add(1)
	var req [nlmsgHeaderLen + inetDiagReqV2Len]byte
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	r := req[nlmsgHeaderLen:]
	r[0], r[1] = family, unix.IPPROTO_TCP
	ne.PutUint32(r[4:], 0xfff) // every state (TCPF_ALL)
	if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: send: %w", err)
	}
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("sock_diag: receive: %w", err)
		}
		for b := buf[:n]; len(b) >= nlmsgHeaderLen; {
			length := int(ne.Uint32(b[0:]))
			typ := ne.Uint16(b[4:])
			if length < nlmsgHeaderLen || length > len(b) {
				return errors.New("sock_diag: malformed answer")
			}
			msg := b[nlmsgHeaderLen:length]
			b = b[min(nlmsgAlign(length), len(b)):]
			switch typ {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(msg) >= 4 {
					if code := int32(ne.Uint32(msg)); code != 0 {
						return fmt.Errorf("sock_diag: %w", unix.Errno(-code))
					}
				}
				return nil
			case unix.SOCK_DIAG_BY_FAMILY:
				if len(msg) < inetDiagMsgLen {
					continue
				}
				local, remote := diagAddrs(msg[0], msg[inetDiagSockIDOff:])
				fn(msg[1], local, remote, ne.Uint32(msg[68:]))
			}
		}
	}
}

// nlmsgAlign rounds a netlink message length up to its 4-byte alignment.
func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

// diagAddrs decodes the addresses of a struct inet_diag_sockid: source and
// destination ports (big endian), then source and destination addresses
// of 16 bytes each (an IPv4 address in the first 4). IPv4-mapped IPv6
// addresses are unmapped.
func diagAddrs(family uint8, id []byte) (local, remote netip.AddrPort) {
	sport, dport := binary.BigEndian.Uint16(id[0:]), binary.BigEndian.Uint16(id[2:])
	addr := func(b []byte) netip.Addr {
		if family == unix.AF_INET {
			return netip.AddrFrom4([4]byte(b[:4]))
		}
		return netip.AddrFrom16([16]byte(b[:16])).Unmap()
	}
	return netip.AddrPortFrom(addr(id[4:20]), sport), netip.AddrPortFrom(addr(id[20:36]), dport)
}

// socketInodes returns the inodes of the sockets among the process's file
// descriptors: the links in /proc/self/fd that read socket:[INODE]. It
// reads each link relative to the directory (readlinkat), which spares
// the kernel a lookup of /proc/self/fd per descriptor, and the program a
// string per entry (eachFD): 45 ms rather than 62 for 10,000 sockets, and
// no allocation per descriptor (`-bench SocketInodes`).
func socketInodes() (map[uint64]bool, error) {
	out := make(map[uint64]bool)
	var link [64]byte
	err := eachFD(func(dirfd int, name []byte) {
		n, err := readlinkat(dirfd, &name[0], link[:])
		if err != nil {
			return // closed meanwhile
		}
		if ino, ok := socketInode(link[:n]); ok {
			out[ino] = true
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readlinkat reads the link named by the NUL-terminated name in the
// directory dirfd into buf, returning its length.
func readlinkat(dirfd int, name *byte, buf []byte) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_READLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(name)),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// socketInode parses a link of /proc/self/fd that reads socket:[INODE].
func socketInode(link []byte) (uint64, bool) {
	s, ok := bytes.CutPrefix(link, []byte("socket:["))
	if !ok {
		return 0, false
	}
	s, ok = bytes.CutSuffix(s, []byte("]"))
	if !ok || len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var ino uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		ino = ino*10 + uint64(c-'0')
	}
	return ino, true
}
