/*
 * Assembler helpers for the self-test groups (included by the selftest .S files).
 *
 * A group is a C-callable function `int st_NAME(void)` returning 0 when
 * every check passed, otherwise the number of the first failing check.
 * Word immediates of movw/cmpw/addw/subw are signed 16-bit for gas: write
 * 0x8000-0xFFFF as negative numbers (CHKW values too).
 * Convention inside a group: r0 holds the current check number, r11 is
 * scratch for the flag helpers; everything else is free (the prologue saves
 * the callee-saved registers r7-r13 and ra).
 */
#ifndef ROMS_SELFTEST_ST_MACROS_H
#define ROMS_SELFTEST_ST_MACROS_H

#define F_C 0x0001
#define F_L 0x0004
#define F_T 0x0002
#define F_U 0x0008
#define F_F 0x0020
#define F_Z 0x0040
#define F_N 0x0080
#define F_E 0x0200
#define F_P 0x0400
#define F_I 0x0800
#define F_ALL 0x00E5 /* C L F Z N */

/* clang-format off */
  .macro GROUP_BEGIN name
  .text
  .align 2
  .globl _\name
_\name:
  push    $2, r13, ra
  push    $7, r7
  .endm

  .macro GROUP_END
  movw    $0, r0
.Lfail:
  pop     $7, r7
  popret  $2, r13, ra
  .endm

  /* Fails with check \id unless the word register \reg equals \value. */
  .macro CHKW reg, value, id
  movw    $\id, r0
  cmpw    $\value, \reg
  bne     .Lfail
  .endm

  /* Fails unless the low byte of \reg equals \value. */
  .macro CHKB reg, value, id
  movw    $\id, r0
  cmpb    $\value, \reg
  bne     .Lfail
  .endm

  /* Fails unless the register pair (\hi,\lo) equals \value. */
  .macro CHKD hi, lo, value, id
  movw    $\id, r0
  cmpd    $\value, (\hi,\lo)
  bne     .Lfail
  .endm

  /* Fails unless (PSR & \mask) == \value. Reads the PSR first. */
  .macro CHKFLAGS mask, value, id
  spr     psr, r11
  movw    $\id, r0
  andw    $\mask, r11
  cmpw    $\value, r11
  bne     .Lfail
  .endm

  /* Sets the arithmetic flags (C L F Z N) to \value, keeping the others. */
  .macro SETFLAGS value
  spr     psr, r11
  andw    $0xFF1A, r11
  orw     $\value, r11
  lpr     r11, psr
  .endm

  /* Fails unless branch b\cond is taken with the flags \flags. */
  .macro BR_TAKEN cond, flags, id
  movw    $\id, r0
  SETFLAGS \flags
  b\cond  1f
  br      .Lfail
1:
  .endm

  /* Fails if branch b\cond is taken with the flags \flags. */
  .macro BR_NOT_TAKEN cond, flags, id
  movw    $\id, r0
  SETFLAGS \flags
  b\cond  .Lfail
  .endm
/* clang-format on */

#endif /* ROMS_SELFTEST_ST_MACROS_H */
