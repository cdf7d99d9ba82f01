/*
 * UART0 driver: interrupt-driven RX into a ring buffer and TX from a ring
 * buffer. Before uart_init() (or with interrupts masked) output is polled.
 */
#ifndef ROMS_COMMON_UART_H
#define ROMS_COMMON_UART_H

#include <stdbool.h>

/** Installs the RX/TX handlers, enables UART0's RX interrupt and ICU sources. */
void uart_init(void);

/** Queues one byte for output; waits (eiwait) while the TX ring is full. */
void uart_putc(char c);

/** Writes a NUL-terminated string, turning "\n" into "\r\n". */
void uart_puts(const char* s);

/** Returns the next received byte, sleeping with eiwait until one arrives. */
int uart_getc(void);

/** Returns the next received byte without consuming it, or -1 if none is buffered. */
int uart_peekc(void);

/** Returns the next received byte, or -1 at once if none is buffered. */
int uart_try_getc(void);

/**
 * True when a received byte is buffered. Call with interrupts masked
 * (PSR.E clear) to decide atomically whether to sleep.
 */
bool uart_rx_pending(void);

/** Waits until every queued byte has been handed to the UART. */
void uart_flush(void);

/** Switches to polled output (for fatal errors in exception context), draining the TX ring first.
 */
void uart_polled_mode(void);

#endif /* ROMS_COMMON_UART_H */
