package tracer

import (
	"runtime"
	"testing"
)

// The frame-pointer walk returns the same return addresses as
// runtime.Callers for a chain of functions that are not inlined: the chain,
// the test function and tRunner. (Further up, runtime.Callers hides the
// compiler's wrapper frames, such as the go statement's gowrap, which the
// walk sees; symbolising skips them either way.)
func TestCallersMatchesRuntime(t *testing.T) {
	var fp, rt [16]uintptr
	nfp, nrt := chain3(fp[:], rt[:])
	if nfp == 0 || nrt == 0 {
		t.Fatalf("no frames: fp %d, runtime %d", nfp, nrt)
	}
	n := min(nfp, nrt, 4)
	for i := 0; i < n; i++ {
		if fp[i] != rt[i] {
			f1, _ := runtime.CallersFrames(fp[i : i+1]).Next()
			f2, _ := runtime.CallersFrames(rt[i : i+1]).Next()
			t.Errorf("frame %d: callers %#x (%s:%d), runtime.Callers %#x (%s:%d)", i, fp[i], f1.Function, f1.Line, rt[i], f2.Function, f2.Line)
		}
	}
	f, _ := runtime.CallersFrames(fp[:1]).Next()
	if f.Function != "github.com/httptop/httptop/tracer.chain2" {
		t.Errorf("first frame = %s, want the caller of the function calling callers (chain2)", f.Function)
	}
}

//go:noinline
func chain3(fp, rt []uintptr) (int, int) { return chain2(fp, rt) }

//go:noinline
func chain2(fp, rt []uintptr) (int, int) { return chain1(fp, rt) }

//go:noinline
func chain1(fp, rt []uintptr) (int, int) {
	n, _ := callers(fp)
	// Skip runtime.Callers and chain1, as callers does.
	m := runtime.Callers(2, rt)
	return n, m
}

// BenchmarkCallers captures 16 frames from 24 deep, as the tracer does
// from a request's response, with the bounded frame-pointer walk and with
// runtime.Callers.
func BenchmarkCallers(b *testing.B) {
	var pcs [16]uintptr
	b.Run("framepointers", func(b *testing.B) {
		deepThen(24, func() {
			for b.Loop() {
				callers(pcs[:])
			}
		})
	})
	b.Run("runtime.Callers", func(b *testing.B) {
		deepThen(24, func() {
			for b.Loop() {
				runtime.Callers(2, pcs[:])
			}
		})
	})
}

// deepThen calls f n frames deep.
//
//go:noinline
func deepThen(n int, f func()) {
	if n == 0 {
		f()
		return
	}
	deepThen(n-1, f)
}
