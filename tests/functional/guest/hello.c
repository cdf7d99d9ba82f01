/* Prints one line to stdout and one to stderr, then exits with status 0. */
#include <stdio.h>

int main(void) {
  printf("Hello, world!\n");
  fflush(stdout);
  fprintf(stderr, "hello on stderr\n");
  return 0;
}
