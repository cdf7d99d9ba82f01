// A machine to and from a SnapshotImage: capturing a stopped machine (its
// state sections, clock first, and a copy of every block of guest memory)
// and restoring one in two steps — prepare() checks everything against the
// machine without changing it (memory layout, every state section through
// the StateLoader's first phase), commit() then cannot fail. Machine
// thread only.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "hw/address_space.h"
#include "migration/ram_blocks.h"
#include "migration/snapshot_store.h"
#include "migration/state_sections.h"
#include "util/error.h"
#include "util/state.h"

namespace cr16::migration {

/// How capture_machine() takes guest memory.
enum class CaptureMemory : uint8_t {
  /// Copies every block (into the arena): the image stays valid whatever
  /// the machine does next.
  kCopy,
  /// Points at the machine's own memory: no copy, but the image is valid
  /// only while the machine lives and nothing writes to its memory (the
  /// caller checks the dirty log before the save becomes visible).
  kReference,
};

/// Captures the machine described by `sections` (the virtual clock's first,
/// then the board's) and `memory` into an image: the state stream and every
/// block of guest memory (RAM, the flash array). The caller fills in the
/// name, dates, VM clock and machine type. Errors: a section that cannot
/// be saved. kCopy copies into `arena` (resized; a new one when null).
Expected<SnapshotImage> capture_machine(std::span<const StateSection> sections,
                                        const AddressSpace& memory,
                                        CaptureMemory how = CaptureMemory::kCopy,
                                        SnapshotArena arena = nullptr);

/// A snapshot checked against a machine, ready to be applied.
class SnapshotRestore {
 public:
  /// Told about every range of a block that commit() changed.
  using ChangedRange = std::function<void(const RamBlock& block, uint32_t offset, uint32_t length)>;

  /// Checks `image` against the machine: the same memory blocks (names,
  /// bases, sizes) and state sections that all parse and validate. Nothing
  /// changes. Errors name what does not fit, prefixed with `what`.
  static Expected<std::unique_ptr<SnapshotRestore>> prepare(std::span<const StateSection> sections,
                                                            AddressSpace& memory,
                                                            SnapshotImage image,
                                                            const std::string& what);
  ~SnapshotRestore();

  /// Writes the pages that differ from the machine's (through load_page:
  /// code invalidation, dirty log), then commits every state section.
  /// Cannot fail. `changed` (may be empty) hears of each changed range.
  void commit(const ChangedRange& changed);

  /// Pages commit() wrote (after commit()).
  uint64_t pages_written() const { return pages_written_; }
  /// The snapshot being applied.
  const SnapshotImage& image() const { return image_; }

 private:
  SnapshotRestore(AddressSpace& memory, SnapshotImage image, std::unique_ptr<StateLoader> loader,
                  std::vector<RamBlock> blocks);

  AddressSpace& memory_;
  SnapshotImage image_;
  std::unique_ptr<StateLoader> loader_;
  std::vector<RamBlock> blocks_;  // the machine's block for each image block
  uint64_t pages_written_ = 0;
};

}  // namespace cr16::migration
