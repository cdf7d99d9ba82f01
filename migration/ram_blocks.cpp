#include "migration/ram_blocks.h"

#include <cstring>

namespace cr16::migration {

std::vector<RamBlock> ram_blocks(const AddressSpace& space) {
  std::vector<RamBlock> blocks;
  for (const RegionInfo& region : space.regions()) {
    if (region.host == nullptr) continue;
    RamBlock block;
    block.name = region.name;
    block.base = region.base;
    block.size = region.size;
    block.host = region.host;
    block.read_only = region.kind != RegionKind::kRam;
    blocks.push_back(std::move(block));
  }
  return blocks;
}

const RamBlock* find_ram_block(std::span<const RamBlock> blocks, std::string_view name) {
  for (const RamBlock& block : blocks) {
    if (block.name == name) return &block;
  }
  return nullptr;
}

bool page_is_zero(const uint8_t* page) {
  // Word at a time: the common case (a zero page) reads the whole page.
  uint64_t any = 0;
  for (size_t i = 0; i < kPageSize; i += sizeof(uint64_t)) {
    uint64_t word;
    std::memcpy(&word, page + i, sizeof word);
    any |= word;
  }
  return any == 0;
}

Error load_page(AddressSpace& space, const RamBlock& block, uint32_t index,
                std::span<const uint8_t> bytes) {
  if (index >= block.page_count()) {
    return Error("block '" + block.name + "': page " + std::to_string(index) +
                 " is past its end (" + std::to_string(block.page_count()) + " pages)");
  }
  if (!bytes.empty() && bytes.size() != kPageSize) {
    return Error("block '" + block.name + "': page " + std::to_string(index) + " has " +
                 std::to_string(bytes.size()) + " bytes, not " + std::to_string(kPageSize));
  }
  uint8_t* page = block.page(index);
  if (bytes.empty()) {
    std::memset(page, 0, kPageSize);
  } else {
    std::memcpy(page, bytes.data(), kPageSize);
  }
  space.note_host_write(block.base + index * kPageSize, kPageSize);
  return Error();
}

}  // namespace cr16::migration
