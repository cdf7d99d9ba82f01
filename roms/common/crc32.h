/* CRC-32 (IEEE 802.3: reflected, polynomial 0xEDB88320, init and final XOR 0xFFFFFFFF). */
#ifndef ROMS_COMMON_CRC32_H
#define ROMS_COMMON_CRC32_H

#include <stdint.h>

/** CRC-32 of `length` bytes at `data`; equals zlib's crc32(0, data, length). */
uint32_t crc32(const uint8_t* data, uint32_t length);

#endif /* ROMS_COMMON_CRC32_H */
