/* Display controller driver: mode, base and vertical-blank waits. */
#include "display.h"

#include "cpu.h"
#include "icu.h"
#include "mmio.h"
#include "vectors.h"

#define DISP(reg) (VIRT_DISPLAY_BASE + (reg))

static volatile uint32_t vblanks;

/* Counts the blank and acknowledges it. The interrupt stays enabled only
 * while display_wait_vblank() sleeps, so an idle screen costs nothing. */
static void __attribute__((interrupt)) vblank_interrupt(void) {
  mmio_write32(DISP(VIRT_DISP_STATUS), VIRT_DISP_STATUS_VBLANK);
  mmio_write32(DISP(VIRT_DISP_CTRL), VIRT_DISP_CTRL_ENABLE);
  vblanks++;
}

void display_init(void) {
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_DISPLAY), vblank_interrupt);
  icu_enable(VIRT_IRQ_DISPLAY);
}

void display_show(uint32_t base, uint32_t resolution, uint32_t format) {
  mmio_write32(DISP(VIRT_DISP_BASE), base);
  mmio_write32(DISP(VIRT_DISP_MODE), resolution | (format << VIRT_DISP_MODE_FORMAT_SHIFT));
  mmio_write32(DISP(VIRT_DISP_CTRL), VIRT_DISP_CTRL_ENABLE);
}

void display_off(void) {
  mmio_write32(DISP(VIRT_DISP_CTRL), 0);
}

uint32_t display_wait_vblank(void) {
  cpu_di();
  uint32_t seen = vblanks;
  mmio_write32(DISP(VIRT_DISP_STATUS), VIRT_DISP_STATUS_VBLANK);
  mmio_write32(DISP(VIRT_DISP_CTRL), VIRT_DISP_CTRL_ENABLE | VIRT_DISP_CTRL_VBLANK_IE);
  while (vblanks == seen) {
    cpu_eiwait();
    cpu_di();
  }
  seen = vblanks;
  cpu_ei();
  return seen;
}
