#include "migration/snapshot_machine.h"

#include <cstring>

namespace cr16::migration {
namespace {

std::string size_text(uint64_t bytes) {
  if (bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

Expected<SnapshotImage> capture_machine(std::span<const StateSection> sections,
                                        const AddressSpace& memory, CaptureMemory how,
                                        SnapshotArena arena) {
  SnapshotImage image;
  Expected<std::vector<uint8_t>> state = save_state_sections(sections);
  if (!state) return state.error();
  image.state = std::move(*state);
  const std::vector<RamBlock> blocks = ram_blocks(memory);
  if (how == CaptureMemory::kCopy) {
    size_t total = 0;
    for (const RamBlock& block : blocks) total += block.size;
    if (!arena) arena = std::make_shared<ArenaBytes>();
    arena->resize(total);
    image.storage = arena;
  }
  uint8_t* next = how == CaptureMemory::kCopy ? image.storage->data() : nullptr;
  for (const RamBlock& block : blocks) {
    if (how == CaptureMemory::kCopy) {
      std::memcpy(next, block.host, block.size);
    } else {
      next = block.host;
    }
    SnapshotBlock copy;
    copy.name = block.name;
    copy.base = block.base;
    copy.size = block.size;
    copy.read_only = block.read_only;
    for (uint32_t page = 0; page < block.page_count(); ++page) {
      copy.pages.push_back(next + size_t{page} * kPageSize);
    }
    next += block.size;
    image.blocks.push_back(std::move(copy));
  }
  return image;
}

Expected<std::unique_ptr<SnapshotRestore>> SnapshotRestore::prepare(
    std::span<const StateSection> sections, AddressSpace& memory, SnapshotImage image,
    const std::string& what) {
  std::vector<RamBlock> machine_blocks = ram_blocks(memory);
  std::vector<RamBlock> matched;
  for (const SnapshotBlock& block : image.blocks) {
    const RamBlock* mine = find_ram_block(machine_blocks, block.name);
    if (mine == nullptr) {
      return Error(what + ": memory block '" + block.name + "' is not part of this machine");
    }
    if (mine->size != block.size || block.pages.size() != mine->page_count()) {
      return Error(what + ": memory block '" + block.name + "' is " + size_text(block.size) +
                   " in the snapshot but " + size_text(mine->size) + " in this machine" +
                   (block.name == "ram" ? " (start it with the same -m)" : ""));
    }
    if (mine->base != block.base) {
      return Error(what + ": memory block '" + block.name + "' is at another address here");
    }
    matched.push_back(*mine);
  }
  for (const RamBlock& mine : machine_blocks) {
    if (find_ram_block(matched, mine.name) == nullptr) {
      return Error(what + ": the snapshot has no contents for memory block '" + mine.name + "'");
    }
  }
  auto loader = std::make_unique<StateLoader>(sections);
  StreamReader reader(image.state);
  if (Error error = loader->read(reader); !error.ok()) return error.with_context(what);
  if (!reader.at_end()) {
    return Error(what + ": " + std::to_string(reader.remaining()) +
                 " bytes after the end of the state");
  }
  if (Error error = loader->finish(); !error.ok()) return error.with_context(what);
  return std::unique_ptr<SnapshotRestore>(
      new SnapshotRestore(memory, std::move(image), std::move(loader), std::move(matched)));
}

SnapshotRestore::SnapshotRestore(AddressSpace& memory, SnapshotImage image,
                                 std::unique_ptr<StateLoader> loader, std::vector<RamBlock> blocks)
    : memory_(memory),
      image_(std::move(image)),
      loader_(std::move(loader)),
      blocks_(std::move(blocks)) {}

SnapshotRestore::~SnapshotRestore() = default;

void SnapshotRestore::commit(const ChangedRange& changed) {
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const RamBlock& block = blocks_[b];
    const std::vector<const uint8_t*>& pages = image_.blocks[b].pages;
    uint32_t run_start = 0;
    uint32_t run_length = 0;
    const std::vector<bool>& current = image_.blocks[b].current;
    for (uint32_t page = 0; page < block.page_count(); ++page) {
      if (page < current.size() && current[page]) continue;  // holds the snapshot's bytes
      const uint8_t* wanted = pages[page];                   // nullptr: a zero page
      // Pages that already hold the snapshot's bytes stay untouched: their
      // predecoded code and dirty bits stay valid.
      if (wanted == nullptr ? page_is_zero(block.page(page))
                            : std::memcmp(block.page(page), wanted, kPageSize) == 0) {
        continue;
      }
      // Index and size were checked by prepare(): this cannot fail.
      (void)load_page(memory_, block, page,
                      wanted == nullptr ? std::span<const uint8_t>()
                                        : std::span<const uint8_t>(wanted, kPageSize));
      ++pages_written_;
      if (run_length > 0 && run_start + run_length == page * kPageSize) {
        run_length += kPageSize;
      } else {
        if (run_length > 0 && changed) changed(block, run_start, run_length);
        run_start = page * kPageSize;
        run_length = kPageSize;
      }
    }
    if (run_length > 0 && changed) changed(block, run_start, run_length);
  }
  loader_->commit();
}

}  // namespace cr16::migration
