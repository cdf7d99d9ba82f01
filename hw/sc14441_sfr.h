// The SC14441's 64 KiB SFR window (0xFF0000-0xFFFFFF) as one MMIO region
// that hands each access to the block of registers owning the address
// (UART, DMA, ICU, ...). Addresses the board does not model read 0, ignore
// writes and log one `unimp` line naming the access and the guest PC.
// Blocks see absolute addresses, so one object may own several windows.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "hw/address_space.h"

namespace cr16 {

/// A set of SFRs inside the window. Machine thread only; guest input must
/// never assert.
class Sc14441SfrBlock {
 public:
  virtual ~Sc14441SfrBlock() = default;
  /// Reads `size` bytes at the absolute `address` (the whole access lies in
  /// one window of this block). With `peek` nothing may change (debugger).
  virtual uint32_t sfr_read(uint32_t address, AccessSize size, bool peek) = 0;
  /// Writes `size` bytes at the absolute `address`.
  virtual void sfr_write(uint32_t address, AccessSize size, uint32_t value) = 0;
};

/// A block of 16-bit registers at even addresses: a byte access reaches one
/// lane of its register, a 32-bit access is two 16-bit accesses (lower
/// address first) and an access at an odd address is split into bytes.
class Sc14441HalfwordBlock : public Sc14441SfrBlock {
 public:
  uint32_t sfr_read(uint32_t address, AccessSize size, bool peek) final;
  void sfr_write(uint32_t address, AccessSize size, uint32_t value) final;

 protected:
  /// Reads the register at the even address `reg`. `side_effects` is false
  /// for peeks and for byte reads of the high lane only (a FIFO pops when
  /// the low byte is read).
  virtual uint16_t read_reg(uint32_t reg, bool side_effects) = 0;
  /// Writes the register at `reg`; `byte_mask` is 0x00FF, 0xFF00 or 0xFFFF
  /// and `value` is zero outside it.
  virtual void write_reg(uint32_t reg, uint16_t value, uint16_t byte_mask) = 0;

  static uint16_t merge(uint16_t old_value, uint16_t value, uint16_t byte_mask) {
    return static_cast<uint16_t>((old_value & ~byte_mask) | (value & byte_mask));
  }
};

/// The MMIO device mapped at 0xFF0000 (size 0x10000).
class Sc14441SfrWindow : public MmioDevice {
 public:
  /// `guest_pc` tells the PC for log lines (may be empty).
  explicit Sc14441SfrWindow(std::function<uint32_t()> guest_pc);
  /// Routes [base, base+size) (absolute) to `block` (not owned).
  void add(uint32_t base, uint32_t size, Sc14441SfrBlock* block);

  uint32_t read(uint32_t offset, AccessSize size) override;
  void write(uint32_t offset, AccessSize size, uint32_t value) override;
  bool peek(uint32_t offset, AccessSize size, uint32_t* value) override;

 private:
  struct Window {
    uint32_t base;
    uint32_t size;
    Sc14441SfrBlock* block;
  };
  /// The block owning all of [address, address+bytes), or nullptr.
  Sc14441SfrBlock* owner(uint32_t address, unsigned bytes, bool* partly) const;
  uint32_t access_read(uint32_t address, AccessSize size, bool peek);
  void log_unimplemented(const char* what, uint32_t address, AccessSize size, uint32_t value);

  std::function<uint32_t()> guest_pc_;
  std::vector<Window> windows_;
};

}  // namespace cr16
