//go:build amd64 && cgo

package tracer

import (
	"runtime"
	"testing"

	"github.com/httptop/httptop/internal/cgocallback"
)

// In a cgo callback the chain leaves the goroutine's stack for the
// thread's, where C frames may have no frame pointers: the walk stops at
// the edge of the goroutine's stack, after the callback's own frames
// (which it reports as runtime.Callers does, but for the runtime's own
// wrappers), and says it did not reach
// the end, so that the tracer asks runtime.Callers, which crosses into
// the frames that made the C call.
func TestCallersInCgoCallback(t *testing.T) {
	for range 100 {
		var fp [16]uintptr
		var rt [32]uintptr
		var nfp, nrt int
		var complete bool
		cgocallback.Call(func() { nfp, nrt, complete = chain3c(fp[:], rt[:]) })
		if complete || nfp < 3 || nfp >= nrt {
			t.Fatalf("walk: %d frames, complete %v; runtime.Callers %d: want an incomplete walk, shorter", nfp, complete, nrt)
		}
		// The same frames up to the runtime's cgo machinery, whose
		// wrappers runtime.Callers hides.
		for i := range 5 {
			if fp[i] != rt[i] {
				f1, _ := runtime.CallersFrames(fp[i : i+1]).Next()
				f2, _ := runtime.CallersFrames(rt[i : i+1]).Next()
				t.Errorf("frame %d: walk %s, runtime.Callers %s", i, f1.Function, f2.Function)
			}
		}
		last, _ := runtime.CallersFrames(rt[nrt-3 : nrt-2]).Next()
		if last.Function != "github.com/httptop/httptop/tracer.TestCallersInCgoCallback" {
			t.Errorf("runtime.Callers reaches %s, want the test function that made the C call", last.Function)
		}
	}
}

//go:noinline
func chain3c(fp, rt []uintptr) (int, int, bool) { return chain2c(fp, rt) }

//go:noinline
func chain2c(fp, rt []uintptr) (int, int, bool) { return chain1c(fp, rt) }

//go:noinline
func chain1c(fp, rt []uintptr) (int, int, bool) {
	n, complete := callers(fp)
	m := runtime.Callers(2, rt)
	return n, m, complete
}
