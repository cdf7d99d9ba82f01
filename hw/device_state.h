// Declarative descriptions of device state: one table per device listing its
// guest-visible fields, used by migration, snapshots and monitor dumps (see
// ARCHITECTURE.md, "One description of state"). Devices keep that state in a
// plain struct and describe it with offsetof.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "util/error.h"

namespace cr16 {

/// The representation of one field in the device's state struct.
enum class StateFieldType : uint8_t {
  kU8,
  kU16,
  kU32,
  kU64,
  kI64,
  kBool,   // stored as bool, sent as one byte 0/1
  kBytes,  // `count` raw bytes (FIFOs, buffers)
};

/// One field: name, type, byte offset in the state struct, element count
/// (arrays of the type; byte length for kBytes) and the section version that
/// introduced it (fields newer than an incoming stream's version are skipped).
struct StateField {
  const char* name;
  StateFieldType type;
  size_t offset;
  uint32_t count = 1;
  uint16_t version_added = 1;
};

/// A device's state section: name, version, the oldest version it can load,
/// and its fields.
struct StateDescription {
  const char* name;
  uint16_t version;
  uint16_t minimum_version;
  std::span<const StateField> fields;
};

/// Size in bytes of one element of `type`.
size_t state_field_element_size(StateFieldType type);

/// A device whose state can be saved and restored through its description.
class StatefulDevice {
 public:
  virtual ~StatefulDevice() = default;
  /// The table describing state_data().
  virtual const StateDescription& state_description() const = 0;
  /// The state struct the table describes (fields are read/written in place).
  virtual void* state_data() = 0;
  /// After fields were loaded from an untrusted stream: validate ranges
  /// (error names the field), then rebuild derived state (IRQ lines, timers).
  /// On error the caller restores the previous state.
  virtual Error post_load() = 0;
};

}  // namespace cr16
