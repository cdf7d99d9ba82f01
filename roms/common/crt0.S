/*
 * Reset entry of virt board firmware, placed first in flash (0xE00000).
 * Sets up the stacks, CFG.ED (32-bit dispatch entries) and INTBASE, copies
 * .data from flash to RAM, zeroes .bss, then calls main(). When main
 * returns, its result (low 8 bits) becomes the power-off exit code.
 */
#include "virt.h"

  .section .reset, "ax"
  .globl _reset_entry
_reset_entry:
  di                                  /* PSR.I is 0 after reset; clear E too */
  movd    $__istack_top, (r1,r0)
  lprd    (r1,r0), isp
  movd    $__stack_top, (sp)
  spr     cfg, r0
  orw     $0x100, r0                  /* CFG.ED: 4-byte dispatch table entries */
  lpr     r0, cfg

  /* Copy .data: r1:r0 = source (flash), r3:r2 = destination, r5:r4 = end. */
  movd    $__data_load, (r1,r0)
  movd    $__data_start, (r3,r2)
  movd    $__data_end, (r5,r4)
.Lcopy:
  cmpd    (r5,r4), (r3,r2)
  beq     .Lcopied
  loadd   0(r1,r0), (r7,r6)
  stord   (r7,r6), 0(r3,r2)
  addd    $4, (r1,r0)
  addd    $4, (r3,r2)
  br      .Lcopy
.Lcopied:

  /* Zero .bss. */
  movd    $__bss_start, (r3,r2)
  movd    $__bss_end, (r5,r4)
  movd    $0, (r7,r6)
.Lzero:
  cmpd    (r5,r4), (r3,r2)
  beq     .Lzeroed
  stord   (r7,r6), 0(r3,r2)
  addd    $4, (r3,r2)
  br      .Lzero
.Lzeroed:

  movd    $_dispatch_table, (r1,r0)
  lprd    (r1,r0), intbase

  bal     (ra), _main

  /* main returned: power off with its result as the exit code (the key in
     bits 31:8, the code in bits 7:0). */
  andw    $VIRT_SYS_POWEROFF_CODE_MASK, r0
  orw     $VIRT_SYS_POWEROFF_KEY&0xFFFF, r0
  movw    $VIRT_SYS_POWEROFF_KEY>>16, r1
  movd    $VIRT_SYSCTL_BASE+VIRT_SYS_POWEROFF, (r3,r2)
  stord   (r1,r0), 0(r3,r2)
.Lhalt:
  wait
  br      .Lhalt
