/* Inline helpers for CR16C processor registers and interrupt control. */
#ifndef ROMS_COMMON_CPU_H
#define ROMS_COMMON_CPU_H

#include <stdint.h>

#define PSR_C 0x0001u
#define PSR_T 0x0002u
#define PSR_L 0x0004u
#define PSR_U 0x0008u
#define PSR_F 0x0020u
#define PSR_Z 0x0040u
#define PSR_N 0x0080u
#define PSR_E 0x0200u
#define PSR_P 0x0400u
#define PSR_I 0x0800u

#define CFG_ED 0x0100u

/** Reads the processor status register. */
static inline uint16_t cpu_read_psr(void) {
  uint16_t value;
  __asm__ volatile("spr psr, %0" : "=r"(value));
  return value;
}

/** Writes the processor status register (supervisor mode only). */
static inline void cpu_write_psr(uint16_t value) {
  __asm__ volatile("lpr %0, psr" : : "r"(value) : "memory");
}

/** Clears PSR.E: masks maskable interrupts (critical section start). */
static inline void cpu_di(void) {
  __asm__ volatile("di" : : : "memory");
}

/** Sets PSR.E: unmasks maskable interrupts (if PSR.I is also set). */
static inline void cpu_ei(void) {
  __asm__ volatile("ei" : : : "memory");
}

/**
 * Atomically sets PSR.E and waits for an interrupt. Call with E clear after
 * checking the wake-up condition, so no interrupt is missed in between.
 */
static inline void cpu_eiwait(void) {
  __asm__ volatile("eiwait" : : : "memory");
}

/** Sets both PSR.I and PSR.E: maskable interrupts from now on. */
static inline void cpu_enable_interrupts(void) {
  cpu_write_psr(cpu_read_psr() | PSR_I | PSR_E);
}

#endif /* ROMS_COMMON_CPU_H */
