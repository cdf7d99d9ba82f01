/* Keyboard driver: scancode set 1 decoding into a character ring. */
#include "keyboard.h"

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "icu.h"
#include "mmio.h"
#include "vectors.h"

#define KBD(reg) (VIRT_KBD_BASE + (reg))
#define RING_SIZE 64u /* power of two */

#define SC_BREAK 0x80u
#define SC_EXTENDED 0xE0u
#define SC_PAUSE 0xE1u
#define SC_LEFT_CTRL 0x1Du
#define SC_LEFT_SHIFT 0x2Au
#define SC_RIGHT_SHIFT 0x36u
#define SC_CAPS_LOCK 0x3Au
#define SC_ENTER 0x1Cu
#define SC_SLASH 0x35u

/* Characters of make codes 0x00-0x39 (US layout), without and with Shift.
 * 0 = no character (modifiers, Esc is 0x1B). Keypad keys follow below. */
/* clang-format off */
static const char kPlain[0x3A] = {
    0,    0x1B, '1', '2', '3',  '4', '5', '6', '7', '8', '9', '0', '-', '=', 0x08, '\t',
    'q',  'w',  'e', 'r', 't',  'y', 'u', 'i', 'o', 'p', '[', ']', '\r', 0,  'a',  's',
    'd',  'f',  'g', 'h', 'j',  'k', 'l', ';', '\'', '`', 0,  '\\', 'z', 'x', 'c', 'v',
    'b',  'n',  'm', ',', '.',  '/', 0,   '*', 0,   ' ',
};
static const char kShifted[0x3A] = {
    0,    0x1B, '!', '@', '#',  '$', '%', '^', '&', '*', '(', ')', '_', '+', 0x08, '\t',
    'Q',  'W',  'E', 'R', 'T',  'Y', 'U', 'I', 'O', 'P', '{', '}', '\r', 0,  'A',  'S',
    'D',  'F',  'G', 'H', 'J',  'K', 'L', ':', '"', '~', 0,   '|', 'Z', 'X', 'C', 'V',
    'B',  'N',  'M', '<', '>',  '?', 0,   '*', 0,   ' ',
};
/* The keypad, make codes 0x47-0x53 (read as with Num Lock on). */
static const char kKeypad[0x53 - 0x47 + 1] = {
    '7', '8', '9', '-', '4', '5', '6', '+', '1', '2', '3', '0', '.',
};
/* clang-format on */

static struct {
  volatile uint16_t head;
  volatile uint16_t tail;
  volatile char data[RING_SIZE];
} ring;

static bool shift_left, shift_right, ctrl_left, ctrl_right, caps_lock;
static bool extended; /* the previous byte was 0xE0 */
static uint8_t skip;  /* bytes of a Pause (0xE1) sequence still to ignore */

static bool ring_full(void) {
  return (uint16_t)(ring.head - ring.tail) >= RING_SIZE;
}

static void put_char(char c) {
  ring.data[ring.head & (RING_SIZE - 1u)] = c;
  ring.head++;
}

static bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The character of make code `code` with the current modifiers, or 0. */
static char translate(uint8_t code) {
  if (code >= 0x47 && code <= 0x53) return kKeypad[code - 0x47];
  if (code >= sizeof kPlain) return 0;
  bool shift = shift_left || shift_right;
  char c = shift ? kShifted[code] : kPlain[code];
  if (caps_lock && is_letter(c)) c = shift ? kPlain[code] : kShifted[code];
  if ((ctrl_left || ctrl_right) && is_letter(c)) c = (char)(kPlain[code] - 'a' + 1);
  return c;
}

/* Decodes one scancode byte, queueing at most one character. */
static void decode(uint8_t byte) {
  if (skip) {
    skip--;
    return;
  }
  if (byte == SC_PAUSE) {
    skip = 5; /* E1 1D 45 E1 9D C5 */
    return;
  }
  if (byte == SC_EXTENDED) {
    extended = true;
    return;
  }
  bool released = byte & SC_BREAK;
  uint8_t code = byte & (uint8_t)~SC_BREAK;
  if (extended) {
    extended = false;
    if (code == SC_LEFT_CTRL) ctrl_right = !released;
    if (!released && code == SC_ENTER) put_char('\r');
    if (!released && code == SC_SLASH) put_char('/');
    return; /* cursor keys, fake shifts, right Alt...: no character */
  }
  switch (code) {
    case SC_LEFT_SHIFT:
      shift_left = !released;
      return;
    case SC_RIGHT_SHIFT:
      shift_right = !released;
      return;
    case SC_LEFT_CTRL:
      ctrl_left = !released;
      return;
    case SC_CAPS_LOCK:
      if (!released) caps_lock = !caps_lock;
      return;
    default:
      break;
  }
  if (released) return;
  char c = translate(code);
  if (c) put_char(c);
}

/* Pops scancodes while there is room for the character each may make; when
 * the ring is full the interrupt is switched off and the bytes wait in the
 * controller's FIFO until a reader makes room. */
static void __attribute__((interrupt)) keyboard_interrupt(void) {
  while (mmio_read32(KBD(VIRT_KBD_STATUS)) & VIRT_KBD_STATUS_NOT_EMPTY) {
    if (ring_full()) {
      mmio_write32(KBD(VIRT_KBD_CTRL), 0);
      return;
    }
    decode((uint8_t)mmio_read32(KBD(VIRT_KBD_DATA)));
  }
}

void keyboard_init(void) {
  vectors_set(VIRT_IRQ_VECTOR(VIRT_IRQ_KBD), keyboard_interrupt);
  mmio_write32(KBD(VIRT_KBD_STATUS), VIRT_KBD_STATUS_OVERFLOW);
  mmio_write32(KBD(VIRT_KBD_CTRL), VIRT_KBD_CTRL_IE);
  icu_enable(VIRT_IRQ_KBD);
}

int keyboard_pending(void) {
  return ring.head != ring.tail;
}

int keyboard_try_getc(void) {
  int c = -1;
  uint16_t psr = cpu_read_psr();
  cpu_di();
  if (ring.head != ring.tail) {
    c = (uint8_t)ring.data[ring.tail & (RING_SIZE - 1u)];
    ring.tail++;
    mmio_write32(KBD(VIRT_KBD_CTRL), VIRT_KBD_CTRL_IE); /* there is room again */
  }
  if (psr & PSR_E) cpu_ei();
  return c;
}

int keyboard_peekc(void) {
  int c = -1;
  uint16_t psr = cpu_read_psr();
  cpu_di();
  if (ring.head != ring.tail) c = (uint8_t)ring.data[ring.tail & (RING_SIZE - 1u)];
  if (psr & PSR_E) cpu_ei();
  return c;
}
