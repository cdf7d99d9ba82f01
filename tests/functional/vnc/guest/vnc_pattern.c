/*
 * A guest for the VNC functional tests: turns the display on at 320x240
 * RGB565 with a framebuffer in RAM, draws eight colour bars over a grey
 * background, then waits for keyboard bytes; each byte repaints the band
 * of rows 200..219 in a colour taken from the byte (so a key sent through
 * VNC changes exactly those rows) and writes "key XX" on stdout.
 */
#include <stdint.h>
#include <stdio.h>

#include "../../../../roms/include/virt.h"

#define FB_ADDRESS 0x100000UL
#define WIDTH 320
#define HEIGHT 240

static volatile uint32_t* reg(unsigned long base, unsigned long offset) {
  return (volatile uint32_t*)(base + offset);
}

static void fill_rows(volatile uint16_t* fb, int first, int count, uint16_t colour) {
  for (int y = first; y < first + count; ++y)
    for (int x = 0; x < WIDTH; ++x) fb[(long)y * WIDTH + x] = colour;
}

int main(void) {
  static const uint16_t bars[8] = {0xFFFF, 0xFFE0, 0x07FF, 0x07E0, 0xF81F, 0xF800, 0x001F, 0x0000};
  volatile uint16_t* fb = (volatile uint16_t*)FB_ADDRESS;
  fill_rows(fb, 0, HEIGHT, 0x8410); /* grey */
  for (int y = 20; y < 180; ++y)
    for (int x = 0; x < WIDTH; ++x) fb[(long)y * WIDTH + x] = bars[x / (WIDTH / 8)];
  *reg(VIRT_DISPLAY_BASE, VIRT_DISP_BASE) = FB_ADDRESS;
  *reg(VIRT_DISPLAY_BASE, VIRT_DISP_MODE) =
      VIRT_DISP_MODE_RES_320X240 | (VIRT_DISP_FORMAT_RGB565 << VIRT_DISP_MODE_FORMAT_SHIFT);
  *reg(VIRT_DISPLAY_BASE, VIRT_DISP_CTRL) = VIRT_DISP_CTRL_ENABLE;
  printf("pattern drawn\n");
  fflush(stdout);
  for (;;) {
    uint32_t status = *reg(VIRT_KBD_BASE, VIRT_KBD_STATUS);
    if ((status & VIRT_KBD_STATUS_NOT_EMPTY) == 0) continue;
    uint32_t code = *reg(VIRT_KBD_BASE, VIRT_KBD_DATA) & 0xFF;
    uint16_t colour = (uint16_t)((code << 8) | code | 0x0821);
    fill_rows(fb, 200, 20, colour);
    printf("key %02lx\n", (unsigned long)code);
    fflush(stdout);
  }
}
