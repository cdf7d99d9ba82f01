// Block storage and lookup for the predecoded interpreter.
#include "cpu/block_cache.h"

namespace cr16 {

BlockCache::BlockCache()
    : blocks_(new Block[kMaxBlocks]), ops_(new Op[kMaxOps]), lookup_(1u << kLookupBits, nullptr) {}

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
  Block*& slot = lookup_[(block->pc >> 1) & kLookupMask];
  if (slot) slot->valid = false;  // displaced: unreachable until retranslated
  slot = block;
}

void BlockCache::invalidate_page(uint32_t page) {
  for (Block*& slot : lookup_) {
    if (slot && (slot->first_page == page || slot->last_page == page)) {
      slot->valid = false;
      slot = nullptr;
      ++invalidations_;
    }
  }
}

void BlockCache::flush() {
  for (Block*& slot : lookup_) slot = nullptr;
  block_count_ = 0;
  op_count_ = 0;
  ++flushes_;
}

}  // namespace cr16
