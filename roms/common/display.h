/*
 * The virt display controller (docs/virt.md section 10): mode and
 * framebuffer selection, and waiting for vertical blanks with the VBLANK
 * interrupt (source 8), which is enabled only while someone waits.
 */
#ifndef ROMS_COMMON_DISPLAY_H
#define ROMS_COMMON_DISPLAY_H

#include <stdint.h>

/** Installs the vertical-blank handler and enables its ICU source. */
void display_init(void);

/**
 * Scans out the framebuffer at `base` in `resolution` (VIRT_DISP_MODE_RES_*)
 * and `format` (VIRT_DISP_FORMAT_*), enabling the display if it was off.
 */
void display_show(uint32_t base, uint32_t resolution, uint32_t format);

/** Switches the display off (it shows black). */
void display_off(void);

/**
 * Sleeps (eiwait) until the next vertical blank; returns the number of
 * vertical blanks seen by the interrupt handler so far.
 */
uint32_t display_wait_vblank(void);

#endif /* ROMS_COMMON_DISPLAY_H */
