/* Line editing, tokenising and dispatch for the firmware shell. */
#include "shell.h"

#include <string.h>

#include "fw_printf.h"
#include "input.h"
#include "screen.h"

#define LINE_MAX 128

struct command {
  const char* name;
  void (*run)(int argc, char** argv);
};

static const struct command kCommands[] = {
    {"help", cmd_help},         {"info", cmd_info},   {"mem", cmd_mem},     {"sum", cmd_sum},
    {"fill", cmd_fill},         {"count", cmd_count}, {"dirty", cmd_dirty}, {"date", cmd_date},
    {"poweroff", cmd_poweroff}, {"reset", cmd_reset}, {"gfx", cmd_gfx},     {"anim", cmd_anim},
    {"cls", cmd_cls},
};

bool shell_parse_number(const char* text, uint32_t* value) {
  uint32_t result = 0;
  unsigned base = 10;
  if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text += 2;
  }
  if (*text == '\0') return false;
  for (; *text; text++) {
    unsigned digit;
    char c = *text;
    if (c >= '0' && c <= '9') {
      digit = (unsigned)(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = (unsigned)(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      digit = (unsigned)(c - 'A' + 10);
    } else {
      return false;
    }
    if (digit >= base) return false;
    result = result * base + digit;
  }
  *value = result;
  return true;
}

/* "echo" keeps the rest of the line verbatim, so it is handled before splitting. */
static bool run_echo(char* line) {
  if (strncmp(line, "echo", 4) != 0 || (line[4] != '\0' && line[4] != ' ')) return false;
  const char* text = line[4] ? line + 5 : line + 4;
  fw_printf("%s\n", text);
  return true;
}

void shell_execute(char* line) {
  while (*line == ' ') line++;
  if (*line == '\0') return;
  if (run_echo(line)) return;
  char* argv[SHELL_MAX_ARGS + 1];
  int argc = 0;
  char* p = line;
  while (*p && argc <= SHELL_MAX_ARGS) {
    argv[argc++] = p;
    while (*p && *p != ' ') p++;
    while (*p == ' ') *p++ = '\0';
  }
  if (argc > SHELL_MAX_ARGS) {
    fw_printf("error: too many arguments\n");
    return;
  }
  for (unsigned i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++) {
    if (strcmp(argv[0], kCommands[i].name) == 0) {
      kCommands[i].run(argc, argv);
      return;
    }
  }
  fw_printf("error: unknown command '%s' (try 'help')\n", argv[0]);
}

/* Reads one line with echo and backspace; CR, LF or CR LF end it. Any
 * character typed brings the display console back after `gfx`. */
static void read_line(char* line) {
  static bool last_was_cr;
  unsigned length = 0;
  for (;;) {
    int c = input_getc();
    screen_show_console();
    if (c == '\n' && last_was_cr) {
      last_was_cr = false;
      continue;
    }
    last_was_cr = (c == '\r');
    if (c == '\r' || c == '\n') {
      fw_printf("\n");
      line[length] = '\0';
      return;
    }
    if (c == 0x08 || c == 0x7F) {
      if (length > 0) {
        length--;
        fw_printf("\b \b");
      }
      continue;
    }
    if (c < 0x20 || c > 0x7E || length + 1 >= LINE_MAX) continue;
    line[length++] = (char)c;
    console_putc((char)c);
  }
}

void shell_run(void) {
  static char line[LINE_MAX];
  for (;;) {
    fw_printf(SHELL_PROMPT);
    read_line(line);
    shell_execute(line);
  }
}
