/*
 * Reset entry of the sc14441 boot ROM (first byte at 0xFEF000) and the
 * hand-over to the uploaded payload.
 */
#include "sc14441.h"

/* Stacks at the top of the 16 KiB RAM at 0: far below the payload area. */
#define ROM_ISTACK_TOP 0x4000
#define ROM_STACK_TOP 0x3E00

  .section .reset, "ax"
  .globl _rom_entry
_rom_entry:
  di
  movd    $ROM_ISTACK_TOP, (r1,r0)
  lprd    (r1,r0), isp
  movd    $ROM_STACK_TOP, (sp)
  bal     (ra), _rom_main
.Lhang:
  br      .Lhang

/*
 * void rom_start_payload(void): PSR = 0 (supervisor, interrupts off, trace
 * off), then jump to the payload's first byte. Never returns.
 */
  .text
  .globl _rom_start_payload
_rom_start_payload:
  di
  movw    $0, r0
  lpr     r0, psr
  movd    $SC14441_PAYLOAD_BASE>>1, (r1,r0)   /* jump takes the address >> 1 */
  jump    (r1,r0)
