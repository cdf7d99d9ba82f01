#include "trap_macros.h"

  /* Group "iad": a load and a store at an unmapped address (0xF00000) end
   * in IAD, saving the address of the next instruction. */
  GROUP_BEGIN st_iad
  movd    $0, (r2,r1)
  stord   (r2,r1), _st_resume
  movw    $0, r1
  storw   r1, _st_trap_count
  movd    $0xf00000, (r6,r5)
  loadw   0(r6,r5), r3
.Liad_after_load:
  loadw   _st_trap_vector, r1
  CHKW    r1, 12, 1
  CHK_TRAP_PC .Liad_after_load, 2
  storw   r3, 0(r6,r5)
.Liad_after_store:
  CHK_TRAP_PC .Liad_after_store, 3
  loadw   _st_trap_count, r1
  CHKW    r1, 2, 4
  GROUP_END

