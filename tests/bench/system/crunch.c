/*
 * A CPU-bound C workload for bench-system: table-driven CRC-32, an insertion
 * sort, a byte-wise string scan and 32-bit multiply/divide, repeated ROUNDS
 * times over a 4 KiB buffer. Prints one line with a checksum, so a wrong
 * interpreter cannot post a figure, and exits 0. Runs unmodified under
 * cr16-system -semihosting and under the GNU simulator (cr16-elf-run).
 */
#include <stdint.h>
#include <stdio.h>

#define ROUNDS 1000
#define BUFFER_BYTES 4096
#define SORT_COUNT 128

static uint8_t buffer[BUFFER_BYTES];
static uint32_t crc_table[256];
static uint16_t values[SORT_COUNT];

static void make_crc_table(void) {
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320UL ^ (c >> 1) : c >> 1;
    crc_table[n] = c;
  }
}

static uint32_t crc32(const uint8_t* data, unsigned len) {
  uint32_t crc = 0xFFFFFFFFUL;
  for (unsigned i = 0; i < len; i++) crc = crc_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFUL;
}

static void insertion_sort(uint16_t* v, unsigned n) {
  for (unsigned i = 1; i < n; i++) {
    uint16_t key = v[i];
    unsigned j = i;
    while (j > 0 && v[j - 1] > key) {
      v[j] = v[j - 1];
      j--;
    }
    v[j] = key;
  }
}

static unsigned count_byte(const uint8_t* data, unsigned len, uint8_t wanted) {
  unsigned count = 0;
  for (unsigned i = 0; i < len; i++) count += data[i] == wanted;
  return count;
}

int main(void) {
  uint32_t state = 12345;
  uint32_t checksum = 0;
  make_crc_table();
  for (int round = 0; round < ROUNDS; round++) {
    for (unsigned i = 0; i < BUFFER_BYTES; i++) {
      state = state * 1103515245UL + 12345UL;
      buffer[i] = (uint8_t)(state >> 16);
    }
    for (unsigned i = 0; i < SORT_COUNT; i++)
      values[i] = (uint16_t)(buffer[2 * i] << 8 | buffer[2 * i + 1]);
    insertion_sort(values, SORT_COUNT);
    checksum ^= crc32(buffer, BUFFER_BYTES);
    checksum += count_byte(buffer, BUFFER_BYTES, (uint8_t)round);
    checksum += values[SORT_COUNT / 2] * (uint32_t)(round + 1) / 3u;
  }
  printf("crunch: %d rounds, checksum %08lx\n", ROUNDS, (unsigned long)checksum);
  return 0;
}
