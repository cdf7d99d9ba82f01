// Block storage and lookup for the predecoded interpreter.
#include "cpu/block_cache.h"

#include <algorithm>
#include <span>

namespace cr16 {

BlockCache::BlockCache(unsigned lookup_bits, size_t max_blocks, size_t max_ops,
                       unsigned block_instructions)
    : lookup_mask_((1u << lookup_bits) - 1),
      max_blocks_(max_blocks),
      max_ops_(max_ops),
      block_instructions_(block_instructions),
      blocks_(zeroed_array<Block>(max_blocks)),
      ops_(zeroed_array<Op>(max_ops)),
      lookup_(zeroed_array<Block*>(size_t{1} << lookup_bits)) {}

Block* BlockCache::begin(uint32_t pc) {
  Block* block = &blocks_[block_count_];
  *block = Block{};
  block->pc = pc;
  block->ops = &ops_[op_count_];
  return block;
}

void BlockCache::commit(Block* block, size_t op_total) {
  ++block_count_;
  op_count_ += op_total;
  ++translations_;
  block->valid = true;
  Block*& slot = lookup_[(block->pc >> 1) & lookup_mask_];
  if (slot) slot->valid = false;  // displaced: unreachable until retranslated
  slot = block;
}

void BlockCache::invalidate_page(uint32_t page) {
  for (Block*& slot : std::span(lookup_.get(), size_t{lookup_mask_} + 1)) {
    if (slot && (slot->first_page == page || slot->last_page == page)) {
      slot->valid = false;
      slot = nullptr;
      ++invalidations_;
    }
  }
}

void BlockCache::flush() {
  std::fill_n(lookup_.get(), size_t{lookup_mask_} + 1, nullptr);
  for (size_t i = 0; i < block_count_; ++i) blocks_[i].valid = false;
  block_count_ = 0;
  op_count_ = 0;
  ++flushes_;
}

}  // namespace cr16
