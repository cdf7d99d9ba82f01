// The guest memory a machine saves and restores: every region of its
// address space that has host memory — RAM, and the contents of ROM and
// ROM-device regions such as the flash array — as blocks of 4 KiB pages.
// Live migration streams them page by page under the dirty log; snapshots
// store them by content. Both load pages through load_page(), which checks
// every index and never writes outside the block.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hw/address_space.h"
#include "util/error.h"

namespace cr16::migration {

/// One block of guest memory.
struct RamBlock {
  std::string name;         // the region's name ("ram", "flash"); unique in a machine
  uint32_t base = 0;        // guest address of the first byte
  uint32_t size = 0;        // bytes, a multiple of kPageSize
  uint8_t* host = nullptr;  // the region's host memory (owned by the address space)
  bool read_only = false;   // ROM or ROM device: the guest cannot store to it directly

  uint32_t page_count() const { return size / kPageSize; }
  /// Host bytes of page `index` (index < page_count()).
  uint8_t* page(uint32_t index) const { return host + size_t{index} * kPageSize; }
};

/// The blocks of `space` in mapping order (regions with host memory only;
/// MMIO has no contents to save).
std::vector<RamBlock> ram_blocks(const AddressSpace& space);

/// The block named `name`, or nullptr.
const RamBlock* find_ram_block(std::span<const RamBlock> blocks, std::string_view name);

/// True when the 4 KiB at `page` are all zero (a zero page costs a few
/// bytes in a stream and nothing in a snapshot).
bool page_is_zero(const uint8_t* page);

/// Writes page `index` of `block` with `bytes` (kPageSize of them), or with
/// zeros when `bytes` is empty, the way a loader does: the dirty log and the
/// CPU's code-page tracking hear about it. Errors name the block and the
/// page when the index is out of range or `bytes` has the wrong size;
/// nothing is written then.
Error load_page(AddressSpace& space, const RamBlock& block, uint32_t index,
                std::span<const uint8_t> bytes);

}  // namespace cr16::migration
