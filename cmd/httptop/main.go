// Command httptop shows what a Go program's HTTP clients are doing: their
// connection pools, queues, latency, TLS memory and hot functions, live in
// the terminal (attach), as a one-off summary (snapshot), or as flame graphs
// and a report (capture). The program must run httptop's agent
// (import _ "github.com/httptop/httptop/probe/attach" in a debug build, or
// agent.Start). httptop demo shows it all on a built-in workload.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain(os.Stdin, os.Stdout, os.Stderr)
	err := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(m.ExitCode(err))
}
