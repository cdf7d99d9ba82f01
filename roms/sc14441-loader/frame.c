/*
 * CRC-32 (zlib: reflected 0xEDB88320, initial and final inversion), polled
 * UART transmit and the loader -> host reply frames:
 *
 *   A5 | code u8 | id u32 | len u32 | crc32(the 10 bytes before) u32
 *      | payload[len] | crc32(payload) u32        (the last two only if len > 0)
 */
#include "loader.h"

static uint32_t crc_table[256];

void crc32_init(void) {
  for (uint16_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (uint8_t bit = 0; bit < 8; bit++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320UL : c >> 1;
    crc_table[n] = c;
  }
}

uint32_t crc32_update(uint32_t crc, const uint8_t* data, uint16_t length) {
  crc = ~crc;
  for (uint16_t i = 0; i < length; i++) crc = crc_table[(uint8_t)(crc ^ data[i])] ^ (crc >> 8);
  return ~crc;
}

void uart_send_byte(uint8_t byte) {
  REG16(SC14441_UART_RX_TX) = byte;
  for (uint16_t polls = 0xFFFF; polls != 0; polls--) {
    if (REG16(SC14441_UART_CTRL) & SC14441_UART_CTRL_TI) break;
  }
  REG16(SC14441_UART_CLEAR_TX_INT) = 1;
}

void uart_send(const uint8_t* data, uint16_t length) {
  for (uint16_t i = 0; i < length; i++) uart_send_byte(data[i]);
}

static void put_u32(uint8_t* out, uint32_t value) {
  out[0] = (uint8_t)value;
  out[1] = (uint8_t)(value >> 8);
  out[2] = (uint8_t)(value >> 16);
  out[3] = (uint8_t)(value >> 24);
}

void uart_send_u32(uint32_t value) {
  uint8_t bytes[4];
  put_u32(bytes, value);
  uart_send(bytes, 4);
}

void send_frame_header(uint8_t code, uint32_t id, uint32_t length) {
  uint8_t header[10];
  header[0] = FRAME_SYNC;
  header[1] = code;
  put_u32(header + 2, id);
  put_u32(header + 6, length);
  uart_send(header, sizeof header);
  uart_send_u32(crc32_update(0, header, sizeof header));
}

void send_frame(uint8_t code, uint32_t id, const uint8_t* payload, uint16_t length) {
  send_frame_header(code, id, length);
  if (length == 0) return;
  uart_send(payload, length);
  uart_send_u32(crc32_update(0, payload, length));
}

void send_debug(const char* text) {
  uint16_t length = 0;
  while (text[length] != 0) length++;
  send_frame(REPLY_DEBUG, FRAME_ID_UNSOLICITED, (const uint8_t*)text, length);
}
