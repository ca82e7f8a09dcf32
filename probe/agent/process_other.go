//go:build !linux

package agent

import "context"

// newSocketReader returns readSockets.
func newSocketReader() func(context.Context) (owned, orphans []socket, err error) {
	return readSockets
}

// readSockets returns the TCP sockets the process holds, from gopsutil.
// Sockets the process has closed (TIME_WAIT and the like) are read on
// Linux only.
func readSockets(ctx context.Context) (owned, orphans []socket, err error) {
	owned, err = ownedSockets(ctx)
	return owned, nil, err
}
