// Device state descriptions. Devices describe their migratable state with the
// same declarative table the CPU uses (cpu/state.h: LegacyStateField,
// LegacyStateDescription), so one engine in migration/ serves both. Each device
// keeps that state in a plain struct; 64-bit values are split into _lo/_hi
// 32-bit fields and FIFOs are packed into 32-bit words.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "cpu/state.h"
#include "util/error.h"

namespace cr16 {

/// A device whose state can be saved and restored through its description.
class StatefulDevice {
 public:
  virtual ~StatefulDevice() = default;
  /// The table describing state_data() (its post_load validates ranges).
  virtual const LegacyStateDescription& state_description() const = 0;
  /// The state struct the table describes (fields are read/written in place).
  virtual void* state_data() = 0;
  /// After fields were loaded and validated: rebuild derived state (IRQ
  /// lines, armed deadlines). Returns an error naming an inconsistent field.
  virtual Error post_load() = 0;
};

/// Every described field of DEVICE, in description order (what a snapshot
/// or migration stream carries for it).
inline std::vector<uint32_t> save_state_fields(StatefulDevice& device) {
  std::vector<uint32_t> values;
  for (const LegacyStateField& field : device.state_description().fields) {
    values.push_back(legacy_state_field_get(field, device.state_data()));
  }
  return values;
}

/// Loads VALUES (from save_state_fields of a device of the same kind) into
/// DEVICE, then validates them and rebuilds derived state (the
/// description's post_load, then the device's). Errors name the field.
inline Error restore_state_fields(StatefulDevice& device, std::span<const uint32_t> values) {
  const LegacyStateDescription& description = device.state_description();
  if (values.size() != description.fields.size()) {
    return Error(std::string(description.section) + ": wrong number of state fields");
  }
  for (size_t i = 0; i < values.size(); ++i) {
    const LegacyStateField& field = description.fields[i];
    if (Error error = legacy_state_field_set(field, device.state_data(), values[i]); !error.ok()) {
      return error.with_context(std::string(description.section) + "." + field.name);
    }
  }
  if (description.post_load != nullptr) {
    if (Error error = description.post_load(device.state_data()); !error.ok()) return error;
  }
  return device.post_load();
}

/// Joins the halves of a 64-bit value stored as two 32-bit state fields.
inline int64_t join_u64(uint32_t lo, uint32_t hi) {
  return static_cast<int64_t>((uint64_t{hi} << 32) | lo);
}
/// Splits a 64-bit value into two 32-bit state fields.
inline void split_u64(int64_t value, uint32_t* lo, uint32_t* hi) {
  *lo = static_cast<uint32_t>(static_cast<uint64_t>(value));
  *hi = static_cast<uint32_t>(static_cast<uint64_t>(value) >> 32);
}

}  // namespace cr16
