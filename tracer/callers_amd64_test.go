//go:build amd64

package tracer

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"unsafe"
)

// The bounds the walk reads from g contain the goroutine's frames, and
// follow the stack when it grows: if the runtime's g ever stops starting
// with its stack bounds, this fails rather than the walk stopping early
// (or reading anywhere).
func TestStackBounds(t *testing.T) {
	check := func(depth int) {
		var local [8]byte
		lo, hi := stackBounds()
		p := uintptr(unsafe.Pointer(&local))
		if !(lo < p && p < hi) || hi-lo < 2048 || (hi-lo)&(hi-lo-1) != 0 {
			t.Fatalf("depth %d: stack [%#x, %#x) (%d bytes), local at %#x: want a power-of-two stack around the local", depth, lo, hi, hi-lo, p)
		}
	}
	check(0)
	var deep func(n int) int
	deep = func(n int) int {
		var pad [256]byte
		if n == 0 {
			check(2000)
			lo, hi := stackBounds()
			if hi-lo < 2000*256 {
				t.Errorf("after 2000 frames of 256 bytes the stack is %d bytes", hi-lo)
			}
			return int(pad[0])
		}
		return deep(n-1) + int(pad[n%256])
	}
	deep(2000)
}

// Deep in a recursion (the stack copied many times over) the walk still
// agrees with runtime.Callers.
func TestCallersDeepRecursion(t *testing.T) {
	var fp, rt [16]uintptr
	var nfp, nrt int
	var rec func(n int)
	rec = func(n int) {
		if n == 0 {
			nfp, nrt = chain3(fp[:], rt[:])
			return
		}
		rec(n - 1)
	}
	rec(50_000)
	if nfp != 16 || nrt != 16 {
		t.Fatalf("frames: walk %d, runtime.Callers %d; want 16 each", nfp, nrt)
	}
	for i := range 16 {
		if fp[i] != rt[i] {
			t.Errorf("frame %d: walk %#x, runtime.Callers %#x", i, fp[i], rt[i])
		}
	}
}

// Frame pointers that leave the stack, go down, loop or are misaligned end
// the walk; none is followed. The frames are fabricated in this function's
// frame, above the walker's (no closure may capture them, or they would
// move to the heap). Their addresses are taken just before each walk, with
// no call in between that could grow the stack and move them.
func TestCallersCorruptChains(t *testing.T) {
	var frames [8]uintptr
	base := uintptr(unsafe.Pointer(&frames[0]))
	if lo, hi := stackBounds(); base < lo || base >= hi {
		t.Fatal("the fabricated frames are not on the stack")
	}
	heap := new([4]uintptr)
	heapSink = heap // on the heap, not the stack
	heap[0], heap[1] = 0, 0x1234
	hp := uintptr(unsafe.Pointer(heap))
	const pc = 0x401000
	names := []string{"outside the stack", "misaligned", "a loop", "going down", "leaving the stack", "a good chain"}
	wants := []int{0, 0, 1, 1, 1, 3}
	for i, name := range names {
		frames = [8]uintptr{}
		var pcs [16]uintptr
		var fp uintptr
		base := uintptr(unsafe.Pointer(&frames[0]))
		switch i {
		case 0:
			fp = hp
		case 1:
			fp = base + 3
		case 2:
			frames[0], frames[1] = base, pc
			fp = base
		case 3:
			frames[4], frames[5] = base, pc
			frames[0], frames[1] = 0, pc
			fp = base + 4*8
		case 4:
			frames[0], frames[1] = hp, pc
			fp = base
		case 5:
			frames[0], frames[1] = base+2*8, pc
			frames[2], frames[3] = base+4*8, pc+1
			frames[4], frames[5] = 0, pc+2
			fp = base
		}
		n, complete := callersFrom(pcs[:], fp)
		if n != wants[i] || complete != (i == 5) {
			t.Errorf("%s: %d frames, complete %v; want %d, complete %v", name, n, complete, wants[i], i == 5)
		}
	}
	runtime.KeepAlive(&frames)
	// Garbage: random words, some of them pointing into the stack.
	var junk [64]uintptr
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		var pcs [16]uintptr
		start := r.IntN(len(junk))
		lo, hi := stackBounds()
		base := uintptr(unsafe.Pointer(&junk[0]))
		for i := range junk {
			switch r.IntN(4) {
			case 0:
				junk[i] = base + uintptr(r.IntN(len(junk)*8))
			case 1:
				junk[i] = lo + uintptr(r.Uint64N(uint64(hi-lo)))
			case 2:
				junk[i] = uintptr(r.Uint64())
			}
		}
		callersFrom(pcs[:], base+uintptr(start)*8)
	}
	runtime.KeepAlive(heap)
}

var heapSink *[4]uintptr
