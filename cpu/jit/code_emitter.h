// The JIT's emitter: x86-64 code for one translation (a block of predecoded
// Ops) written with xbyak into the code cache. The block frame, exits, slow
// paths and loops are in code_emitter.cpp; the native forms by group in
// emit_alu.cpp, emit_branch.cpp and emit_memory.cpp. See docs/jit.md.
#pragma once

#include <xbyak/xbyak.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "cpu/block_cache.h"
#include "cpu/decode.h"
#include "cpu/jit/code_buffer.h"
#include "cpu/jit/jit_engine.h"
#include "cpu/jit/register_cache.h"

namespace cr16::jit {

/// Worst-case host bytes per guest instruction (native code, its slow path's
/// handler call and its exit stub; measured < 160) and per block (prologue,
/// epilogue).
constexpr size_t kMaxBytesPerInstruction = 256;
constexpr size_t kMaxBytesPerBlockFrame = 128;
constexpr size_t kMaxBlockBytes =
    JitEngine::kMaxBlockInstructions * kMaxBytesPerInstruction + kMaxBytesPerBlockFrame;
/// Room one translation may take: a loop is emitted twice (see emit()).
constexpr size_t kMaxTranslationBytes = 2 * kMaxBlockBytes;
/// Host page size for the code buffer's protection changes.
constexpr uintptr_t kPageBytes = 4096;

/// The host code buffer and the emitter writing into it. Memory is RW while
/// a block is emitted and RX otherwise (never both: W^X).
///
/// Register use in a translation (System V): rbx = Cpu*, r12 = CpuState*,
/// r13 = &Bus::read_page[0], r14 = &Bus::write_page[0], r15 = ChainContext*
/// (all callee-saved, so they survive handler calls); rsi, rdi, r9-r11 and
/// rbp hold guest registers and the PSR within a block (RegisterCache),
/// written back to CpuState before a handler call, on a slow path and at
/// every exit; r8 is the cache's for those write-backs; rax, rcx and rdx are
/// scratch within one guest instruction.
class CodeEmitter : private DualMapping, public Xbyak::CodeGenerator {
 public:
  CodeEmitter(size_t bytes, uint8_t* const* read_pages, uint8_t* const* write_pages,
              const DispatchEntry* dispatch, uint32_t dispatch_mask)
      : DualMapping(bytes),
        Xbyak::CodeGenerator(bytes,
                             rw != nullptr ? static_cast<void*>(rw) : Xbyak::DontSetProtectRWE),
        capacity_(bytes),
        read_pages_(read_pages),
        write_pages_(write_pages),
        dispatch_(dispatch),
        dispatch_mask_(dispatch_mask) {
    if (rw == nullptr) setProtectModeRE();
  }
  ~CodeEmitter() override {
    if (rw == nullptr) setProtectModeRW(false);
  }

  struct Entries {
    const uint8_t* from_run = nullptr;  // executable addresses
    const uint8_t* from_chain = nullptr;
    size_t bytes = 0;
  };

  size_t capacity() const { return capacity_; }
  size_t used() const { return getSize(); }
  bool fits(size_t bytes) const { return used() + bytes <= capacity(); }
  /// Forgets every block (the memory is reused by the next ones).
  void clear() { reset(); }
  /// After an emission error: back to RX (the caller then drops everything).
  void abandon();

  /// Emits `block` (its Ops in instruction/stop pairs) and returns its two
  /// entries: from run() (prologue) and from another translation (chain).
  Entries emit(const Block& block);

  /// Whether emit() may make loops (not for a block at a breakpoint: its
  /// start must be seen by run() every time).
  void set_loops_allowed(bool allowed) { loops_allowed_ = allowed; }

 private:
  /// One emission of `block` (written addresses); with loop_state_, as a
  /// loop.
  Entries emit_block(const Block& block);

 public:
  /// The executable address of code written at `written`.
  const uint8_t* executable(const uint8_t* written) const;

  /// A direct exit of the last emitted block: the `jmp rel32` at `jump`
  /// (written address) and the guest PC it leaves for.
  struct ExitSite {
    uint8_t* jump;
    uint32_t target;
  };
  const std::vector<ExitSite>& exit_sites() const { return exit_sites_; }
  /// Points the exit jump at `jump` to `destination` (executable address),
  /// or back to its dispatch-table lookup (nullptr).
  void set_exit_jump(uint8_t* jump, const void* destination);

 private:
  struct SlowPath {
    Xbyak::Label entry;
    Xbyak::Label resume;
    const Op* op;
    const Op* stop;
    uint32_t index;
    RegisterCache::State entry_state;   // where the fast path branches off
    RegisterCache::State resume_state;  // where it rejoins
  };

  /// A slow path for the current instruction, branching off in the cache's
  /// current state: the caller takes every operand from the cache first,
  /// then jumps to .entry (no cache use between those jumps), and calls
  /// resume() after its native code.
  SlowPath& new_slow_path(const Op& op, const Op& stop);
  /// Where `path` rejoins the fast path (after the instruction).
  void resume(SlowPath& path);

  /// The call of `op`'s interpreter handler; leaves through `exit` when the
  /// instruction left the block.
  void emit_handler_call(const Op& op, const Op& stop, const Xbyak::Label& exit);

  static constexpr uint16_t kAllFlags = psr::kC | psr::kF | psr::kZ | psr::kN | psr::kL;

  /// True when `op` is translated natively with nothing that could look at
  /// the PSR (no handler call, slow path or exit: register ALU forms, nop,
  /// immediate shifts, extensions — the same conditions as emit_arith,
  /// emit_shift and emit_extend); then *reads / *writes are the flags it
  /// reads and writes.
  static bool quiet_flag_effect(const Op& op, uint16_t* reads, uint16_t* writes);

  /// True when `op`'s handler, if it continues the block, has changed only
  /// guest registers and the PSR's flags: no memory (a device could raise
  /// an interrupt), no stack, nothing privileged, no trap; so the block's
  /// exits may still enter the next translation directly. (Handlers that
  /// leave the block always return to run().)
  static bool register_only(const Op& op);

  /// Native code for `op` when it has a native form; false: the caller
  /// emits the handler call.
  bool emit_native_instruction(const Op& op, const Op& stop);

  // ---- Block exits.

  Xbyak::Address icount_qword() const;
  /// The instruction current_index_ left the block: the ones after it did
  /// not retire.
  void give_back(uint32_t index);
  /// Common part of a native exit: PC is set; on to the next translation
  /// unless the chain budget is spent or, after a handler with side effects
  /// ran, the core needs run() (Cpu::needs_run_loop, halted).
  void chain_checks();
  /// From the generated code: nothing needs run() at this block boundary
  /// (what run()'s loop checks between blocks).
  static bool may_continue(Cpu* cpu) { return !cpu->needs_run_loop() && !cpu->halted(); }
  /// Native exit to a known PC: through its dispatch-table slot (filled when
  /// the target is translated, emptied on invalidation and flush).
  void exit_to_constant(uint32_t target, bool store = true);
  /// Native exit to the PC in ecx (jump, jal): the dispatch table is the
  /// indirect-branch cache.
  void exit_to_ecx();

  // ---- Guest state operands.

  Xbyak::Address psr_word() const;
  Xbyak::Address pc_dword() const;
  /// `host` register's 8/16/32-bit view.
  static Xbyak::Reg sized(const Xbyak::Reg32& host, unsigned bits);
  /// target := source unless they are the same register.
  void copy(const Xbyak::Reg32& target, const Xbyak::Reg32& source);
  /// Pair `code` 12..15 as the interpreter reads it: the whole register,
  /// unless CFG.SR selects CR16B pairs (codes 12..14) — then `slow`.
  void check_long_pair(unsigned code, const Xbyak::Label& slow);

  // ---- PSR flags from the host's, after the host operation. `psr` is the
  // cached PSR (RegisterCache::modify_psr, asked for before the operation:
  // the cache may emit code that changes the host flags).

  /// C := CF, F := OF (ADD/ADDC/SUB/SUBC of the same width).
  void set_carry_overflow_flags(const Xbyak::Reg32& psr);
  /// After host `cmp dest, src`: Z = equal, N = src > dest signed (dest <
  /// src: SF != OF), L = src > dest unsigned (borrow: CF).
  void set_compare_flags(const Xbyak::Reg32& psr);

  // ---- Branches.

  /// Bcond/BR, BEQ0/BNE0: PC := target or the next instruction; then the
  /// block's exit for this instruction (the interpreter's branch leaves the
  /// block the same way).
  bool emit_branch(const isa::Decoded& d, const Op& op);
  /// A conditional branch to `target` (else `next`) whose operands are
  /// taken: `test()` emits the host test and says whether the branch is
  /// taken when it leaves ZF clear. Inside a block the taken side is a side
  /// exit; at its end both exits follow (a loop's back edge first tries the
  /// jump to the head).
  template <typename Test>
  void emit_two_way_branch(uint32_t target, uint32_t next, Test&& test) {
    const bool loop = back_edge(target);
    const bool side = mid_block();
    // Before the test: write-backs change host flags (a side exit writes
    // back on its own path, a loop's back edge not at all).
    if (!loop && !side) cache_.store_all();
    const bool if_nonzero = test();
    Xbyak::Label taken;
    jump_if(if_nonzero, side ? new_side_exit(target) : taken);
    if (side) {
      continue_after_branch();
    } else {
      emit_branch_exits(taken, next, target, loop);
    }
  }
  /// jnz (`nonzero`) or jz to `label`.
  void jump_if(bool nonzero, Xbyak::Label& label);

  // ---- Side exits: a conditional branch inside a block (translate_block
  // lets a loop's block go on after one) leaves through an exit placed after
  // the block's code when taken, and falls through to the next instruction.

  struct SideExit {
    Xbyak::Label label;
    uint32_t target;
    uint32_t index;
    bool handler_may_have_run;
    RegisterCache::State state;  // written back on the exit's own path
  };
  /// The current instruction is not the block's last.
  bool mid_block() const { return current_index_ + 1 < block_count_; }
  /// A side exit to `target` for the current instruction, in the cache's
  /// current state.
  Xbyak::Label& new_side_exit(uint32_t target);
  /// The fall-through of a conditional branch inside the block: where the
  /// interpreter's block would have ended, a core that needs run() after a
  /// handler with side effects leaves here too (as a chained exit would).
  void continue_after_branch();
  void emit_side_exits();

  /// True when the current instruction, the block's last, branches to `target`
  /// = the block's start and this emission is a loop whose back edge holds
  /// what its head was given (see emit()). The first emission records the
  /// cache's state there.
  bool back_edge(uint32_t target);
  /// After the test of a conditional branch: the not-taken exit, then at
  /// `taken` the taken one; for a loop's back edge, the taken side first
  /// tries the jump to the loop's head.
  void emit_branch_exits(Xbyak::Label& taken, uint32_t next, uint32_t target, bool loop);
  /// A loop's back edge: the chain budget, what a chained exit would ask
  /// (handler_ran) and the next iteration's instruction budget allowing,
  /// straight to the head with the cache as it is (one chained entry);
  /// otherwise on to the normal exit emitted after this.
  void emit_loop_jump();

  /// Tests the PSR bits condition `condition` (0..13) looks at; returns
  /// true when it holds if any is set (jnz), false when it holds if all are
  /// clear (jz). Per alu::condition.
  bool test_condition(const Xbyak::Reg32& psr, unsigned condition);

  /// Scond: r[a] (16 bits) := condition ? 1 : 0.
  bool emit_set_on_condition(const isa::Decoded& d, const Op& op);

  /// Jcond (pair target): the target or the next instruction, then the exit.
  bool emit_conditional_jump(const isa::Decoded& d, const Op& op, const Op& stop);

  // ---- Register/immediate ALU forms.

  enum class AluOp : uint8_t {
    kMov,
    kAnd,
    kOr,
    kXor,
    kAddUnsigned,
    kAdd,
    kAddCarry,
    kSub,
    kSubCarry,
    kCompare
  };

  static bool alu_form(isa::Mnemonic mnemonic, AluOp* kind, unsigned* bits);

  /// `kind` of `source` into `destination`; the host flags are then those
  /// of the operation (adc/sbb take the carry from CF, set by the caller).
  template <typename Destination, typename Source>
  void apply(AluOp kind, const Destination& destination, const Source& source) {
    switch (kind) {
      case AluOp::kMov:
        mov(destination, source);
        break;
      case AluOp::kAnd:
        and_(destination, source);
        break;
      case AluOp::kOr:
        or_(destination, source);
        break;
      case AluOp::kXor:
        xor_(destination, source);
        break;
      case AluOp::kAddUnsigned:
      case AluOp::kAdd:
        add(destination, source);
        break;
      case AluOp::kAddCarry:
        adc(destination, source);
        break;
      case AluOp::kSub:
        sub(destination, source);
        break;
      case AluOp::kSubCarry:
        sbb(destination, source);
        break;
      case AluOp::kCompare:
        cmp(destination, source);
        break;
    }
  }

  /// An 8/16-bit immediate as xbyak accepts it: zero-extended for mov,
  /// sign-extended for the ALU forms (same bits in the instruction).
  static uint32_t narrow_immediate(AluOp kind, uint32_t imm, unsigned bits);

  /// mov/and/or/xor/addu/add/addc/sub/subc/cmp with a register or
  /// immediate source and a register destination; 32-bit ones on pairs
  /// (codes 0..10, or r12..sp whole while CFG.SR is clear). The flags of the
  /// flag-setting ones go to the cached PSR from the host's.
  bool emit_arith(const isa::Decoded& d, const Op& op, const Op& stop);

  // ---- Shifts by an immediate count (no flags).

  bool emit_shift(const isa::Decoded& d, const Op& op);

  template <typename Target>
  void shift_by(const Target& target, int32_t count, int amount, bool arithmetic) {
    if (count > 0) {
      shl(target, amount);
    } else if (count < 0) {
      if (arithmetic) {
        sar(target, amount);
      } else {
        shr(target, amount);
      }
    }
  }

  // ---- movxb/movzb (byte -> word), movxw/movzw (word -> pair 0..10).

  bool emit_extend(const isa::Decoded& d, const Op& op);

  // ---- Loads and stores through the bus's host-pointer page table.

  /// loadb/w/d and storb/w/d in every addressing mode whose base is a plain
  /// register, a pair 0..10 or r12/r13 (index): the page's host pointer
  /// (Bus::read_page / write_page, the interpreter's fast path) when the
  /// access lies inside one page that has one; otherwise (MMIO, unmapped,
  /// code pages, dirty logging, watchpoints, beyond 24 bits) the slow path
  /// runs the instruction in its handler.
  bool emit_memory(const isa::Decoded& d, const Op& op, const Op& stop);

  // ---- Multiplies (no flags).

  /// mulb/mulw (register or immediate source): the low byte/half of r[a]
  /// := the low bits of the product (the rest of r[a] stays);
  /// muluw/mulsw into a plain pair (codes 0..10): pair := zero/sign-extended
  /// r[b] (16 bits) * the pair's low word. The low bits of a product do not
  /// depend on how the operands are extended, so imul serves mulb/mulw.
  bool emit_multiply(const isa::Decoded& d, const Op& op);

  // ---- push, pop, popret.

  /// push/pop/popret when the whole stack range is in one page with a host
  /// pointer (the usual case: RAM); otherwise the slow path runs the
  /// instruction in its handler (nothing has changed by then). The register
  /// layout (op.a first, op.imm words, op.b = RA on top) is unrolled here as
  /// the handler's loop walks it.
  bool emit_stack(const isa::Decoded& d, const Op& op, const Op& stop);

  // ---- bal, jal, jump: the link and the PC, then the block's exit.

  void write_link(unsigned code, uint32_t link) { mov(cache_.overwrite_pair(code), link); }

  bool emit_call_jump(const isa::Decoded& d, const Op& op, const Op& stop);

  size_t capacity_;
  uint8_t* const* read_pages_;
  uint8_t* const* write_pages_;
  const DispatchEntry* dispatch_;
  uint32_t dispatch_mask_;
  Xbyak::Label* leave_ = nullptr;           // the current block's return to run()
  std::vector<uint16_t> flags_live_after_;  // per instruction of the current block
  uint32_t block_count_ = 0;
  std::vector<SlowPath> slow_paths_;
  uint32_t current_index_ = 0;
  /// A handler call or slow path comes before the current point of the
  /// block (handler_ran may be set there).
  bool handler_may_have_run_ = false;
  std::vector<ExitSite> exit_sites_;
  std::deque<SideExit> side_exits_;  // stable addresses for their labels
  const Block* current_block_ = nullptr;
  uint32_t block_pc_ = 0;
  bool loops_allowed_ = true;
  /// The cache's state at the back edge of the first emission (set when
  /// the last instruction branches to the block's start).
  std::optional<RegisterCache::State> back_edge_state_;
  /// Second emission of a loop: the values loaded before the head.
  std::optional<RegisterCache::State> loop_state_;
  Xbyak::Label* loop_head_ = nullptr;
  RegisterCache cache_{*this};
};

}  // namespace cr16::jit
