// Encoding and decoding one described object (util/state.h): the body of a
// state section. Fields go out in table order, little-endian, each at its
// own width; subsections follow, each only when its needed() says so. The
// byte layout is written down in docs/migration-format.md.
//
// Loading never touches the live object until everything was checked: a
// StagedState decodes into a scratch copy, runs the description's
// post_load on it, and only commit() copies the result into the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "migration/stream.h"
#include "util/error.h"
#include "util/state.h"

namespace cr16::migration {

/// Longest section or subsection name a stream may carry.
inline constexpr size_t kMaxStateNameLength = 63;
/// Largest external buffer (StateBuffer) a body may carry.
inline constexpr uint64_t kMaxStateBufferBytes = uint64_t{256} << 20;

/// Writes the body of `object` at `description.version`: every field in
/// table order, then each subsection whose needed(object) is true, then the
/// end-of-subsections byte. Failures (a buffer above kMaxStateBufferBytes,
/// the writer's limit) are kept in `writer`.
void save_state_body(const StateDescription& description, const void* object, StreamWriter& writer);

/// The most bytes save_state_body can write for `object` at the current
/// version with every subsection present (buffers at their current size):
/// a loader refuses a longer body before reading it.
uint64_t state_body_bound(const StateDescription& description, const void* object);

/// Refuses a `version` newer than `description.version` or older than its
/// minimum_version; the message names `label` and the versions.
Error check_state_version(const StateDescription& description, uint16_t version,
                          const std::string& label);

/// Checks what the engine relies on in a description: a name, an object
/// size, a post_load, minimum_version <= version, field versions not above
/// the description's, masks within the field width, unique field names,
/// nested descriptions of the member's size and without subsections,
/// subsections with a needed() test, and that the fields cover every byte
/// of the struct exactly once (state_check_coverage). The message names
/// the description and the field.
Error check_state_description(const StateDescription& description);

/// A scratch copy of one live described object, for two-phase loading.
/// External buffers get scratch storage too, so nothing the decoder or
/// post_load writes reaches the live object before commit().
class StagedState {
 public:
  /// Copies the live object (and the contents of its buffers).
  StagedState(const StateDescription& description, void* live);
  StagedState(StagedState&&) = default;
  StagedState& operator=(StagedState&&) = default;

  /// Decodes a body written at `version` (already checked against the
  /// description) from `reader` into the scratch copy and runs the
  /// description's post_load on it. Fields newer than `version` and absent
  /// subsections keep the live object's values. Bytes left in `reader`
  /// afterwards are an error. Errors name `label` and the field.
  Error load(uint16_t version, StreamReader& reader, const std::string& label);

  /// Copies the scratch copy into the live object: every byte of the
  /// struct except StateBuffer members (the live pointers stay), and the
  /// buffers' contents. Call only after load() succeeded.
  void commit();

  /// The scratch copy (what commit() would write), for tests.
  const void* scratch() const { return storage_.data(); }

 private:
  struct Buffer {
    size_t offset;                  // of the StateBuffer member in the struct
    std::vector<uint8_t> contents;  // scratch copy of what it points at
  };

  const StateDescription* description_;
  void* live_;
  std::vector<std::max_align_t> storage_;  // the scratch struct, suitably aligned
  std::vector<Buffer> buffers_;
};

/// One object on its own: u16 version, then the body. For tests, monitors
/// and anything that keeps one object's state outside a section stream.
Expected<std::vector<uint8_t>> save_state_object(const StateDescription& description,
                                                 const void* object);
/// Loads bytes from save_state_object into `object`, two-phase: the object
/// is changed only when the version, every field and post_load passed.
Error load_state_object(const StateDescription& description, void* object,
                        std::span<const uint8_t> bytes);

}  // namespace cr16::migration
