/*
 * Board device groups: "sysctl" (identity registers, names, scratch),
 * "rtc" (time, setting it, the alarm interrupt), "watchdog" (counting,
 * kick; the reset itself is checked by main.c) and "flash" (lock, unlock
 * sequence, erase, program with NOR semantics, errors) on the last flash
 * sector.
 */
#include <stdint.h>

#include "cpu.h"
#include "groups.h"
#include "icu.h"
#include "mmio.h"
#include "vectors.h"

#define POLL_LIMIT 5000000UL
#define FLASH_TEST_OFFSET (VIRT_FLASH_SIZE - VIRT_FLASH_SECTOR_SIZE)
#define FLASH_TEST_WORDS ((volatile const uint16_t*)(VIRT_FLASH_BASE + FLASH_TEST_OFFSET))

static volatile unsigned rtc_alarms;

static uint32_t sys_read(uint32_t offset) {
  return mmio_read32(VIRT_SYSCTL_BASE + offset);
}

static int name_is(uint32_t offset, const char* expected) {
  const volatile uint8_t* window = (const volatile uint8_t*)(VIRT_SYSCTL_BASE + offset);
  unsigned i = 0;
  for (; expected[i]; i++)
    if (window[i] != (uint8_t)expected[i]) return 0;
  for (; i < VIRT_SYS_NAME_LEN; i++)
    if (window[i] != 0) return 0;
  return 1;
}

int st_sysctl(void) {
  if (sys_read(VIRT_SYS_BOARD_ID) != VIRT_SYS_BOARD_ID_VALUE) return 1;
  if (sys_read(VIRT_SYS_BOARD_VERSION) != VIRT_SYS_BOARD_VERSION_VALUE) return 2;
  uint32_t ram = sys_read(VIRT_SYS_RAM_SIZE);
  if (ram < VIRT_RAM_MIN_SIZE || ram > VIRT_RAM_MAX_SIZE) return 3;
  if (sys_read(VIRT_SYS_FLASH_SIZE) != VIRT_FLASH_SIZE) return 4;
  uint32_t model = sys_read(VIRT_SYS_CPU_MODEL);
  if (model == VIRT_SYS_CPU_MODEL_CR16CPLUS) {
    if (!name_is(VIRT_SYS_CPU_NAME, "CR16C+")) return 5;
  } else if (model == VIRT_SYS_CPU_MODEL_CR16C) {
    if (!name_is(VIRT_SYS_CPU_NAME, "CR16C")) return 5;
  } else {
    return 6;
  }
  if (!name_is(VIRT_SYS_BOARD_NAME, "virt")) return 7;
  uint32_t cause = sys_read(VIRT_SYS_RESET_CAUSE);
  if (cause == 0 || (cause & (cause - 1)) != 0) return 8; /* exactly one cause */
  uint32_t scratch = sys_read(VIRT_SYS_SCRATCH);
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_SCRATCH, 0xA5C3F00FUL);
  if (sys_read(VIRT_SYS_SCRATCH) != 0xA5C3F00FUL) return 9;
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_SCRATCH, scratch);
  if (mmio_read32(VIRT_UART0_BASE + VIRT_UART_FIFO_DEPTH) != VIRT_UART_FIFO_DEPTH_RESET) return 10;
  if (mmio_read32(VIRT_TIMER_BASE + VIRT_TIMER_FREQ) != VIRT_TIMER_FREQ_HZ) return 11;
  /* Power-off needs its key: these writes are ignored (the run goes on). */
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWEROFF, 0);
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWEROFF, 0x12345678UL);
  *(volatile uint16_t*)(VIRT_SYSCTL_BASE + VIRT_SYS_POWEROFF) = 0x5700;
  *(volatile uint16_t*)(VIRT_SYSCTL_BASE + VIRT_SYS_POWEROFF + 2) = 0x504F;
  /* The power button: not pressed; its interrupt enable reads back. */
  if (sys_read(VIRT_SYS_POWER_STATUS) != 0) return 12;
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWER_CTRL, VIRT_SYS_POWER_CTRL_BUTTON_IE);
  if (sys_read(VIRT_SYS_POWER_CTRL) != VIRT_SYS_POWER_CTRL_BUTTON_IE) return 13;
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWER_CTRL, 0);
  if (sys_read(VIRT_SYS_POWER_CTRL) != 0) return 14;
  return 0;
}

static void __attribute__((interrupt)) rtc_interrupt(void) {
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_STATUS, VIRT_RTC_STATUS_ALARM);
  rtc_alarms++;
}

static int run_rtc(void) {
  uint32_t now = mmio_read32(VIRT_RTC_BASE + VIRT_RTC_TIME);
  if (now < 1500000000UL) return 1; /* host time: after 2017 */
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_TIME, 1000);
  uint32_t set = mmio_read32(VIRT_RTC_BASE + VIRT_RTC_TIME);
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_TIME, now);
  if (set < 1000 || set > 1002) return 2;
  /* The alarm fires within about a second and interrupts on source 6. */
  rtc_alarms = 0;
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_STATUS, VIRT_RTC_STATUS_ALARM);
  uint32_t target = mmio_read32(VIRT_RTC_BASE + VIRT_RTC_TIME) + 1;
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_ALARM, target);
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_CTRL, VIRT_RTC_CTRL_ALARM_IE);
  cpu_write_psr(cpu_read_psr() | PSR_I);
  for (uint32_t i = 0; i < POLL_LIMIT; i++) {
    cpu_di();
    if (rtc_alarms != 0) break;
    cpu_eiwait();
  }
  cpu_ei();
  if (rtc_alarms != 1) return 3;
  uint32_t after = mmio_read32(VIRT_RTC_BASE + VIRT_RTC_TIME);
  if (after < target || after > target + 1) return 4;
  return 0;
}

int st_rtc(void) {
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_RTC), rtc_interrupt);
  icu_enable(VIRT_IRQ_RTC);
  int result = run_rtc();
  cpu_di();
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_CTRL, 0);
  mmio_write32(VIRT_RTC_BASE + VIRT_RTC_STATUS, VIRT_RTC_STATUS_ALARM);
  icu_disable(VIRT_IRQ_RTC);
  return result;
}

static uint32_t wdt_read(uint32_t offset) {
  return mmio_read32(VIRT_WDT_BASE + offset);
}

static int run_watchdog(void) {
  if (wdt_read(VIRT_WDT_CTRL) & VIRT_WDT_CTRL_ENABLE) return 1;
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_TIMEOUT, 2000000UL);
  if (wdt_read(VIRT_WDT_TIMEOUT) != 2000000UL) return 2;
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_CTRL, VIRT_WDT_CTRL_ENABLE);
  uint32_t first = wdt_read(VIRT_WDT_COUNT);
  if (first == 0 || first > 2000000UL) return 3;
  /* Let 20 ms pass, so a reload is told apart from the count going on even
   * when the host is slow between the kick and the next read. */
  uint32_t polls = 0;
  while (wdt_read(VIRT_WDT_COUNT) > first - 20000UL) {
    if (++polls == POLL_LIMIT) return 4; /* it must count down */
  }
  uint32_t before_kick = wdt_read(VIRT_WDT_COUNT);
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_KICK, VIRT_WDT_KICK_KEY);
  if (wdt_read(VIRT_WDT_COUNT) <= before_kick) return 5; /* kick reloads */
  return 0;
}

int st_watchdog(void) {
  int result = run_watchdog();
  mmio_write32(VIRT_WDT_BASE + VIRT_WDT_CTRL, 0);
  return result;
}

static uint32_t flash_status(void) {
  return mmio_read32(VIRT_FLASHCTL_BASE + VIRT_FLASH_STATUS);
}

/* Issues a command and waits for BUSY to clear; returns the final status. */
static uint32_t flash_command(uint32_t command, uint32_t offset, uint16_t data) {
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_STATUS,
               VIRT_FLASH_STATUS_ERROR | VIRT_FLASH_STATUS_DONE);
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_ADDR, offset);
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_DATA, data);
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_CMD, command);
  uint32_t status;
  uint32_t polls = 0;
  while ((status = flash_status()) & VIRT_FLASH_STATUS_BUSY) {
    if (++polls == POLL_LIMIT) break;
  }
  return status;
}

static int run_flash(void) {
  if (mmio_read32(VIRT_FLASHCTL_BASE + VIRT_FLASH_SECTOR) != VIRT_FLASH_SECTOR_SIZE) return 1;
  if (flash_status() & VIRT_FLASH_STATUS_UNLOCKED) return 2;
  /* Locked: the command fails and changes nothing. */
  uint32_t status = flash_command(VIRT_FLASH_CMD_ERASE_SECTOR, FLASH_TEST_OFFSET, 0);
  if (!(status & VIRT_FLASH_STATUS_ERROR) || (status & VIRT_FLASH_STATUS_DONE)) return 3;
  /* A wrong second key restarts the sequence. */
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_KEY, VIRT_FLASH_KEY1);
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_KEY, 0x1234);
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_KEY, VIRT_FLASH_KEY2);
  if (flash_status() & VIRT_FLASH_STATUS_UNLOCKED) return 4;
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_KEY, VIRT_FLASH_KEY1);
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_KEY, VIRT_FLASH_KEY2);
  if (!(flash_status() & VIRT_FLASH_STATUS_UNLOCKED)) return 5;
  /* Erase sets the sector to 0xFF. */
  status = flash_command(VIRT_FLASH_CMD_ERASE_SECTOR, FLASH_TEST_OFFSET + 0x10, 0);
  if ((status & VIRT_FLASH_STATUS_ERROR) || !(status & VIRT_FLASH_STATUS_DONE)) return 6;
  for (unsigned i = 0; i < VIRT_FLASH_SECTOR_SIZE / 2; i++)
    if (FLASH_TEST_WORDS[i] != 0xFFFF) return 7;
  /* Program, then program again: bits can only be cleared (AND). */
  status = flash_command(VIRT_FLASH_CMD_PROGRAM, FLASH_TEST_OFFSET + 0x20, 0x1234);
  if ((status & VIRT_FLASH_STATUS_ERROR) || !(status & VIRT_FLASH_STATUS_DONE)) return 8;
  if (FLASH_TEST_WORDS[0x10] != 0x1234) return 9;
  flash_command(VIRT_FLASH_CMD_PROGRAM, FLASH_TEST_OFFSET + 0x20, 0xFF0F);
  if (FLASH_TEST_WORDS[0x10] != 0x1204) return 10;
  if (FLASH_TEST_WORDS[0x11] != 0xFFFF) return 11;
  /* An odd address and an unknown command are errors. */
  status = flash_command(VIRT_FLASH_CMD_PROGRAM, FLASH_TEST_OFFSET + 0x31, 0);
  if (!(status & VIRT_FLASH_STATUS_ERROR)) return 12;
  status = flash_command(7, FLASH_TEST_OFFSET, 0);
  if (!(status & VIRT_FLASH_STATUS_ERROR)) return 13;
  /* Leave the sector erased and the controller locked. */
  status = flash_command(VIRT_FLASH_CMD_ERASE_SECTOR, FLASH_TEST_OFFSET, 0);
  if (FLASH_TEST_WORDS[0x10] != 0xFFFF) return 14;
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_CTRL, VIRT_FLASH_CTRL_LOCK);
  if (flash_status() & VIRT_FLASH_STATUS_UNLOCKED) return 15;
  return 0;
}

int st_flash(void) {
  int result = run_flash();
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_CTRL, VIRT_FLASH_CTRL_LOCK);
  mmio_write32(VIRT_FLASHCTL_BASE + VIRT_FLASH_STATUS,
               VIRT_FLASH_STATUS_ERROR | VIRT_FLASH_STATUS_DONE);
  return result;
}
