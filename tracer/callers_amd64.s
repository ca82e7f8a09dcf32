#include "textflag.h"

// func callers(pcs []uintptr) int
//
// callers walks the frame-pointer chain starting at its caller's frame
// and stores the return address of each frame in pcs: pcs[0] is the
// return address into the caller's caller. It stops at a zero frame
// pointer, a zero return address or when pcs is full, zeroes the rest of
// pcs, and returns how many it stored. The function has no frame of its
// own, so BP still holds the caller's frame pointer; [BP] is the saved
// frame pointer of the next frame and 8(BP) the return address into it,
// the layout the Go runtime's own frame-pointer unwinder
// (runtime.fpTracebackPCs) relies on.
TEXT ·callers(SB), NOSPLIT|NOFRAME, $0-32
	MOVQ pcs_base+0(FP), DI
	MOVQ pcs_len+8(FP), CX
	MOVQ BP, AX
	XORQ DX, DX
loop:
	CMPQ DX, CX
	JGE  done
	TESTQ AX, AX
	JZ   done
	MOVQ 8(AX), R8
	TESTQ R8, R8
	JZ   done
	MOVQ R8, (DI)(DX*8)
	INCQ DX
	MOVQ 0(AX), AX
	JMP  loop
done:
	MOVQ DX, ret+24(FP)
	XORQ R8, R8
zero:
	CMPQ DX, CX
	JGE  out
	MOVQ R8, (DI)(DX*8)
	INCQ DX
	JMP  zero
out:
	RET
