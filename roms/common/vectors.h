/* The exception dispatch table (in RAM; INTBASE points at it, CFG.ED = 1). */
#ifndef ROMS_COMMON_VECTORS_H
#define ROMS_COMMON_VECTORS_H

#include <stdint.h>

#define VECTOR_COUNT 64

/** A handler entered by the CPU: must end with retx (use the interrupt attribute). */
typedef void (*vector_handler)(void);

/** The table crt0 loads into INTBASE; entries hold handler address >> 1. */
extern uint32_t dispatch_table[VECTOR_COUNT];

/**
 * Points every vector at the fatal-exception handler and the spurious
 * interrupt vector (48) at a handler that just returns.
 */
void vectors_init(void);

/** Installs `handler` for `vector` (0..63). */
void vectors_set(unsigned vector, vector_handler handler);

/**
 * Called (with the exception frame: saved PC >> 1, then PSR) when an
 * unexpected exception or interrupt arrives. Firmware defines it; it must
 * not return.
 */
void fatal_exception(const uint16_t* frame);

#endif /* ROMS_COMMON_VECTORS_H */
