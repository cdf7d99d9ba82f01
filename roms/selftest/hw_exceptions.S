#include "trap_macros.h"

  /* Group "exceptions": SVC, DVZ, FLG, BPT and UND (excp und, an
   * undefined opcode, excp with a reserved vector), retx frames. Runs with
   * PSR.I and PSR.E set and no interrupt source enabled. */
  GROUP_BEGIN st_exceptions
  spr     psr, r1
  orw     $F_I|F_E, r1
  lpr     r1, psr
  TRAP_CASE 5, 10, excp svc
  TRAP_CASE 6, 20, excp dvz
  TRAP_CASE 7, 30, excp flg
  TRAP_CASE 8, 40, excp bpt
  TRAP_CASE 10, 50, excp und
  TRAP_CASE 10, 60, .short 0x0001
  TRAP_CASE 10, 70, .short 0x00cc
  GROUP_END

