/*
 * The shell's input: characters from UART0 and from the keyboard, merged.
 * UART bytes already buffered come first, then keyboard characters.
 */
#ifndef ROMS_VIRT_FIRMWARE_INPUT_H
#define ROMS_VIRT_FIRMWARE_INPUT_H

/** Returns the next character, sleeping with eiwait until one arrives. */
int input_getc(void);

/** Returns the next character, or -1 at once if none is buffered. */
int input_try_getc(void);

/** Returns the next character without consuming it, or -1 if none. */
int input_peekc(void);

#endif /* ROMS_VIRT_FIRMWARE_INPUT_H */
