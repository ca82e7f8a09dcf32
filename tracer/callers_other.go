//go:build !amd64

package tracer

import "runtime"

// callers stores the return addresses of the goroutine's stack in pcs,
// starting with the return address into the caller of the function that
// calls it, zeroes the rest of pcs and returns how many it stored. On this architecture it is
// runtime.Callers; on amd64 it follows frame pointers (callers_amd64.s),
// which is much cheaper.
//
//go:noinline
func callers(pcs []uintptr) (n int, complete bool) {
	// Skip runtime.Callers, callers and callers' caller.
	n = runtime.Callers(3, pcs)
	clear(pcs[n:])
	return n, true
}
