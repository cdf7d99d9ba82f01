#include "trap_macros.h"

  .section .bss
  .align 2
st_user_stack:
  .space 64
st_user_stack_top:

  /* Group "usermode": jusr enters user mode on USP; lpr there is
   * privileged (UND with PSR.U saved); excp svc returns to supervisor. */
  GROUP_BEGIN st_usermode
  movd    $st_user_stack_top, (r2,r1)
  lprd    (r2,r1), usp
  EXPECT_TRAP .Luser_after_und
  movw    $0, r8
  movw    $0, r9
  movd    $.Luser_code@c, (r2,r1)
  jusr    (r2,r1)
  movw    $1, r0
  br      .Lfail
.Luser_code:
  push    $1, r5
  pop     $1, r5
  spr     psr, r5
  lpr     r5, psr
.Luser_after_und:
  loadw   _st_trap_vector, r8
  loadw   _st_trap_psr, r9
  movd    $.Luser_done@c, (r2,r1)
  stord   (r2,r1), _st_resume
  movw    $F_U, r1
  storw   r1, _st_psr_clear
  excp    svc
.Luser_done:
  CHKFLAGS F_U, 0, 2
  CHKW    r8, 10, 3
  andw    $F_U, r9
  CHKW    r9, F_U, 4
  loadw   _st_trap_vector, r1
  CHKW    r1, 5, 5
  loadw   _st_trap_psr, r1
  andw    $F_U, r1
  CHKW    r1, F_U, 6
  sprd    usp, (r2,r1)
  CHKD    r2, r1, st_user_stack_top, 7
  loadw   _st_trap_count, r1
  CHKW    r1, 2, 8
  GROUP_END
