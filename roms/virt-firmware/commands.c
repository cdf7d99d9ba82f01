/*
 * The shell's commands. Their exact output formats are documented in
 * roms/README.md; tests depend on them.
 */
#include <stdint.h>

#include "crc32.h"
#include "fw_printf.h"
#include "input.h"
#include "mmio.h"
#include "screen.h"
#include "shell.h"
#include "sysctl.h"
#include "timer.h"
#include "uart.h"

#define MEM_DEFAULT_LENGTH 64UL
#define DIRTY_BASE 0x10000UL
#define CTRL_C 0x03

/* Set by the IAD handler (main.c) when an access hit unmapped space. */
extern volatile uint8_t shell_bus_error;

/* Prints the bus error message if an access since the last call faulted
 * (ending a partial output line first when `mid_line`). */
static bool bus_error_reported(uint32_t address, bool mid_line) {
  if (!shell_bus_error) return false;
  shell_bus_error = 0;
  fw_printf("%serror: bus error at 0x%06lx\n", mid_line ? "\n" : "", address);
  return true;
}

/* Parses argv[index] into *value, printing an error naming the argument. */
static bool number_arg(char** argv, int index, uint32_t* value) {
  if (shell_parse_number(argv[index], value)) return true;
  fw_printf("error: bad number '%s'\n", argv[index]);
  return false;
}

static bool expect_args(int argc, int min, int max, const char* usage) {
  if (argc >= min && argc <= max) return true;
  fw_printf("usage: %s\n", usage);
  return false;
}

/* The fill pattern generator: xorshift32 (13, 17, 5), one step per byte. */
static uint32_t next_pattern(uint32_t state) {
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

void cmd_help(int argc, char** argv) {
  fw_printf(
      "commands:\n"
      "  help                 this list\n"
      "  echo TEXT            print TEXT\n"
      "  info                 board, CPU, RAM size, uptime\n"
      "  mem ADDR [LEN]       hex dump (LEN defaults to 64)\n"
      "  sum ADDR LEN         CRC-32 of memory\n"
      "  fill ADDR LEN SEED   write the xorshift32 pattern of SEED\n"
      "  count N              print 1..N, one per tick (100 Hz); Ctrl-C stops\n"
      "  dirty KIB            rewrite KIB KiB at 0x010000 until a key arrives\n"
      "  date [SECONDS]       show (or set) the RTC, seconds since 1970\n"
      "  poweroff [CODE]      power off with exit code CODE (default 0)\n"
      "  reset                reset the machine\n"
      "  gfx                  show a test pattern on the display (any key returns)\n"
      "  anim                 animate the display at 60 Hz until a key is pressed\n"
      "  cls                  clear the display console\n"
      "numbers are decimal or 0x-prefixed hex\n");
}

void cmd_info(int argc, char** argv) {
  char board[VIRT_SYS_NAME_LEN + 1];
  char cpu[VIRT_SYS_NAME_LEN + 1];
  sysctl_read_name(VIRT_SYS_BOARD_NAME, board);
  sysctl_read_name(VIRT_SYS_CPU_NAME, cpu);
  uint32_t version = mmio_read32(VIRT_SYSCTL_BASE + VIRT_SYS_BOARD_VERSION);
  uint32_t ms = (uint32_t)(timer_now_us() / 1000ULL);
  fw_printf("board: %s %lu.%lu\n", board, version >> 16, version & 0xFFFFUL);
  fw_printf("cpu: %s\n", cpu);
  fw_printf("ram: %lu KiB\n", sysctl_ram_size() >> 10);
  fw_printf("uptime: %lu.%03lu s\n", ms / 1000UL, ms % 1000UL);
  fw_printf("ticks: %lu\n", timer_ticks());
  fw_printf("reset cause: %s\n", sysctl_reset_cause());
}

void cmd_mem(int argc, char** argv) {
  uint32_t address, length = MEM_DEFAULT_LENGTH;
  if (!expect_args(argc, 2, 3, "mem ADDR [LEN]") || !number_arg(argv, 1, &address)) return;
  if (argc == 3 && !number_arg(argv, 2, &length)) return;
  const volatile uint8_t* bytes = (const volatile uint8_t*)address;
  shell_bus_error = 0;
  for (uint32_t i = 0; i < length; i++) {
    if (i % 16 == 0) fw_printf("%06lx:", address + i);
    uint8_t value = bytes[i];
    if (bus_error_reported(address + i, true)) return;
    fw_printf(" %02x", value);
    if (i % 16 == 15 || i + 1 == length) fw_printf("\n");
  }
}

void cmd_sum(int argc, char** argv) {
  uint32_t address, length;
  if (!expect_args(argc, 3, 3, "sum ADDR LEN") || !number_arg(argv, 1, &address) ||
      !number_arg(argv, 2, &length))
    return;
  shell_bus_error = 0;
  uint32_t crc = crc32((const uint8_t*)address, length);
  if (bus_error_reported(address, false)) return;
  fw_printf("crc32 0x%08lx\n", crc);
}

void cmd_fill(int argc, char** argv) {
  uint32_t address, length, seed;
  if (!expect_args(argc, 4, 4, "fill ADDR LEN SEED") || !number_arg(argv, 1, &address) ||
      !number_arg(argv, 2, &length) || !number_arg(argv, 3, &seed))
    return;
  uint32_t state = seed ? seed : 1;
  shell_bus_error = 0;
  volatile uint8_t* bytes = (volatile uint8_t*)address;
  for (uint32_t i = 0; i < length; i++) {
    state = next_pattern(state);
    bytes[i] = (uint8_t)state;
  }
  if (bus_error_reported(address, false)) return;
  fw_printf("filled %lu bytes at 0x%06lx\n", length, address);
}

void cmd_count(int argc, char** argv) {
  uint32_t n;
  if (!expect_args(argc, 2, 2, "count N") || !number_arg(argv, 1, &n)) return;
  uint32_t tick = timer_ticks();
  for (uint32_t i = 1; i <= n; i++) {
    tick = timer_wait_tick(tick);
    if (input_peekc() == CTRL_C) {
      input_try_getc();
      fw_printf("count: stopped at %lu\n", i - 1);
      return;
    }
    fw_printf("%lu\n", i);
  }
}

void cmd_dirty(int argc, char** argv) {
  uint32_t kib;
  if (!expect_args(argc, 2, 2, "dirty KIB") || !number_arg(argv, 1, &kib)) return;
  uint32_t ram = sysctl_ram_size();
  uint32_t free_kib = ram > DIRTY_BASE ? (ram - DIRTY_BASE) >> 10 : 0;
  if (free_kib == 0) {
    fw_printf("error: no free RAM above 0x%06lx\n", DIRTY_BASE);
    return;
  }
  if (kib == 0 || kib > free_kib) {
    fw_printf("error: KIB must be 1..%lu\n", free_kib);
    return;
  }
  fw_printf("dirty: rewriting %lu KiB at 0x%06lx until a key is pressed\n", kib, DIRTY_BASE);
  uart_flush();
  uint32_t passes = 0;
  for (;;) {
    passes++;
    volatile uint32_t* words = (volatile uint32_t*)DIRTY_BASE;
    for (uint32_t k = 0; k < kib; k++) {
      for (unsigned i = 0; i < 256; i++) words[i] = passes;
      words += 256;
      if (input_try_getc() >= 0) {
        fw_printf("dirty: stopped after %lu passes\n", passes);
        return;
      }
    }
  }
}

void cmd_date(int argc, char** argv) {
  uint32_t seconds;
  if (!expect_args(argc, 1, 2, "date [SECONDS]")) return;
  if (argc == 2) {
    if (!number_arg(argv, 1, &seconds)) return;
    mmio_write32(VIRT_RTC_BASE + VIRT_RTC_TIME, seconds);
  }
  fw_printf("rtc: %lu\n", mmio_read32(VIRT_RTC_BASE + VIRT_RTC_TIME));
}

void cmd_poweroff(int argc, char** argv) {
  uint32_t code = 0;
  if (!expect_args(argc, 1, 2, "poweroff [CODE]")) return;
  if (argc == 2 && !number_arg(argv, 1, &code)) return;
  fw_printf("powering off (code %lu)\n", code & 0xFFUL);
  uart_flush();
  sysctl_poweroff((unsigned)code);
}

void cmd_reset(int argc, char** argv) {
  fw_printf("resetting\n");
  uart_flush();
  sysctl_reset();
}

/* Prints the error for `gfx` and `anim` when RAM cannot hold their buffer. */
static bool graphics_available(void) {
  if (screen_available()) return true;
  fw_printf("error: the display needs %lu KiB of RAM\n", SCREEN_MIN_RAM >> 10);
  return false;
}

void cmd_gfx(int argc, char** argv) {
  if (!expect_args(argc, 1, 1, "gfx") || !graphics_available()) return;
  screen_show_test_pattern();
  fw_printf("gfx: test pattern on the display (any key returns to the console)\n");
}

/* Stops `anim` at the first key; a LF (the second half of a CR LF line end
 * typed before the command) does not count. */
static bool key_arrived(void) {
  for (;;) {
    int c = input_try_getc();
    if (c < 0) return false;
    if (c != '\n') return true;
  }
}

void cmd_anim(int argc, char** argv) {
  if (!expect_args(argc, 1, 1, "anim") || !graphics_available()) return;
  fw_printf("anim: 640x480 XRGB8888 at 60 Hz until a key is pressed\n");
  uart_flush();
  uint32_t frames = screen_animate(key_arrived);
  fw_printf("anim: %lu frames\n", frames);
}

void cmd_cls(int argc, char** argv) {
  if (!expect_args(argc, 1, 1, "cls")) return;
  screen_show_console();
  screen_clear_console();
}
