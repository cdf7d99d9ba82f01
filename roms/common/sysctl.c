/* sysctl access helpers. */
#include "sysctl.h"

#include "mmio.h"

uint32_t sysctl_ram_size(void) {
  return mmio_read32(VIRT_SYSCTL_BASE + VIRT_SYS_RAM_SIZE);
}

void sysctl_read_name(uint32_t offset, char* out) {
  const volatile uint8_t* window = (const volatile uint8_t*)(VIRT_SYSCTL_BASE + offset);
  for (unsigned i = 0; i < VIRT_SYS_NAME_LEN; i++) out[i] = (char)window[i];
  out[VIRT_SYS_NAME_LEN] = '\0';
}

const char* sysctl_reset_cause(void) {
  uint32_t cause = mmio_read32(VIRT_SYSCTL_BASE + VIRT_SYS_RESET_CAUSE);
  if (cause & VIRT_SYS_RESET_CAUSE_WATCHDOG) return "watchdog";
  if (cause & VIRT_SYS_RESET_CAUSE_SOFTWARE) return "software";
  if (cause & VIRT_SYS_RESET_CAUSE_EXTERNAL) return "external";
  if (cause & VIRT_SYS_RESET_CAUSE_POWERON) return "poweron";
  return "unknown";
}

void sysctl_poweroff(unsigned code) {
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWEROFF,
               VIRT_SYS_POWEROFF_KEY | (code & VIRT_SYS_POWEROFF_CODE_MASK));
  for (;;) __asm__ volatile("wait");
}

void sysctl_reset(void) {
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_RESET, VIRT_SYS_RESET_KEY);
  for (;;) __asm__ volatile("wait");
}
