/* Merged UART0 and keyboard input for the shell. */
#include "input.h"

#include "cpu.h"
#include "keyboard.h"
#include "uart.h"

int input_try_getc(void) {
  int c = uart_try_getc();
  return c >= 0 ? c : keyboard_try_getc();
}

int input_peekc(void) {
  int c = uart_peekc();
  return c >= 0 ? c : keyboard_peekc();
}

int input_getc(void) {
  for (;;) {
    int c = input_try_getc();
    if (c >= 0) return c;
    cpu_di();
    if (uart_rx_pending() || keyboard_pending()) {
      cpu_ei();
    } else {
      cpu_eiwait();
    }
  }
}
