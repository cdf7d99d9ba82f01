/* Group "multiply": mulb/mulw (truncating), mulsb/mulsw/muluw (widening)
 * and the saturating multiply-accumulates macsw/macuw/macqw. */
#include "st_macros.h"

  GROUP_BEGIN st_multiply
  movw    $0x1234, r1
  mulw    $3, r1
  CHKW    r1, 0x369c, 1
  movw    $0x0100, r1
  movw    $0x0101, r2
  mulw    r2, r1
  CHKW    r1, 0x0100, 2
  movw    $0x0055, r1
  mulb    $3, r1
  CHKB    r1, 0xff, 3
  movw    $0x00fe, r2
  movw    $0x0005, r1
  mulsb   r2, r1
  CHKW    r1, -0xa, 4
  movw    $-300, r2
  movd    $200, (r4,r3)
  mulsw   r2, (r4,r3)
  CHKD    r4, r3, 0xffff15a0, 5
  movw    $-1, r2
  movd    $0xffff, (r4,r3)
  muluw   r2, (r4,r3)
  CHKD    r4, r3, 0xfffe0001, 6
#ifndef SIM_WORKAROUNDS /* GDB sim: mac*w do not accumulate */
  movw    $-3, r5
  movw    $7, r6
  movd    $1000, (r4,r3)
  macsw   r5, r6, (r4,r3)
  CHKD    r4, r3, 979, 7
  movw    $-1, r5
  movw    $2, r6
  movd    $5, (r4,r3)
  macuw   r5, r6, (r4,r3)
  CHKD    r4, r3, 0x00020003, 8
  /* Saturation: signed and unsigned; macqw doubles the Q15 product. */
  movw    $100, r5
  movw    $100, r6
  movd    $0x7ffffff0, (r4,r3)
  macsw   r5, r6, (r4,r3)
  CHKD    r4, r3, 0x7fffffff, 9
  movw    $-100, r6
  movd    $0x80000010, (r4,r3)
  macsw   r5, r6, (r4,r3)
  CHKD    r4, r3, 0x80000000, 10
  movw    $0x100, r6
  movd    $0xfffffff0, (r4,r3)
  macuw   r5, r6, (r4,r3)
  CHKD    r4, r3, 0xffffffff, 11
  movw    $0x4000, r5
  movw    $0x4000, r6
  movd    $0x100, (r4,r3)
  macqw   r5, r6, (r4,r3)
  CHKD    r4, r3, 0x20000100, 12
  movw    $-0x8000, r5
  movw    $-0x8000, r6
  movd    $0, (r4,r3)
  macqw   r5, r6, (r4,r3)
  CHKD    r4, r3, 0x7fffffff, 13
#endif
  GROUP_END
