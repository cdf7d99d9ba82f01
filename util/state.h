// State descriptions: the one declarative table per stateful object (the
// CPU, every device, the virtual clock) that migration, snapshots, monitor
// dumps (`info registers`, QMP) and the state fuzzer all walk. This header
// holds only the *types* and small accessors, so cpu/ and hw/ can describe
// their state without depending on migration/; the engine that saves and
// loads descriptions (versions, subsections, validation, sections keyed by
// name and instance id) lives in migration/.
//
// A described object keeps its state in a plain struct without padding
// (static_assert(std::has_unique_object_representations_v<State>) next to
// it), so a coverage test can prove that the fields cover every byte: a
// member added to the struct and forgotten in the table fails that test.
//
// Building a table:
//   constexpr StateField kFields[] = {
//       CR16_STATE_FIELD(UartState, ctrl).mask(kCtrlBits),
//       CR16_STATE_FIELD(UartState, rx_fifo),            // uint8_t[16]: bytes
//       CR16_STATE_FIELD(UartState, rx_head).since(2),   // added in version 2
//       CR16_STATE_STRUCT(TimerState, channel, kChannelDescription),
//   };
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "util/error.h"

namespace cr16 {

/// How a field is stored. Scalars are little-endian in streams.
enum class FieldKind : uint8_t {
  kU8,
  kU16,
  kU32,
  kU64,
  kI64,
  kBytes,   // an inline uint8_t array (FIFOs, names): copied as is
  kBuffer,  // a StateBuffer member: the bytes it points at (size must match on load)
  kStruct,  // a nested described struct (or a fixed array of them)
};

/// Host memory outside the struct that belongs to the object's state (the
/// flash array, a frame buffer). The engine saves the bytes, never the
/// pointer; a load whose size differs from `size` is refused.
struct StateBuffer {
  uint8_t* data = nullptr;
  uint64_t size = 0;
};

struct StateDescription;

/// One named member of a described struct: a scalar, a fixed array of
/// scalars, a byte array, an external buffer, or a nested struct (or array
/// of them). Build with the CR16_STATE_* macros below.
struct StateField {
  const char* name = nullptr;   // as shown by monitors; unique within a description
  FieldKind kind = FieldKind::kU32;
  uint32_t offset = 0;          // byte offset of the member in the struct
  uint32_t count = 1;           // array elements (kBytes: bytes); 1 for a plain member
  uint32_t element_size = 4;    // bytes per element (kStruct: the nested struct's size)
  uint16_t version_added = 1;   // first section version that carries this field
  uint64_t valid_mask = ~uint64_t{0};        // scalars: bits a loaded value may have set
  const StateDescription* nested = nullptr;  // kStruct only

  /// This field, first carried by section version `version`. Loading an
  /// older version leaves the member at its current (reset) value.
  constexpr StateField since(uint16_t version) const {
    StateField field = *this;
    field.version_added = version;
    return field;
  }
  /// This field, with the bits a loaded value may have (others are refused).
  constexpr StateField mask(uint64_t bits) const {
    StateField field = *this;
    field.valid_mask = bits;
    return field;
  }
  /// Bytes the member occupies in the struct.
  constexpr uint32_t struct_bytes() const {
    return kind == FieldKind::kBuffer ? uint32_t{sizeof(StateBuffer)} : count * element_size;
  }
  constexpr bool is_scalar() const { return kind <= FieldKind::kI64; }
};

/// Part of an object's state that is sent only when needed() says so (a
/// feature in use, a rarely non-default value). Its fields describe members
/// of the same struct as the parent; an absent subsection leaves them at
/// their current (reset) values on load.
struct StateSubsection {
  const StateDescription* description = nullptr;
  bool (*needed)(const void* object) = nullptr;
};

/// A versioned, declarative description of one struct.
struct StateDescription {
  const char* name = nullptr;     // default section name ("uart", "timer", "cpu")
  uint16_t version = 1;           // version written now
  uint16_t minimum_version = 1;   // oldest version that can still be loaded
  uint32_t object_size = 0;       // sizeof the described struct
  std::span<const StateField> fields;
  std::span<const StateSubsection> subsections = {};
  /// Validates (and may normalise) a freshly loaded candidate object before
  /// anything is committed: ranges, cross-field rules. Every description
  /// has one (a test checks). The error names the field.
  Error (*post_load)(void* object) = nullptr;
};

/// Something whose state one description covers: the CPU, a device, the
/// virtual clock. The engine writes state_data() in place only after the
/// whole load was parsed and validated, then calls state_loaded().
class Stateful {
 public:
  virtual ~Stateful() = default;
  /// The table describing state_data().
  virtual const StateDescription& state_description() const = 0;
  /// The struct the table describes.
  virtual void* state_data() = 0;
  /// After a validated load was committed: rebuild what derives from the
  /// state (interrupt lines, armed deadlines, caches). Cannot fail.
  virtual void state_loaded() {}
};

/// One piece of machine state in a stream or snapshot: sections are keyed
/// by (name, instance_id), e.g. ("uart", 0) and ("uart", 1).
struct StateSection {
  std::string name;
  uint32_t instance_id = 0;
  Stateful* object = nullptr;

  /// "uart.1": how messages name the section.
  std::string label() const { return name + "." + std::to_string(instance_id); }
};

// ---- Field accessors (scalars), for monitors, debuggers and the engine.

/// Reads scalar element `index` of `field` in `object`, widened to 64 bits
/// (kI64 as its two's-complement bits).
uint64_t state_field_get(const StateField& field, const void* object, uint32_t index = 0);
/// Writes scalar element `index`; an Error (object unchanged) when `value`
/// does not fit the field's width or has bits outside valid_mask.
Error state_field_set(const StateField& field, void* object, uint64_t value, uint32_t index = 0);
/// Finds a field by name in the description's own fields and its
/// subsections; nullptr when unknown.
const StateField* state_field_find(const StateDescription& description, std::string_view name);
/// Calls `visit(path, field, base, index)` for every scalar element
/// reachable from `description` (nested structs and subsections included;
/// paths like "channel[1].load"), in table order; `base` is the struct the
/// field's offset is relative to, so state_field_get(field, base, index)
/// reads the value. For monitors and tests.
template <typename Visitor>
void state_for_each_scalar(const StateDescription& description, const void* object,
                           Visitor&& visit, const std::string& prefix = "");
/// Marks the bytes of a `description.object_size` struct that its fields
/// (and subsections, recursively) cover; returns an Error naming the first
/// byte covered twice or not at all. The coverage test runs it on every
/// description.
Error state_check_coverage(const StateDescription& description);

// ---- Building fields.

namespace state_detail {

template <typename T>
struct always_false : std::false_type {};

template <typename T>
constexpr FieldKind scalar_kind() {
  if constexpr (std::is_same_v<T, uint8_t>) {
    return FieldKind::kU8;
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    return FieldKind::kU16;
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    return FieldKind::kU32;
  } else if constexpr (std::is_same_v<T, uint64_t>) {
    return FieldKind::kU64;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return FieldKind::kI64;
  } else {
    static_assert(always_false<T>::value,
                  "state fields are uint8/16/32/64_t, int64_t, uint8_t arrays or StateBuffer");
    return FieldKind::kU8;
  }
}

template <typename Member>
constexpr StateField make_field(const char* name, size_t offset) {
  StateField field;
  field.name = name;
  field.offset = static_cast<uint32_t>(offset);
  if constexpr (std::is_same_v<Member, StateBuffer>) {
    field.kind = FieldKind::kBuffer;
    field.element_size = 1;
    field.count = 0;  // the size lives in the buffer
  } else if constexpr (std::is_array_v<Member>) {
    static_assert(std::rank_v<Member> == 1, "one-dimensional arrays only");
    using Element = std::remove_extent_t<Member>;
    field.count = static_cast<uint32_t>(std::extent_v<Member>);
    field.element_size = sizeof(Element);
    field.kind = std::is_same_v<Element, uint8_t> ? FieldKind::kBytes : scalar_kind<Element>();
  } else {
    field.kind = scalar_kind<Member>();
    field.element_size = sizeof(Member);
  }
  return field;
}

template <typename Member>
constexpr StateField make_struct_field(const char* name, size_t offset,
                                       const StateDescription* nested) {
  StateField field;
  field.name = name;
  field.kind = FieldKind::kStruct;
  field.offset = static_cast<uint32_t>(offset);
  field.nested = nested;
  if constexpr (std::is_array_v<Member>) {
    static_assert(std::rank_v<Member> == 1, "one-dimensional arrays only");
    field.count = static_cast<uint32_t>(std::extent_v<Member>);
    field.element_size = sizeof(std::remove_extent_t<Member>);
  } else {
    field.element_size = sizeof(Member);
  }
  return field;
}

}  // namespace state_detail

/// A scalar, scalar-array, byte-array or StateBuffer member; the kind and
/// count come from the member's type.
#define CR16_STATE_FIELD(Struct, member) \
  ::cr16::state_detail::make_field<decltype(Struct::member)>(#member, offsetof(Struct, member))
/// A nested struct member (or fixed array of them) described by
/// `description` (a StateDescription with static storage).
#define CR16_STATE_STRUCT(Struct, member, description)                                            \
  ::cr16::state_detail::make_struct_field<decltype(Struct::member)>(#member,                      \
                                                                    offsetof(Struct, member),     \
                                                                    &(description))

// ---- Template definitions.

template <typename Visitor>
void state_for_each_scalar(const StateDescription& description, const void* object,
                           Visitor&& visit, const std::string& prefix) {
  const auto* base = static_cast<const uint8_t*>(object);
  auto walk = [&](const StateDescription& table) {
    for (const StateField& field : table.fields) {
      const std::string path = prefix + field.name;
      if (field.kind == FieldKind::kStruct) {
        for (uint32_t i = 0; i < field.count; ++i) {
          const std::string element =
              field.count == 1 ? path + "." : path + "[" + std::to_string(i) + "].";
          state_for_each_scalar(*field.nested, base + field.offset + i * field.element_size,
                                visit, element);
        }
      } else if (field.is_scalar()) {
        for (uint32_t i = 0; i < field.count; ++i) {
          visit(field.count == 1 ? path : path + "[" + std::to_string(i) + "]", field,
                static_cast<const void*>(base), i);
        }
      }
    }
  };
  walk(description);
  for (const StateSubsection& subsection : description.subsections) walk(*subsection.description);
}

}  // namespace cr16
