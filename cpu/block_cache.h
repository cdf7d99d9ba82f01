// Predecoded blocks: each guest instruction is decoded once into an Op (a
// handler pointer chosen for the instruction's exact form plus its operands,
// already extracted), grouped into straight-line blocks keyed by guest PC.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>

namespace cr16 {

class Cpu;
struct Op;

/// An instruction handler. It executes its instruction, then continues the
/// block by tail-calling the next Op's handler (threaded dispatch), so the
/// first handler of a block runs the whole block. The handler that leaves the
/// block (branch, trap, state change, or the terminator Op) sets the PC and
/// returns the last Op that retired; that return value travels back through
/// the chain of tail calls to the interpreter, which counts the block's
/// retired instructions from it (exec.h has the helpers).
using OpHandler = const Op* (*)(Cpu& cpu, const Op* op);

/// One predecoded instruction. Field meaning depends on the handler; see
/// predecode.cpp. `pc` is the instruction's own address; the terminator Op
/// that closes a block without a branch holds the fall-through address.
struct Op {
  OpHandler handler = nullptr;
  uint32_t pc = 0;
  uint8_t size = 0;  // bytes: 2, 4 or 6 (0 for the terminator)
  uint8_t a = 0, b = 0, c = 0;
  int32_t imm = 0;
  int32_t imm2 = 0;
  uint16_t entry = 0;  // instruction-table index (0xFFFF = undefined), for traces
  uint16_t words[3] = {};
};

/// A straight-line run of predecoded instructions starting at `pc`.
struct Block {
  uint32_t pc = 0;
  uint32_t end_pc = 0;      // address after the last instruction
  uint32_t first_page = 0;  // guest pages the instructions were read from
  uint32_t last_page = 0;
  uint32_t instruction_count = 0;
  Op* ops = nullptr;                // instruction_count ops, then maybe a terminator
  const void* host_code = nullptr;  // the JIT's translation (cpu/jit/); unused by the interpreter
  bool valid = false;
};

/// Owns blocks and their ops; direct-mapped lookup by PC. Memory is only
/// recycled by flush(), which the CPU calls between blocks, so a block being
/// executed is never freed under it (invalidation only unlinks).
class BlockCache {
 public:
  static constexpr unsigned kMaxBlockInstructions = 64;

  /// A cache of up to max_blocks blocks and max_ops ops in total, looked up
  /// through 2^lookup_bits direct-mapped slots; blocks hold at most
  /// block_instructions instructions (1 for the single-step cache).
  BlockCache(unsigned lookup_bits, size_t max_blocks, size_t max_ops, unsigned block_instructions);

  /// Instructions per block at most.
  unsigned block_instructions() const { return block_instructions_; }

  /// The valid block starting at pc, or nullptr.
  Block* find(uint32_t pc) const {
    Block* block = lookup_[(pc >> 1) & lookup_mask_];
    return (block && block->pc == pc) ? block : nullptr;
  }
  /// True when a new block of up to kMaxBlockInstructions may not fit.
  bool full() const {
    return block_count_ >= max_blocks_ || op_count_ + block_instructions_ + 1 > max_ops_;
  }
  /// Starts a new block; the caller fills ops (up to kMaxBlockInstructions+1)
  /// then calls commit(). Requires !full().
  Block* begin(uint32_t pc);
  /// Publishes a block whose ops [0, op_total) were written.
  void commit(Block* block, size_t op_total);
  /// Unlinks every block that was read from guest page `page`.
  void invalidate_page(uint32_t page);
  /// Drops everything (memory is reused).
  void flush();

  /// Counters for tests and statistics.
  size_t block_count() const { return block_count_; }
  uint64_t translations() const { return translations_; }
  uint64_t invalidations() const { return invalidations_; }
  uint64_t flushes() const { return flushes_; }

 private:
  struct FreeDeleter {
    void operator()(void* memory) const { std::free(memory); }
  };
  /// Zero-filled storage from calloc: large arrays come as untouched zero
  /// pages, so a cache costs memory only as it fills (a CPU starts in
  /// microseconds instead of writing ~9 MB of default Ops and Blocks).
  /// Op and Block are aggregates whose defaults are all zero; a null
  /// pointer is all zero bits on every host we build for.
  template <typename T>
  using ZeroedArray = std::unique_ptr<T[], FreeDeleter>;
  template <typename T>
  static ZeroedArray<T> zeroed_array(size_t count) {
    static_assert(std::is_trivially_copyable_v<T> &&
                  (std::is_aggregate_v<T> || std::is_pointer_v<T>));
    void* memory = std::calloc(count, sizeof(T));
    if (memory == nullptr) throw std::bad_alloc();
    return ZeroedArray<T>(static_cast<T*>(memory));
  }

  uint32_t lookup_mask_;
  size_t max_blocks_;
  size_t max_ops_;
  unsigned block_instructions_;
  ZeroedArray<Block> blocks_;
  ZeroedArray<Op> ops_;
  ZeroedArray<Block*> lookup_;
  size_t block_count_ = 0;
  size_t op_count_ = 0;
  uint64_t translations_ = 0;
  uint64_t invalidations_ = 0;
  uint64_t flushes_ = 0;
};

}  // namespace cr16
