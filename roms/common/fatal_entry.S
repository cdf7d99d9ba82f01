/*
 * Default vector: passes the exception frame (ISP: saved PC >> 1 as a
 * dword, then the PSR word) to the C function fatal_exception(), which
 * does not return.
 */
  .text
  .align 2
  .globl _fatal_entry
_fatal_entry:
  sprd    isp, (r3,r2)
  bal     (ra), _fatal_exception
.Lstop:
  wait
  br      .Lstop
