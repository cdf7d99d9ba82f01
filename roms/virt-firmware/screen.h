/*
 * The display side of the default firmware: the boot screen, a text
 * console mirroring UART0 below it, the `gfx` test pattern and the `anim`
 * animation. Both framebuffers sit at the top of RAM (roms/README.md):
 *   console  640x480 RGB565 (600 KiB), at RAM size - 1800 KiB
 *   graphics 640x480 XRGB8888 (1200 KiB) for `anim`, at RAM size - 1200 KiB;
 *            its first 600 KiB also hold the RGB565 `gfx` pattern
 * so with the default 2 MiB they are 0x03E000 and 0x0D4000, and RAM from
 * 0x010000 up to the console framebuffer stays free. With less than
 * SCREEN_MIN_RAM of RAM the display stays off.
 */
#ifndef ROMS_VIRT_FIRMWARE_SCREEN_H
#define ROMS_VIRT_FIRMWARE_SCREEN_H

#include <stdbool.h>
#include <stdint.h>

#define SCREEN_WIDTH 640UL
#define SCREEN_HEIGHT 480UL
#define SCREEN_CONSOLE_FB_SIZE (SCREEN_WIDTH * SCREEN_HEIGHT * 2UL)
#define SCREEN_GFX_FB_SIZE (SCREEN_WIDTH * SCREEN_HEIGHT * 4UL)
#define SCREEN_MIN_RAM 0x200000UL

/** Boot-screen logo height in pixels; the console uses the rows below. */
#define SCREEN_LOGO_HEIGHT 112UL
#define SCREEN_COLUMNS 80U
#define SCREEN_ROWS 23U /* (480 - 112) / 16 */

/**
 * Places the framebuffers for the RAM size. From now on screen_putc()
 * collects what is printed (up to 512 characters) until
 * screen_draw_boot_screen() draws it: so the banner reaches the UART
 * before the slower drawing starts.
 */
void screen_init(void);

/**
 * Draws the boot screen into the console framebuffer, the characters
 * collected since screen_init() below it, and shows it at 640x480 RGB565.
 * `version` is the firmware version the UART banner prints.
 */
void screen_draw_boot_screen(const char* version);

/**
 * Puts one character on the display console: printable ASCII, '\n' (new
 * line, scrolling when the last row is full), '\r' and '\b'; other control
 * characters are ignored. Draws even while `gfx` or `anim` owns the screen.
 */
void screen_putc(char c);

/** Shows the console again if the `gfx` pattern is on screen. */
void screen_show_console(void);

/** Clears the console rows and puts the cursor at the top left. */
void screen_clear_console(void);

/** True when the display is in use (RAM size >= SCREEN_MIN_RAM). */
bool screen_available(void);

/** Draws the test pattern (RGB565) in the graphics buffer and shows it. */
void screen_show_test_pattern(void);

/**
 * Animates the whole screen at 640x480 XRGB8888, one frame per vertical
 * blank, until `stop()` returns true (checked once per frame); then shows
 * the console again. Returns the number of frames drawn.
 */
uint32_t screen_animate(bool (*stop)(void));

#endif /* ROMS_VIRT_FIRMWARE_SCREEN_H */
