/* Group "shift": ashu/lsh in byte, word and dword forms, immediate and
 * register counts in both directions. */
#include "st_macros.h"

  GROUP_BEGIN st_shift
  movw    $0x1234, r1
  ashuw   $4, r1
  CHKW    r1, 0x2340, 1
  movw    $-0x7ff0, r1
  ashuw   $-4, r1
  CHKW    r1, -0x7ff, 2
  movw    $-0x7ff0, r1
  lshw    $-4, r1
  CHKW    r1, 0x0801, 3
  movw    $0x0101, r1
  movw    $4, r2
  lshw    r2, r1
  CHKW    r1, 0x1010, 4
  movw    $-8, r1
  movw    $-3, r2
  ashuw   r2, r1
  CHKW    r1, -0x1, 5
  movw    $-0x8000, r1
  movw    $-15, r2
  lshw    r2, r1
  CHKW    r1, 1, 6
  movw    $0x1211, r1
  ashub   $3, r1
  CHKB    r1, 0x88, 7
  movw    $0x0080, r1
  ashub   $-7, r1
  CHKB    r1, 0xff, 8
  movw    $0x0080, r1
  lshb    $-7, r1
  CHKB    r1, 0x01, 9
  movd    $0x00123456, (r2,r1)
  ashud   $8, (r2,r1)
  CHKD    r2, r1, 0x12345600, 10
  movd    $0x80000000, (r2,r1)
  ashud   $-8, (r2,r1)
  CHKD    r2, r1, 0xff800000, 11
  movd    $0x80000000, (r2,r1)
  lshd    $-8, (r2,r1)
  CHKD    r2, r1, 0x00800000, 12
  movd    $0x0000abcd, (r2,r1)
  movw    $16, r3
  lshd    r3, (r2,r1)
  CHKD    r2, r1, 0xabcd0000, 13
  movw    $-20, r3
  lshd    r3, (r2,r1)
  CHKD    r2, r1, 0x00000abc, 14
  movd    $0xf0000000, (r2,r1)
  movw    $-28, r3
  ashud   r3, (r2,r1)
  CHKD    r2, r1, 0xffffffff, 15
  GROUP_END
