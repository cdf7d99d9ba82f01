#include "hw/register_device.h"

#include "util/log.h"

namespace cr16 {

uint32_t RegisterDevice::read(uint32_t offset, AccessSize size) {
  return read_lanes(offset, size, false);
}

bool RegisterDevice::peek(uint32_t offset, AccessSize size, uint32_t* value) {
  peeking_ = true;
  *value = read_lanes(offset, size, true);
  peeking_ = false;
  return true;
}

uint32_t RegisterDevice::read_lanes(uint32_t offset, AccessSize size, bool peeking) {
  unsigned bytes = static_cast<unsigned>(size);
  unsigned lane = offset & 3;
  if (lane + bytes > 4) {
    uint32_t value = 0;
    for (unsigned i = 0; i < bytes; ++i)
      value |= (read_lanes(offset + i, AccessSize::kByte, peeking) & 0xFF) << (8 * i);
    return value;
  }
  uint32_t value = read_register(offset - lane, lane == 0 && !peeking) >> (8 * lane);
  return bytes == 4 ? value : value & ((1u << (8 * bytes)) - 1);
}

void RegisterDevice::write(uint32_t offset, AccessSize size, uint32_t value) {
  unsigned bytes = static_cast<unsigned>(size);
  unsigned lane = offset & 3;
  if (lane + bytes > 4) {
    for (unsigned i = 0; i < bytes; ++i)
      write(offset + i, AccessSize::kByte, (value >> (8 * i)) & 0xFF);
    return;
  }
  uint32_t width_mask = bytes == 4 ? 0xFFFFFFFFu : (1u << (8 * bytes)) - 1;
  uint32_t byte_mask = width_mask << (8 * lane);
  write_register(offset - lane, (value & width_mask) << (8 * lane), byte_mask);
}

void RegisterDevice::log_bad_register(const char* access, uint32_t reg) const {
  if (peeking_) return;  // a debugger's read is not the guest's error
  log_printf(LogCategory::kGuestErrors, "%s: %s of unassigned register offset 0x%03x", name_,
             access, reg);
}

}  // namespace cr16
