// The CR16C/C+ architectural core: state, exceptions and interrupts, the
// memory paths with their faults, the debugger's view (side-effect-free
// reads, breakpoints, watchpoints, single step) and the run loop that hands
// instruction execution to an ExecutionEngine (cpu/engine.h; the
// predecoded-block interpreter by default).
//
// Threading: a Cpu belongs to the machine thread. Only request_exit() may be
// called from another thread or a signal handler.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cpu/bus.h"
#include "cpu/engine.h"
#include "cpu/state.h"
#include "util/error.h"
#include "util/state.h"

namespace cr16 {

/// The two cores of the family. They share the ISA; they differ on the bus:
/// CR16C (core bus) has no error response, CR16C+ (AHB) reports bus errors,
/// which the CPU turns into IAD traps.
enum class CpuModel : uint8_t { kCr16c, kCr16cPlus };

/// Parses a -cpu name ("cr16c", "cr16cplus"); the error lists the valid names.
Expected<CpuModel> parse_cpu_model(std::string_view name);
/// The -cpu name of a model.
const char* cpu_model_name(CpuModel model);

/// Why Cpu::run() or Cpu::step() returned.
enum class StopReason : uint8_t {
  kBudget,         // executed the requested number of instructions
  kHalted,         // sleeping in wait/eiwait until an interrupt
  kExitRequested,  // request_exit() was called
  kBreakpoint,     // PC reached a breakpoint; the instruction there has not run
  kWatchpoint,     // an instruction accessed a watched range (it has completed)
  kStep,           // step() executed its instruction
  kBlocked,        // the SVC hook answered kRetry: PC is at the excp, run again later
  kGuestPanic,     // an exception could not be taken; stopped until reset (panic_message())
};

/// A short name for a stop reason ("breakpoint", "guest-panic", ...).
const char* stop_reason_name(StopReason reason);

/// What the SVC hook did with an `excp svc`.
enum class SvcResult : uint8_t {
  kHandled,     // done (semihosting): execution continues after the excp
  kNotHandled,  // take the SVC trap as the hardware would
  kRetry,       // cannot complete now (a host fd is not ready): PC stays at the
                // excp, run() returns kBlocked, the next run() executes it again
};

/// Kinds of watchpoint (and of the access that hit one).
enum class WatchKind : uint8_t { kRead = 1, kWrite = 2, kAccess = 3 };

/// Whether Cpu::step() takes pending events before its instruction.
enum class StepEvents : uint8_t {
  kDeliver,  // as the hardware would: a pending interrupt is entered first
  kHold,     // events stay pending; the instruction at PC executes
};

/// What the last breakpoint, watchpoint or step stop was about.
struct DebugStop {
  StopReason reason = StopReason::kBudget;
  uint32_t pc = 0;  // PC at the stop
  /// kBreakpoint: the breakpoint address. kWatchpoint: the start of the
  /// watched range that was hit (what a gdb stop reply names).
  uint32_t address = 0;
  uint32_t access_address = 0;              // kWatchpoint: first byte of the access
  uint8_t access_bytes = 0;                 // kWatchpoint: width of the access
  WatchKind access = WatchKind::kRead;      // kWatchpoint: kRead or kWrite
  WatchKind watch_kind = WatchKind::kRead;  // kWatchpoint: the kind of the watchpoint hit
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

class Cpu : public CodeWriteListener, public Stateful {
 public:
  /// The CPU keeps a reference to `bus` (which must outlive it), registers
  /// itself as the bus's code-write listener and runs on the interpreter.
  Cpu(Bus& bus, CpuModel model);
  ~Cpu() override;
  Cpu(const Cpu&) = delete;
  Cpu& operator=(const Cpu&) = delete;

  /// PRM 3.5 reset: R0 = old PC[16:1], R1 = old PC[23:17], R2 = old PSR;
  /// PSR = 0x0200, CFG = 0, DBS/DCR cleared, PC = reset_pc (board-chosen).
  /// Drops all translations and a pending NMI; leaves the wait state and a
  /// guest panic. icount, breakpoints and watchpoints are kept.
  void reset(uint32_t reset_pc);

  /// Executes up to max_instructions instructions. Returns early when the CPU
  /// goes to sleep (wait/eiwait; a later run() after an interrupt request
  /// resumes), request_exit() was called, a breakpoint or watchpoint hit,
  /// the SVC hook asked to retry (kBlocked), or an exception could not be
  /// taken (kGuestPanic; every later run() returns it until reset()).
  StopReason run(uint64_t max_instructions);

  /// Makes run() return at the next block boundary. Thread- and signal-safe.
  void request_exit() { exit_requested_.store(true, std::memory_order_relaxed); }

  /// Instructions retired since construction (state().icount; for -icount).
  uint64_t instruction_count() const { return state_.icount; }

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

  /// Called on `excp svc` with state().pc = the address of the excp; says
  /// what happened (SvcResult). Without a hook, SVC traps.
  using SvcHook = std::function<SvcResult(Cpu&)>;
  void set_svc_hook(SvcHook hook) { svc_hook_ = std::move(hook); }

  CpuState& state() { return state_; }
  const CpuState& state() const { return state_; }
  CpuModel model() const { return model_; }
  Bus& bus() { return bus_; }

  /// Writes PSR with its side effects (stack-pointer bank switch on U).
  void set_psr(uint16_t value);
  /// Writes CFG (drops translations when SR changes).
  void set_cfg(uint16_t value);

  /// True after an exception could not be taken (run() returns kGuestPanic
  /// until reset()).
  bool panicked() const { return (attention_ & kAttentionPanicked) != 0; }
  /// One line naming why: vector, ISP, INTBASE, PC. Empty unless panicked().
  const std::string& panic_message() const { return panic_message_; }

  // ---- Debugger access (gdbstub, monitors, loaders, semihosting). None of
  // these raises a CPU exception; errors are values. Machine thread, never
  // from inside run().

  /// Reads `size` bytes at `address` without side effects (Bus::peek): a
  /// device register reads as the guest would see it, but nothing pops,
  /// acknowledges or latches. Errors: past 24 bits, nothing there, or a
  /// device that cannot be read without side effects.
  Expected<uint32_t> debug_read(uint32_t address, AccessSize size);
  /// Copies `length` bytes out of guest memory, side-effect free like
  /// debug_read. On error `data` may be partly filled.
  Error debug_read_block(uint32_t address, uint8_t* data, size_t length);
  /// Writes `size` bytes at `address` as the guest would (a device register
  /// write has its effect; ROM drops it), without triggering watchpoints;
  /// translations of the page are dropped as needed.
  Error debug_write(uint32_t address, AccessSize size, uint32_t value);
  /// Copies `length` bytes into guest memory, like debug_write.
  Error debug_write_block(uint32_t address, const uint8_t* data, size_t length);

  /// Stops run() with kBreakpoint before executing the instruction at
  /// `address` (even, below 16 MiB). Drops the translations of that page, so
  /// no predecoded block runs past it. Setting one twice is harmless.
  Error set_breakpoint(uint32_t address);
  /// Removes a breakpoint; false when there was none at `address`.
  bool clear_breakpoint(uint32_t address);
  /// Removes every breakpoint.
  void clear_breakpoints();
  /// True when a breakpoint is set at `address`.
  bool breakpoint_at(uint32_t address) const {
    return !breakpoints_.empty() && breakpoint_lookup(address);
  }

  /// Stops run() with kWatchpoint right after an instruction whose data
  /// access (of its own: not exception frames, not the debugger's or
  /// semihosting's accesses) touches [address, address + length) the way
  /// `kind` says. Sets the pages' Bus watch bits so RAM accesses reach the
  /// CPU's slow path; while any watchpoint exists, translated blocks end
  /// after every memory-accessing instruction (slower, debugging only).
  Error set_watchpoint(uint32_t address, uint32_t length, WatchKind kind);
  /// Removes the watchpoint set with exactly these arguments; false if none.
  bool clear_watchpoint(uint32_t address, uint32_t length, WatchKind kind);
  /// Removes every watchpoint.
  void clear_watchpoints();
  /// True while at least one watchpoint is set.
  bool watchpoints_active() const { return !watchpoints_.empty(); }

  /// Executes exactly one instruction (after entering a pending interrupt
  /// first with StepEvents::kDeliver) and returns kStep; a breakpoint at PC
  /// does not stop it. Returns kHalted without executing anything while
  /// sleeping, kWatchpoint when the instruction hit a watchpoint, kBlocked
  /// or kGuestPanic as run() does.
  StopReason step(StepEvents events = StepEvents::kDeliver);
  /// Details of the last kBreakpoint, kWatchpoint or kStep stop.
  const DebugStop& last_stop() const { return stop_; }

  // ---- The engine.

  /// The engine that executes instructions (statistics, name).
  ExecutionEngine& engine() { return *engine_; }
  const ExecutionEngine& engine() const { return *engine_; }
  /// Replaces the engine (a JIT in issue 13, test engines). The new engine
  /// is created for this Cpu; every translation starts afresh.
  void set_engine(std::unique_ptr<ExecutionEngine> engine);
  /// Drops every translation (e.g. after a loader bypassed the bus).
  void flush_code_cache() { engine_->flush(); }

  // ---- Stateful: section "cpu" (cpu_state_description()).
  const StateDescription& state_description() const override { return cpu_state_description(); }
  void* state_data() override { return &state_; }
  /// Drops translations and run-loop leftovers (a guest panic, a pending
  /// debugger stop), so execution continues from the loaded state.
  void state_loaded() override;

  // CodeWriteListener
  void code_page_written(uint32_t page_index) override;

  // ======== Services for execution engines (the interpreter's handlers;
  // a JIT calls the same). Not for boards or front ends.

  /// Data accesses. Return false when the access faulted (address beyond 24
  /// bits, or a bus error on CR16C+); the engine then raises
  /// raise_address_fault(). RAM goes through the bus's host pointers inline.
  /// `pc` is the accessing instruction's address, which access_pc() tells a
  /// device during a slow-path access (kUnknownPc: state().pc).
  static constexpr uint32_t kUnknownPc = 0xFFFFFFFFu;
  bool read8(uint32_t address, uint32_t* value, uint32_t pc = kUnknownPc);
  bool read16(uint32_t address, uint32_t* value, uint32_t pc = kUnknownPc);
  bool read32(uint32_t address, uint32_t* value, uint32_t pc = kUnknownPc);
  bool write8(uint32_t address, uint32_t value, uint32_t pc = kUnknownPc);
  bool write16(uint32_t address, uint32_t value, uint32_t pc = kUnknownPc);
  bool write32(uint32_t address, uint32_t value, uint32_t pc = kUnknownPc);
  /// The address of the instruction whose data access is going through the
  /// bus's slow path (an MMIO device, an unassigned address) right now; for
  /// devices' log lines (-d unimp, guest_errors). Stale outside such an access.
  uint32_t access_pc() const { return access_pc_; }
  /// Reads one instruction word for translation (never a data access: no
  /// watchpoint sees it). False when nothing answers at `address`.
  bool fetch_word(uint32_t address, uint16_t* word);

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
  /// True when privileged instructions must raise UND (user mode).
  bool user_mode() const { return (state_.psr & psr::kU) != 0; }

  /// True when the engine must return to the run loop at the next
  /// instruction boundary: a latched event, a deliverable interrupt, a
  /// trace trap, a debugger stop, a blocked SVC, a guest panic, or an exit
  /// request (a device asking for a reset or power-off from the instruction
  /// that just ran: nothing after it may run first, under any engine).
  bool needs_run_loop() const {
    return (state_.psr & (psr::kT | psr::kP)) || state_.events_pending || attention_ ||
           interrupt_deliverable() || exit_requested_.load(std::memory_order_relaxed);
  }
  /// True (once) when a store since the last call hit a page holding
  /// translated code: the engine must end its block after that store.
  bool take_code_written() {
    if (!code_written_) return false;
    code_written_ = false;
    return true;
  }

  /// Takes a trap raised by the instruction at `pc` (SVC, DVZ, FLG, BPT,
  /// UND): the saved PC is the instruction itself.
  void raise_trap(uint8_t vector, uint32_t pc);
  /// IAD for a faulting data access of the instruction at `pc`; the saved PC
  /// is `next_pc`, the following instruction.
  void raise_address_fault(uint32_t pc, uint32_t next_pc);
  /// IAD for an instruction fetch at `pc` that nothing answered.
  void raise_fetch_fault(uint32_t pc);
  /// Runs the SVC hook for the excp at `pc` (state().pc is set to it first).
  /// kRetry also marks the CPU blocked: the engine must leave the excp
  /// unretired with PC at it.
  SvcResult call_svc_hook(uint32_t pc);
  /// Enters wait (sleep until an interrupt): PC := next_pc.
  void enter_wait(uint32_t next_pc);

  /// Enters exception `vector` with the given saved PC and PSR bits to clear
  /// (PRM 3.2-3.4). When the frame cannot be pushed (ISP would wrap below 0,
  /// the frame is not RAM, a bus error) or the dispatch entry cannot be
  /// read, the CPU panics instead (panicked()). Public for tests and the
  /// debugger; engines use raise_trap()/raise_address_fault().
  void enter_exception(uint8_t vector, uint32_t saved_pc, uint16_t clear_bits);

 private:
  struct Watchpoint {
    uint32_t address;
    uint32_t length;
    WatchKind kind;
  };
  /// Bits of attention_: why the engine must return to the run loop beyond
  /// the architectural reasons.
  static constexpr uint8_t kAttentionPanicked = 1u << 0;
  static constexpr uint8_t kAttentionWatchpoint = 1u << 1;
  static constexpr uint8_t kAttentionBlocked = 1u << 2;

  uint32_t pair_slow(unsigned code) const;
  void set_pair_slow(unsigned code, uint32_t value);
  /// A slow-path read's value and whether it succeeded, returned in
  /// registers: no local of a handler has its address taken, so the
  /// optimiser can still turn the handler's call of the next one into a jump.
  struct SlowRead {
    uint32_t value;
    bool ok;
  };
  SlowRead slow_read(uint32_t address, AccessSize size, uint32_t pc);
  bool slow_write(uint32_t address, AccessSize size, uint32_t value, uint32_t pc);
  bool interrupt_deliverable() const {
    return irq_line_ && (state_.psr & (psr::kE | psr::kI)) == (psr::kE | psr::kI);
  }
  bool events_need_checking() const {
    return state_.events_pending || state_.halted || interrupt_deliverable() ||
           (state_.psr & psr::kP);
  }
  /// Takes a pending DBG/NMI/maskable/ISE request or trace trap; true if one was taken.
  bool check_events();
  /// Clears EVENT in events_pending; true when it was latched.
  bool take_latched_event(uint8_t event);
  /// A dummy byte read that devices see as an acknowledge cycle.
  void acknowledge_cycle(uint32_t address);
  /// Reads a dispatch-table entry: false on any bus error (both models).
  bool read_dispatch_entry(uint32_t address, AccessSize size, uint32_t* value);
  /// Stops the CPU: an exception could not be taken. `why` is printf-like.
  void guest_panic(uint8_t vector, uint32_t saved_pc, const char* why, uint32_t address);
  /// When attention_ names a reason to stop, clears it (except a panic) and
  /// returns true with that reason in *reason.
  bool take_stop(StopReason* reason);

  bool breakpoint_lookup(uint32_t address) const;
  /// Checks a CPU data access against the watchpoints (slow path only).
  void check_watchpoints(uint32_t address, unsigned bytes, WatchKind access);
  /// Recomputes the Bus watch bits of the pages [first, last].
  void update_page_watch(uint32_t first_page, uint32_t last_page);

  Bus& bus_;
  CpuModel model_;
  CpuState state_;
  std::atomic<bool> exit_requested_{false};
  bool irq_line_ = false;
  bool code_written_ = false;
  uint8_t attention_ = 0;
  SvcHook svc_hook_;
  std::unique_ptr<ExecutionEngine> engine_;
  std::string panic_message_;
  // Debugger state.
  std::vector<uint32_t> breakpoints_;  // sorted, unique
  std::vector<Watchpoint> watchpoints_;
  bool resume_armed_ = false;  // the next run() steps over the breakpoint at resume_pc_
  uint32_t resume_pc_ = 0;
  uint32_t access_pc_ = 0;  // see access_pc()
  DebugStop stop_;
};

// ---- Inline fast paths for data accesses (RAM through host pointers).

inline bool Cpu::read8(uint32_t address, uint32_t* value, uint32_t pc) {
  const uint32_t page = address >> kPageBits;
  if (page < kPageCount) {
    if (const uint8_t* host = bus_.read_page[page]) {
      *value = host[address & (kPageSize - 1)];
      return true;
    }
  }
  const SlowRead slow = slow_read(address, AccessSize::kByte, pc);
  *value = slow.value;
  return slow.ok;
}

inline bool Cpu::read16(uint32_t address, uint32_t* value, uint32_t pc) {
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
  const SlowRead slow = slow_read(address, AccessSize::kWord, pc);
  *value = slow.value;
  return slow.ok;
}

inline bool Cpu::read32(uint32_t address, uint32_t* value, uint32_t pc) {
  const uint32_t page = address >> kPageBits;
  const uint32_t offset = address & (kPageSize - 1);
  if (page < kPageCount && offset <= kPageSize - 4) {
    if (const uint8_t* host = bus_.read_page[page]) {
      std::memcpy(value, host + offset, sizeof *value);
      return true;
    }
  }
  const SlowRead slow = slow_read(address, AccessSize::kDword, pc);
  *value = slow.value;
  return slow.ok;
}

inline bool Cpu::write8(uint32_t address, uint32_t value, uint32_t pc) {
  const uint32_t page = address >> kPageBits;
  if (page < kPageCount) {
    if (uint8_t* host = bus_.write_page[page]) {
      host[address & (kPageSize - 1)] = static_cast<uint8_t>(value);
      return true;
    }
  }
  return slow_write(address, AccessSize::kByte, value & 0xFFu, pc);
}

inline bool Cpu::write16(uint32_t address, uint32_t value, uint32_t pc) {
  const uint32_t page = address >> kPageBits;
  const uint32_t offset = address & (kPageSize - 1);
  if (page < kPageCount && offset <= kPageSize - 2) {
    if (uint8_t* host = bus_.write_page[page]) {
      const auto v = static_cast<uint16_t>(value);
      std::memcpy(host + offset, &v, sizeof v);
      return true;
    }
  }
  return slow_write(address, AccessSize::kWord, value & 0xFFFFu, pc);
}

inline bool Cpu::write32(uint32_t address, uint32_t value, uint32_t pc) {
  const uint32_t page = address >> kPageBits;
  const uint32_t offset = address & (kPageSize - 1);
  if (page < kPageCount && offset <= kPageSize - 4) {
    if (uint8_t* host = bus_.write_page[page]) {
      std::memcpy(host + offset, &value, sizeof value);
      return true;
    }
  }
  return slow_write(address, AccessSize::kDword, value, pc);
}

}  // namespace cr16
