/* Group "arith": add/addc/addu/sub/subc/cmp in byte, word and dword forms,
 * carry and overflow edges, and the mov/movx/movz moves. */
#include "st_macros.h"

  GROUP_BEGIN st_arith
  /* addw: signed overflow without carry, then carry without overflow. */
  SETFLAGS 0
  movw    $0x7fff, r1
  addw    $1, r1
  CHKFLAGS F_C|F_F, F_F, 1
  CHKW    r1, -0x8000, 2
#ifndef SIM_WORKAROUNDS /* GDB sim: addw never sets C */
  movw    $-0x1, r1
  addw    $1, r1
  CHKFLAGS F_C|F_F, F_C, 3
  CHKW    r1, 0, 4
  movw    $-0x8000, r1
  movw    $-0x8000, r2
  addw    r2, r1
  CHKFLAGS F_C|F_F, F_C|F_F, 5
  CHKW    r1, 0, 6
#endif
  movw    $0x1234, r1
  addw    $0x1111, r1
  CHKFLAGS F_C|F_F, 0, 7
  CHKW    r1, 0x2345, 8
  /* addcw uses the carry in. */
  SETFLAGS F_C
  movw    $0x1234, r1
  addcw   $0x1111, r1
  CHKFLAGS F_C|F_F, 0, 9
  CHKW    r1, 0x2346, 10
#ifndef SIM_WORKAROUNDS /* GDB sim: addcw never sets C */
  SETFLAGS F_C
  movw    $-0x2, r1
  addcw   $1, r1
  CHKFLAGS F_C, F_C, 11
  CHKW    r1, 0, 12
#endif
  /* addb: only the low byte; carry out of bit 7. */
#ifndef SIM_WORKAROUNDS /* GDB sim: addb never sets C */
  movw    $0x00ff, r1
  addb    $1, r1
  CHKFLAGS F_C, F_C, 13
  CHKB    r1, 0, 14
#endif
  movw    $0x007f, r1
  addb    $1, r1
  CHKFLAGS F_C|F_F, F_F, 15
  CHKB    r1, 0x80, 16
  /* addd: 32-bit carry and overflow. */
#ifndef SIM_WORKAROUNDS /* GDB sim: addd never sets C */
  movd    $0xffffffff, (r2,r1)
  addd    $1, (r2,r1)
  CHKFLAGS F_C|F_F, F_C, 17
  CHKD    r2, r1, 0, 18
#endif
  movd    $0x7fffffff, (r2,r1)
  addd    $1, (r2,r1)
  CHKFLAGS F_C|F_F, F_F, 19
  CHKD    r2, r1, 0x80000000, 20
  movd    $0x0000ffff, (r2,r1)
  movd    $0x00010001, (r4,r3)
  addd    (r4,r3), (r2,r1)
  CHKD    r2, r1, 0x00020000, 21
  /* adduw changes no flags. */
  SETFLAGS F_C|F_F|F_Z
  movw    $-0x1, r1
  adduw   $2, r1
  CHKFLAGS F_ALL, F_C|F_F|F_Z, 22
  CHKW    r1, 1, 23
  /* subw: borrow sets C; overflow sets F. */
#ifndef SIM_WORKAROUNDS /* GDB sim: sub never sets C (borrow) */
  movw    $0, r1
  subw    $1, r1
  CHKFLAGS F_C|F_F, F_C, 24
  CHKW    r1, -0x1, 25
#endif
  movw    $-0x8000, r1
  subw    $1, r1
  CHKFLAGS F_C|F_F, F_F, 26
  CHKW    r1, 0x7fff, 27
  movw    $9, r1
  movw    $4, r2
  subw    r2, r1
  CHKFLAGS F_C|F_F, 0, 28
  CHKW    r1, 5, 29
  /* subcw subtracts the borrow too. */
  SETFLAGS F_C
  movw    $5, r1
  subcw   $2, r1
  CHKW    r1, 2, 30
  CHKFLAGS F_C, 0, 31
  /* subd. */
#ifndef SIM_WORKAROUNDS /* GDB sim: sub never sets C (borrow) */
  movd    $0, (r2,r1)
  subd    $1, (r2,r1)
  CHKFLAGS F_C|F_F, F_C, 32
  CHKD    r2, r1, 0xffffffff, 33
#endif
  movd    $0x80000000, (r2,r1)
  movd    $1, (r4,r3)
  subd    (r4,r3), (r2,r1)
  CHKFLAGS F_C|F_F, F_F, 34
  CHKD    r2, r1, 0x7fffffff, 35
  /* cmp src, dest: Z equal, N src > dest signed, L src > dest unsigned. */
  movw    $3, r1
  cmpw    $5, r1
  CHKFLAGS F_Z|F_N|F_L, F_N|F_L, 36
  movw    $5, r1
  cmpw    $3, r1
  CHKFLAGS F_Z|F_N|F_L, 0, 37
  movw    $1, r1
  cmpw    $-1, r1
  CHKFLAGS F_Z|F_N|F_L, F_L, 38
  movw    $0x1234, r1
  cmpw    $0x1234, r1
  CHKFLAGS F_Z|F_N|F_L, F_Z, 39
  movd    $1, (r2,r1)
  cmpd    $0x80000000, (r2,r1)
  CHKFLAGS F_Z|F_N|F_L, F_L, 40
  movw    $0x0080, r1
  cmpb    $1, r1
  CHKFLAGS F_Z|F_N|F_L, F_N, 41
  /* Moves with sign and zero extension. */
  movw    $0x1280, r1
  movxb   r1, r2
  CHKW    r2, -0x80, 42
  movzb   r1, r2
  CHKW    r2, 0x0080, 43
  movw    $-0x7fff, r1
  movxw   r1, (r3,r2)
  CHKD    r3, r2, 0xffff8001, 44
  movzw   r1, (r3,r2)
  CHKD    r3, r2, 0x00008001, 45
  movd    $0x12345678, (r3,r2)
  movd    (r3,r2), (r5,r4)
  CHKW    r4, 0x5678, 46
  CHKW    r5, 0x1234, 47
  GROUP_END
