/*
 * Assembler helpers for the groups that trap (hw_exceptions.S, hw_iad.S,
 * hw_usermode.S); the recording handler itself is in hw_traps.S.
 */
#ifndef ROMS_SELFTEST_TRAP_MACROS_H
#define ROMS_SELFTEST_TRAP_MACROS_H

#include "st_macros.h"

/* clang-format off */
  /* Sets st_resume to \label and clears the trap count. */
  .macro EXPECT_TRAP label
  movd    $\label@c, (r2,r1)
  stord   (r2,r1), _st_resume
  movw    $0, r1
  storw   r1, _st_trap_count
  .endm

  /* Fails with check \id unless the recorded saved PC is \label. */
  .macro CHK_TRAP_PC label, id
  loadd   _st_trap_pc, (r2,r1)
  movd    $\label@c, (r4,r3)
  movw    $\id, r0
  cmpd    (r4,r3), (r2,r1)
  bne     .Lfail
  .endm

  /* Runs \insn, expecting a trap to vector \vec that saves the address of
   * \insn, keeps PSR.I/E, clears U, and returns with the flags intact.
   * Uses checks \id .. \id+5. */
  .macro TRAP_CASE vec, id, insn:vararg
  EXPECT_TRAP .Ltr_resume\@
  SETFLAGS F_C|F_Z
.Ltr_at\@:
  \insn
  movw    $\id, r0
  br      .Lfail
.Ltr_resume\@:
  CHKFLAGS F_ALL, F_C|F_Z, \id
  loadw   _st_trap_vector, r1
  CHKW    r1, \vec, \id+1
  CHK_TRAP_PC .Ltr_at\@, \id+2
  loadw   _st_trap_psr, r1
  andw    $F_ALL, r1
  CHKW    r1, F_C|F_Z, \id+3
  loadw   _st_trap_handler_psr, r1
  andw    $F_I|F_E|F_U, r1
  CHKW    r1, F_I|F_E, \id+4
  loadw   _st_trap_count, r1
  CHKW    r1, 1, \id+5
  .endm
/* clang-format on */

#endif /* ROMS_SELFTEST_TRAP_MACROS_H */
