/*
 * Groups "interrupts" (ICU software sources: masking with PSR.E and PSR.I,
 * acknowledge, priorities, enable, spurious vector), "timer" (one-shot and
 * periodic interrupts from timer channel 1) and "nmi".
 */
#include <stdint.h>

#include "cpu.h"
#include "groups.h"
#include "icu.h"
#include "mmio.h"
#include "vectors.h"

#define SPIN_ITERATIONS 64
#define POLL_LIMIT 5000000UL
#define ORDER_MAX 8
#define CH1 (VIRT_TIMER_BASE + VIRT_TIMER_CH_BASE(1))

static volatile uint16_t order[ORDER_MAX];
static volatile unsigned order_length;
static volatile uint16_t handler_psr;
static volatile unsigned timer_count;
static volatile unsigned nmi_count;

static void record(uint16_t source) {
  handler_psr = cpu_read_psr();
  if (order_length < ORDER_MAX) order[order_length++] = source;
}

static void __attribute__((interrupt)) soft20(void) {
  record(20);
}
static void __attribute__((interrupt)) soft21(void) {
  record(21);
}
static void __attribute__((interrupt)) soft22(void) {
  record(22);
}
static void __attribute__((interrupt)) soft23(void) {
  record(23);
}

static void __attribute__((interrupt)) timer1_interrupt(void) {
  mmio_write32(CH1 + VIRT_TIMER_CH_STATUS, VIRT_TIMER_CH_STATUS_EXPIRED);
  handler_psr = cpu_read_psr();
  timer_count++;
}

static void __attribute__((interrupt)) nmi_interrupt(void) {
  handler_psr = cpu_read_psr();
  nmi_count++;
}

/* Gives a pending, unmasked interrupt plenty of instruction boundaries. */
static void spin(void) {
  for (volatile int i = 0; i < SPIN_ITERATIONS; i++) {
  }
}

static uint32_t icu_read(uint32_t offset) {
  return mmio_read32(VIRT_ICU_BASE + offset);
}

static void set_mask(uint16_t set, uint16_t clear) {
  cpu_write_psr((uint16_t)((cpu_read_psr() & ~clear) | set));
}

static int check_order(uint16_t first, uint16_t second) {
  return order_length == 2 && order[0] == first && order[1] == second;
}

static int run_interrupts(void) {
  order_length = 0;
  /* Masked by E: pending and visible, but not taken. */
  set_mask(PSR_I, PSR_E);
  icu_raise(20);
  spin();
  if (order_length != 0) return 1;
  if (!(icu_read(VIRT_ICU_PENDING) & (1UL << 20))) return 2;
  if (icu_read(VIRT_ICU_IVCT_PEEK) != VIRT_IRQ_VECTOR(20)) return 3;
  cpu_ei();
  spin();
  if (order_length != 1 || order[0] != 20) return 4;
  if (handler_psr & PSR_I) return 5;                      /* an interrupt clears PSR.I */
  if (icu_read(VIRT_ICU_PENDING) & (1UL << 20)) return 6; /* acknowledged */
  /* Masked by I: not taken until I is set. */
  order_length = 0;
  set_mask(PSR_E, PSR_I);
  icu_raise(21);
  spin();
  if (order_length != 0) return 7;
  set_mask(PSR_I | PSR_E, 0);
  spin();
  if (order_length != 1 || order[0] != 21) return 8;
  /* Higher priority first. */
  order_length = 0;
  icu_set_priority(20, 2);
  icu_set_priority(21, 5);
  cpu_di();
  icu_raise(20);
  icu_raise(21);
  cpu_ei();
  spin();
  if (!check_order(21, 20)) return 9;
  /* Equal priority: the lower source number first. */
  order_length = 0;
  cpu_di();
  icu_raise(23);
  icu_raise(22);
  cpu_ei();
  spin();
  if (!check_order(22, 23)) return 10;
  /* A disabled source stays pending and is not taken. */
  order_length = 0;
  icu_disable(22);
  icu_raise(22);
  spin();
  if (order_length != 0) return 11;
  if (icu_read(VIRT_ICU_ACTIVE) & (1UL << 22)) return 12;
  icu_clear(22);
  if (icu_read(VIRT_ICU_PENDING) & (1UL << 22)) return 13;
  /* Nothing active: IVCT reports the spurious vector. */
  if (icu_read(VIRT_ICU_IVCT_PEEK) != VIRT_IRQ_SPURIOUS_VECTOR) return 14;
  return 0;
}

int st_interrupts(void) {
  vectors_set(VIRT_IRQ_VECTOR(20), soft20);
  vectors_set(VIRT_IRQ_VECTOR(21), soft21);
  vectors_set(VIRT_IRQ_VECTOR(22), soft22);
  vectors_set(VIRT_IRQ_VECTOR(23), soft23);
  for (unsigned s = 20; s <= 23; s++) icu_enable(s);
  int result = run_interrupts();
  cpu_di();
  for (unsigned s = 20; s <= 23; s++) {
    icu_disable(s);
    icu_clear(s);
    icu_set_priority(s, 0);
  }
  return result;
}

/* Sleeps until timer_count reaches `target` (false if it never does). */
static int wait_for_timer(unsigned target) {
  for (uint32_t i = 0; i < POLL_LIMIT; i++) {
    cpu_di();
    if (timer_count >= target) {
      cpu_ei();
      return 1;
    }
    cpu_eiwait();
  }
  return 0;
}

static int run_timer(void) {
  timer_count = 0;
  /* One-shot: one interrupt, then the channel stops at 0. */
  mmio_write32(CH1 + VIRT_TIMER_CH_LOAD, 200);
  mmio_write32(CH1 + VIRT_TIMER_CH_CTRL,
               VIRT_TIMER_CH_CTRL_ONESHOT | VIRT_TIMER_CH_CTRL_IE | VIRT_TIMER_CH_CTRL_ENABLE);
  set_mask(PSR_I | PSR_E, 0);
  if (!wait_for_timer(1)) return 1;
  if (timer_count != 1) return 2;
  if (mmio_read32(CH1 + VIRT_TIMER_CH_CTRL) & VIRT_TIMER_CH_CTRL_ENABLE) return 3;
  if (mmio_read32(CH1 + VIRT_TIMER_CH_COUNT) != 0) return 4;
  if (handler_psr & PSR_I) return 5;
  /* Periodic: three interrupts take at least three periods of virtual time. */
  uint32_t start = mmio_read32(VIRT_TIMER_BASE + VIRT_TIMER_NOW_LO);
  mmio_write32(CH1 + VIRT_TIMER_CH_LOAD, 100);
  mmio_write32(CH1 + VIRT_TIMER_CH_CTRL, VIRT_TIMER_CH_CTRL_IE | VIRT_TIMER_CH_CTRL_ENABLE);
  if (!wait_for_timer(4)) return 6;
  mmio_write32(CH1 + VIRT_TIMER_CH_CTRL, 0);
  uint32_t elapsed = mmio_read32(VIRT_TIMER_BASE + VIRT_TIMER_NOW_LO) - start;
  if (elapsed < 300) return 7;
  /* Expired while masked: held pending, taken once unmasked. */
  unsigned before = timer_count;
  cpu_di();
  mmio_write32(CH1 + VIRT_TIMER_CH_STATUS, VIRT_TIMER_CH_STATUS_EXPIRED);
  mmio_write32(CH1 + VIRT_TIMER_CH_LOAD, 50);
  mmio_write32(CH1 + VIRT_TIMER_CH_CTRL,
               VIRT_TIMER_CH_CTRL_ONESHOT | VIRT_TIMER_CH_CTRL_IE | VIRT_TIMER_CH_CTRL_ENABLE);
  uint32_t polls = 0;
  while (!(mmio_read32(CH1 + VIRT_TIMER_CH_STATUS) & VIRT_TIMER_CH_STATUS_EXPIRED)) {
    if (++polls == POLL_LIMIT) return 8;
  }
  if (timer_count != before) return 9;
  if (!(icu_read(VIRT_ICU_RAW) & (1UL << VIRT_IRQ_TIMER1))) return 10;
  cpu_ei();
  spin();
  if (timer_count != before + 1) return 11;
  return 0;
}

int st_timer(void) {
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_TIMER1), timer1_interrupt);
  mmio_write32(CH1 + VIRT_TIMER_CH_CTRL, 0);
  mmio_write32(CH1 + VIRT_TIMER_CH_STATUS, VIRT_TIMER_CH_STATUS_EXPIRED);
  icu_enable(VIRT_IRQ_TIMER1);
  int result = run_timer();
  cpu_di();
  mmio_write32(CH1 + VIRT_TIMER_CH_CTRL, 0);
  mmio_write32(CH1 + VIRT_TIMER_CH_STATUS, VIRT_TIMER_CH_STATUS_EXPIRED);
  icu_disable(VIRT_IRQ_TIMER1);
  return result;
}

int st_nmi(void) {
  vectors_set(VIRT_VEC_NMI, nmi_interrupt);
  nmi_count = 0;
  mmio_write32(VIRT_ICU_BASE + VIRT_ICU_NMI_STATUS, VIRT_ICU_NMI_STATUS_SW);
  set_mask(0, PSR_I | PSR_E); /* NMI ignores both masks */
  mmio_write32(VIRT_ICU_BASE + VIRT_ICU_NMI_TRIGGER, 1);
  spin();
  int result = 0;
  if (nmi_count != 1) {
    result = 1;
  } else if (handler_psr & PSR_I) {
    result = 2;
  } else if (!(icu_read(VIRT_ICU_NMI_STATUS) & VIRT_ICU_NMI_STATUS_SW)) {
    result = 3;
  } else {
    mmio_write32(VIRT_ICU_BASE + VIRT_ICU_NMI_STATUS, VIRT_ICU_NMI_STATUS_SW);
    if (icu_read(VIRT_ICU_NMI_STATUS) & VIRT_ICU_NMI_STATUS_SW) result = 4;
  }
  set_mask(PSR_I, 0);
  return result;
}
