//go:build amd64

package tracer

// callers stores the return addresses of the goroutine's stack in pcs,
// starting with the return address into the caller of the function that
// calls it, zeroes the rest of pcs and returns how many it stored, and
// false when it stopped at a frame pointer it would not follow: the
// caller then falls back to runtime.Callers (a cgo callback's frames lead
// to C, which runtime.Callers can cross).
//
// It runs for every response with a body, so on amd64 it is written in
// assembly (callers_amd64.s) and follows frame pointers, as the Go runtime
// does for its execution tracer and block profiles: about 50 times cheaper
// than runtime.Callers. Like the runtime's unwinder it sees physical frames
// only (inlined calls are expanded when the addresses are symbolised) and
// it skips the caller of a function that has no stack frame of its own.
// Unlike it, it checks every frame pointer against the goroutine's stack
// bounds before following it, so that no chain, however corrupt, can make
// it read outside the stack (see WALK in callers_amd64.s).
// Elsewhere it is runtime.Callers (callers_other.go).
//
//go:noescape
func callers(pcs []uintptr) (n int, complete bool)

// callersFrom is callers starting at frame pointer fp, for tests.
//
//go:noescape
func callersFrom(pcs []uintptr, fp uintptr) (n int, complete bool)

// stackBounds returns the goroutine's stack bounds as callers reads them.
func stackBounds() (lo, hi uintptr)
