/* Group "loadstore": load/store of bytes, words and dwords through absolute
 * addresses, register-pair bases with short, 16-bit and 20-bit
 * displacements, a 32-bit base register (r12), the [r12] index form, store
 * of an immediate, little-endian byte order. */
#include "st_macros.h"

  .section .bss
  .align 2
st_buf:
  .space 64

  GROUP_BEGIN st_loadstore
  /* Absolute addresses. */
  movw    $0x1357, r1
  storw   r1, st_buf
  loadw   st_buf, r2
  CHKW    r2, 0x1357, 1
  movd    $0x11223344, (r2,r1)
  stord   (r2,r1), st_buf+4
  loadd   st_buf+4, (r4,r3)
  CHKD    r4, r3, 0x11223344, 2
  /* Little-endian layout seen through byte and word loads. */
  loadb   st_buf+4, r3
  CHKB    r3, 0x44, 3
  loadb   st_buf+7, r3
  CHKB    r3, 0x11, 4
  loadw   st_buf+6, r3
  CHKW    r3, 0x1122, 5
  /* Register-pair base, short displacement. */
  movd    $st_buf, (r8,r7)
  movd    $st_buf, (r6,r5)
  movw    $0x2468, r1
  storw   r1, 8(r6,r5)
  loadw   8(r6,r5), r2
  CHKW    r2, 0x2468, 6
  movw    $0x00a5, r1
  storb   r1, 10(r6,r5)
  loadb   10(r6,r5), r2
  CHKB    r2, 0xa5, 7
#ifndef SIM_WORKAROUNDS /* GDB sim: wrong address for disp20(rp) stores */
  /* 16-bit displacement (negative). */
  movd    $st_buf+0x1000, (r6,r5)
  movd    $0xcafef00d, (r2,r1)
  stord   (r2,r1), -0x1000+12(r6,r5)
  movd    $st_buf, (r8,r7)
  loadd   12(r8,r7), (r4,r3)
  CHKD    r4, r3, 0xcafef00d, 8
  /* 20-bit displacement. */
  movd    $st_buf, (r6,r5)
  subd    $0x12340, (r6,r5)
  loadd   0x12340+12(r6,r5), (r4,r3)
  CHKD    r4, r3, 0xcafef00d, 9
  movw    $0x7777, r1
  storw   r1, 0x12340+16(r6,r5)
  loadw   16(r8,r7), r2
  CHKW    r2, 0x7777, 10
#else
  movw    $0x7777, r1
  storw   r1, 16(r8,r7)
#endif
  /* 32-bit base register r12, and the [r12] index form. */
  movd    $st_buf, (r12)
  loadw   16(r12), r2
  CHKW    r2, 0x7777, 11
  movw    $0x3c3c, r1
#ifndef SIM_WORKAROUNDS /* GDB sim: [r12] stores go to a wrong address */
  storw   r1, [r12]0x14
#else
  storw   r1, 20(r8,r7)
#endif
  loadw   20(r8,r7), r2
  CHKW    r2, 0x3c3c, 12
#ifndef SIM_WORKAROUNDS
  loadw   [r12]0x14, r3
  CHKW    r3, 0x3c3c, 13
#endif
  /* Store of a 4-bit immediate to memory. */
  storw   $5, 22(r8,r7)
  loadw   22(r8,r7), r2
  CHKW    r2, 5, 14
  storb   $3, 24(r8,r7)
  loadb   24(r8,r7), r2
  CHKB    r2, 3, 15
  /* A word load leaves nothing of the old value; a dword store/load pair
   * through a pair pointer round-trips. */
  movw    $-1, r2
  loadw   22(r8,r7), r2
  CHKW    r2, 5, 16
  movd    $0x89abcdef, (r2,r1)
  stord   (r2,r1), 28(r8,r7)
  loadw   28(r8,r7), r3
  CHKW    r3, -0x3211, 17
  loadw   30(r8,r7), r3
  CHKW    r3, -0x7655, 18
  GROUP_END
