// Machine state as a list of sections keyed by (name, instance id): saving
// every section of a machine, and loading them back in two phases so that
// a hostile or damaged stream never changes a live object. The record
// layout is in docs/migration-format.md.
//
//   std::vector<StateSection> sections = {{"icu", 0, &icu}, {"uart", 0, &uart0},
//                                         {"uart", 1, &uart1}};
//   Expected<std::vector<uint8_t>> bytes = migration::save_state_sections(sections);
//   ...
//   if (Error error = migration::load_state_sections(sections, *bytes); !error.ok()) ...
//
// A stream that mixes state sections with other records (RAM pages, issue
// 10) drives a StateLoader itself: read_section() for each section record,
// then finish(), then commit() once everything else in the stream checked
// out too.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "migration/state_codec.h"
#include "migration/stream.h"
#include "util/error.h"
#include "util/state.h"

namespace cr16::migration {

/// Record types of a state stream (one byte before each record).
inline constexpr uint8_t kRecordEnd = 0x00;
inline constexpr uint8_t kRecordSection = 0x01;

/// Writes one section record (type, name, instance id, version, length,
/// body) for `section` at its description's current version.
void write_state_section(const StateSection& section, StreamWriter& writer);

/// Writes a record for every section, in list order, then the end record.
/// Errors: a section without an object, two sections with one (name,
/// instance id), a name that is empty, unprintable or longer than 63 bytes.
/// Every section has an object with a state description (a device without
/// one blocks migration and savevm, named in the error), a usable name, and
/// appears once.
Error check_state_sections(std::span<const StateSection> sections);

Error save_state_sections(std::span<const StateSection> sections, StreamWriter& writer);
/// The same into a new byte vector.
Expected<std::vector<uint8_t>> save_state_sections(std::span<const StateSection> sections);

/// Loads section records into the objects of a machine, two-phase.
///
/// Phase 1 (read, read_section, finish): each section record is matched to
/// the machine's section with the same (name, instance id), its version is
/// checked, its body is decoded into a scratch copy of the object and the
/// description's post_load validates that copy. Unknown, duplicate,
/// truncated, oversized (longer than its description can hold or than the
/// stream) and, at finish(), missing sections are refused with an error
/// naming the section. Nothing live changes in this phase.
///
/// Phase 2 (commit): every scratch copy is written into its object, then
/// state_loaded() is called on each object in the order of the machine's
/// list. It cannot fail.
///
/// Machine thread only; the objects must outlive the loader.
class StateLoader {
 public:
  /// `sections` is the machine's list (the board's state_sections()).
  explicit StateLoader(std::span<const StateSection> sections);
  ~StateLoader();

  /// Reads records from `reader` until the end record: section records go
  /// to read_section(); any other record type is an error. The first error
  /// stops the load (later calls return it again).
  Error read(StreamReader& reader);
  /// Reads one section record whose type byte was already consumed.
  Error read_section(StreamReader& reader);
  /// After the last record: every section of the machine must have come.
  Error finish();
  /// Writes every staged section into its object and calls state_loaded()
  /// in list order. Only after finish() returned ok(); otherwise does
  /// nothing (and returns false).
  bool commit();

 private:
  struct Entry;
  Error fail(Error error);

  std::vector<Entry> entries_;
  std::map<std::pair<std::string, uint32_t>, size_t> index_;
  Error error_;
  bool finished_ = false;
};

/// Loads a stream written by save_state_sections into `sections`: every
/// section must be present exactly once, nothing may follow the end
/// record, and the objects change only when the whole stream passed.
Error load_state_sections(std::span<const StateSection> sections, std::span<const uint8_t> bytes);

}  // namespace cr16::migration
