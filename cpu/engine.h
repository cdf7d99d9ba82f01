// The seam between the architectural core (Cpu: state, exceptions,
// interrupts, slow memory paths, debugger support) and whatever executes
// guest instructions on it. The predecoded-block interpreter
// (cpu/interpreter.h) is the first implementation; a JIT is meant to be a
// second one that plugs into the same Cpu.
#pragma once

#include <cstdint>

namespace cr16 {

/// Counters an engine keeps about its translations (for tests, -d and
/// monitors). Engines without translations report zeros.
struct EngineStatistics {
  uint64_t translations = 0;      // blocks translated since creation
  uint64_t invalidations = 0;     // blocks dropped because their code page was written
  uint64_t flushes = 0;           // whole-cache flushes
  uint64_t cached_blocks = 0;     // blocks currently held
  uint64_t code_cache_bytes = 0;  // host code buffer size (JIT; 0 for the interpreter)
  uint64_t code_cache_used = 0;   // bytes of it holding translations
};

/// Executes guest instructions on one Cpu. Created for a Cpu and used only
/// by it (Cpu::run and Cpu::step call run(); the Cpu forwards code-page
/// writes and flushes). Machine thread only.
///
/// What an engine must do (and the interpreter does):
///   * Start at state().pc and keep state().icount exact: every instruction
///     that retires counts one, an excp whose SVC hook answered kRetry
///     counts none, an instruction fetch that faults counts one.
///   * Stop no later than icount == `until`, and at an instruction boundary
///     as soon as the core needs its run loop: Cpu::needs_run_loop() (an
///     event or deliverable interrupt, a trace trap, a stop the debugger or
///     a guest panic asked for). Returning earlier is always allowed; each
///     call must make progress (at least one instruction or fetch fault)
///     unless icount already reached `until`.
///   * Never execute the instruction at a breakpoint address
///     (Cpu::breakpoint_at) except as the first instruction of a call whose
///     `until` is icount + 1 (single step; the core uses that to step over a
///     breakpoint it stopped at).
///   * While Cpu::watchpoints_active(), end its straight-line runs after
///     every instruction that accesses data memory (isa::Entry traits), so a
///     watchpoint hit stops the CPU right after the accessing instruction.
///   * Take exceptions, the SVC hook, wait and memory accesses through the
///     Cpu's services, never by touching the bus's slow paths directly.
class ExecutionEngine {
 public:
  virtual ~ExecutionEngine() = default;

  /// Executes instructions until icount reaches `until` or the core needs
  /// attention (see the class comment).
  virtual void run(uint64_t until) = 0;
  /// Guest page `page_index` was written (or a breakpoint was set in it):
  /// drop every translation that read instructions from it. May be called
  /// from inside run() (a store to code): must not free what is executing.
  virtual void invalidate_page(uint32_t page_index) = 0;
  /// Drops every translation (reset, CFG.SR change, loaded state, changed
  /// watchpoint mode). Never called from inside a translated block except
  /// by instructions that end their block.
  virtual void flush() = 0;
  /// Translation counters.
  virtual EngineStatistics statistics() const = 0;
  /// A short name for logs and monitors ("interpreter").
  virtual const char* name() const = 0;
};

}  // namespace cr16
