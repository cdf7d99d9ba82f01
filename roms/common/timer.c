/* Timer channel 0 as the periodic system tick. */
#include "timer.h"

#include "cpu.h"
#include "icu.h"
#include "mmio.h"
#include "vectors.h"

#define CH0 (VIRT_TIMER_BASE + VIRT_TIMER_CH_BASE(0))

static volatile uint32_t ticks;

static void __attribute__((interrupt)) timer_interrupt(void) {
  mmio_write32(CH0 + VIRT_TIMER_CH_STATUS, VIRT_TIMER_CH_STATUS_EXPIRED);
  ticks++;
}

void timer_init(void) {
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_TIMER0), timer_interrupt);
  mmio_write32(CH0 + VIRT_TIMER_CH_CTRL, 0);
  mmio_write32(CH0 + VIRT_TIMER_CH_LOAD, VIRT_TIMER_FREQ_HZ / TIMER_TICK_HZ);
  mmio_write32(CH0 + VIRT_TIMER_CH_STATUS, VIRT_TIMER_CH_STATUS_EXPIRED);
  mmio_write32(CH0 + VIRT_TIMER_CH_CTRL, VIRT_TIMER_CH_CTRL_ENABLE | VIRT_TIMER_CH_CTRL_IE);
  icu_enable(VIRT_IRQ_TIMER0);
}

uint32_t timer_ticks(void) {
  cpu_di();
  uint32_t value = ticks;
  cpu_ei();
  return value;
}

uint32_t timer_wait_tick(uint32_t since) {
  for (;;) {
    cpu_di();
    uint32_t now = ticks;
    if (now != since) {
      cpu_ei();
      return now;
    }
    cpu_eiwait();
  }
}

uint64_t timer_now_us(void) {
  uint32_t low = mmio_read32(VIRT_TIMER_BASE + VIRT_TIMER_NOW_LO);
  uint32_t high = mmio_read32(VIRT_TIMER_BASE + VIRT_TIMER_NOW_HI);
  return ((uint64_t)high << 32) | low;
}
