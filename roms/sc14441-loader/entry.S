/*
 * Entry of the sc14441 test loader (its first byte, at 0x010080): stacks,
 * CFG.ED (32-bit dispatch entries), INTBASE, .bss zeroed, then
 * loader_main(). Interrupts stay off: the loader polls everything.
 */
  .section .entry, "ax"
  .globl _loader_entry
_loader_entry:
  di
  movd    $__istack_top, (r1,r0)
  lprd    (r1,r0), isp
  movd    $__stack_top, (sp)
  spr     cfg, r0
  orw     $0x100, r0                  /* CFG.ED */
  lpr     r0, cfg
  movd    $_loader_dispatch_table, (r1,r0)
  lprd    (r1,r0), intbase

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
  bal     (ra), _loader_main
.Lhang:
  br      .Lhang
