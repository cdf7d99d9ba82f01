/* The RAM dispatch table and default handlers. */
#include "vectors.h"

uint32_t dispatch_table[VECTOR_COUNT] __attribute__((aligned(4)));

void fatal_entry(void); /* in fatal_entry.S */

static void __attribute__((interrupt)) spurious_interrupt(void) {}

void vectors_set(unsigned vector, vector_handler handler) {
  /* A C function pointer already holds the code address >> 1. */
  if (vector < VECTOR_COUNT) dispatch_table[vector] = (uint32_t)handler;
}

void vectors_init(void) {
  for (unsigned v = 0; v < VECTOR_COUNT; v++) vectors_set(v, fatal_entry);
  vectors_set(48, spurious_interrupt);
}
