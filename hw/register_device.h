// Base for devices made of 32-bit registers at 4-byte-aligned offsets that
// accept 8-, 16- and 32-bit accesses (docs/virt.md section 2).
#pragma once

#include <cstdint>

#include "hw/address_space.h"

namespace cr16 {

/// Turns byte/word/dword accesses into whole-register operations with byte
/// enables. Accesses that straddle two registers are split into bytes.
class RegisterDevice : public MmioDevice {
 public:
  /// `name` is used in guest_errors log lines; must outlive the device.
  explicit RegisterDevice(const char* name) : name_(name) {}

  uint32_t read(uint32_t offset, AccessSize size) final;
  void write(uint32_t offset, AccessSize size, uint32_t value) final;
  /// Reads like read() with read_register(side_effects = false) for every
  /// register, and without guest_errors logs. Always succeeds.
  bool peek(uint32_t offset, AccessSize size, uint32_t* value) final;

  const char* name() const { return name_; }

 protected:
  /// Reads the register at `reg` (multiple of 4). `side_effects` is true when
  /// the access includes byte +0 (FIFO pops and acknowledges happen then).
  /// With side_effects false the read must change nothing the guest or a
  /// snapshot can see (debugger peeks use it; tests/unit/hw/peek_test.cpp).
  virtual uint32_t read_register(uint32_t reg, bool side_effects) = 0;
  /// Writes the register at `reg`; `byte_mask` has 0xFF in each written
  /// byte lane and `value` is zero outside it.
  virtual void write_register(uint32_t reg, uint32_t value, uint32_t byte_mask) = 0;

  /// For RW registers: the old value with the written lanes replaced.
  static uint32_t merge(uint32_t old_value, uint32_t value, uint32_t byte_mask) {
    return (old_value & ~byte_mask) | (value & byte_mask);
  }
  /// Logs a guest access to an offset with no register (guest_errors);
  /// silent during a peek.
  void log_bad_register(const char* access, uint32_t reg) const;

 private:
  uint32_t read_lanes(uint32_t offset, AccessSize size, bool peeking);

  const char* name_;
  bool peeking_ = false;
};

}  // namespace cr16
