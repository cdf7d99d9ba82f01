/*
 * Keyboard controller driver (docs/virt.md section 11): the interrupt
 * handler (source 10) pops PC scancode set 1 bytes and turns key presses
 * into characters of a US layout in a ring buffer. Shift and Caps Lock
 * select upper case and the shifted symbols, Ctrl with a letter gives its
 * control code (Ctrl-C = 0x03), Enter gives CR and Backspace 0x08. Keys
 * behind an 0xE0 prefix are ignored except keypad Enter, keypad '/' and
 * right Ctrl; 0xE1 sequences (Pause) are skipped.
 */
#ifndef ROMS_COMMON_KEYBOARD_H
#define ROMS_COMMON_KEYBOARD_H

/** Installs the handler, enables KBD_CTRL.IE and the ICU source. */
void keyboard_init(void);

/** Returns the next typed character, or -1 at once if none is buffered. */
int keyboard_try_getc(void);

/** Returns the next typed character without consuming it, or -1. */
int keyboard_peekc(void);

/**
 * True when a character is buffered. Call with interrupts masked (PSR.E
 * clear) to decide atomically whether to sleep.
 */
int keyboard_pending(void);

#endif /* ROMS_COMMON_KEYBOARD_H */
