// Command example is the probe/attach recipe in a program: main.go is the
// program as shipped, and debug.go, compiled only with -tags debug, adds
// httptop's agent. Try it:
//
//	go build -tags debug -o /tmp/example ./probe/attach/example
//	/tmp/example https://example.com/ &
//	httptop snapshot
//
// Built without the tag, the program has no trace of httptop.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: example URL")
		os.Exit(2)
	}
	// Fetch the URL every second until standard input ends (^D).
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(done)
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		resp, err := http.Get(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, "example:", err)
		} else {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case <-done:
			return
		case <-tick.C:
		}
	}
}
