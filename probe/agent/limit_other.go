//go:build !unix

package agent

import "net"

// fdLimit returns false: only unix has a limit the agent can read.
func fdLimit() (uint64, bool) { return 0, false }

// connFD returns false: see fdLimit.
func connFD(net.Conn) (uint64, bool) { return 0, false }
