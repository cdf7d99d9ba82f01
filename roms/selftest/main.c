/*
 * The CPU self-test firmware: runs every group, prints "PASS <group>" or
 * "FAIL <group> (check N)" on UART0 (polled), then lets the watchdog reset
 * the machine (carrying the failure count in SYS_SCRATCH), checks after the
 * reset that the watchdog caused it ("watchdog-reset"), prints
 * "selftest: N failures" and powers off with N as exit code.
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
void st_trap_9(void);
void st_trap_10(void);
void st_trap_12(void);

/* Only the CR16C+ (AHB) answers unmapped accesses with a bus error (IAD). */
static int iad_if_cr16cplus(void) {
  uint32_t model = mmio_read32(VIRT_SYSCTL_BASE + VIRT_SYS_CPU_MODEL);
  return model == VIRT_SYS_CPU_MODEL_CR16CPLUS ? st_iad() : ST_SKIP;
}

static const struct st_group kBoardGroups[] = {
    {"exceptions", st_exceptions},
    {"iad", iad_if_cr16cplus},
    {"usermode", st_usermode},
    {"trace", st_trace},
    {"interrupts", st_interrupts},
    {"timer", st_timer},
    {"nmi", st_nmi},
    {"sysctl", st_sysctl},
    {"rtc", st_rtc},
    {"watchdog", st_watchdog},
    {"flash", st_flash},
};

/* SYS_SCRATCH survives a watchdog reset: marker in bits 31:16, failures below. */
#define PHASE_MARKER 0x57D0UL
#define WATCHDOG_WAIT_POLLS 5000000UL

/* Arms a 1 ms watchdog and waits for the reset; returns only if none came. */
static void reset_by_watchdog(unsigned failures) {
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_SCRATCH, (PHASE_MARKER << 16) | failures);
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_TIMEOUT, 1000);
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_CTRL, VIRT_WDT_CTRL_ENABLE);
  for (uint32_t i = 0; i < WATCHDOG_WAIT_POLLS; i++)
    (void)mmio_read32(VIRT_WDT_BASE + VIRT_WDT_COUNT);
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_CTRL, 0);
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_SCRATCH, 0);
}

/* After the watchdog reset: 0 if the reset looks right, else a check number. */
static int check_watchdog_reset(void) {
  if (!(mmio_read32(VIRT_SYSCTL_BASE + VIRT_SYS_RESET_CAUSE) & VIRT_SYS_RESET_CAUSE_WATCHDOG))
    return 1;
  if (!(mmio_read32(VIRT_WDT_BASE + VIRT_WDT_STATUS) & VIRT_WDT_STATUS_WDT_RESET)) return 2;
  if (mmio_read32(VIRT_WDT_BASE + VIRT_WDT_CTRL) & VIRT_WDT_CTRL_ENABLE) return 3;
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_STATUS, VIRT_WDT_STATUS_WDT_RESET);
  if (mmio_read32(VIRT_WDT_BASE + VIRT_WDT_STATUS) & VIRT_WDT_STATUS_WDT_RESET) return 4;
  return 0;
}

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
  vectors_set(VIRT_VEC_TRC, st_trap_9);
  vectors_set(VIRT_VEC_UND, st_trap_10);
  vectors_set(VIRT_VEC_IAD, st_trap_12);
  uint32_t scratch = mmio_read32(VIRT_SYSCTL_BASE + VIRT_SYS_SCRATCH);
  unsigned failures;
  if ((scratch >> 16) == PHASE_MARKER) {
    failures = (unsigned)(scratch & 0xFFFFUL);
    mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_SCRATCH, 0);
    int check = check_watchdog_reset();
    if (check == 0) {
      fw_printf("PASS watchdog-reset\n");
    } else {
      fw_printf("FAIL watchdog-reset (check %d)\n", check);
      failures++;
    }
  } else {
    char cpu[VIRT_SYS_NAME_LEN + 1];
    sysctl_read_name(VIRT_SYS_CPU_NAME, cpu);
    fw_printf("\nselftest: CPU self-test on %s\n", cpu);
    failures = st_run_groups(st_cpu_groups, st_cpu_group_count);
    failures += st_run_groups(kBoardGroups, sizeof kBoardGroups / sizeof kBoardGroups[0]);
    reset_by_watchdog(failures);
    fw_printf("FAIL watchdog-reset (no reset)\n");
    failures++;
  }
  fw_printf("selftest: %u failures\n", failures);
  sysctl_poweroff(failures);
}
