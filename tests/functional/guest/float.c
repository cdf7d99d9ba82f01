/*
 * Soft-float arithmetic and printf("%f/%e/%g"). The GNU simulator
 * (cr16-elf-run from GDB 13.1) never finishes this program, so its
 * expected output was taken from the C standard's formatting rules (the host
 * C library prints the same text for these values), not from the simulator.
 */
#include <stdio.h>

#include "guest_syscalls.h"

int main(void) {
  volatile double a = 3.5, b = 2.25;
  volatile float f = 1.5f;
  printf("[%f] [%.2f] [%e] [%g] [%g]\n", 3.14159, -2.5, 12345.678, 0.0001, 1e20);
  printf("[%.3f] [%.1f] [%.4f]\n", a * b, a / b, (double)(f * f));
  printf("[%ld] [%ld]\n", (long)(a * 1000.0), (long)(-b * 100.0));
  return 0;
}
