/*
 * Guest for the SDL window tests: draws a known picture and then waits for
 * one-letter commands on UART0, sleeping (eiwait) in between:
 *   h  640x480 XRGB8888 picture   (the start-up mode)
 *   l  320x240 RGB565 picture
 *   a  animate: a 16-row band changes at every vertical blank
 *   s  stop animating
 *   k  print the keyboard FIFO level
 * Each command answers "ok <letter>". The power button powers off with
 * code 0. Pictures (x, y from 0):
 *   XRGB8888: red = x & 0xFF, green = y & 0xFF, blue = (x ^ y) & 0xFF
 *   RGB565:   red = x & 0x1F, green = y & 0x3F, blue = (x + y) & 0x1F
 * Keys stay in the keyboard FIFO (nothing reads KBD_DATA).
 * Built with tests/functional/sdl/programs/Makefile; display_test.bin is
 * committed so the tests need no cross toolchain.
 */
#include "cpu.h"
#include "fw_printf.h"
#include "icu.h"
#include "mmio.h"
#include "sysctl.h"
#include "uart.h"
#include "vectors.h"
#include "virt.h"

#define FRAMEBUFFER 0x080000UL
#define DISP(reg) (VIRT_DISPLAY_BASE + (reg))

void console_putc(char c) {
  if (c == '\n') uart_putc('\r');
  uart_putc(c);
}

void fatal_exception(const uint16_t* frame) {
  (void)frame;
  sysctl_poweroff(0xFF);
}

static volatile uint8_t animating;
static volatile uint32_t frames;
static uint32_t width = 640; /* int is 16 bits here: constants are long */

static void __attribute__((interrupt)) power_button_interrupt(void) {
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWER_STATUS, VIRT_SYS_POWER_STATUS_BUTTON);
  sysctl_poweroff(0);
}

/* Vertical blank: while animating, rows 100..115 take a colour that
 * changes every frame. */
static void __attribute__((interrupt)) vblank_interrupt(void) {
  mmio_write32(DISP(VIRT_DISP_STATUS), VIRT_DISP_STATUS_VBLANK);
  frames++;
  if (!animating) return;
  volatile uint32_t* fb = (volatile uint32_t*)FRAMEBUFFER;
  uint32_t colour = (frames * 0x010305UL) & 0xFFFFFFUL;
  if (width == 640) {
    for (uint32_t i = 100UL * 640; i < 116UL * 640; i++) fb[i] = colour;
  } else {
    /* RGB565: two pixels per word, the same width in bytes as 160 words. */
    for (uint32_t i = 100UL * 160; i < 116UL * 160; i++) fb[i] = colour;
  }
}

static void draw_xrgb(void) {
  volatile uint32_t* fb = (volatile uint32_t*)FRAMEBUFFER;
  for (uint32_t y = 0; y < 480; y++) {
    for (uint32_t x = 0; x < 640; x++) {
      *fb++ = ((x & 0xFFUL) << 16) | ((y & 0xFFUL) << 8) | ((x ^ y) & 0xFFUL);
    }
  }
  width = 640;
  mmio_write32(DISP(VIRT_DISP_MODE), VIRT_DISP_MODE_RES_640X480 | (VIRT_DISP_FORMAT_XRGB8888
                                                                   << VIRT_DISP_MODE_FORMAT_SHIFT));
}

static void draw_rgb565(void) {
  volatile uint16_t* fb = (volatile uint16_t*)FRAMEBUFFER;
  for (uint32_t y = 0; y < 240; y++) {
    for (uint32_t x = 0; x < 320; x++) {
      *fb++ = (uint16_t)(((x & 0x1FU) << 11) | ((y & 0x3FU) << 5) | ((x + y) & 0x1FU));
    }
  }
  width = 320;
  mmio_write32(DISP(VIRT_DISP_MODE), VIRT_DISP_MODE_RES_320X240 |
                                         (VIRT_DISP_FORMAT_RGB565 << VIRT_DISP_MODE_FORMAT_SHIFT));
}

int main(void) {
  vectors_init();
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_POWER_BUTTON), power_button_interrupt);
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_DISPLAY), vblank_interrupt);
  uart_init();
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWER_CTRL, VIRT_SYS_POWER_CTRL_BUTTON_IE);
  icu_enable(VIRT_IRQ_POWER_BUTTON);
  icu_enable(VIRT_IRQ_DISPLAY);
  cpu_enable_interrupts();
  draw_xrgb();
  mmio_write32(DISP(VIRT_DISP_BASE), FRAMEBUFFER);
  mmio_write32(DISP(VIRT_DISP_CTRL), VIRT_DISP_CTRL_ENABLE);
  fw_printf("display-test ready\n");
  for (;;) {
    int c = uart_getc();
    switch (c) {
      case 'h':
        animating = 0;
        draw_xrgb();
        break;
      case 'l':
        animating = 0;
        draw_rgb565();
        break;
      case 'a':
        animating = 1;
        mmio_write32(DISP(VIRT_DISP_CTRL), VIRT_DISP_CTRL_ENABLE | VIRT_DISP_CTRL_VBLANK_IE);
        break;
      case 's':
        animating = 0;
        mmio_write32(DISP(VIRT_DISP_CTRL), VIRT_DISP_CTRL_ENABLE);
        break;
      case 'k':
        fw_printf("kbd level %lu\n",
                  (mmio_read32(VIRT_KBD_BASE + VIRT_KBD_STATUS) >> VIRT_KBD_STATUS_LEVEL_SHIFT) &
                      VIRT_KBD_STATUS_LEVEL_MASK);
        break;
      default:
        continue;
    }
    fw_printf("ok %c\n", c);
  }
}
