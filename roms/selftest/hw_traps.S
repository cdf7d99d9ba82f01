/*
 * Trap recording for the groups "exceptions", "iad", "usermode" and
 * "trace" (hw_exceptions.S, hw_iad.S, hw_usermode.S, hw_trace.S).
 *
 * The stubs _st_trap_N (installed for vectors 5, 6, 7, 8, 9, 10, 12) record
 * the vector, the saved PC (>> 1) and PSR of the exception frame at ISP,
 * the PSR inside the handler and a count. Before returning with retx they
 * clear the bits in st_psr_clear from the saved PSR and, when st_resume is
 * nonzero, replace the saved PC by it (traps save the address of the
 * trapping instruction, so a test must say where to continue). Both
 * variables are reset after use.
 */
#include "st_macros.h"

  .section .bss
  .align 2
  .globl _st_trap_pc, _st_resume, _st_trap_vector, _st_trap_psr
  .globl _st_trap_handler_psr, _st_trap_count, _st_psr_clear
_st_trap_pc:
  .space 4
_st_resume:
  .space 4
_st_trap_vector:
  .space 2
_st_trap_psr:
  .space 2
_st_trap_handler_psr:
  .space 2
_st_trap_count:
  .space 2
_st_psr_clear:
  .space 2

  .macro TRAP_STUB vec
  .text
  .align 2
  .globl _st_trap_\vec
_st_trap_\vec:
  push    $5, r0
  movw    $\vec, r0
  br      st_trap_common
  .endm

  TRAP_STUB 5
  TRAP_STUB 6
  TRAP_STUB 7
  TRAP_STUB 8
  TRAP_STUB 9
  TRAP_STUB 10
  TRAP_STUB 12

  .text
  .align 2
st_trap_common:
  spr     psr, r1
  storw   r1, _st_trap_handler_psr
  storw   r0, _st_trap_vector
  loadw   _st_trap_count, r1
  addw    $1, r1
  storw   r1, _st_trap_count
  sprd    isp, (r2,r1)
  loadd   0(r2,r1), (r4,r3)
  stord   (r4,r3), _st_trap_pc
  loadw   4(r2,r1), r3
  storw   r3, _st_trap_psr
  loadw   _st_psr_clear, r4
  xorw    $0xffff, r4
  andw    r4, r3
  storw   r3, 4(r2,r1)
  movw    $0, r4
  storw   r4, _st_psr_clear
  loadd   _st_resume, (r4,r3)
  cmpd    $0, (r4,r3)
  beq     .Lno_resume
  stord   (r4,r3), 0(r2,r1)
  movd    $0, (r4,r3)
  stord   (r4,r3), _st_resume
.Lno_resume:
  pop     $5, r0
  retx
