/*
 * The sc14441 test loader: uploaded by the boot ROM to 0x010080, it speaks
 * the command protocol of docs/boards/sc14441.md ("The test loader's command protocol") on the UART
 * (RX through a DMA channel 2 ring, TX polled) and drives the SPI NOR
 * flash through the QSPI controller. Two extra commands serve the tests:
 * 0x10 PEEK and 0x11 POKE.
 *
 * Host -> loader frame:
 *   A5 | cmd u8 | id u32 | len u32 | crc32(cmd, id, len) u32 | params[len] | crc32(params) u32
 * (params and their CRC only when len > 0; all integers little-endian).
 *
 * The watchdog is fed at start-up, when a command header arrives and while
 * long operations progress, never while idle: an idle loader is reset back
 * into the ROM by the watchdog after about 2.5 s.
 */
#include "loader.h"

#define CMD_PING 0x00
#define CMD_SET_BAUDRATE 0x01
#define CMD_FLASH_INFO 0x02
#define CMD_ERASE_SECTOR 0x03
#define CMD_PROGRAM_PAGE 0x04
#define CMD_RESET 0x05
#define CMD_READ_FLASH 0x06
#define CMD_CHECKSUM 0x07
#define CMD_CHIPID 0x08
#define CMD_PEEK 0x10 /* ours: u32 address, u32 width (1, 2, 4) -> OK, u32 value */
#define CMD_POKE 0x11 /* ours: u32 address, u32 width, u32 value -> OK */

#define HEADER_LENGTH 13 /* after A5: cmd, id, len, crc */
#define MAX_PARAMS 260   /* PROGRAM_PAGE: address + one page */

/*
 * An rx_wait() poll costs about 10-12 instructions (~3 us at the board's
 * ~3.9 M instructions per second). A host writes each command in one burst,
 * so these only end the wait for a truncated frame; they are generous so
 * that a board delivering host bytes in bunches never trips them, and
 * short of the watchdog period (fed when the header is in).
 */
#define HEADER_POLLS 100000UL /* ~300 ms for the 13 header bytes */
#define PARAM_POLLS 330000UL  /* ~1 s for the parameters */

#define RX_RING_SIZE 1024U

void chip_reset(void) {
  REG16(SC14441_DEBUG) |= SC14441_DEBUG_SW_RESET;
  for (;;) {
  }
}

/* Every exception and interrupt resets the chip (the loader expects none). */
static void trap_reset(void) {
  chip_reset();
}

/* ED=1 dispatch table: C function pointers already hold address >> 1. */
void (*const loader_dispatch_table[32])(void) __attribute__((aligned(4))) = {
    trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset,
    trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset,
    trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset,
    trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset, trap_reset};

static uint8_t rx_ring[RX_RING_SIZE] __attribute__((aligned(4)));
static uint16_t rx_read_index;
static uint8_t params[MAX_PARAMS + 4];
static uint8_t data_buffer[SC14441_NOR_PAGE_SIZE];
static uint32_t flash_size;

#define DMA_RX(reg) REG16(SC14441_DMA_CHANNEL(SC14441_DMA_UART_RX_CHANNEL) + (reg))

/* (Re)starts DMA channel 2 as a circular ring from UART_RX_TX into rx_ring,
   dropping whatever was buffered. */
static void rx_restart(void) {
  uint32_t ring = (uint32_t)rx_ring;
  DMA_RX(SC14441_DMA_CTRL) = 0;
  DMA_RX(SC14441_DMA_A_STARTL) = (uint16_t)SC14441_UART_RX_TX;
  DMA_RX(SC14441_DMA_A_STARTH) = (uint16_t)(SC14441_UART_RX_TX >> 16);
  DMA_RX(SC14441_DMA_B_STARTL) = (uint16_t)ring;
  DMA_RX(SC14441_DMA_B_STARTH) = (uint16_t)(ring >> 16);
  DMA_RX(SC14441_DMA_INT) = RX_RING_SIZE;
  DMA_RX(SC14441_DMA_LEN) = RX_RING_SIZE;
  DMA_RX(SC14441_DMA_CTRL) = SC14441_DMA_CTRL_UART_RX_RING;
  DMA_RX(SC14441_DMA_CTRL) = SC14441_DMA_CTRL_UART_RX_RING | SC14441_DMA_CTRL_DMA_ON;
  rx_read_index = 0;
}

static uint16_t rx_available(void) {
  return (uint16_t)(DMA_RX(SC14441_DMA_IDX) - rx_read_index) & (RX_RING_SIZE - 1);
}

/* Waits until `count` bytes are buffered; 0 when `polls` ran out first. */
static int rx_wait(uint16_t count, uint32_t polls) {
  while (rx_available() < count) {
    if (--polls == 0) return 0;
  }
  return 1;
}

static uint8_t rx_take(void) {
  uint8_t byte = rx_ring[rx_read_index];
  rx_read_index = (rx_read_index + 1) & (RX_RING_SIZE - 1);
  return byte;
}

static uint32_t take_u32(void) {
  uint32_t value = rx_take();
  value |= (uint32_t)rx_take() << 8;
  value |= (uint32_t)rx_take() << 16;
  value |= (uint32_t)rx_take() << 24;
  return value;
}

static uint32_t get_u32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void reply(uint8_t code, uint32_t id) {
  send_frame(code, id, 0, 0);
}

static void reply_u32(uint8_t code, uint32_t id, uint32_t value) {
  uint8_t bytes[4] = {(uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16),
                      (uint8_t)(value >> 24)};
  send_frame(code, id, bytes, 4);
}

/* Decimal text of `value` at `out`; returns the end (no NUL). */
static char* put_decimal(char* out, uint32_t value) {
  char digits[10];
  uint8_t count = 0;
  do {
    digits[count++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count) *out++ = digits[--count];
  return out;
}

static uint16_t minimum_length(uint8_t command) {
  switch (command) {
    case CMD_SET_BAUDRATE:
    case CMD_ERASE_SECTOR:
      return 4;
    case CMD_PROGRAM_PAGE:
      return 4 + SC14441_NOR_PAGE_SIZE;
    case CMD_READ_FLASH:
    case CMD_CHECKSUM:
    case CMD_PEEK:
      return 8;
    case CMD_POKE:
      return 12;
    default:
      return 0;
  }
}

static int baud_code(uint32_t baud) {
  switch (baud) {
    case 9600:
      return SC14441_UART_BAUD_9600;
    case 19200:
      return SC14441_UART_BAUD_19200;
    case 57600:
      return SC14441_UART_BAUD_57600;
    case 115200:
      return SC14441_UART_BAUD_115200;
    case 230400:
      return SC14441_UART_BAUD_230400;
    default:
      return -1;
  }
}

static void delay_polls(uint32_t polls) {
  while (polls-- != 0) (void)REG16(SC14441_UART_CTRL);
}

static void command_set_baudrate(uint32_t id) {
  int code = baud_code(get_u32(params));
  if (code < 0) {
    reply(REPLY_INVALID_PARAM, id);
    return;
  }
  reply(REPLY_OK, id);
  delay_polls(5000); /* a few ms: the reply leaves at the old rate */
  uint16_t control = REG16(SC14441_UART_CTRL) &
                     ~(SC14441_UART_CTRL_REN | SC14441_UART_CTRL_TEN | SC14441_UART_CTRL_BAUD_MASK |
                       SC14441_UART_CTRL_TI | SC14441_UART_CTRL_RI);
  control |= (uint16_t)code << SC14441_UART_CTRL_BAUD_SHIFT;
  REG16(SC14441_UART_CTRL) = control;
  REG16(SC14441_UART_CTRL) = control | SC14441_UART_CTRL_REN | SC14441_UART_CTRL_TEN;
}

/* READ_FLASH: header OK with the length, the data, then crc32(data). */
static void command_read_flash(uint32_t id) {
  uint32_t address = get_u32(params);
  uint32_t length = get_u32(params + 4);
  uint32_t crc = 0;
  send_frame_header(REPLY_OK, id, length);
  while (length != 0) {
    uint16_t chunk = length > SC14441_NOR_PAGE_SIZE ? SC14441_NOR_PAGE_SIZE : (uint16_t)length;
    flash_read(address, data_buffer, chunk);
    uart_send(data_buffer, chunk);
    crc = crc32_update(crc, data_buffer, chunk);
    address += chunk;
    length -= chunk;
    watchdog_feed();
  }
  uart_send_u32(crc);
}

/* CHECKSUM: the CRC's 4 raw bytes, then frame CHECKSUM with the CRC. */
static void command_checksum(uint32_t id) {
  uint32_t address = get_u32(params);
  uint32_t length = get_u32(params + 4);
  uint32_t crc = 0;
  while (length != 0) {
    uint16_t chunk = length > SC14441_NOR_PAGE_SIZE ? SC14441_NOR_PAGE_SIZE : (uint16_t)length;
    flash_read(address, data_buffer, chunk);
    crc = crc32_update(crc, data_buffer, chunk);
    address += chunk;
    length -= chunk;
    watchdog_feed();
  }
  uart_send_u32(crc);
  reply_u32(REPLY_CHECKSUM, id, crc);
}

static void command_chipid(uint32_t id) {
  uint8_t bytes[SC14441_CHIP_ID_LENGTH];
  for (uint8_t i = 0; i < SC14441_CHIP_ID_LENGTH; i++) bytes[i] = REG8(SC14441_CHIP_ID1 + i);
  send_frame(REPLY_CHIPID, id, bytes, sizeof bytes);
}

static void command_peek(uint32_t id) {
  uint32_t address = get_u32(params);
  uint32_t width = get_u32(params + 4);
  uint32_t value;
  if (width == 1)
    value = REG8(address);
  else if (width == 2)
    value = REG16(address);
  else if (width == 4)
    value = REG32(address);
  else {
    reply(REPLY_INVALID_PARAM, id);
    return;
  }
  reply_u32(REPLY_OK, id, value);
}

static void command_poke(uint32_t id) {
  uint32_t address = get_u32(params);
  uint32_t width = get_u32(params + 4);
  uint32_t value = get_u32(params + 8);
  if (width == 1)
    REG8(address) = (uint8_t)value;
  else if (width == 2)
    REG16(address) = (uint16_t)value;
  else if (width == 4)
    REG32(address) = value;
  else {
    reply(REPLY_INVALID_PARAM, id);
    return;
  }
  reply(REPLY_OK, id);
}

static void execute(uint8_t command, uint32_t id) {
  switch (command) {
    case CMD_PING:
      reply(REPLY_OK, id);
      break;
    case CMD_SET_BAUDRATE:
      command_set_baudrate(id);
      break;
    case CMD_FLASH_INFO:
      reply_u32(REPLY_FLASH_INFO, id, flash_size);
      break;
    case CMD_ERASE_SECTOR:
      reply(flash_erase_sector(get_u32(params)) == 0 ? REPLY_OK : REPLY_FLASH_TIMEOUT, id);
      break;
    case CMD_PROGRAM_PAGE:
      reply(flash_program_page(get_u32(params), params + 4) == 0 ? REPLY_OK : REPLY_FLASH_TIMEOUT,
            id);
      break;
    case CMD_RESET:
      reply(REPLY_OK, id);
      chip_reset();
    case CMD_READ_FLASH:
      command_read_flash(id);
      break;
    case CMD_CHECKSUM:
      command_checksum(id);
      break;
    case CMD_CHIPID:
      command_chipid(id);
      break;
    case CMD_PEEK:
      command_peek(id);
      break;
    case CMD_POKE:
      command_poke(id);
      break;
  }
}

static int known_command(uint8_t command) {
  return command <= CMD_CHIPID || command == CMD_PEEK || command == CMD_POKE;
}

/*
 * One frame: wait (idle, watchdog not fed) for A5, then header, checks,
 * parameters, the command. The RX ring restarts once the frame has been
 * taken in and before the reply goes out, dropping whatever else came with
 * the frame, so a host that sends its next command the moment it has the
 * reply never loses it.
 */
static void serve_one_frame(void) {
  while (rx_available() == 0) {
  }
  if (rx_take() != FRAME_SYNC) return;
  if (!rx_wait(HEADER_LENGTH, HEADER_POLLS)) {
    rx_restart();
    return;
  }
  uint8_t header[9];
  for (uint8_t i = 0; i < 9; i++) header[i] = rx_take();
  uint32_t header_crc = take_u32();
  uint8_t command = header[0];
  uint32_t id = get_u32(header + 1);
  uint32_t length = get_u32(header + 5);
  uint8_t error = 0xFF;
  watchdog_feed();

  if (crc32_update(0, header, 9) != header_crc)
    error = REPLY_INVALID_CRC;
  else if (!known_command(command))
    error = REPLY_CMD_INVALID;
  else if (length < minimum_length(command))
    error = REPLY_PARAM_SHORT;
  else if (length > MAX_PARAMS)
    error = REPLY_INVALID_PARAM;
  else if (length > 0) {
    if (!rx_wait((uint16_t)length + 4, PARAM_POLLS)) {
      rx_restart(); /* truncated frame: dropped without a reply */
      return;
    }
    for (uint16_t i = 0; i < (uint16_t)length; i++) params[i] = rx_take();
    if (take_u32() != crc32_update(0, params, (uint16_t)length)) error = REPLY_INVALID_CRC;
  }
  rx_restart();
  if (error != 0xFF)
    reply(error, id);
  else
    execute(command, id);
}

void loader_main(void) __attribute__((noreturn));

void loader_main(void) {
  watchdog_feed();
  crc32_init();
  REG16(SC14441_UART_CTRL) = SC14441_UART_CTRL_REN | SC14441_UART_CTRL_TEN; /* 9600 8N1 */
  rx_restart();
  flash_init();
  flash_size = flash_probe_size();

  static const char ready[] = "sc14441-loader ready, flash ";
  char text[sizeof ready + 16];
  char* end = text;
  for (const char* p = ready; *p; p++) *end++ = *p;
  end = put_decimal(end, flash_size);
  for (const char* p = " bytes"; *p; p++) *end++ = *p;
  *end = 0;
  send_debug(text);
  for (uint8_t i = 0; i < 3; i++) reply(REPLY_ONLINE, FRAME_ID_UNSOLICITED);

  for (;;) serve_one_frame();
}
