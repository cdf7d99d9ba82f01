// Where a block of guest code starts and ends, the same for both engines:
// the interpreter's blocks and the JIT's translations come from one walk.
#pragma once

#include <cstdint>

#include "cpu/cpu.h"
#include "cpu/decode.h"

namespace cr16 {

/// What scan_block() walked: `count` instructions from the start up to
/// `end` (the address after the last).
struct BlockExtent {
  uint32_t count = 0;
  uint32_t end = 0;
};

/// Walks the instructions from `pc`, at most `max_instructions`, calling
/// `visit(decoded, address, index)` for each; `visit` predecodes it and
/// returns false when the block ends after it. The walk also stops: before
/// an instruction on another page than the first or at a breakpoint (a block
/// never runs past either; the first instruction may be at a breakpoint),
/// before one that cannot be fetched whole, and — while watchpoints exist —
/// after every memory-accessing instruction, so that a hit stops the CPU
/// right after it. count 0: the first instruction cannot be fetched.
template <typename Visit>
BlockExtent scan_block(Cpu& cpu, uint32_t pc, uint32_t max_instructions, Visit&& visit) {
  const bool split_memory_instructions = cpu.watchpoints_active();
  const uint32_t first_page = pc >> kPageBits;
  BlockExtent extent{0, pc};
  while (extent.count < max_instructions) {
    const uint32_t address = extent.end;
    if (extent.count > 0 && (address >> kPageBits) != first_page) break;
    if (extent.count > 0 && cpu.breakpoint_at(address)) break;
    uint16_t words[3] = {0, 0, 0};
    if (!cpu.fetch_word(address, &words[0])) break;
    const bool have_second = cpu.fetch_word(address + 2, &words[1]);
    const bool have_third = have_second && cpu.fetch_word(address + 4, &words[2]);
    const isa::Decoded decoded = isa::decode(words[0], words[1], words[2]);
    const unsigned size_words = decoded.valid() ? decoded.size_words : 1;
    if ((size_words >= 2 && !have_second) || (size_words >= 3 && !have_third)) break;
    const bool goes_on = visit(decoded, address, extent.count);
    extent.end = address + 2 * size_words;
    ++extent.count;
    if (!goes_on) break;
    if (split_memory_instructions && decoded.valid() &&
        isa::table()[decoded.entry].memory_access() != isa::MemoryAccess::kNone) {
      break;
    }
  }
  return extent;
}

}  // namespace cr16
