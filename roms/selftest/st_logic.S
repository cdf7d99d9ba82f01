/* Group "logic": and/or/xor in byte, word and dword forms. */
#include "st_macros.h"

  GROUP_BEGIN st_logic
  movw    $0x5a5a, r1
  andw    $0x0ff0, r1
  CHKW    r1, 0x0a50, 1
  orw     $0xf00f, r1
  CHKW    r1, -0x5a1, 2
  xorw    $0xffff, r1
  CHKW    r1, 0x05a0, 3
  movw    $0x1234, r1
  movw    $0x00ff, r2
  andw    r2, r1
  CHKW    r1, 0x0034, 4
  movw    $0x1200, r2
  orw     r2, r1
  CHKW    r1, 0x1234, 5
  xorw    r1, r1
  CHKW    r1, 0, 6
  /* Byte forms change the low byte only. */
  movw    $0x12f0, r1
  andb    $0x3c, r1
  CHKB    r1, 0x30, 7
  orb     $0x0f, r1
  CHKB    r1, 0x3f, 8
  xorb    $0xff, r1
  CHKB    r1, 0xc0, 9
  /* Dword forms. */
  movd    $0x12345678, (r2,r1)
  andd    $0xff00ff00, (r2,r1)
  CHKD    r2, r1, 0x12005600, 10
  ord     $0x000000ff, (r2,r1)
  CHKD    r2, r1, 0x120056ff, 11
  movd    $0xffffffff, (r4,r3)
  xord    (r4,r3), (r2,r1)
  CHKD    r2, r1, 0xedffa900, 12
  movd    $0x0f0f0f0f, (r4,r3)
  andd    (r4,r3), (r2,r1)
  CHKD    r2, r1, 0x0d0f0900, 13
  GROUP_END
