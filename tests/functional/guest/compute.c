/*
 * A deterministic computation: sorts 500 pseudo-random numbers with qsort,
 * checks the order, and prints a CRC-32 of the sorted array, a 32-bit sum
 * and a few values. Exercises 16/32-bit arithmetic, division and libc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "guest_syscalls.h"

#define COUNT 500

static uint32_t values[COUNT];

static uint32_t next_random(uint32_t* state) {
  *state = *state * 1103515245UL + 12345UL;
  return *state;
}

static int compare_u32(const void* a, const void* b) {
  uint32_t x = *(const uint32_t*)a, y = *(const uint32_t*)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

static uint32_t crc32(const uint8_t* data, unsigned long len) {
  uint32_t crc = 0xFFFFFFFFUL;
  for (unsigned long i = 0; i < len; i++) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320UL & (0UL - (crc & 1)));
  }
  return ~crc;
}

int main(void) {
  uint32_t state = 1;
  uint32_t sum = 0;
  for (int i = 0; i < COUNT; i++) {
    values[i] = next_random(&state);
    sum += values[i];
  }
  qsort(values, COUNT, sizeof values[0], compare_u32);
  int sorted = 1;
  for (int i = 1; i < COUNT; i++)
    if (values[i - 1] > values[i]) sorted = 0;
  printf("sorted: %s\n", sorted ? "yes" : "no");
  printf("min %lu max %lu median %lu\n", (unsigned long)values[0], (unsigned long)values[COUNT - 1],
         (unsigned long)values[COUNT / 2]);
  printf("sum 0x%08lx\n", (unsigned long)sum);
  printf("crc32 0x%08lx\n", (unsigned long)crc32((const uint8_t*)values, sizeof values));
  long q = -1234567L / 89, r = -1234567L % 89;
  printf("div %ld rem %ld\n", q, r);
  return sorted ? 0 : 1;
}
