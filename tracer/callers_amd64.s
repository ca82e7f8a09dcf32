#include "textflag.h"

// The walk of the frame-pointer chain shared by callers and callersFrom.
// In: DI = &pcs[0], CX = len(pcs), AX = the first frame pointer, SI = the
// lowest address a frame may have (the walker's SP). It reads the
// goroutine's stack bounds from g (g.stack.lo and g.stack.hi, the first two
// words of the runtime's g, "offset known to runtime/cgo"), reached
// through the TLS slot the runtime keeps it in, and follows a frame
// pointer only while it is 8-byte aligned, above the previous one (the
// stack grows down, so callers' frames are higher: this also ends any
// loop) and its two words lie below g.stack.hi. A chain that leaves the
// goroutine's stack (a cgo callback's, which continues on the thread's
// C stack) or a corrupt frame pointer thus ends the walk instead of
// faulting. Out: DX = the number of PCs stored, BX = 1 when the chain
// ended (a zero frame pointer or return address) or pcs is full, 0 when a
// frame pointer was rejected; the rest of pcs is zeroed.
#define WALK \
	MOVQ (TLS), R9 \
	MOVQ 8(R9), R11 \
	XORQ DX, DX \
	MOVQ $1, BX \
loop: \
	CMPQ DX, CX \
	JGE  done \
	TESTQ AX, AX \
	JZ   done \
	TESTQ $7, AX \
	JNZ  reject \
	CMPQ AX, SI \
	JBE  reject \
	LEAQ 16(AX), R10 \
	CMPQ R10, R11 \
	JA   reject \
	MOVQ 8(AX), R8 \
	TESTQ R8, R8 \
	JZ   done \
	MOVQ R8, (DI)(DX*8) \
	INCQ DX \
	MOVQ AX, SI \
	MOVQ 0(AX), AX \
	JMP  loop \
reject: \
	XORQ BX, BX \
done: \
	MOVQ DX, R10 \
	XORQ R8, R8 \
zero: \
	CMPQ R10, CX \
	JGE  out \
	MOVQ R8, (DI)(R10*8) \
	INCQ R10 \
	JMP  zero \
out:

// func callers(pcs []uintptr) (n int, complete bool)
//
// callers walks the frame-pointer chain starting at its caller's frame
// and stores the return address of each frame in pcs: pcs[0] is the
// return address into the caller's caller. It stops at a zero frame
// pointer, a zero return address, a frame pointer WALK rejects, or when
// pcs is full; it zeroes the rest of pcs and returns how many it stored,
// and whether it stopped for another reason than a rejected pointer.
// The function has no frame of its own, so BP still holds the caller's
// frame pointer; [BP] is the saved frame pointer of the next frame and
// 8(BP) the return address into it, the layout the Go runtime's own
// frame-pointer unwinder (runtime.fpTracebackPCs) relies on.
TEXT ·callers(SB), NOSPLIT|NOFRAME, $0-33
	MOVQ pcs_base+0(FP), DI
	MOVQ pcs_len+8(FP), CX
	MOVQ BP, AX
	MOVQ SP, SI
	WALK
	MOVQ DX, n+24(FP)
	MOVB BX, complete+32(FP)
	RET

// func callersFrom(pcs []uintptr, fp uintptr) (n int, complete bool)
//
// callersFrom is callers starting at frame pointer fp, for tests.
TEXT ·callersFrom(SB), NOSPLIT|NOFRAME, $0-41
	MOVQ pcs_base+0(FP), DI
	MOVQ pcs_len+8(FP), CX
	MOVQ fp+24(FP), AX
	MOVQ SP, SI
	WALK
	MOVQ DX, n+32(FP)
	MOVB BX, complete+40(FP)
	RET

// func stackBounds() (lo, hi uintptr)
//
// stackBounds returns the goroutine's stack bounds as WALK reads them, for
// tests.
TEXT ·stackBounds(SB), NOSPLIT|NOFRAME, $0-16
	MOVQ (TLS), R9
	MOVQ 0(R9), R10
	MOVQ 8(R9), R11
	MOVQ R10, lo+0(FP)
	MOVQ R11, hi+8(FP)
	RET
