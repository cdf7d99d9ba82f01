// Scalar accessors and the coverage check of state descriptions. The engine
// that saves and loads whole descriptions lives in migration/.
#include "util/state.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

namespace cr16 {
namespace {

uint8_t* element_address(const StateField& field, void* object, uint32_t index) {
  return static_cast<uint8_t*>(object) + field.offset + size_t{index} * field.element_size;
}

/// The largest value a scalar of this kind holds, as raw bits.
uint64_t width_mask(FieldKind kind) {
  switch (kind) {
    case FieldKind::kU8:
      return 0xFF;
    case FieldKind::kU16:
      return 0xFFFF;
    case FieldKind::kU32:
      return 0xFFFFFFFF;
    default:
      return ~uint64_t{0};
  }
}

/// Marks [offset, offset+length) in `covered`; errors on a byte marked twice
/// or past the end.
Error mark(std::vector<uint8_t>& covered, const char* table, const char* field, uint64_t offset,
           uint64_t length) {
  if (offset + length > covered.size()) {
    return Error(std::string(table) + "." + field + " lies outside the struct");
  }
  for (uint64_t i = offset; i < offset + length; ++i) {
    if (covered[i]) {
      return Error(std::string(table) + "." + field + " overlaps another field at byte " +
                   std::to_string(i));
    }
    covered[i] = 1;
  }
  return Error();
}

Error cover(const StateDescription& description, std::vector<uint8_t>& covered, uint64_t base) {
  auto cover_table = [&](const StateDescription& table) -> Error {
    for (const StateField& field : table.fields) {
      if (field.kind == FieldKind::kStruct) {
        if (field.nested == nullptr) {
          return Error(std::string(table.name) + "." + field.name + " has no nested description");
        }
        if (field.nested->object_size != field.element_size) {
          return Error(std::string(table.name) + "." + field.name +
                       ": nested description size differs from the member");
        }
        for (uint32_t i = 0; i < field.count; ++i) {
          if (Error error =
                  cover(*field.nested, covered, base + field.offset + uint64_t{i} * field.element_size);
              !error.ok()) {
            return error;
          }
        }
        continue;
      }
      if (Error error = mark(covered, table.name, field.name, base + field.offset,
                             field.struct_bytes());
          !error.ok()) {
        return error;
      }
    }
    return Error();
  };
  if (Error error = cover_table(description); !error.ok()) return error;
  for (const StateSubsection& subsection : description.subsections) {
    if (subsection.description == nullptr || subsection.needed == nullptr) {
      return Error(std::string(description.name) + ": incomplete subsection");
    }
    if (Error error = cover_table(*subsection.description); !error.ok()) return error;
  }
  return Error();
}

}  // namespace

uint64_t state_field_get(const StateField& field, const void* object, uint32_t index) {
  const uint8_t* at = element_address(field, const_cast<void*>(object), index);
  switch (field.kind) {
    case FieldKind::kU8:
      return *at;
    case FieldKind::kU16: {
      uint16_t v;
      std::memcpy(&v, at, sizeof v);
      return v;
    }
    case FieldKind::kU32: {
      uint32_t v;
      std::memcpy(&v, at, sizeof v);
      return v;
    }
    case FieldKind::kU64:
    case FieldKind::kI64: {
      uint64_t v;
      std::memcpy(&v, at, sizeof v);
      return v;
    }
    default:
      return 0;
  }
}

Error state_field_set(const StateField& field, void* object, uint64_t value, uint32_t index) {
  if (!field.is_scalar() || index >= field.count) {
    return Error(std::string(field.name) + " is not a scalar element that can be set");
  }
  if ((value & ~width_mask(field.kind)) != 0 || (value & ~field.valid_mask) != 0) {
    char text[160];
    std::snprintf(text, sizeof text, "value 0x%" PRIx64 " out of range for %s (mask 0x%" PRIx64 ")",
                  value, field.name, field.valid_mask & width_mask(field.kind));
    return Error(text);
  }
  uint8_t* at = element_address(field, object, index);
  switch (field.kind) {
    case FieldKind::kU8:
      *at = static_cast<uint8_t>(value);
      break;
    case FieldKind::kU16: {
      auto v = static_cast<uint16_t>(value);
      std::memcpy(at, &v, sizeof v);
      break;
    }
    case FieldKind::kU32: {
      auto v = static_cast<uint32_t>(value);
      std::memcpy(at, &v, sizeof v);
      break;
    }
    default:
      std::memcpy(at, &value, sizeof value);
      break;
  }
  return Error();
}

const StateField* state_field_find(const StateDescription& description, std::string_view name) {
  for (const StateField& field : description.fields) {
    if (name == field.name) return &field;
  }
  for (const StateSubsection& subsection : description.subsections) {
    if (const StateField* field = state_field_find(*subsection.description, name)) return field;
  }
  return nullptr;
}

Error state_check_coverage(const StateDescription& description) {
  if (description.name == nullptr || description.object_size == 0) {
    return Error("a state description has no name or no object size");
  }
  std::vector<uint8_t> covered(description.object_size, 0);
  if (Error error = cover(description, covered, 0); !error.ok()) return error;
  for (size_t i = 0; i < covered.size(); ++i) {
    if (!covered[i]) {
      return Error(std::string(description.name) + ": byte " + std::to_string(i) +
                   " of the state struct is not described (a member missing from the table?)");
    }
  }
  return Error();
}

}  // namespace cr16
