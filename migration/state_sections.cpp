#include "migration/state_sections.h"

#include <cstdio>
#include <optional>

namespace cr16::migration {
namespace {

bool usable_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxStateNameLength) return false;
  for (char c : name) {
    if (c < 0x21 || c > 0x7E) return false;
  }
  return true;
}

/// `name` for a message, with unprintable bytes shown as '?'.
std::string shown(const std::string& name) {
  std::string text;
  for (char c : name) text += (c >= 0x20 && c < 0x7F) ? c : '?';
  return text;
}

}  // namespace

Error check_state_sections(std::span<const StateSection> sections) {
  std::map<std::pair<std::string, uint32_t>, bool> seen;
  for (const StateSection& section : sections) {
    if (section.object == nullptr) {
      return Error("device " + section.label() + " has no state description");
    }
    if (!usable_name(section.name)) {
      return Error("section name '" + shown(section.name) +
                   "' is empty, unprintable or longer than 63 bytes");
    }
    if (!seen.emplace(std::make_pair(section.name, section.instance_id), true).second) {
      return Error("section " + section.label() + " is listed twice");
    }
  }
  return Error();
}

void write_state_section(const StateSection& section, StreamWriter& writer) {
  const StateDescription& description = section.object->state_description();
  const void* object = section.object->state_data();
  writer.put_u8(kRecordSection);
  writer.put_short_string(section.name, kMaxStateNameLength);
  writer.put_u32(section.instance_id);
  writer.put_u16(description.version);
  const size_t length_at = writer.size();
  writer.put_u32(0);
  save_state_body(description, object, writer);
  if (!writer.ok()) return;
  const size_t length = writer.size() - length_at - 4;
  if (length > UINT32_MAX) {
    writer.fail(Error("section " + section.label() + " is larger than 4 GiB"));
    return;
  }
  writer.patch_u32(length_at, static_cast<uint32_t>(length));
}

Error save_state_sections(std::span<const StateSection> sections, StreamWriter& writer) {
  if (Error error = check_state_sections(sections); !error.ok()) return error;
  for (const StateSection& section : sections) {
    write_state_section(section, writer);
    if (!writer.ok()) return writer.error().with_context("saving section " + section.label());
  }
  writer.put_u8(kRecordEnd);
  return writer.error();
}

Expected<std::vector<uint8_t>> save_state_sections(std::span<const StateSection> sections) {
  StreamWriter writer;
  if (Error error = save_state_sections(sections, writer); !error.ok()) return error;
  return writer.take();
}

// ---- StateLoader

struct StateLoader::Entry {
  StateSection section;
  std::optional<StagedState> staged;  // set once the stream carried it
};

StateLoader::StateLoader(std::span<const StateSection> sections) {
  error_ = check_state_sections(sections);
  if (!error_.ok()) return;
  entries_.reserve(sections.size());
  for (const StateSection& section : sections) {
    index_.emplace(std::make_pair(section.name, section.instance_id), entries_.size());
    entries_.push_back(Entry{section, std::nullopt});
  }
}

StateLoader::~StateLoader() = default;

Error StateLoader::fail(Error error) {
  if (error_.ok()) error_ = std::move(error);
  return error_;
}

Error StateLoader::read(StreamReader& reader) {
  if (!error_.ok()) return error_;
  // Each pass consumes at least one byte and a section may come only once,
  // so the loop ends with the stream or after (sections + 1) records.
  while (true) {
    const size_t at = reader.position();
    const uint8_t type = reader.get_u8();
    if (!reader.ok()) return fail(Error("state stream ends before its end record"));
    if (type == kRecordEnd) return Error();
    if (type != kRecordSection) {
      char text[96];
      std::snprintf(text, sizeof text, "unknown record type 0x%02x at offset %zu", type, at);
      return fail(Error(text));
    }
    if (Error error = read_section(reader); !error.ok()) return error;
  }
}

Error StateLoader::read_section(StreamReader& reader) {
  if (!error_.ok()) return error_;
  if (finished_) return fail(Error("a section record after the state was finished"));
  const size_t at = reader.position();
  const std::string name = reader.get_short_string("section name", kMaxStateNameLength);
  const uint32_t instance_id = reader.get_u32();
  const uint16_t version = reader.get_u16();
  const uint32_t length = reader.get_u32();
  if (!reader.ok()) {
    return fail(reader.error().with_context("section header at offset " + std::to_string(at)));
  }
  const std::string label = "section " + shown(name) + "." + std::to_string(instance_id);
  if (!usable_name(name)) {
    return fail(Error(label + " at offset " + std::to_string(at) + ": unusable name"));
  }
  auto found = index_.find(std::make_pair(name, instance_id));
  if (found == index_.end()) return fail(Error(label + " is not part of this machine"));
  Entry& entry = entries_[found->second];
  if (entry.staged.has_value()) return fail(Error(label + " appears twice"));
  const StateDescription& description = entry.section.object->state_description();
  if (Error error = check_state_version(description, version, label); !error.ok()) {
    return fail(error);
  }
  void* live = entry.section.object->state_data();
  const uint64_t bound = state_body_bound(description, live);
  if (length > bound) {
    return fail(Error(label + " is " + std::to_string(length) +
                      " bytes; its description holds at most " + std::to_string(bound)));
  }
  StreamReader body = reader.sub_reader(length);
  if (!reader.ok()) return fail(reader.error().with_context(label));
  StagedState staged(description, live);
  if (Error error = staged.load(version, body, label); !error.ok()) return fail(error);
  entry.staged.emplace(std::move(staged));
  return Error();
}

Error StateLoader::finish() {
  if (!error_.ok()) return error_;
  std::string missing;
  for (const Entry& entry : entries_) {
    if (entry.staged.has_value()) continue;
    missing += (missing.empty() ? "" : ", ") + entry.section.label();
  }
  if (!missing.empty()) return fail(Error("missing from the state stream: section " + missing));
  finished_ = true;
  return Error();
}

bool StateLoader::commit() {
  if (!error_.ok() || !finished_) return false;
  for (Entry& entry : entries_) entry.staged->commit();
  for (Entry& entry : entries_) entry.section.object->state_loaded();
  entries_.clear();  // a second commit finds nothing to do
  return true;
}

Error load_state_sections(std::span<const StateSection> sections, std::span<const uint8_t> bytes) {
  StateLoader loader(sections);
  StreamReader reader(bytes);
  if (Error error = loader.read(reader); !error.ok()) return error;
  if (!reader.at_end()) {
    return Error("state stream: " + std::to_string(reader.remaining()) +
                 " bytes after the end record");
  }
  if (Error error = loader.finish(); !error.ok()) return error;
  loader.commit();
  return Error();
}

}  // namespace cr16::migration
