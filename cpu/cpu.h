// The CR16C/C+ execution core: architectural state, the run loop over
// predecoded blocks, exceptions and interrupts, and guest-memory helpers.
//
// Threading: a Cpu belongs to the machine thread. Only request_exit() may be
// called from another thread or a signal handler.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "cpu/block_cache.h"
#include "cpu/bus.h"
#include "cpu/state.h"
#include "util/error.h"

namespace cr16 {

/// The two cores of the family. They share the ISA; they differ on the bus:
/// CR16C (core bus) has no error response, CR16C+ (AHB) reports bus errors,
/// which the CPU turns into IAD traps.
enum class CpuModel : uint8_t { kCr16c, kCr16cPlus };

/// Parses a -cpu name ("cr16c", "cr16cplus"); the error lists the valid names.
Expected<CpuModel> parse_cpu_model(std::string_view name);
/// The -cpu name of a model.
const char* cpu_model_name(CpuModel model);

/// Why Cpu::run() returned.
enum class StopReason : uint8_t {
  kBudget,         // executed the requested number of instructions
  kHalted,         // sleeping in wait/eiwait until an interrupt
  kExitRequested,  // request_exit() was called
};

/// Exception vector numbers (PRM table 3-1).
namespace vector {
inline constexpr uint8_t kNmi = 1;
inline constexpr uint8_t kSvc = 5;
inline constexpr uint8_t kDvz = 6;
inline constexpr uint8_t kFlg = 7;
inline constexpr uint8_t kBpt = 8;
inline constexpr uint8_t kTrc = 9;
inline constexpr uint8_t kUnd = 10;
inline constexpr uint8_t kIad = 12;
inline constexpr uint8_t kDbg = 14;
inline constexpr uint8_t kIse = 15;
inline constexpr uint8_t kFirstMaskable = 16;
}  // namespace vector

/// Address the CPU reads (one byte) to acknowledge a maskable interrupt and
/// learn its vector; the ICU answers it.
inline constexpr uint32_t kInterruptAcknowledgeAddress = 0xFFFE00;

class Cpu : public CodeWriteListener {
 public:
  /// The CPU keeps a reference to `bus` (which must outlive it) and registers
  /// itself as the bus's code-write listener.
  Cpu(Bus& bus, CpuModel model);
  ~Cpu() override;
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  /// PRM 3.5 reset: R0 = old PC[16:1], R1 = old PC[23:17], R2 = old PSR;
  /// PSR = 0x0200, CFG = 0, DBS/DCR cleared, PC = reset_pc (board-chosen).
  /// Drops all predecoded blocks and a pending NMI; leaves the wait state.
  void reset(uint32_t reset_pc);

  /// Executes up to max_instructions instructions. Returns early when the CPU
  /// goes to sleep (wait/eiwait; a later run() after an interrupt request
  /// resumes) or when request_exit() was called.
  StopReason run(uint64_t max_instructions);

  /// Makes run() return at the next block boundary. Thread- and signal-safe.
  void request_exit() { exit_requested_.store(true, std::memory_order_relaxed); }

  /// Instructions retired since construction (for -icount).
  uint64_t instruction_count() const { return icount_; }

  /// Level of the maskable interrupt request line (from the ICU).
  void set_irq_line(bool asserted) { irq_line_ = asserted; }
  bool irq_line() const { return irq_line_; }
  /// Latches an NMI edge; taken at the next instruction boundary.
  void raise_nmi() { state_.events_pending |= event::kNmi; }
  /// Latches a debug request (the DBG exception): the external debug input
  /// that a debugger or board drives. Highest priority at a boundary; saves
  /// the next PC and clears I, P, T and U (PRM table 3-2). The on-chip debug
  /// unit's own triggers (DCR/CAR compare) are not modelled.
  void raise_debug_request() { state_.events_pending |= event::kDebug; }
  /// Latches an In-System-Emulator request (the ISE exception, vector 15):
  /// taken after NMI and maskable interrupts, before a trace trap.
  void raise_ise() { state_.events_pending |= event::kIse; }

  /// True while sleeping in wait/eiwait.
  bool halted() const { return state_.halted != 0; }

  /// Called on `excp svc`. Return true when handled (semihosting): execution
  /// continues after the excp instead of taking the SVC trap. The hook sees
  /// state().pc = address of the excp instruction.
  using SvcHook = std::function<bool(Cpu&)>;
  void set_svc_hook(SvcHook hook) { svc_hook_ = std::move(hook); }

  CpuState& state() { return state_; }
  const CpuState& state() const { return state_; }
  CpuModel model() const { return model_; }
  Bus& bus() { return bus_; }

  /// Writes PSR with its side effects (stack-pointer bank switch on U).
  void set_psr(uint16_t value);
  /// Writes CFG (drops predecoded blocks when SR changes).
  void set_cfg(uint16_t value);

  // ---- Guest memory for loaders, semihosting and monitors. These go through
  // the bus (fast pointers or slow path) without raising CPU exceptions.
  /// Reads `size` bytes at `address`; errors on addresses past 24 bits or bus errors.
  Expected<uint32_t> debug_read(uint32_t address, AccessSize size);
  /// Writes `size` bytes at `address`; invalidates predecoded code as needed.
  Error debug_write(uint32_t address, AccessSize size, uint32_t value);
  /// Copies `length` bytes into guest memory (loaders).
  Error debug_write_block(uint32_t address, const uint8_t* data, size_t length);
  /// Copies `length` bytes out of guest memory.
  Error debug_read_block(uint32_t address, uint8_t* data, size_t length);

  /// Drops every predecoded block (e.g. after a loader bypassed the bus).
  void flush_code_cache();
  /// Statistics of the block cache, for tests and -d.
  const BlockCache& block_cache() const { return cache_; }

  // CodeWriteListener
  void code_page_written(uint32_t page_index) override;

  // ======== Interpreter internals, used by the exec_*.cpp handlers ========

  /// Data accesses. Return false when the access faulted (address beyond 24
  /// bits, or a bus error on CR16C+); the handler then calls fault_address().
  bool read8(uint32_t address, uint32_t* value);
  bool read16(uint32_t address, uint32_t* value);
  bool read32(uint32_t address, uint32_t* value);
  bool write8(uint32_t address, uint32_t value);
  bool write16(uint32_t address, uint32_t value);
  bool write32(uint32_t address, uint32_t value);

  /// 16-bit register view (codes 12..15 = low halves of r12, r13, ra, sp).
  uint32_t reg16(unsigned code) const { return state_.r[code] & 0xFFFFu; }
  void set_reg16(unsigned code, uint32_t value) {
    state_.r[code] = (state_.r[code] & 0xFFFF0000u) | (value & 0xFFFFu);
  }
  void set_reg8(unsigned code, uint32_t value) {
    state_.r[code] = (state_.r[code] & 0xFFFFFF00u) | (value & 0xFFu);
  }
  /// Register-pair view (rp field): 0..10 = (r(n+1),rn), 11 = (r12_L,r11),
  /// 12..15 = r12, r13, ra, sp; CFG.SR selects the CR16B pairs for 12..14.
  uint32_t pair(unsigned code) const {
    if (code < 11) return state_.r[code] | (state_.r[code + 1] << 16);
    return pair_slow(code);
  }
  void set_pair(unsigned code, uint32_t value) {
    if (code < 11) {
      state_.r[code] = value & 0xFFFFu;
      state_.r[code + 1] = value >> 16;
      return;
    }
    set_pair_slow(code, value);
  }

  /// Leaves the current block: PC := new_pc. Returns nullptr for the handler
  /// to return.
  const Op* exit_to(const Op* op, uint32_t new_pc) {
    state_.pc = new_pc & kAddressMask;
    last_op_ = op;
    return nullptr;
  }
  /// Leaves the block like exit_to(), but when nothing needs the run loop's
  /// attention (budget, interrupts, trace, chain depth) jumps straight into
  /// the cached block at new_pc (block chaining). Used by branches.
  const Op* continue_at(const Op* op, uint32_t new_pc) {
    state_.pc = new_pc & kAddressMask;
    last_op_ = op;
    if (chain_budget_ == 0) return nullptr;
    if ((state_.psr & (psr::kT | psr::kP)) || state_.events_pending || interrupt_deliverable()) {
      return nullptr;
    }
    Block* next = cache_.find(state_.pc);
    if (!next || next->instruction_count > end_ - icount_) return nullptr;
    --chain_budget_;
    settle_block_count();
    enter_block(next);
    return next->ops->handler(*this, next->ops);
  }
  /// Takes a trap raised by the instruction `op` (SVC, DVZ, FLG, BPT, UND):
  /// the saved PC is the instruction itself.
  const Op* trap(const Op* op, uint8_t vector);
  /// IAD for a faulting data access of `op` (saved PC = next instruction).
  const Op* fault_address(const Op* op);
  /// Ends the block after a store when the store hit watched code.
  const Op* after_store(const Op* op) {
    if (code_written_) [[unlikely]] {
      code_written_ = false;
      return exit_to(op, op->pc + op->size);
    }
    ++op;
    return op->handler(*this, op);
  }
  /// Runs the SVC hook for `op`; true when it handled the call.
  bool call_svc_hook(const Op* op);
  /// Enters wait (sleep until an interrupt); PC := next instruction.
  const Op* enter_wait(const Op* op);
  /// True when privileged instructions must raise UND (user mode).
  bool user_mode() const { return (state_.psr & psr::kU) != 0; }

  /// Enters exception `vector` with the given saved PC and PSR bits to clear.
  /// Public for tests and the debugger; normal code uses trap().
  void enter_exception(uint8_t vector, uint32_t saved_pc, uint16_t clear_bits);

 private:
  uint32_t pair_slow(unsigned code) const;
  void set_pair_slow(unsigned code, uint32_t value);
  bool slow_read(uint32_t address, AccessSize size, uint32_t* value);
  bool slow_write(uint32_t address, AccessSize size, uint32_t value);
  bool fetch_word(uint32_t address, uint16_t* word);
  /// Takes a pending DBG/NMI/maskable/ISE request or trace trap; true if one was taken.
  bool check_events();
  /// Clears EVENT in events_pending; true when it was latched.
  bool take_latched_event(uint8_t event);
  /// A dummy byte read that devices see as an acknowledge cycle.
  void acknowledge_cycle(uint32_t address);
  bool interrupt_deliverable() const {
    return irq_line_ && (state_.psr & (psr::kE | psr::kI)) == (psr::kE | psr::kI);
  }
  /// Returns the block starting at pc, translating it if needed; nullptr
  /// when the first instruction cannot be fetched (IAD was taken).
  Block* block_at(BlockCache& cache, uint32_t pc);
  Block* translate(BlockCache& cache, uint32_t pc);
  /// Executes exactly one instruction at state_.pc (trace mode, budget tail).
  void step_one();
  /// -d exec / -d cpu: one line per executed block (trace.cpp).
  void trace_block(const Block& block);
  /// -d in_asm: the instructions of a freshly translated block (trace.cpp).
  void trace_translation(const Block& block);

  /// Block accounting: entering a block counts all its instructions; when the
  /// block is left, the ones after last_op_ are given back.
  void enter_block(const Block* block) {
    current_block_ = block;
    icount_ += block->instruction_count;
  }
  void settle_block_count() {
    icount_ -= current_block_->instruction_count -
               static_cast<uint64_t>(last_op_ - current_block_->ops + 1);
  }

  /// Blocks chained without returning to the run loop, at most (bounds the
  /// host stack when a compiler does not turn handler calls into jumps).
  static constexpr unsigned kMaxChain = 256;

  Bus& bus_;
  CpuModel model_;
  CpuState state_;
  uint64_t icount_ = 0;
  std::atomic<bool> exit_requested_{false};
  bool irq_line_ = false;
  bool code_written_ = false;
  const Op* last_op_ = nullptr;
  const Block* current_block_ = nullptr;
  uint64_t end_ = 0;           // icount at which run() must stop
  unsigned chain_budget_ = 0;  // 0 outside the fast path (no chaining)
  SvcHook svc_hook_;
  BlockCache cache_{14, 32768, 262144, BlockCache::kMaxBlockInstructions};
  /// One-instruction blocks for single-stepping (trace mode, budget tails).
  BlockCache step_cache_{12, 8192, 16384, 1};
};

}  // namespace cr16

// ---- Inline fast paths for data accesses (RAM through host pointers).
#include <cstring>

namespace cr16 {

inline bool Cpu::read8(uint32_t address, uint32_t* value) {
  const uint32_t page = address >> kPageBits;
  if (page < kPageCount) {
    if (const uint8_t* host = bus_.read_page[page]) {
      *value = host[address & (kPageSize - 1)];
      return true;
    }
  }
  return slow_read(address, AccessSize::kByte, value);
}

inline bool Cpu::read16(uint32_t address, uint32_t* value) {
  const uint32_t page = address >> kPageBits;
  const uint32_t offset = address & (kPageSize - 1);
  if (page < kPageCount && offset <= kPageSize - 2) {
    if (const uint8_t* host = bus_.read_page[page]) {
      uint16_t v;
      std::memcpy(&v, host + offset, sizeof v);
      *value = v;
      return true;
    }
  }
  return slow_read(address, AccessSize::kWord, value);
}

inline bool Cpu::read32(uint32_t address, uint32_t* value) {
  const uint32_t page = address >> kPageBits;
  const uint32_t offset = address & (kPageSize - 1);
  if (page < kPageCount && offset <= kPageSize - 4) {
    if (const uint8_t* host = bus_.read_page[page]) {
      std::memcpy(value, host + offset, sizeof *value);
      return true;
    }
  }
  return slow_read(address, AccessSize::kDword, value);
}

inline bool Cpu::write8(uint32_t address, uint32_t value) {
  const uint32_t page = address >> kPageBits;
  if (page < kPageCount) {
    if (uint8_t* host = bus_.write_page[page]) {
      host[address & (kPageSize - 1)] = static_cast<uint8_t>(value);
      return true;
    }
  }
  return slow_write(address, AccessSize::kByte, value & 0xFFu);
}

inline bool Cpu::write16(uint32_t address, uint32_t value) {
  const uint32_t page = address >> kPageBits;
  const uint32_t offset = address & (kPageSize - 1);
  if (page < kPageCount && offset <= kPageSize - 2) {
    if (uint8_t* host = bus_.write_page[page]) {
      const auto v = static_cast<uint16_t>(value);
      std::memcpy(host + offset, &v, sizeof v);
      return true;
    }
  }
  return slow_write(address, AccessSize::kWord, value & 0xFFFFu);
}

inline bool Cpu::write32(uint32_t address, uint32_t value) {
  const uint32_t page = address >> kPageBits;
  const uint32_t offset = address & (kPageSize - 1);
  if (page < kPageCount && offset <= kPageSize - 4) {
    if (uint8_t* host = bus_.write_page[page]) {
      std::memcpy(host + offset, &value, sizeof value);
      return true;
    }
  }
  return slow_write(address, AccessSize::kDword, value);
}

}  // namespace cr16
