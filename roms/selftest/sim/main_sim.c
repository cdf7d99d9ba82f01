/*
 * The CPU-only self-test groups as a semihosting program (cr16-elf-run or
 * cr16-system -semihosting -kernel): output through `excp svc` write,
 * exit status = number of failed groups.
 */
#include "fw_printf.h"
#include "groups.h"

/* write(fd, buffer, length) through the simulator's SVC ABI. */
__asm__(
    "  .text\n  .align 2\n  .globl _host_write\n_host_write:\n"
    "  movd $0x404, (r1,r0)\n  excp svc\n  jump (ra)\n");
int host_write(int fd, const char* buffer, int length);

static char line[128];
static int line_length;

void console_putc(char c) {
  line[line_length++] = c;
  if (c == '\n' || line_length == (int)sizeof line) {
    host_write(1, line, line_length);
    line_length = 0;
  }
}

int main(void) {
  unsigned failures = st_run_groups(st_cpu_groups, st_cpu_group_count);
  fw_printf("selftest: %u failures\n", failures);
  return (int)failures;
}
