/* printf with many integer and string conversions, flags, widths and precisions. */
#include <stdio.h>

#include "guest_syscalls.h"

int main(void) {
  printf("[%d] [%i] [%u] [%d]\n", 42, -42, 65535u, -32767 - 1);
  printf("[%ld] [%lu] [%ld]\n", 2147483647L, 4294967295UL, -2147483647L - 1);
  printf("[%x] [%X] [%#x] [%o] [%#o]\n", 0xbeef, 0xbeef, 255, 8, 8);
  printf("[%08lx] [%-8d] [%8d] [%+d] [% d]\n", 0x12abUL, 17, 17, 5, 5);
  printf("[%c%c%c] [%s] [%.3s] [%10s] [%-10s]\n", 'a', 'b', 'c', "string", "truncate", "right",
         "left");
  printf("[%5.3d] [%.0d] [%%] [%hd] [%lx]\n", 7, 0, (short)-5, -1L);
  printf("[%*d] [%-*d] [%.*s]\n", 6, 99, 6, 99, 3, "precision");
  return 0;
}
