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
#include <unordered_map>
#include <vector>

#include "cpu/block_cache.h"
#include "cpu/decode.h"
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
  /// Times a block runs in the interpreter before it is translated (code
  /// that runs once, such as a firmware's start-up, is never translated).
  /// The environment variable CR16_JIT_TRANSLATE_AFTER overrides it (0:
  /// translate every block before its first run, as the lock-step tests do).
  static constexpr unsigned kDefaultTranslateAfter = 16;
  /// kDefaultTranslateAfter, or CR16_JIT_TRANSLATE_AFTER when set (0..255).
  static unsigned default_translate_after();

  /// A JIT for `cpu` with a code cache of `code_cache_bytes` (at least 64 KiB
  /// is sensible; tests use small ones to exercise flushes) translating a
  /// block once it ran `translate_after` times in the interpreter.
  explicit JitEngine(Cpu& cpu, size_t code_cache_bytes = kDefaultCodeCacheBytes,
                     unsigned translate_after = default_translate_after());
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
  /// Bcond (not br; exec::is_conditional_branch) or beq0/bne0: natively
  /// translated, with a side exit when inside a block.
  static bool is_conditional_branch(const isa::Decoded& decoded, const Op& op);
  /// The target of a PC-relative branch's Op.
  static uint32_t branch_target(const Op& op);
  /// Drops every translation and the host code (flush(), cache full).
  void drop_translations();
  /// Runs the block at the PC (not translated, run fewer than
  /// translate_after_ times) in the interpreter and counts the run; no
  /// chaining: the core's loop comes back for the next block.
  void interpret_cold_block(uint64_t until);
  /// The run counter of the block at `pc` (direct-mapped by PC, no tag: a
  /// collision only translates a block sooner).
  uint8_t& heat(uint32_t pc) { return heat_[(pc >> 1) & (kHeatSlots - 1)]; }
  /// Counters back to 0 (invalidation, flush).
  void clear_heat();
  /// -d in_asm / out_asm for a fresh translation.
  void trace_translation_jit(const Block& block, const uint8_t* code, size_t size);

  /// Slots of the dispatch table (a power of two).
  static constexpr uint32_t kDispatchSlots = 4096;
  /// Publishes `block` for direct entry from other translations (never a
  /// block at a breakpoint: run() must see it).
  void publish(const Block& block);
  /// Empties the dispatch table and unlinks every direct jump
  /// (invalidation, flush).
  void clear_dispatch();
  /// Points the direct exits waiting for `target` at its translation's
  /// chained entry `code`.
  void link(uint32_t target, const void* code);

  /// Direct exits (a `jmp rel32` in the code cache, written address) of
  /// the translations: linked to their target's translation, or waiting
  /// for it (their jump goes to the dispatch-table lookup).
  struct LinkSite {
    uint8_t* jump;
    uint32_t target;
  };
  std::vector<LinkSite> linked_;
  std::unordered_map<uint32_t, std::vector<uint8_t*>> unlinked_;

  std::unique_ptr<DispatchEntry[]> dispatch_;
  /// Slots of the run counters (a power of two).
  static constexpr uint32_t kHeatSlots = 8192;
  std::unique_ptr<uint8_t[]> heat_;
  unsigned translate_after_;
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
