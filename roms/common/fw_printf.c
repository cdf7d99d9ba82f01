/* fw_printf: integer and string formatting without libc stdio. */
#include "fw_printf.h"

#include <stdbool.h>
#include <stdint.h>

static void put_padding(int count, char pad) {
  while (count-- > 0) console_putc(pad);
}

static void put_field(const char* text, int length, int width, bool left, char pad) {
  if (!left) put_padding(width - length, pad);
  for (int i = 0; i < length; i++) console_putc(text[i]);
  if (left) put_padding(width - length, ' ');
}

/* Formats `value` in `base` into the end of `buf` (12 bytes); returns the start. */
static char* format_unsigned(uint32_t value, unsigned base, bool upper, char* buf_end) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char* p = buf_end;
  do {
    *--p = digits[value % base];
    value /= base;
  } while (value != 0);
  return p;
}

void fw_vprintf(const char* format, va_list args) {
  for (const char* f = format; *f; f++) {
    if (*f != '%') {
      console_putc(*f);
      continue;
    }
    f++;
    bool left = false;
    char pad = ' ';
    if (*f == '-') {
      left = true;
      f++;
    }
    if (*f == '0') {
      pad = '0';
      f++;
    }
    int width = 0;
    while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
    bool is_long = false;
    if (*f == 'l') {
      is_long = true;
      f++;
    }
    char buf[12];
    char* end = buf + sizeof buf;
    switch (*f) {
      case 'c': {
        char c = (char)va_arg(args, int);
        put_field(&c, 1, width, left, ' ');
        break;
      }
      case 's': {
        const char* s = va_arg(args, const char*);
        if (!s) s = "(null)";
        int length = 0;
        while (s[length]) length++;
        put_field(s, length, width, left, ' ');
        break;
      }
      case 'd':
      case 'i': {
        int32_t value = is_long ? va_arg(args, int32_t) : va_arg(args, int);
        uint32_t magnitude = value < 0 ? 0UL - (uint32_t)value : (uint32_t)value;
        char* p = format_unsigned(magnitude, 10, false, end);
        if (value < 0) {
          if (pad == '0') {
            console_putc('-');
            width--;
          } else {
            *--p = '-';
          }
        }
        put_field(p, (int)(end - p), width, left, pad);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        uint32_t value = is_long ? va_arg(args, uint32_t) : va_arg(args, unsigned);
        unsigned base = *f == 'u' ? 10 : 16;
        char* p = format_unsigned(value, base, *f == 'X', end);
        put_field(p, (int)(end - p), width, left, pad);
        break;
      }
      case 'p': {
        uint32_t value = (uint32_t)va_arg(args, void*);
        char* p = format_unsigned(value, 16, false, end);
        put_field("0x", 2, 0, false, ' ');
        put_field(p, (int)(end - p), 6, false, '0');
        break;
      }
      case '%':
        console_putc('%');
        break;
      case '\0':
        return;
      default:
        console_putc('%');
        console_putc(*f);
        break;
    }
  }
}

void fw_printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fw_vprintf(format, args);
  va_end(args);
}
