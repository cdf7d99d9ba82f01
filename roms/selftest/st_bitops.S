/* Group "bitops": tbit on registers; sbit/cbit/tbit on memory words and
 * bytes (F receives the old bit). */
#include "st_macros.h"

  .section .bss
  .align 2
st_bits:
  .space 4

  GROUP_BEGIN st_bitops
  movw    $0x0008, r1
  tbit    $3, r1
  CHKFLAGS F_F, F_F, 1
  tbit    $2, r1
  CHKFLAGS F_F, 0, 2
  movw    $3, r2
  tbit    r2, r1
  CHKFLAGS F_F, F_F, 3
  /* Memory word through a register pair. */
  movd    $st_bits, (r3,r2)
  storw   $0, 0(r3,r2)
  sbitw   $5, 0(r3,r2)
  CHKFLAGS F_F, 0, 4
  loadw   0(r3,r2), r4
  CHKW    r4, 0x0020, 5
  sbitw   $5, 0(r3,r2)
  CHKFLAGS F_F, F_F, 6
  sbitw   $15, 0(r3,r2)
  loadw   0(r3,r2), r4
  CHKW    r4, -0x7fe0, 7
  cbitw   $5, 0(r3,r2)
  CHKFLAGS F_F, F_F, 8
  loadw   0(r3,r2), r4
  CHKW    r4, -0x8000, 9
  tbitw   $5, 0(r3,r2)
  CHKFLAGS F_F, 0, 10
  tbitw   $15, 0(r3,r2)
  CHKFLAGS F_F, F_F, 11
  /* Memory byte through an absolute address. */
  storb   $0, st_bits+2
  sbitb   $7, st_bits+2
  CHKFLAGS F_F, 0, 12
  loadb   st_bits+2, r4
  CHKB    r4, 0x80, 13
  tbitb   $7, st_bits+2
  CHKFLAGS F_F, F_F, 14
  cbitb   $7, st_bits+2
  CHKFLAGS F_F, F_F, 15
  loadb   st_bits+2, r4
  CHKB    r4, 0, 16
  GROUP_END
