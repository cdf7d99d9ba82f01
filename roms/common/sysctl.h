/* Board identity, RAM size and power control through sysctl. */
#ifndef ROMS_COMMON_SYSCTL_H
#define ROMS_COMMON_SYSCTL_H

#include <stdint.h>

/** RAM size in bytes (SYS_RAM_SIZE). */
uint32_t sysctl_ram_size(void);

/** Copies a NUL-padded name window (VIRT_SYS_CPU_NAME or VIRT_SYS_BOARD_NAME) into `out` (17
 * bytes). */
void sysctl_read_name(uint32_t offset, char* out);

/** Name of the last reset's cause ("poweron", "software", "watchdog", "external", "unknown"). */
const char* sysctl_reset_cause(void);

/** Powers the machine off with `code` (low 8 bits) as exit status: writes
 * VIRT_SYS_POWEROFF_KEY | code to SYS_POWEROFF. Does not return. */
void sysctl_poweroff(unsigned code) __attribute__((noreturn));

/** Resets the machine. Does not return. */
void sysctl_reset(void) __attribute__((noreturn));

#endif /* ROMS_COMMON_SYSCTL_H */
