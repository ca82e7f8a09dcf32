// Package agent is the in-process server through which the httptop
// command attaches to a running program: it serves the program's
// snapshots (package probe's Collector, with the process's own figures:
// CPU, memory, goroutines, threads, file descriptors, TCP sockets) and
// its profiles (CPU from runtime/pprof, wall-clock from fgprof, heap,
// goroutines) over HTTP, on loopback or a unix socket, to clients that
// carry its token. docs/protocol.md describes the protocol; package
// snapshot holds its wire types.
//
// Start runs an agent and writes a discovery file, by which `httptop`
// finds it; Handler serves the same protocol from a server the program
// already runs. Package probe/attach does both for a debug build from a
// blank import.
//
// The agent is a package of its own so that a program that only wraps a
// transport with probe.Wrap links none of what serving needs (gopsutil,
// fgprof, pprof).
package agent
