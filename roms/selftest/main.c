/*
 * The CPU self-test firmware: runs every group, prints "PASS <group>" or
 * "FAIL <group> (check N)" on UART0 (polled), then "selftest: N failures",
 * and powers off with the number of failed groups as exit code.
 */
#include "cpu.h"
#include "fw_printf.h"
#include "groups.h"
#include "mmio.h"
#include "sysctl.h"
#include "uart.h"
#include "vectors.h"

void st_trap_5(void);
void st_trap_6(void);
void st_trap_7(void);
void st_trap_8(void);
void st_trap_10(void);
void st_trap_12(void);

static const struct st_group kBoardGroups[] = {
    {"exceptions", st_exceptions}, {"iad", st_iad},     {"usermode", st_usermode},
    {"interrupts", st_interrupts}, {"timer", st_timer}, {"nmi", st_nmi},
};

void console_putc(char c) {
  if (c == '\n') uart_putc('\r');
  uart_putc(c);
}

void fatal_exception(const uint16_t* frame) {
  uint32_t pc = (((uint32_t)frame[1] << 16) | frame[0]) << 1;
  fw_printf("FAIL unexpected exception at pc 0x%06lx (psr 0x%04x)\n", pc, frame[2]);
  sysctl_poweroff(0xFE);
}

int main(void) {
  vectors_init();
  vectors_set(VIRT_VEC_SVC, st_trap_5);
  vectors_set(VIRT_VEC_DVZ, st_trap_6);
  vectors_set(VIRT_VEC_FLG, st_trap_7);
  vectors_set(VIRT_VEC_BPT, st_trap_8);
  vectors_set(VIRT_VEC_UND, st_trap_10);
  vectors_set(VIRT_VEC_IAD, st_trap_12);
  char cpu[VIRT_SYS_NAME_LEN + 1];
  sysctl_read_name(VIRT_SYS_CPU_NAME, cpu);
  fw_printf("\nselftest: CPU self-test on %s\n", cpu);
  unsigned failures = st_run_groups(st_cpu_groups, st_cpu_group_count);
  failures += st_run_groups(kBoardGroups, sizeof kBoardGroups / sizeof kBoardGroups[0]);
  fw_printf("selftest: %u failures\n", failures);
  sysctl_poweroff(failures);
}
