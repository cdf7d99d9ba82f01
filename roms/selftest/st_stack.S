/* Group "stack": push/pop/popret (with and without RA, 32-bit registers),
 * loadm/storm and loadmp/stormp. */
#include "st_macros.h"

  .section .bss
  .align 2
st_mbuf:
  .space 32

  GROUP_BEGIN st_stack
  /* push $2,r1: r1 at the lower address, sp moves by 4. */
  movd    (sp), (r8,r7)
  movw    $0x1111, r1
  movw    $0x2222, r2
  push    $2, r1
  loadw   0(sp), r3
  CHKW    r3, 0x1111, 1
  loadw   2(sp), r3
  CHKW    r3, 0x2222, 2
  movd    (sp), (r4,r3)
  addd    $4, (r4,r3)
  movw    $3, r0
  cmpd    (r8,r7), (r4,r3)
  bne     .Lfail
  movw    $0, r1
  movw    $0, r2
  pop     $2, r1
  CHKW    r1, 0x1111, 4
  CHKW    r2, 0x2222, 5
  movd    (sp), (r4,r3)
  movw    $6, r0
  cmpd    (r8,r7), (r4,r3)
  bne     .Lfail
  /* push with RA: RA lands above the registers. */
  movd    $0x00123456, (ra)
  movw    $0x3333, r1
  push    $1, r1, ra
  loadw   0(sp), r3
  CHKW    r3, 0x3333, 7
  loadd   2(sp), (r4,r3)
  CHKD    r4, r3, 0x00123456, 8
  movd    $0, (ra)
  pop     $1, r1, ra
  movd    (ra), (r4,r3)
  CHKD    r4, r3, 0x00123456, 9
  /* A 32-bit register takes two words. */
  movd    $0xdeadbeef, (r12)
  push    $2, r12
  movd    $0, (r12)
  pop     $2, r12
  movd    (r12), (r4,r3)
  CHKD    r4, r3, 0xdeadbeef, 10
  /* popret returns through RA and restores what the callee pushed. */
  movw    $0x0707, r9
  bal     (ra), .Lcallee
  CHKW    r9, 0x0707, 11
  CHKW    r10, 0x0a0a, 12
  movd    (sp), (r4,r3)
  movw    $13, r0
  cmpd    (r8,r7), (r4,r3)
  bne     .Lfail
#ifndef SIM_WORKAROUNDS /* GDB sim: loadm/storm move one word too few */
  /* storm $4: r2 r3 r4 r5 to [r1], r1 advances. */
  movw    $st_mbuf, r1
  movw    $0xa1, r2
  movw    $0xa2, r3
  movw    $0xa3, r4
  movw    $0xa4, r5
  storm   $4
  movw    r1, r6
  CHKW    r6, st_mbuf+8, 14
  loadw   st_mbuf+6, r6
  CHKW    r6, 0xa4, 15
  /* loadm $6: [r0] into r2 r3 r4 r5 r8 r9, r0 advances. */
  movw    $0xb5, r1
  storw   r1, st_mbuf+8
  movw    $0xb6, r1
  storw   r1, st_mbuf+10
  movw    $st_mbuf, r0
  loadm   $6
  movw    r0, r6
  CHKW    r6, st_mbuf+12, 16
  CHKW    r2, 0xa1, 17
  CHKW    r5, 0xa4, 18
  CHKW    r8, 0xb5, 19
  CHKW    r9, 0xb6, 20
  /* stormp $2 through (r7,r6); loadmp $2 through (r1,r0). */
  movd    $st_mbuf+16, (r7,r6)
  movw    $0xc1, r2
  movw    $0xc2, r3
  stormp  $2
  CHKD    r7, r6, st_mbuf+20, 21
  movw    $0, r2
  movw    $0, r3
  movd    $st_mbuf+16, (r1,r0)
  loadmp  $2
  movd    (r1,r0), (r7,r6)
  CHKW    r3, 0xc2, 22
  CHKD    r7, r6, st_mbuf+20, 23
#endif
  GROUP_END

/* Saves r9, r10 and RA, clobbers r9/r10, returns with popret: the caller
 * sees r9 restored. r10 is set after the push so it survives (0x0a0a). */
.Lcallee:
  push    $1, r9, ra
  movw    $0x0909, r9
  movw    $0x0a0a, r10
  popret  $1, r9, ra
