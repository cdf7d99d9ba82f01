/* Device register access for the virt board (addresses from virt.h). */
#ifndef ROMS_COMMON_MMIO_H
#define ROMS_COMMON_MMIO_H

#include <stdint.h>

#include "virt.h"

/** Reads the 32-bit device register at `address`. */
static inline uint32_t mmio_read32(uint32_t address) {
  return *(volatile uint32_t*)address;
}

/** Writes the 32-bit device register at `address`. */
static inline void mmio_write32(uint32_t address, uint32_t value) {
  *(volatile uint32_t*)address = value;
}

#endif /* ROMS_COMMON_MMIO_H */
