/* Group "branch": every Bcond condition taken and not taken, long
 * branches, beq0/bne0, bal/jal/jump with RA and register pairs, Jcond and
 * Scond. */
#include "st_macros.h"

  GROUP_BEGIN st_branch
  BR_TAKEN     eq, F_Z, 1
  BR_NOT_TAKEN eq, 0, 2
  BR_TAKEN     ne, 0, 3
  BR_NOT_TAKEN ne, F_Z, 4
  BR_TAKEN     cs, F_C, 5
  BR_NOT_TAKEN cs, 0, 6
  BR_TAKEN     cc, 0, 7
  BR_NOT_TAKEN cc, F_C, 8
  BR_TAKEN     hi, F_L, 9
  BR_NOT_TAKEN hi, 0, 10
  BR_TAKEN     ls, 0, 11
  BR_NOT_TAKEN ls, F_L, 12
  BR_TAKEN     gt, F_N, 13
  BR_NOT_TAKEN gt, 0, 14
  BR_TAKEN     le, 0, 15
  BR_NOT_TAKEN le, F_N, 16
  BR_TAKEN     fs, F_F, 17
  BR_NOT_TAKEN fs, 0, 18
  BR_TAKEN     fc, 0, 19
  BR_NOT_TAKEN fc, F_F, 20
  BR_TAKEN     lo, 0, 21
  BR_NOT_TAKEN lo, F_Z, 22
  BR_NOT_TAKEN lo, F_L, 23
  BR_TAKEN     hs, F_Z, 24
  BR_TAKEN     hs, F_L, 25
  BR_NOT_TAKEN hs, 0, 26
  BR_TAKEN     lt, 0, 27
  BR_NOT_TAKEN lt, F_Z, 28
  BR_NOT_TAKEN lt, F_N, 29
  BR_TAKEN     ge, F_Z, 30
  BR_TAKEN     ge, F_N, 31
  BR_NOT_TAKEN ge, 0, 32
  /* A branch over more than 256 bytes (disp16 form) and back. */
  movw    $33, r0
  br      .Lfar_forward
.Lfar_back:
  br      .Lfar_done
  .skip   400
.Lfar_forward:
  br      .Lfar_back
.Lfar_done:
  /* beq0/bne0 on bytes and words. */
  movw    $34, r0
  movw    $0x0100, r1
  beq0b   r1, .Lb0_ok
  br      .Lfail
.Lb0_ok:
  movw    $35, r0
  bne0w   r1, .Lb1_ok
  br      .Lfail
.Lb1_ok:
  movw    $36, r0
  beq0w   r1, .Lb2_bad
  br      .Lb2_ok
.Lb2_bad:
  br      .Lfail
.Lb2_ok:
  /* bal with RA, bal with a pair, jal through a pair, jump. */
  movw    $0, r5
  bal     (ra), .Lsub_ra
  CHKW    r5, 1, 37
#ifndef SIM_WORKAROUNDS /* GDB sim: bal with a pair links to the wrong address */
  /* ld 2.40 corrupts `bal (rp), label` (R_CR16_DISP24 on the 3-word form),
   * so the target is given as a fixed offset: bal is 6 bytes, the br 2. */
  bal     (r2,r1), *+8
  br      .Lpair_back
  addw    $1, r5
  jump    (r2,r1)
.Lpair_back:
#else
  addw    $1, r5
#endif
  CHKW    r5, 2, 38
  movd    $.Lsub_ra@c, (r4,r3)
  jal     (r4,r3)
  CHKW    r5, 3, 39
  movd    $.Ljump_target@c, (r4,r3)
  jump    (r4,r3)
  br      .Lfail
.Ljump_target:
  /* Jcond through a pair: taken and not taken. */
  movw    $40, r0
  movd    $.Ljcond_target@c, (r4,r3)
  SETFLAGS F_C
  jcc     (r4,r3)
  jcs     (r4,r3)
  br      .Lfail
.Ljcond_target:
  /* Scond. */
  SETFLAGS F_Z|F_L
  seq     r1
  sne     r2
  shi     r3
  slo     r4
  shs     r6
  CHKW    r1, 1, 41
  CHKW    r2, 0, 42
  CHKW    r3, 1, 43
  CHKW    r4, 0, 44
  CHKW    r6, 1, 45
  GROUP_END

.Lsub_ra:
  addw    $1, r5
  jump    (ra)
