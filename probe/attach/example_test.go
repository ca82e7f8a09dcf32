package attach_test

import (
	"fmt"
	"net/http"

	"github.com/httptop/httptop/probe"
	_ "github.com/httptop/httptop/probe/attach"
)

// The import leaves http.DefaultTransport an *http.Transport, so the
// common idiom of cloning it to tune a client of one's own keeps working.
// Such a clone inherits the connection tracking; wrapping it with
// probe.Wrap adds its requests, under a name of its own.
//
// In a program, put the import in a file compiled only in debug builds:
//
//	//go:build debug
//
//	package main
//
//	import _ "github.com/httptop/httptop/probe/attach"
//
// (see ./example). In a test binary such as this example's, the import
// does nothing unless HTTPTOP=on.
func Example() {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxConnsPerHost = 16
	payments := &http.Client{Transport: probe.Wrap(t, probe.WithName("payments"))}
	_ = payments

	fmt.Printf("%T\n", http.DefaultTransport)
	// Output: *http.Transport
}
