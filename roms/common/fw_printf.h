/*
 * A small printf for firmware: %c %s %d %i %u %x %X %p %%, the l modifier
 * (32-bit), field width, '0' padding and '-' left alignment. Output goes
 * through console_putc(), which the firmware defines.
 */
#ifndef ROMS_COMMON_FW_PRINTF_H
#define ROMS_COMMON_FW_PRINTF_H

#include <stdarg.h>

/** Writes one output character (the firmware decides line endings). */
void console_putc(char c);

/** Formats like printf into console_putc(). */
void fw_printf(const char* format, ...);

/** Like fw_printf() with a va_list. */
void fw_vprintf(const char* format, va_list args);

#endif /* ROMS_COMMON_FW_PRINTF_H */
