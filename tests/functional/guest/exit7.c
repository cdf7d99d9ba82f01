/* Exits through exit() with status 7 after printing one line. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  printf("exiting with 7\n");
  fflush(stdout);
  exit(7);
}
