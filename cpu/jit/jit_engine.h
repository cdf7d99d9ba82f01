// The JIT: the second ExecutionEngine. Guest blocks are predecoded as the
// interpreter does (block_cache.h Ops) and translated to x86-64 code in an
// executable code cache (written with xbyak). This first strategy emits, for
// each guest instruction, a call into the interpreter's handler for that
// instruction with its predecoded Op baked in, so the semantics are exactly
// the interpreter's; native translation of instruction groups replaces the
// calls group by group. See docs/jit.md. x86-64 hosts only (CR16_HAVE_JIT).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "cpu/block_cache.h"
#include "cpu/interpreter.h"

namespace cr16::jit {

class CodeEmitter;

/// What the translations read and write besides the CPU state: run()'s
/// budget, the chain budget and whether a handler ran (r15 points here).
struct ChainContext {
  uint64_t until = 0;        // icount at which run() must stop
  uint32_t chain_left = 0;   // translations that may still be entered directly
  uint8_t handler_ran = 0;   // a handler with side effects ran since the last check
  uint8_t handler_left = 0;  // a handler left its block (set the PC itself)
};

/// One slot of the dispatch table: the translation entered directly (from
/// another one) for guest PC `pc`; pc = kNoPc when empty. Direct-mapped by
/// (pc >> 1), it serves direct exits and indirect jumps alike.
struct DispatchEntry {
  static constexpr uint64_t kNoPc = ~uint64_t{0};
  uint64_t pc = kNoPc;
  const void* code = nullptr;
};

/// Runs guest code through translations. Derives from Interpreter for the
/// handlers' context (Interpreter::of) and its single-step path (trace mode,
/// breakpoints, budget tails). Machine thread only.
class JitEngine final : public Interpreter {
 public:
  /// Default host code cache size.
  static constexpr size_t kDefaultCodeCacheBytes = size_t{16} << 20;
  /// Guest instructions per translated block, at most.
  static constexpr unsigned kMaxBlockInstructions = 64;

  /// A JIT for `cpu` with a code cache of `code_cache_bytes` (at least 64 KiB
  /// is sensible; tests use small ones to exercise flushes).
  explicit JitEngine(Cpu& cpu, size_t code_cache_bytes = kDefaultCodeCacheBytes);
  ~JitEngine() override;

  // ExecutionEngine
  void run(uint64_t until) override;
  void invalidate_page(uint32_t page_index) override;
  void flush() override;
  EngineStatistics statistics() const override;
  const char* name() const override { return "jit"; }

 private:
  /// The translated block starting at pc, translating it when needed;
  /// nullptr when its first instruction cannot be fetched (IAD was taken)
  /// or, with emit_failed_ set, when host code could not be emitted.
  Block* translation_at(uint32_t pc);
  Block* translate_block(uint32_t pc);
  /// Drops every translation and the host code (flush(), cache full).
  void drop_translations();
  /// -d in_asm / out_asm for a fresh translation.
  void trace_translation_jit(const Block& block, const uint8_t* code, size_t size);

  /// Slots of the dispatch table (a power of two).
  static constexpr uint32_t kDispatchSlots = 4096;
  /// Publishes `block` for direct entry from other translations (never a
  /// block at a breakpoint: run() must see it).
  void publish(const Block& block);
  /// Empties the dispatch table (invalidation, flush).
  void clear_dispatch();

  std::unique_ptr<DispatchEntry[]> dispatch_;
  ChainContext context_;
  /// Bytes from a translation's run() entry to its chained entry (the
  /// fixed-size prologue).
  size_t chain_offset_ = 0;
  std::unique_ptr<CodeEmitter> emitter_;
  /// The predecoded Ops of each translation, two per guest instruction: the
  /// instruction, then a stop Op that returns to the generated code.
  BlockCache blocks_{14, 32768, 2 * 262144, 2 * kMaxBlockInstructions};
  uint64_t code_flushes_ = 0;
  /// The last translate_block() failed to emit (not a fetch fault): run()
  /// lets the interpreter execute instead.
  bool emit_failed_ = false;
};

}  // namespace cr16::jit
