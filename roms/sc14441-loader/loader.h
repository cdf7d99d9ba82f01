/* Shared declarations of the sc14441 test loader. */
#ifndef ROMS_SC14441_LOADER_H
#define ROMS_SC14441_LOADER_H

#include <stdint.h>

#include "sc14441.h"

#define REG8(address) (*(volatile uint8_t*)(address))
#define REG16(address) (*(volatile uint16_t*)(address))
#define REG32(address) (*(volatile uint32_t*)(address))

/* Reply codes (notes section 7). */
#define REPLY_INVALID_CRC 0x00
#define REPLY_CMD_OK 0x01
#define REPLY_CMD_INVALID 0x02
#define REPLY_PARAM_SHORT 0x03
#define REPLY_OK 0x04
#define REPLY_DEBUG 0x05
#define REPLY_INVALID_PARAM 0x06
#define REPLY_ONLINE 0x07
#define REPLY_FLASH_TIMEOUT 0x08
#define REPLY_CHECKSUM 0x09
#define REPLY_FLASH_INFO 0x0A
#define REPLY_CHIPID 0x0B

#define FRAME_SYNC 0xA5
#define FRAME_ID_UNSOLICITED 0xFFFFFFFFUL

/** Restarts the watchdog's full period (about 2.55 s). */
static inline void watchdog_feed(void) {
  REG16(SC14441_WATCHDOG) = SC14441_WATCHDOG_RELOAD;
}

/** Resets the whole chip through DEBUG_REG.SW_RESET; never returns. */
void chip_reset(void) __attribute__((noreturn));

/* ---- frame.c: CRC-32, UART transmit, reply frames ---- */

/** Builds the CRC-32 table; call once before any crc32_update(). */
void crc32_init(void);
/** Continues a zlib CRC-32: start with crc = 0, returns the new value. */
uint32_t crc32_update(uint32_t crc, const uint8_t* data, uint16_t length);
/** Sends one byte (polled; TI is set at once on this board). */
void uart_send_byte(uint8_t byte);
/** Sends `length` bytes. */
void uart_send(const uint8_t* data, uint16_t length);
/** Sends a 32-bit value little-endian, unframed. */
void uart_send_u32(uint32_t value);
/** Sends a whole reply frame (header, CRC, payload and its CRC when length > 0). */
void send_frame(uint8_t code, uint32_t id, const uint8_t* payload, uint16_t length);
/** Sends a reply header announcing `length` payload bytes; returns nothing. */
void send_frame_header(uint8_t code, uint32_t id, uint32_t length);
/** Sends a DEBUG frame holding the NUL-terminated `text`. */
void send_debug(const char* text);

/* ---- flash.c: QSPI controller in manual mode, SPI NOR ---- */

/** Puts the QSPI controller into manual single-I/O mode. */
void flash_init(void);
/** Reads the flash size from SFDP (JESD216 basic table); 0 when absent. */
uint32_t flash_probe_size(void);
/** Reads `length` bytes at `address` with opcode 0x03 (one CS# cycle). */
void flash_read(uint32_t address, uint8_t* buffer, uint16_t length);
/** Erases the 4 KiB sector at `address`; 0 on success, -1 on timeout. */
int flash_erase_sector(uint32_t address);
/** Programs one 256-byte page at `address`; 0 on success, -1 on timeout. */
int flash_program_page(uint32_t address, const uint8_t* data);

#endif /* ROMS_SC14441_LOADER_H */
