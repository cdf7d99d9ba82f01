// The predecoded-block interpreter: the first ExecutionEngine. Guest code is
// translated once into blocks of Ops (block_cache.h) whose handlers
// (exec_*.cpp) run as a chain of tail calls; blocks chain into each other
// without returning to the run loop while nothing needs it. Internal to
// cpu/: boards and front ends see only ExecutionEngine.
#pragma once

#include <cstdint>

#include "cpu/block_cache.h"
#include "cpu/cpu.h"
#include "cpu/engine.h"

// ---- Tail calls between handlers.
//
// Each handler ends by calling the next one; a block of N instructions (and
// a chain of blocks) must not need N host stack frames. Where the compiler
// guarantees tail calls (clang's musttail, at every optimisation level,
// sanitizers included) CR16_MUSTTAIL says so at each call. Where it cannot
// be guaranteed but the optimiser makes them (GCC with optimisation: sibling
// calls) nothing is added, so the release build keeps its speed. Without
// either (GCC -O0), a trampoline bounds the depth: after
// kTrampolineDepth dispatches the chain unwinds to Interpreter::execute(),
// which resumes at the next Op.
#if defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::musttail)
#define CR16_MUSTTAIL [[clang::musttail]]
#elif __has_cpp_attribute(gnu::musttail)
#define CR16_MUSTTAIL [[gnu::musttail]]
#endif
#endif
#if defined(CR16_MUSTTAIL)
#define CR16_DISPATCH_TRAMPOLINE 0
#else
#define CR16_MUSTTAIL
#if defined(__OPTIMIZE__)
#define CR16_DISPATCH_TRAMPOLINE 0
#else
#define CR16_DISPATCH_TRAMPOLINE 1
#endif
#endif

namespace cr16 {

class Interpreter : public ExecutionEngine {
 public:
  /// An interpreter for `cpu` (which owns it).
  explicit Interpreter(Cpu& cpu);

  // ExecutionEngine
  void run(uint64_t until) override;
  void invalidate_page(uint32_t page_index) override;
  void flush() override;
  EngineStatistics statistics() const override;
  const char* name() const override { return "interpreter"; }

  /// True when this build bounds the handler chain with a trampoline
  /// instead of relying on tail calls (GCC without optimisation).
  static constexpr bool uses_trampoline() { return CR16_DISPATCH_TRAMPOLINE != 0; }

  // ======== For the instruction handlers (exec.h). A handler returns the
  // last Op that retired (the one that left the block); these keep that
  // contract.

  /// The interpreter running `cpu` (handlers only run under it).
  static Interpreter& of(Cpu& cpu) { return static_cast<Interpreter&>(cpu.engine()); }

  /// Runs `op`'s handler (a tail call; see CR16_MUSTTAIL).
  static const Op* dispatch(Cpu& cpu, const Op* op) {
#if CR16_DISPATCH_TRAMPOLINE
    Interpreter& self = of(cpu);
    if (--self.depth_left_ == 0) {
      self.resume_ = op;
      return &kSuspended;
    }
#endif
    CR16_MUSTTAIL return op->handler(cpu, op);
  }

  /// Leaves the block whose last instruction is `op` and continues at
  /// state().pc: straight into the cached block there (block chaining) when
  /// nothing needs the run loop (budget, events, trace, debugger, chain
  /// depth), else back to run().
  static const Op* chain(Cpu& cpu, const Op* op) {
    Interpreter& self = of(cpu);
    if (self.chain_budget_ == 0 || cpu.needs_run_loop()) return op;
    const CpuState& s = cpu.state();
    Block* next = self.cache_.find(s.pc);
    if (!next || next->instruction_count > self.until_ - s.icount) return op;
    --self.chain_budget_;
    CpuState& state = cpu.state();
    self.give_back(state, op);
    self.enter_block(state, next);
    CR16_MUSTTAIL return dispatch(cpu, next->ops);
  }

  /// Leaves the block at `op` without counting it as retired (an excp whose
  /// SVC hook answered kRetry).
  static const Op* leave_unretired(Cpu& cpu, const Op* op) {
    of(cpu).unretired_ = true;
    return op;
  }

 protected:
  // Protected for the JIT (cpu/jit/), which runs these handlers from its
  // translations and uses the single-step path as it is.

  /// Blocks chained without returning to run(), at most: bounds the time
  /// before request_exit() is seen, and the host stack where tail calls
  /// are not guaranteed.
  static constexpr unsigned kMaxChain = 256;
  /// Trampoline builds: dispatches before the chain unwinds.
  static constexpr unsigned kTrampolineDepth = 64;
  /// The value a suspended chain returns (trampoline builds).
  static const Op kSuspended;

  /// Returns the block starting at pc, translating it if needed; nullptr
  /// when the first instruction cannot be fetched (IAD was taken).
  Block* block_at(BlockCache& cache, uint32_t pc);
  Block* translate(BlockCache& cache, uint32_t pc);
  /// Executes exactly one instruction at state().pc (trace mode, budget
  /// tails, breakpoints).
  void step_one();
  /// Runs a block's handler chain to its end (through the trampoline when
  /// there is one); returns the last Op that retired.
  const Op* execute(const Op* first);

  /// Block accounting: entering a block counts all its instructions; when
  /// the block is left at `last`, the ones after it are given back (and
  /// `last` too when it did not retire: settle()).
  void enter_block(CpuState& state, const Block* block) {
    current_block_ = block;
    state.icount += block->instruction_count;
  }
  void give_back(CpuState& state, const Op* last) {
    state.icount -=
        current_block_->instruction_count - static_cast<uint64_t>(last - current_block_->ops + 1);
  }
  void settle(CpuState& state, const Op* last) {
    give_back(state, last);
    if (unretired_) [[unlikely]] {
      --state.icount;
      unretired_ = false;
    }
  }

  /// -d exec / -d cpu: one line per executed block (trace.cpp).
  void trace_block(const Block& block);
  /// -d in_asm: the instructions of a freshly translated block (trace.cpp).
  void trace_translation(const Block& block);

  Cpu& cpu_;
  Bus& bus_;
  unsigned chain_budget_ = 0;  // 0 outside run() (no chaining)
  uint64_t until_ = 0;         // icount at which run() must stop
  const Block* current_block_ = nullptr;
  bool unretired_ = false;
#if CR16_DISPATCH_TRAMPOLINE
  unsigned depth_left_ = 0;
  const Op* resume_ = nullptr;
#endif
  BlockCache cache_{14, 32768, 262144, BlockCache::kMaxBlockInstructions};
  /// One-instruction blocks for single-stepping (trace mode, budget tails,
  /// breakpoints).
  BlockCache step_cache_{12, 8192, 16384, 1};
};

}  // namespace cr16
