//go:build cgo

// Package cgocallback calls Go code back from C, for tests that must run
// on a stack a cgo callback made: the frames above the callback belong to
// the runtime's cgo machinery and to C, which may keep no frame pointers.
package cgocallback

/*
#include <stdint.h>

extern void goCallback(uintptr_t h);

// The C frames between the two Go parts: compiled without frame pointers
// where the compiler likes, with a frame of its own, and a chain of a few.
static void __attribute__((noinline)) deeper(uintptr_t h, int n) {
	volatile char pad[64];
	pad[0] = (char)n;
	if (n > 0) {
		deeper(h, n - 1);
		return;
	}
	goCallback(h);
	(void)pad[0];
}

static void callBack(uintptr_t h) { deeper(h, 3); }
*/
import "C"

import "runtime/cgo"

// Call calls f from C: Go calls C, which calls Go back, which calls f.
func Call(f func()) {
	h := cgo.NewHandle(f)
	defer h.Delete()
	C.callBack(C.uintptr_t(h))
}

//export goCallback
func goCallback(h C.uintptr_t) {
	cgo.Handle(h).Value().(func())()
}
