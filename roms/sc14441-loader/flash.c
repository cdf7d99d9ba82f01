/*
 * The QSPI controller in manual mode (notes section 5.7) and the SPI NOR
 * commands the loader uses (section 6): single I/O, 24-bit big-endian
 * addresses, CS# released after every command.
 */
#include "loader.h"

#define ERASE_POLLS 0x4001U  /* RDSR polls after a sector erase */
#define PROGRAM_POLLS 0x401U /* RDSR polls after a page program */

static void qspi_wait_idle(void) {
  for (uint16_t polls = 0xFFFF; polls != 0; polls--) {
    if (!(REG16(SC14441_QSPIC_STATUS) & SC14441_QSPIC_STATUS_BUSY)) return;
  }
}

static void qspi_select(void) {
  REG32(SC14441_QSPIC_CTRLBUS) = SC14441_QSPIC_CTRLBUS_SET_SINGLE;
  REG32(SC14441_QSPIC_CTRLBUS) = SC14441_QSPIC_CTRLBUS_EN_CS;
}

static void qspi_deselect(void) {
  REG32(SC14441_QSPIC_CTRLBUS) = SC14441_QSPIC_CTRLBUS_DIS_CS;
}

/* Clocks out `length` bytes: 32-bit stores, then 16-bit, then 8-bit. */
static void qspi_write(const uint8_t* data, uint16_t length) {
  while (length >= 4) {
    qspi_wait_idle();
    REG32(SC14441_QSPIC_WRITEDATA) = (uint32_t)data[0] | ((uint32_t)data[1] << 8) |
                                     ((uint32_t)data[2] << 16) | ((uint32_t)data[3] << 24);
    data += 4;
    length -= 4;
  }
  if (length >= 2) {
    qspi_wait_idle();
    REG16(SC14441_QSPIC_WRITEDATA) = (uint16_t)(data[0] | (data[1] << 8));
    data += 2;
    length -= 2;
  }
  if (length == 1) {
    qspi_wait_idle();
    REG8(SC14441_QSPIC_WRITEDATA) = data[0];
  }
}

/* Clocks in `length` bytes: 32-bit READDATA reads, then 16-bit ones (an odd
   last byte also takes a 16-bit read; the extra byte is dropped). */
static void qspi_read(uint8_t* data, uint16_t length) {
  while (length >= 4) {
    (void)REG32(SC14441_QSPIC_READDATA);
    qspi_wait_idle();
    uint32_t word = REG32(SC14441_QSPIC_RECVDATA);
    data[0] = (uint8_t)word;
    data[1] = (uint8_t)(word >> 8);
    data[2] = (uint8_t)(word >> 16);
    data[3] = (uint8_t)(word >> 24);
    data += 4;
    length -= 4;
  }
  while (length > 0) {
    (void)REG16(SC14441_QSPIC_READDATA);
    qspi_wait_idle();
    uint32_t word = REG32(SC14441_QSPIC_RECVDATA);
    data[0] = (uint8_t)word;
    if (length == 1) return;
    data[1] = (uint8_t)(word >> 8);
    data += 2;
    length -= 2;
  }
}

/* One CS# cycle: `command` (opcode [+ address + dummy]), then `length` bytes in. */
static void qspi_command(const uint8_t* command, uint16_t command_length, uint8_t* in,
                         uint16_t length) {
  qspi_select();
  qspi_write(command, command_length);
  if (length) qspi_read(in, length);
  qspi_deselect();
}

static void address_command(uint8_t* out, uint8_t opcode, uint32_t address) {
  out[0] = opcode;
  out[1] = (uint8_t)(address >> 16);
  out[2] = (uint8_t)(address >> 8);
  out[3] = (uint8_t)address;
}

void flash_init(void) {
  uint16_t divider = REG16(SC14441_CLK_PER10_DIV) & ~SC14441_CLK_PER10_QSPI_DIV_MASK;
  REG16(SC14441_CLK_PER10_DIV) = divider | SC14441_CLK_PER10_QSPI_DIV_1;
  REG16(SC14441_CLK_PER10_DIV) |= SC14441_CLK_PER10_QSPI_CLK_EN;
  REG32(SC14441_QSPIC_CTRLBUS) = SC14441_QSPIC_CTRLBUS_DIS_CS;
  REG32(SC14441_QSPIC_CTRLBUS) = SC14441_QSPIC_CTRLBUS_SET_SINGLE;
  REG16(SC14441_QSPIC_CTRLMODE) = SC14441_QSPIC_CTRLMODE_MANUAL;
}

static void read_sfdp(uint32_t address, uint8_t* buffer, uint16_t length) {
  uint8_t command[5];
  address_command(command, SC14441_NOR_READ_SFDP, address);
  command[4] = 0xFF; /* one dummy byte */
  qspi_command(command, 5, buffer, length);
}

static uint32_t le32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

uint32_t flash_probe_size(void) {
  uint8_t header[8];
  read_sfdp(0, header, 8);
  if (header[6] == 0xFF) return 0; /* no SFDP */
  uint16_t count = (uint16_t)header[6] + 1;
  for (uint16_t i = 0; i < count; i++) {
    uint8_t parameter[8];
    read_sfdp(8 + 8UL * i, parameter, 8);
    uint8_t dwords = parameter[3];
    if (parameter[0] != 0x00 || dwords < 2 || dwords > 16) continue; /* not JEDEC basic */
    uint32_t pointer =
        parameter[4] | ((uint32_t)parameter[5] << 8) | ((uint32_t)parameter[6] << 16);
    uint8_t table[8];
    read_sfdp(pointer, table, 8);
    uint32_t density = le32(table + 4);
    if (density & 0x80000000UL) {
      uint32_t exponent = density & 0x7FFFFFFFUL; /* 2^N bits */
      return exponent >= 3 && exponent < 35 ? 1UL << (exponent - 3) : 0;
    }
    return (density + 1) / 8;
  }
  return 0;
}

void flash_read(uint32_t address, uint8_t* buffer, uint16_t length) {
  uint8_t command[4];
  address_command(command, SC14441_NOR_READ, address);
  qspi_command(command, 4, buffer, length);
}

static uint8_t read_status(void) {
  uint8_t command = SC14441_NOR_READ_STATUS;
  uint8_t status[2];
  qspi_command(&command, 1, status, 2);
  return status[0];
}

static void write_enable(void) {
  uint8_t command = SC14441_NOR_WRITE_ENABLE;
  qspi_command(&command, 1, 0, 0);
}

/* Polls RDSR until WIP clears, at most `polls` times. */
static int wait_ready(uint16_t polls) {
  while (polls-- != 0) {
    if (!(read_status() & SC14441_NOR_STATUS_WIP)) return 0;
    watchdog_feed(); /* a long operation progresses */
  }
  return -1;
}

/* WP# (IO2) high around erase/program, as the public loader does. */
static void write_protect(int on) {
  if (on)
    REG16(SC14441_QSPIC_CTRLMODE) &= ~SC14441_QSPIC_CTRLMODE_IO2_DAT;
  else
    REG16(SC14441_QSPIC_CTRLMODE) |= SC14441_QSPIC_CTRLMODE_IO2_DAT;
}

int flash_erase_sector(uint32_t address) {
  uint8_t command[4];
  write_protect(0);
  write_enable();
  address_command(command, SC14441_NOR_SECTOR_ERASE, address);
  qspi_command(command, 4, 0, 0);
  int result = wait_ready(ERASE_POLLS);
  write_protect(1);
  return result;
}

int flash_program_page(uint32_t address, const uint8_t* data) {
  uint8_t command[4];
  write_protect(0);
  write_enable();
  address_command(command, SC14441_NOR_PAGE_PROGRAM, address);
  qspi_select();
  qspi_write(command, 4);
  qspi_write(data, SC14441_NOR_PAGE_SIZE);
  qspi_deselect();
  int result = wait_ready(PROGRAM_POLLS);
  write_protect(1);
  return result;
}
