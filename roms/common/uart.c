/* UART0 driver with RX and TX ring buffers fed/drained by interrupts. */
#include "uart.h"

#include <stdint.h>

#include "cpu.h"
#include "icu.h"
#include "mmio.h"
#include "vectors.h"

#define RING_SIZE 256u /* power of two */

struct ring {
  volatile uint16_t head; /* next write */
  volatile uint16_t tail; /* next read */
  volatile char data[RING_SIZE];
};

static struct ring rx_ring;
static struct ring tx_ring;
static bool interrupts_on;

static const uint32_t kData = VIRT_UART0_BASE + VIRT_UART_DATA;
static const uint32_t kStatus = VIRT_UART0_BASE + VIRT_UART_STATUS;
static const uint32_t kCtrl = VIRT_UART0_BASE + VIRT_UART_CTRL;

static bool ring_empty(const struct ring* r) {
  return r->head == r->tail;
}
static bool ring_full(const struct ring* r) {
  return (uint16_t)(r->head - r->tail) >= RING_SIZE;
}
static void ring_put(struct ring* r, char c) {
  r->data[r->head & (RING_SIZE - 1u)] = c;
  r->head++;
}
static char ring_get(struct ring* r) {
  char c = r->data[r->tail & (RING_SIZE - 1u)];
  r->tail++;
  return c;
}

static void set_ctrl_bits(uint32_t set, uint32_t clear) {
  mmio_write32(kCtrl, (mmio_read32(kCtrl) & ~clear) | set);
}

/* Moves bytes from the RX FIFO into the ring. When the ring is full the RX
 * interrupt is switched off and the bytes stay in the FIFO (the board then
 * holds further input back), until a reader makes room. */
static void __attribute__((interrupt)) uart_rx_interrupt(void) {
  while (mmio_read32(kStatus) & VIRT_UART_STATUS_RX_AVAIL) {
    if (ring_full(&rx_ring)) {
      set_ctrl_bits(0, VIRT_UART_CTRL_RXIE);
      return;
    }
    ring_put(&rx_ring, (char)mmio_read32(kData));
  }
}

/* Refills the TX FIFO from the ring; stops the TX interrupt when drained. */
static void __attribute__((interrupt)) uart_tx_interrupt(void) {
  while (!ring_empty(&tx_ring) && (mmio_read32(kStatus) & VIRT_UART_STATUS_TX_SPACE))
    mmio_write32(kData, (uint8_t)ring_get(&tx_ring));
  if (ring_empty(&tx_ring)) set_ctrl_bits(0, VIRT_UART_CTRL_TXIE);
}

void uart_init(void) {
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_UART0_RX), uart_rx_interrupt);
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_UART0_TX), uart_tx_interrupt);
  mmio_write32(kCtrl, VIRT_UART_CTRL_RXIE);
  icu_enable(VIRT_IRQ_UART0_RX);
  icu_enable(VIRT_IRQ_UART0_TX);
  interrupts_on = true;
}

void uart_putc(char c) {
  if (!interrupts_on) {
    while (!(mmio_read32(kStatus) & VIRT_UART_STATUS_TX_SPACE)) {
    }
    mmio_write32(kData, (uint8_t)c);
    return;
  }
  for (;;) {
    cpu_di();
    if (ring_empty(&tx_ring) && (mmio_read32(kStatus) & VIRT_UART_STATUS_TX_SPACE)) {
      mmio_write32(kData, (uint8_t)c);
      break;
    }
    if (!ring_full(&tx_ring)) {
      ring_put(&tx_ring, c);
      set_ctrl_bits(VIRT_UART_CTRL_TXIE, 0);
      break;
    }
    cpu_eiwait();
  }
  cpu_ei();
}

void uart_puts(const char* s) {
  for (; *s; s++) {
    if (*s == '\n') uart_putc('\r');
    uart_putc(*s);
  }
}

int uart_try_getc(void) {
  int c = -1;
  cpu_di();
  if (!ring_empty(&rx_ring)) {
    c = (uint8_t)ring_get(&rx_ring);
    set_ctrl_bits(VIRT_UART_CTRL_RXIE, 0); /* there is room again */
  }
  if (interrupts_on) cpu_ei();
  return c;
}

bool uart_rx_pending(void) {
  return !ring_empty(&rx_ring);
}

int uart_peekc(void) {
  int c = -1;
  cpu_di();
  if (!ring_empty(&rx_ring)) c = (uint8_t)rx_ring.data[rx_ring.tail & (RING_SIZE - 1u)];
  if (interrupts_on) cpu_ei();
  return c;
}

int uart_getc(void) {
  for (;;) {
    int c = uart_try_getc();
    if (c >= 0) return c;
    cpu_di();
    if (ring_empty(&rx_ring)) {
      cpu_eiwait();
    } else {
      cpu_ei();
    }
  }
}

void uart_flush(void) {
  for (;;) {
    cpu_di();
    if (ring_empty(&tx_ring)) break;
    cpu_eiwait();
  }
  cpu_ei();
}

void uart_polled_mode(void) {
  cpu_di();
  interrupts_on = false;
  mmio_write32(kCtrl, 0);
  while (!ring_empty(&tx_ring)) {
    while (!(mmio_read32(kStatus) & VIRT_UART_STATUS_TX_SPACE)) {
    }
    mmio_write32(kData, (uint8_t)ring_get(&tx_ring));
  }
}
