/*
 * Default firmware of the virt board: prints a banner naming the board and
 * the CPU (read from sysctl), draws the boot screen, then runs the command
 * shell on UART0 and the keyboard, its output mirrored on the display
 * console.
 */
#include "cpu.h"
#include "display.h"
#include "fw_printf.h"
#include "icu.h"
#include "keyboard.h"
#include "mmio.h"
#include "screen.h"
#include "shell.h"
#include "sysctl.h"
#include "timer.h"
#include "uart.h"
#include "vectors.h"

void console_putc(char c) {
  if (c == '\n') uart_putc('\r');
  uart_putc(c);
  screen_putc(c);
}

volatile uint8_t shell_bus_error;

/* IAD (an access to unmapped space, e.g. `mem 0xF00000`) is not fatal: the
 * CPU saved the next instruction's PC, so note it for the shell and go on. */
static void __attribute__((interrupt)) bus_error_trap(void) {
  shell_bus_error = 1;
}

/* The power button (the monitor's system_powerdown): shut down cleanly. */
static void __attribute__((interrupt)) power_button_interrupt(void) {
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWER_STATUS, VIRT_SYS_POWER_STATUS_BUTTON);
  uart_polled_mode(); /* sends what is still queued */
  fw_printf("\npower button pressed: powering off\n");
  sysctl_poweroff(0);
}

void fatal_exception(const uint16_t* frame) {
  uart_polled_mode();
  uint32_t pc = (((uint32_t)frame[1] << 16) | frame[0]) << 1;
  fw_printf("\nfatal: unexpected exception or interrupt at pc 0x%06lx (psr 0x%04x)\n", pc,
            frame[2]);
  sysctl_poweroff(0xFF);
}

static void print_banner(void) {
  char board[VIRT_SYS_NAME_LEN + 1];
  char cpu[VIRT_SYS_NAME_LEN + 1];
  sysctl_read_name(VIRT_SYS_BOARD_NAME, board);
  sysctl_read_name(VIRT_SYS_CPU_NAME, cpu);
  uint32_t version = mmio_read32(VIRT_SYSCTL_BASE + VIRT_SYS_BOARD_VERSION);
  fw_printf("\ncr16-system %s board %lu.%lu, CPU %s, RAM %lu KiB\n", board, version >> 16,
            version & 0xFFFFUL, cpu, sysctl_ram_size() >> 10);
  fw_printf("virt-firmware %s (reset cause: %s). Type 'help' for commands.\n", FIRMWARE_VERSION,
            sysctl_reset_cause());
}

int main(void) {
  vectors_init();
  vectors_set(VIRT_VEC_IAD, bus_error_trap);
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_POWER_BUTTON), power_button_interrupt);
  uart_init();
  timer_init();
  display_init();
  keyboard_init();
  screen_init();
  mmio_write32(VIRT_SYSCTL_BASE + VIRT_SYS_POWER_CTRL, VIRT_SYS_POWER_CTRL_BUTTON_IE);
  icu_enable(VIRT_IRQ_POWER_BUTTON);
  cpu_enable_interrupts();
  print_banner();
  screen_draw_boot_screen(FIRMWARE_VERSION);
  shell_run();
}
