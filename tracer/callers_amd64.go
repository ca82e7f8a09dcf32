//go:build amd64

package tracer

// callers stores the return addresses of the goroutine's stack in pcs,
// starting with the return address into the caller of the function that
// calls it, zeroes the rest of pcs and returns how many it stored.
//
// It runs for every response with a body, so on amd64 it is written in
// assembly (callers_amd64.s) and follows frame pointers, as the Go runtime
// does for its execution tracer and block profiles: about 20 times cheaper
// than runtime.Callers. Like the runtime's unwinder it sees physical frames
// only (inlined calls are expanded when the addresses are symbolised) and
// it skips the caller of a function that has no stack frame of its own.
// Elsewhere it is runtime.Callers (callers_other.go).
//
//go:noescape
func callers(pcs []uintptr) int
