/* Table-driven CRC-32; the table is built in RAM on first use. */
#include "crc32.h"

static uint32_t table[256];
static int table_ready;

static void build_table(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int bit = 0; bit < 8; bit++) c = (c & 1) ? (c >> 1) ^ 0xEDB88320UL : c >> 1;
    table[n] = c;
  }
  table_ready = 1;
}

uint32_t crc32(const uint8_t* data, uint32_t length) {
  if (!table_ready) build_table();
  uint32_t crc = 0xFFFFFFFFUL;
  for (uint32_t i = 0; i < length; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}
