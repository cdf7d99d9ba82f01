/* The interactive command shell of the default virt firmware. */
#ifndef ROMS_VIRT_FIRMWARE_SHELL_H
#define ROMS_VIRT_FIRMWARE_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#define FIRMWARE_VERSION "1.0"
#define SHELL_PROMPT "cr16> "
#define SHELL_MAX_ARGS 4

/** Reads lines from UART0 and the keyboard and runs them forever. */
void shell_run(void) __attribute__((noreturn));

/** Runs one command line (modified in place). */
void shell_execute(char* line);

/** Parses a number: 0x-prefixed hex, otherwise decimal. False if malformed. */
bool shell_parse_number(const char* text, uint32_t* value);

/* Commands (commands.c): argv[0] is the command name. */
void cmd_help(int argc, char** argv);
void cmd_info(int argc, char** argv);
void cmd_mem(int argc, char** argv);
void cmd_sum(int argc, char** argv);
void cmd_fill(int argc, char** argv);
void cmd_count(int argc, char** argv);
void cmd_dirty(int argc, char** argv);
void cmd_date(int argc, char** argv);
void cmd_poweroff(int argc, char** argv);
void cmd_reset(int argc, char** argv);
void cmd_gfx(int argc, char** argv);
void cmd_anim(int argc, char** argv);
void cmd_cls(int argc, char** argv);

#endif /* ROMS_VIRT_FIRMWARE_SHELL_H */
