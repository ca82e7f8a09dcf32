//go:build debug

package main

// Debug builds (go build -tags debug) run httptop's agent.
import _ "github.com/httptop/httptop/probe/attach"
