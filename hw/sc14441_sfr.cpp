#include "hw/sc14441_sfr.h"

#include "hw/sc14441_map.h"
#include "util/log.h"

namespace cr16 {

// ---- Sc14441HalfwordBlock.

uint32_t Sc14441HalfwordBlock::sfr_read(uint32_t address, AccessSize size, bool peek) {
  if (size == AccessSize::kByte) {
    const uint32_t reg = address & ~1u;
    const bool high = (address & 1) != 0;
    return (read_reg(reg, !peek && !high) >> (high ? 8 : 0)) & 0xFF;
  }
  if (size == AccessSize::kWord && (address & 1) == 0) return read_reg(address, !peek);
  if (size == AccessSize::kDword && (address & 1) == 0) {
    const uint32_t low = read_reg(address, !peek);
    return low | (uint32_t{read_reg(address + 2, !peek)} << 16);
  }
  uint32_t value = 0;  // odd address: byte by byte
  for (unsigned i = 0; i < static_cast<unsigned>(size); ++i) {
    value |= sfr_read(address + i, AccessSize::kByte, peek) << (8 * i);
  }
  return value;
}

void Sc14441HalfwordBlock::sfr_write(uint32_t address, AccessSize size, uint32_t value) {
  if (size == AccessSize::kByte) {
    const bool high = (address & 1) != 0;
    const uint16_t lane = static_cast<uint16_t>((value & 0xFF) << (high ? 8 : 0));
    write_reg(address & ~1u, lane, high ? 0xFF00 : 0x00FF);
    return;
  }
  if (size == AccessSize::kWord && (address & 1) == 0) {
    write_reg(address, static_cast<uint16_t>(value), 0xFFFF);
    return;
  }
  if (size == AccessSize::kDword && (address & 1) == 0) {
    write_reg(address, static_cast<uint16_t>(value), 0xFFFF);
    write_reg(address + 2, static_cast<uint16_t>(value >> 16), 0xFFFF);
    return;
  }
  for (unsigned i = 0; i < static_cast<unsigned>(size); ++i) {
    sfr_write(address + i, AccessSize::kByte, (value >> (8 * i)) & 0xFF);
  }
}

// ---- Sc14441SfrWindow.

Sc14441SfrWindow::Sc14441SfrWindow(std::function<uint32_t()> guest_pc)
    : guest_pc_(std::move(guest_pc)) {}

void Sc14441SfrWindow::add(uint32_t base, uint32_t size, Sc14441SfrBlock* block) {
  windows_.push_back({base, size, block});
}

Sc14441SfrBlock* Sc14441SfrWindow::owner(uint32_t address, unsigned bytes, bool* partly) const {
  *partly = false;
  for (const Window& window : windows_) {
    const bool first_in = address >= window.base && address < window.base + window.size;
    const bool last_in =
        address + bytes - 1 >= window.base && address + bytes - 1 < window.base + window.size;
    if (first_in && last_in) return window.block;
    if (first_in || last_in) *partly = true;
  }
  return nullptr;
}

void Sc14441SfrWindow::log_unimplemented(const char* what, uint32_t address, AccessSize size,
                                         uint32_t value) {
  if (!log_enabled(LogCategory::kUnimp)) return;
  const unsigned bits = 8 * static_cast<unsigned>(size);
  const uint32_t pc = guest_pc_ ? guest_pc_() : 0;
  if (what[0] == 'w') {
    log_printf(LogCategory::kUnimp,
               "sc14441: unimplemented SFR write of 0x%0*x to 0x%06x (%u-bit) at pc 0x%06x",
               static_cast<int>(bits / 4), value, address, bits, pc);
  } else {
    log_printf(LogCategory::kUnimp,
               "sc14441: unimplemented SFR read at 0x%06x (%u-bit) at pc 0x%06x, reads 0", address,
               bits, pc);
  }
}

uint32_t Sc14441SfrWindow::access_read(uint32_t address, AccessSize size, bool peek) {
  const unsigned bytes = static_cast<unsigned>(size);
  bool partly = false;
  if (Sc14441SfrBlock* block = owner(address, bytes, &partly)) {
    return block->sfr_read(address, size, peek);
  }
  if (partly) {  // straddles a block edge: byte by byte
    uint32_t value = 0;
    for (unsigned i = 0; i < bytes; ++i) {
      value |= access_read(address + i, AccessSize::kByte, peek) << (8 * i);
    }
    return value;
  }
  if (!peek) log_unimplemented("read", address, size, 0);
  return 0;
}

uint32_t Sc14441SfrWindow::read(uint32_t offset, AccessSize size) {
  return access_read(sc14441::kSfrBase + offset, size, false);
}

bool Sc14441SfrWindow::peek(uint32_t offset, AccessSize size, uint32_t* value) {
  *value = access_read(sc14441::kSfrBase + offset, size, true);
  return true;
}

void Sc14441SfrWindow::write(uint32_t offset, AccessSize size, uint32_t value) {
  const uint32_t address = sc14441::kSfrBase + offset;
  const unsigned bytes = static_cast<unsigned>(size);
  bool partly = false;
  if (Sc14441SfrBlock* block = owner(address, bytes, &partly)) {
    block->sfr_write(address, size, value);
    return;
  }
  if (partly) {
    for (unsigned i = 0; i < bytes; ++i) {
      const uint32_t part = offset + i;
      if (part < sc14441::kSfrSize) write(part, AccessSize::kByte, (value >> (8 * i)) & 0xFF);
    }
    return;
  }
  log_unimplemented("write", address, size, bytes == 4 ? value : value & ((1u << (8 * bytes)) - 1));
}

}  // namespace cr16
