// Command attachprog is the program httptop's end-to-end tests attach to:
// it imports probe/attach, makes requests to the servers it is given,
// prints "ready" and then waits until its standard input closes.
//
// Flags name a server and a request count for each kind of client, so that
// a test can see what the agent reports for each:
//
//	-default URL -n N   N requests with http.Get (http.DefaultClient)
//	-niltransport URL   N requests with a client whose Transport is nil
//	-clone URL          N requests with a client using a clone of
//	                    http.DefaultTransport made after the import
//
// Bodies are read and closed, so connections return to their pools.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	_ "github.com/httptop/httptop/probe/attach"
)

func main() {
	defURL := flag.String("default", "", "server for http.Get")
	nilURL := flag.String("niltransport", "", "server for a client with a nil Transport")
	cloneURL := flag.String("clone", "", "server for a client with a clone of http.DefaultTransport")
	n := flag.Int("n", 1, "requests per client")
	flag.Parse()

	// The idiom probe/attach must not break.
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok {
		fmt.Fprintf(os.Stderr, "attachprog: http.DefaultTransport is a %T\n", http.DefaultTransport)
		os.Exit(1)
	}
	clients := []struct {
		url    string
		client *http.Client
	}{
		{*defURL, http.DefaultClient},
		{*nilURL, &http.Client{}},
		{*cloneURL, &http.Client{Transport: t.Clone()}},
	}
	for _, c := range clients {
		if c.url == "" {
			continue
		}
		for range *n {
			resp, err := c.client.Get(c.url)
			if err != nil {
				fmt.Fprintln(os.Stderr, "attachprog:", err)
				os.Exit(1)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, bufio.NewReader(os.Stdin))
}
