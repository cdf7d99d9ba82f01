#include "trap_macros.h"

  /* Group "trace": with PSR.T set by lpr, the next instruction runs with
   * P = T and ends in a TRC trap (vector 9) that saves the following
   * instruction's address and a PSR with T set and P clear; the handler
   * clears T so tracing stops. */
  GROUP_BEGIN st_trace
  movd    $0, (r2,r1)
  stord   (r2,r1), _st_resume
  movw    $0, r1
  storw   r1, _st_trap_count
  movw    $F_T|F_P, r1
  storw   r1, _st_psr_clear
  movw    $0, r3
  spr     psr, r1
  orw     $F_T, r1
  lpr     r1, psr
  movw    $5, r3
.Ltrace_next:
  movw    $6, r4
  CHKW    r3, 5, 1
  CHKW    r4, 6, 2
  loadw   _st_trap_count, r1
  CHKW    r1, 1, 3
  loadw   _st_trap_vector, r1
  CHKW    r1, 9, 4
  CHK_TRAP_PC .Ltrace_next, 5
  loadw   _st_trap_psr, r1
  andw    $F_T|F_P, r1
  CHKW    r1, F_T, 6
  CHKFLAGS F_T|F_P, 0, 7
  GROUP_END
