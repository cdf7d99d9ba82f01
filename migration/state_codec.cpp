#include "migration/state_codec.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <set>

namespace cr16::migration {
namespace {

uint32_t scalar_width(FieldKind kind) {
  switch (kind) {
    case FieldKind::kU8:
      return 1;
    case FieldKind::kU16:
      return 2;
    case FieldKind::kU32:
      return 4;
    default:
      return 8;
  }
}

uint64_t width_bits(FieldKind kind) {
  const uint32_t width = scalar_width(kind);
  return width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1;
}

StateBuffer read_buffer(const uint8_t* base, const StateField& field) {
  StateBuffer buffer;
  std::memcpy(&buffer, base + field.offset, sizeof buffer);
  return buffer;
}

std::string element_name(const std::string& path, const StateField& field, uint32_t index) {
  std::string name = path + field.name;
  if (field.count != 1) name += "[" + std::to_string(index) + "]";
  return name;
}

bool printable_name(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  size_t length = 0;
  for (const char* c = name; *c != '\0'; ++c, ++length) {
    if (*c < 0x21 || *c > 0x7E) return false;
  }
  return length <= kMaxStateNameLength;
}

// ---- Saving

void save_fields(const StateDescription& description, const uint8_t* base, StreamWriter& writer) {
  for (const StateField& field : description.fields) {
    switch (field.kind) {
      case FieldKind::kBytes:
        writer.put_bytes(std::span<const uint8_t>(base + field.offset, field.count));
        break;
      case FieldKind::kBuffer: {
        const StateBuffer buffer = read_buffer(base, field);
        if (buffer.size > kMaxStateBufferBytes) {
          writer.fail(Error(std::string(description.name) + "." + field.name + ": buffer of " +
                            std::to_string(buffer.size) + " bytes is above the limit"));
          return;
        }
        writer.put_u64(buffer.size);
        writer.put_bytes(std::span<const uint8_t>(buffer.data, buffer.size));
        break;
      }
      case FieldKind::kStruct:
        writer.put_u16(field.nested->version);
        for (uint32_t i = 0; i < field.count; ++i) {
          save_fields(*field.nested, base + field.offset + size_t{i} * field.element_size, writer);
        }
        break;
      default: {
        const uint32_t width = scalar_width(field.kind);
        for (uint32_t i = 0; i < field.count; ++i) {
          const uint64_t value = state_field_get(field, base, i);
          switch (width) {
            case 1:
              writer.put_u8(static_cast<uint8_t>(value));
              break;
            case 2:
              writer.put_u16(static_cast<uint16_t>(value));
              break;
            case 4:
              writer.put_u32(static_cast<uint32_t>(value));
              break;
            default:
              writer.put_u64(value);
              break;
          }
        }
        break;
      }
    }
  }
}

uint64_t fields_bound(const StateDescription& description, const uint8_t* base) {
  uint64_t total = 0;
  for (const StateField& field : description.fields) {
    switch (field.kind) {
      case FieldKind::kBytes:
        total += field.count;
        break;
      case FieldKind::kBuffer:
        total += 8 + read_buffer(base, field).size;
        break;
      case FieldKind::kStruct:
        total += 2;
        for (uint32_t i = 0; i < field.count; ++i) {
          total +=
              fields_bound(*field.nested, base + field.offset + size_t{i} * field.element_size);
        }
        break;
      default:
        total += uint64_t{field.count} * scalar_width(field.kind);
        break;
    }
  }
  return total;
}

// ---- Loading

/// Decodes the fields of `description` present at `version` into `base`.
/// Errors name the field by its path.
Error load_fields(const StateDescription& description, uint8_t* base, uint16_t version,
                  StreamReader& reader, const std::string& path) {
  for (const StateField& field : description.fields) {
    if (field.version_added > version) continue;  // not in this version: keeps its value
    switch (field.kind) {
      case FieldKind::kBytes:
        reader.get_bytes(std::span<uint8_t>(base + field.offset, field.count));
        break;
      case FieldKind::kBuffer: {
        const StateBuffer buffer = read_buffer(base, field);
        const uint64_t size = reader.get_u64();
        if (reader.ok() && size != buffer.size) {
          return Error(path + field.name + ": buffer of " + std::to_string(size) +
                       " bytes in the stream, " + std::to_string(buffer.size) + " here");
        }
        reader.get_bytes(std::span<uint8_t>(buffer.data, buffer.size));
        break;
      }
      case FieldKind::kStruct: {
        const uint16_t nested_version = reader.get_u16();
        if (!reader.ok()) break;
        if (Error error = check_state_version(*field.nested, nested_version, path + field.name);
            !error.ok()) {
          return error;
        }
        for (uint32_t i = 0; i < field.count && reader.ok(); ++i) {
          const std::string element = element_name(path, field, i) + ".";
          if (Error error =
                  load_fields(*field.nested, base + field.offset + size_t{i} * field.element_size,
                              nested_version, reader, element);
              !error.ok()) {
            return error;
          }
        }
        break;
      }
      default: {
        const uint32_t width = scalar_width(field.kind);
        for (uint32_t i = 0; i < field.count; ++i) {
          uint64_t value;
          switch (width) {
            case 1:
              value = reader.get_u8();
              break;
            case 2:
              value = reader.get_u16();
              break;
            case 4:
              value = reader.get_u32();
              break;
            default:
              value = reader.get_u64();
              break;
          }
          if (!reader.ok()) break;
          if ((value & ~field.valid_mask & width_bits(field.kind)) != 0) {
            char text[96];
            std::snprintf(text, sizeof text, ": value 0x%" PRIx64 " has bits outside 0x%" PRIx64,
                          value, field.valid_mask & width_bits(field.kind));
            return Error(element_name(path, field, i) + text);
          }
          if (Error error = state_field_set(field, base, value & width_bits(field.kind), i);
              !error.ok()) {
            return error.with_context(element_name(path, field, i));
          }
        }
        break;
      }
    }
    if (!reader.ok()) return reader.error().with_context(path + field.name);
  }
  return Error();
}

/// Runs one description's post_load (a missing one refuses the load).
Error run_post_load(const StateDescription& description, void* object) {
  if (description.post_load == nullptr) {
    return Error(std::string(description.name) + " has no post_load: refusing to load it");
  }
  return description.post_load(object);
}

/// Runs the post_load of every nested description below `description`
/// (element by element, innermost first).
Error run_nested_post_loads(const StateDescription& description, uint8_t* base,
                            const std::string& path) {
  for (const StateField& field : description.fields) {
    if (field.kind != FieldKind::kStruct) continue;
    for (uint32_t i = 0; i < field.count; ++i) {
      uint8_t* element = base + field.offset + size_t{i} * field.element_size;
      const std::string name = element_name(path, field, i);
      if (Error error = run_nested_post_loads(*field.nested, element, name + "."); !error.ok()) {
        return error;
      }
      if (Error error = run_post_load(*field.nested, element); !error.ok()) {
        return error.with_context(name);
      }
    }
  }
  return Error();
}

void collect_buffers(const StateDescription& description, size_t base, std::vector<size_t>& out) {
  for (const StateField& field : description.fields) {
    if (field.kind == FieldKind::kBuffer) {
      out.push_back(base + field.offset);
    } else if (field.kind == FieldKind::kStruct) {
      for (uint32_t i = 0; i < field.count; ++i) {
        collect_buffers(*field.nested, base + field.offset + size_t{i} * field.element_size, out);
      }
    }
  }
  for (const StateSubsection& subsection : description.subsections) {
    collect_buffers(*subsection.description, base, out);
  }
}

// ---- Checking descriptions

Error check_fields(const StateDescription& description, uint16_t top_version,
                   std::set<std::string>& names) {
  const std::string table = description.name != nullptr ? description.name : "(unnamed)";
  for (const StateField& field : description.fields) {
    if (field.name == nullptr || *field.name == '\0') {
      return Error(table + ": a field has no name");
    }
    if (!names.insert(field.name).second) {
      return Error(table + "." + field.name + ": name used twice");
    }
    if (field.version_added < 1 || field.version_added > top_version) {
      return Error(table + "." + field.name + ": added in version " +
                   std::to_string(field.version_added) + ", outside 1.." +
                   std::to_string(top_version));
    }
    if (field.count == 0 && field.kind != FieldKind::kBuffer) {
      return Error(table + "." + field.name + ": empty array");
    }
    if (field.is_scalar() && field.element_size != scalar_width(field.kind)) {
      return Error(table + "." + field.name + ": element size differs from its kind");
    }
    if (field.kind == FieldKind::kStruct) {
      if (field.nested == nullptr) return Error(table + "." + field.name + ": no description");
      if (!field.nested->subsections.empty()) {
        return Error(table + "." + field.name + ": a nested description cannot have subsections");
      }
      std::set<std::string> nested_names;
      if (Error error = check_fields(*field.nested, field.nested->version, nested_names);
          !error.ok()) {
        return error;
      }
      if (field.nested->post_load == nullptr) {
        return Error(std::string(field.nested->name) + ": no post_load");
      }
      if (field.nested->minimum_version < 1 ||
          field.nested->minimum_version > field.nested->version) {
        return Error(std::string(field.nested->name) + ": minimum_version above version");
      }
    }
  }
  return Error();
}

}  // namespace

void save_state_body(const StateDescription& description, const void* object,
                     StreamWriter& writer) {
  const auto* base = static_cast<const uint8_t*>(object);
  save_fields(description, base, writer);
  for (const StateSubsection& subsection : description.subsections) {
    if (!subsection.needed(object)) continue;
    writer.put_u8(1);
    writer.put_short_string(subsection.description->name, kMaxStateNameLength);
    writer.put_u16(subsection.description->version);
    const size_t length_at = writer.size();
    writer.put_u32(0);
    save_fields(*subsection.description, base, writer);
    const size_t length = writer.size() - length_at - 4;
    if (length > UINT32_MAX) {
      writer.fail(Error(std::string(description.name) + ": subsection too large"));
    }
    writer.patch_u32(length_at, static_cast<uint32_t>(length));
  }
  writer.put_u8(0);
}

uint64_t state_body_bound(const StateDescription& description, const void* object) {
  const auto* base = static_cast<const uint8_t*>(object);
  uint64_t total = fields_bound(description, base) + 1;
  for (const StateSubsection& subsection : description.subsections) {
    total += 1 + 1 + std::strlen(subsection.description->name) + 2 + 4 +
             fields_bound(*subsection.description, base);
  }
  return total;
}

Error check_state_version(const StateDescription& description, uint16_t version,
                          const std::string& label) {
  if (version > description.version) {
    return Error(label + ": version " + std::to_string(version) +
                 " is newer than this build supports (" + std::to_string(description.version) +
                 ")");
  }
  if (version < description.minimum_version) {
    return Error(label + ": version " + std::to_string(version) +
                 " is older than the oldest this build loads (" +
                 std::to_string(description.minimum_version) + ")");
  }
  return Error();
}

Error check_state_description(const StateDescription& description) {
  if (!printable_name(description.name)) {
    return Error("a state description has no usable name (printable, at most 63 bytes)");
  }
  const std::string name = description.name;
  if (description.object_size == 0) return Error(name + ": no object size");
  if (description.post_load == nullptr) return Error(name + ": no post_load");
  if (description.minimum_version < 1 || description.minimum_version > description.version) {
    return Error(name + ": minimum_version " + std::to_string(description.minimum_version) +
                 " outside 1.." + std::to_string(description.version));
  }
  std::set<std::string> field_names;
  if (Error error = check_fields(description, description.version, field_names); !error.ok()) {
    return error;
  }
  std::set<std::string> subsection_names;
  for (const StateSubsection& subsection : description.subsections) {
    const StateDescription* sub = subsection.description;
    if (sub == nullptr || subsection.needed == nullptr) {
      return Error(name + ": a subsection lacks its description or needed()");
    }
    if (!printable_name(sub->name) || !subsection_names.insert(sub->name).second) {
      return Error(name + ": subsection names must be printable and unique");
    }
    if (!sub->subsections.empty()) {
      return Error(name + "/" + sub->name + ": subsections cannot have subsections");
    }
    if (sub->post_load == nullptr) return Error(name + "/" + sub->name + ": no post_load");
    if (sub->object_size != description.object_size) {
      return Error(name + "/" + sub->name + ": describes a struct of another size");
    }
    if (sub->minimum_version < 1 || sub->minimum_version > sub->version) {
      return Error(name + "/" + sub->name + ": minimum_version above version");
    }
    if (Error error = check_fields(*sub, sub->version, field_names); !error.ok()) {
      return error;
    }
  }
  return state_check_coverage(description);
}

// ---- StagedState

StagedState::StagedState(const StateDescription& description, void* live)
    : description_(&description), live_(live) {
  const size_t words =
      (description.object_size + sizeof(std::max_align_t) - 1) / sizeof(std::max_align_t);
  storage_.resize(words == 0 ? 1 : words);
  std::memcpy(storage_.data(), live, description.object_size);
  std::vector<size_t> offsets;
  collect_buffers(description, 0, offsets);
  auto* scratch = reinterpret_cast<uint8_t*>(storage_.data());
  for (size_t offset : offsets) {
    StateBuffer buffer;
    std::memcpy(&buffer, scratch + offset, sizeof buffer);
    Buffer copy{offset, std::vector<uint8_t>(buffer.data, buffer.data + buffer.size)};
    buffer.data = copy.contents.data();
    std::memcpy(scratch + offset, &buffer, sizeof buffer);
    buffers_.push_back(std::move(copy));
  }
}

Error StagedState::load(uint16_t version, StreamReader& reader, const std::string& label) {
  auto* scratch = reinterpret_cast<uint8_t*>(storage_.data());
  const StateDescription& description = *description_;
  if (Error error = load_fields(description, scratch, version, reader, ""); !error.ok()) {
    return error.with_context(label);
  }
  // Subsections: any order, each at most once, ended by a 0 byte. Every
  // iteration consumes bytes and a repeated name is refused, so the loop
  // ends after at most (subsections + 1) records.
  std::vector<bool> seen(description.subsections.size(), false);
  while (true) {
    const uint8_t marker = reader.get_u8();
    if (!reader.ok()) return reader.error().with_context(label + ": subsections");
    if (marker == 0) break;
    if (marker != 1) {
      return Error(label + ": bad subsection marker " + std::to_string(marker) + " at offset " +
                   std::to_string(reader.position() - 1));
    }
    const std::string name = reader.get_short_string("subsection name", kMaxStateNameLength);
    const uint16_t sub_version = reader.get_u16();
    const uint32_t length = reader.get_u32();
    if (!reader.ok()) return reader.error().with_context(label + ": subsection header");
    size_t index = 0;
    while (index < description.subsections.size() &&
           name != description.subsections[index].description->name) {
      ++index;
    }
    if (index == description.subsections.size()) {
      std::string shown;
      for (char c : name) shown += (c >= 0x20 && c < 0x7F) ? c : '?';
      return Error(label + ": unknown subsection '" + shown + "'");
    }
    if (seen[index]) return Error(label + ": subsection '" + name + "' appears twice");
    seen[index] = true;
    const StateDescription& sub = *description.subsections[index].description;
    if (Error error = check_state_version(sub, sub_version, label + "/" + name); !error.ok()) {
      return error;
    }
    StreamReader body = reader.sub_reader(length);
    if (!reader.ok()) return reader.error().with_context(label + "/" + name);
    if (Error error = load_fields(sub, scratch, sub_version, body, ""); !error.ok()) {
      return error.with_context(label + "/" + name);
    }
    if (!body.at_end()) {
      return Error(label + "/" + name + ": " + std::to_string(body.remaining()) +
                   " bytes left over after its fields");
    }
  }
  if (!reader.at_end()) {
    return Error(label + ": " + std::to_string(reader.remaining()) +
                 " bytes left over after its fields");
  }
  // Validation: nested elements first, then the subsections' rules, then
  // the description's own (which sees the whole candidate).
  if (Error error = run_nested_post_loads(description, scratch, ""); !error.ok()) {
    return error.with_context(label);
  }
  for (const StateSubsection& subsection : description.subsections) {
    if (Error error = run_nested_post_loads(*subsection.description, scratch, ""); !error.ok()) {
      return error.with_context(label);
    }
    if (Error error = run_post_load(*subsection.description, scratch); !error.ok()) {
      return error.with_context(label + "/" + subsection.description->name);
    }
  }
  if (Error error = run_post_load(description, scratch); !error.ok()) {
    return error.with_context(label);
  }
  return Error();
}

void StagedState::commit() {
  auto* live = static_cast<uint8_t*>(live_);
  const auto* scratch = reinterpret_cast<const uint8_t*>(storage_.data());
  std::vector<StateBuffer> live_buffers;
  for (const Buffer& buffer : buffers_) {
    StateBuffer target;
    std::memcpy(&target, live + buffer.offset, sizeof target);
    // The sizes were equal when the copy was made and the loader refuses
    // any other size; copy the smaller one all the same.
    const size_t bytes = std::min<size_t>(target.size, buffer.contents.size());
    if (bytes > 0) std::memcpy(target.data, buffer.contents.data(), bytes);
    live_buffers.push_back(target);
  }
  std::memcpy(live, scratch, description_->object_size);
  for (size_t i = 0; i < buffers_.size(); ++i) {
    std::memcpy(live + buffers_[i].offset, &live_buffers[i], sizeof(StateBuffer));
  }
}

// ---- One object

Expected<std::vector<uint8_t>> save_state_object(const StateDescription& description,
                                                 const void* object) {
  StreamWriter writer;
  writer.put_u16(description.version);
  save_state_body(description, object, writer);
  if (!writer.ok()) return writer.error();
  return writer.take();
}

Error load_state_object(const StateDescription& description, void* object,
                        std::span<const uint8_t> bytes) {
  StreamReader reader(bytes);
  const uint16_t version = reader.get_u16();
  if (!reader.ok()) return reader.error().with_context(description.name);
  if (Error error = check_state_version(description, version, description.name); !error.ok()) {
    return error;
  }
  if (bytes.size() - 2 > state_body_bound(description, object)) {
    return Error(std::string(description.name) + ": " + std::to_string(bytes.size() - 2) +
                 " bytes, more than its description can hold");
  }
  StagedState staged(description, object);
  if (Error error = staged.load(version, reader, description.name); !error.ok()) return error;
  staged.commit();
  return Error();
}

}  // namespace cr16::migration
