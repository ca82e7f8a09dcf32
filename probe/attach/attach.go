// Package attach instruments a program for httptop by being imported:
//
//	import _ "github.com/httptop/httptop/probe/attach"
//
// Put the import in a file of package main that only debug builds
// compile:
//
//	//go:build debug
//
//	package main
//
//	import _ "github.com/httptop/httptop/probe/attach"
//
// then go build -tags debug, run the program and run httptop (or httptop
// ps, httptop snapshot PID) on the same machine.
//
// When the package is initialised it
//
//   - sets http.DefaultClient.Transport, when nil, to
//     probe.Wrap(http.DefaultTransport), so that every request of
//     http.Get, http.Post, http.Head, http.PostForm and http.DefaultClient
//     is tracked in full: latency, connection wait, pool occupancy, errors,
//     bodies, under the client name "default";
//   - thereby instruments http.DefaultTransport itself, which stays an
//     *http.Transport (so http.DefaultTransport.(*http.Transport) and its
//     Clone work as before): its DialContext becomes httptop's dial hook,
//     which tracks each connection it dials, and its Proxy function is
//     wrapped (returning what it returned) to count the requests that
//     reach the transport, or a clone of it, without the probe;
//   - starts the agent (agent.Start) and prints one line to stderr saying
//     where it listens.
//
// What shows up for other clients:
//
//   - A client with a nil Transport (&http.Client{Timeout: ...}) sends its
//     requests through http.DefaultTransport without the wrapper, and a
//     transport cloned from http.DefaultTransport after the import
//     inherits its dial hook and its Proxy function (which the import
//     wraps to count the requests no probe traces). Both are seen the same
//     way, under the client "(unwrapped)", each host marked dial only:
//     their connections (open, busy or idle as their traffic shows, dial
//     time, bytes, closes, memory) and their requests starting (HTTP/1.x
//     requests, and the first of each HTTP/2 connection), but not the
//     requests' latency, connection wait, errors or bodies, and not the
//     pool's limits (a clone may have its own). Wrap the transport, or the
//     client's Transport, with probe.Wrap to see everything (and to give
//     it a name of its own with probe.WithName).
//   - A transport cloned before the import (in the init of a package
//     initialised earlier), or built from scratch, is not seen at all
//     unless wrapped with probe.Wrap.
//   - A program that sets http.DefaultClient.Transport itself keeps it;
//     wrap it with probe.Wrap to see it.
//
// Environment variables, read once at start-up:
//
//	HTTPTOP=off          do nothing at all (also 0, false, no)
//	HTTPTOP_ADDR=ADDR    where the agent listens: host:port, or unix:/path
//	                     for a unix socket (default 127.0.0.1:0, a port the
//	                     system picks)
//	HTTPTOP_DIR=DIR      where the discovery file goes (default: httptop
//	                     under the user's configuration directory); the
//	                     httptop command must be given the same
//
// In a test binary (testing.Testing reports true) the package does nothing
// unless HTTPTOP=on, so that go test -tags debug opens no door and writes
// no discovery file.
//
// If the agent cannot start, the program runs on and the reason is printed
// to stderr; the instrumentation stays in place. The agent lives as long
// as the program; its discovery file is left behind when the program
// exits, and the httptop command removes it once the pid is gone.
package attach

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/httptop/httptop/probe"
	"github.com/httptop/httptop/probe/agent"
)

// Environment variables the package reads.
const (
	EnvEnable = "HTTPTOP"
	EnvAddr   = "HTTPTOP_ADDR"
)

var started *agent.Agent

// Agent returns the agent the import started, or nil when it is disabled
// or could not start.
func Agent() *agent.Agent { return started }

func init() {
	started = setup(os.Getenv, os.Stderr, testing.Testing())
}

// enabled reads HTTPTOP: "off", "0", "false" and "no" disable; in a test
// binary only "on", "1", "true" and "yes" enable.
func enabled(v string, inTest bool) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "off", "0", "false", "no":
		return false
	case "on", "1", "true", "yes":
		return true
	}
	return !inTest
}

// setup instruments the default client and transport and starts the
// agent, as the package documentation says, and returns the agent.
func setup(getenv func(string) string, stderr io.Writer, inTest bool) *agent.Agent {
	if !enabled(getenv(EnvEnable), inTest) {
		return nil
	}
	if http.DefaultClient.Transport == nil {
		http.DefaultClient.Transport = probe.Wrap(http.DefaultTransport)
	} else if t, ok := http.DefaultTransport.(*http.Transport); ok {
		// The program's own DefaultClient transport is left alone; the
		// default transport is still instrumented, for the clients
		// that use it directly.
		probe.Wrap(t)
	}
	ag, err := agent.Start(agent.Options{Addr: getenv(EnvAddr)})
	if err != nil {
		fmt.Fprintf(stderr, "httptop: agent not started: %v\n", err)
		return nil
	}
	fmt.Fprintf(stderr, "httptop: agent of pid %d listening on %s; run 'httptop snapshot %d' or 'httptop ps'\n",
		os.Getpid(), ag.Addr(), os.Getpid())
	return ag
}
