// The JIT's code cache, translation and run loop (see jit_engine.h and
// docs/jit.md).
#include "cpu/jit/jit_engine.h"

#include <sys/mman.h>
#include <unistd.h>
#include <xbyak/xbyak.h>
#include <algorithm>

#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <optional>
#include <vector>

#include "cpu/block_scan.h"
#include "cpu/decode.h"
#include "cpu/disas.h"
#include "cpu/exec.h"
#include "cpu/jit/host_disassembly.h"
#include "cpu/jit/register_cache.h"
#include "util/log.h"

namespace cr16::jit {

namespace {

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

/// The Op after each instruction in a translation: the handler's threaded
/// dispatch lands here and it returns itself, telling the generated code that
/// the instruction continued (did not leave the block).
const Op* return_to_translation(Cpu&, const Op* op) {
  return op;
}

/// A translation: returns 0 when the block ran to its end (PC is then the
/// block's end), else 1 + the index of the instruction that left the block
/// (it set the PC). `state` is cpu->state(), for the native code.
using TranslatedBlock = void (*)(Cpu* cpu, CpuState* state, ChainContext* context);

/// Byte offset of guest register r[index] in CpuState.
constexpr uint32_t register_offset(unsigned index) {
  return static_cast<uint32_t>(offsetof(CpuState, r) + 4 * index);
}

}  // namespace

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
/// Two views of one anonymous shared memory object: the code is written
/// through `rw` and executed through `rx`, so no page is ever writable and
/// executable and no protection changes per block. Empty (rw == nullptr)
/// when the host refuses (the emitter then flips the pages of each block).
struct DualMapping {
  explicit DualMapping(size_t bytes) {
    const int fd = memfd_create("cr16-jit", MFD_CLOEXEC);
    if (fd < 0) return;
    if (ftruncate(fd, static_cast<off_t>(bytes)) == 0) {
      void* writable = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      void* executable = mmap(nullptr, bytes, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
      if (writable != MAP_FAILED && executable != MAP_FAILED) {
        rw = static_cast<uint8_t*>(writable);
        rx = static_cast<uint8_t*>(executable);
        mapped_bytes = bytes;
      } else {
        if (writable != MAP_FAILED) munmap(writable, bytes);
        if (executable != MAP_FAILED) munmap(executable, bytes);
      }
    }
    close(fd);
  }
  ~DualMapping() {
    if (rw != nullptr) {
      munmap(rw, mapped_bytes);
      munmap(rx, mapped_bytes);
    }
  }
  DualMapping(const DualMapping&) = delete;
  DualMapping& operator=(const DualMapping&) = delete;

  uint8_t* rw = nullptr;
  uint8_t* rx = nullptr;
  size_t mapped_bytes = 0;
};

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
  void abandon() {
    if (rw == nullptr) setProtectModeRE(false);
  }

  /// Emits `block` (its Ops in instruction/stop pairs) and returns its two
  /// entries: from run() (prologue) and from another translation (chain).
  Entries emit(const Block& block) {
    // Only the pages this block may use become writable (a whole-buffer
    // mprotect per block made translation, and so booting, slow).
    const auto page_mask = ~uintptr_t{kPageBytes - 1};
    const uintptr_t writable_begin = reinterpret_cast<uintptr_t>(getCurr()) & page_mask;
    const uintptr_t buffer_end =
        (reinterpret_cast<uintptr_t>(getCode()) + capacity_ + kPageBytes - 1) & page_mask;
    const uintptr_t writable_end = std::min(buffer_end, (reinterpret_cast<uintptr_t>(getCurr()) +
                                                         kMaxTranslationBytes + kPageBytes - 1) &
                                                            page_mask);
    const auto* writable = reinterpret_cast<const void*>(writable_begin);
    const size_t writable_bytes = writable_end - writable_begin;
    if (rw == nullptr && !protect(writable, writable_bytes, PROTECT_RW)) {
      throw Xbyak::Error(Xbyak::ERR_CANT_PROTECT);
    }
    // A block whose last instruction branches back to its start is a loop:
    // emitted once to learn which guest values the cache holds at that
    // back edge, then again with those loaded before the loop's head, so
    // the back edge jumps to the head with them still in host registers
    // (no write-back and reload per iteration). The first copy is never
    // run.
    loop_state_.reset();
    Entries entries = emit_block(block);
    if (back_edge_state_ && loops_allowed_) {
      loop_state_ = *back_edge_state_;
      entries = emit_block(block);
      ++loops_;
    }
    if (rw == nullptr && !protect(writable, writable_bytes, PROTECT_RE)) {
      throw Xbyak::Error(Xbyak::ERR_CANT_PROTECT);
    }
    entries.from_run = executable(entries.from_run);
    entries.from_chain = executable(entries.from_chain);
    return entries;
  }

  /// Whether emit() may make loops (not for a block at a breakpoint: its
  /// start must be seen by run() every time).
  void set_loops_allowed(bool allowed) { loops_allowed_ = allowed; }
  /// Loops made so far.
  uint64_t loops() const { return loops_; }

 private:
  /// One emission of `block` (written addresses); with loop_state_, as a
  /// loop.
  Entries emit_block(const Block& block) {
    using namespace Xbyak::util;
    Entries entries;
    back_edge_state_.reset();
    block_pc_ = block.pc;
    Xbyak::Label leave;
    leave_ = &leave;
    entries.from_run = getCurr();
    // System V: rdi = Cpu*, rsi = CpuState*, rdx = ChainContext*. Six pushes,
    // eight bytes and the return address keep rsp 16-byte aligned at calls.
    push(rbx);
    push(r12);
    push(r13);
    push(r14);
    push(r15);
    push(rbp);
    sub(rsp, 8);
    mov(rbx, rdi);
    mov(r12, rsi);
    mov(r15, rdx);
    mov(r13, reinterpret_cast<uint64_t>(read_pages_));
    mov(r14, reinterpret_cast<uint64_t>(write_pages_));
    // From another translation: the same registers, PC = this block's.
    entries.from_chain = getCurr();
    // The interpreter's accounting: the whole block counts on entry (what a
    // device reading the instruction count mid-block sees); an exit gives
    // back the instructions after the one that left. A block that does not
    // fit the budget is left to run() (which steps what is left).
    mov(rax, icount_qword());
    add(rax, block.instruction_count);
    cmp(rax, qword[r15 + static_cast<uint32_t>(offsetof(ChainContext, until))]);
    ja(*leave_, T_NEAR);
    mov(icount_qword(), rax);
    block_count_ = block.instruction_count;
    cache_.reset();
    Xbyak::Label loop_head;
    loop_head_ = &loop_head;
    if (loop_state_) {
      // Every value the loop's back edge holds, loaded once; changed on
      // every iteration after the first, so counted as changed.
      cache_.emit_load(*loop_state_);
      cache_.set_state(*loop_state_, /*dirty=*/true);
      L(loop_head);
    }
    // Flags live after each instruction (backwards from the block's end,
    // where all are): an ALU instruction whose flags are all overwritten
    // before anything can see them (a later ALU instruction, with no
    // handler call, slow path or exit between) skips writing them.
    flags_live_after_.assign(block.instruction_count, kAllFlags);
    uint16_t live = kAllFlags;
    for (uint32_t i = block.instruction_count; i-- > 0;) {
      flags_live_after_[i] = live;
      uint16_t reads = kAllFlags;
      uint16_t writes = 0;
      if (quiet_flag_effect(block.ops[2 * i], &reads, &writes)) {
        live = static_cast<uint16_t>((live & ~writes) | reads);
      } else {
        live = kAllFlags;
      }
    }
    std::vector<Xbyak::Label> exits(block.instruction_count);
    handler_may_have_run_ = false;
    side_exits_.clear();
    current_block_ = &block;
    exit_sites_.clear();
    slow_paths_.clear();
    slow_paths_.reserve(block.instruction_count);
    for (uint32_t i = 0; i < block.instruction_count; ++i) {
      const Op& op = block.ops[2 * i];
      const Op& stop = block.ops[2 * i + 1];
      current_index_ = i;
      if (emit_native_instruction(op, stop, exits[i])) {
        ++native_instructions_;
        continue;
      }
      cache_.spill_all();  // the handler reads and writes CpuState
      emit_handler_call(op, stop, exits[i]);
    }
    current_index_ = block.instruction_count - 1;
    exit_to_constant(block.end_pc);
    emit_side_exits();
    // Slow paths (MMIO, unmapped, code pages, short register pairs): the
    // instruction runs again from the start in its interpreter handler.
    // Guest registers changed in host registers go back to CpuState first;
    // those the fast path holds where it rejoins are reloaded after.
    for (SlowPath& path : slow_paths_) {
      L(path.entry);
      cache_.emit_store(path.entry_state);
      emit_handler_call(*path.op, *path.stop, exits[path.index]);
      cache_.emit_load(path.resume_state);
      jmp(path.resume, T_NEAR);
    }
    // A handler left the block (it set the PC): back to run(), which looks
    // at what the handler may have changed (interrupts, events, halt).
    for (uint32_t i = 0; i < block.instruction_count; ++i) {
      L(exits[i]);
      give_back(i);
      mov(byte[r15 + static_cast<uint32_t>(offsetof(ChainContext, handler_left))], 1);
      jmp(*leave_, T_NEAR);
    }
    L(*leave_);
    add(rsp, 8);
    pop(rbp);
    pop(r15);
    pop(r14);
    pop(r13);
    pop(r12);
    pop(rbx);
    ret();
    slow_paths_.clear();
    entries.bytes = static_cast<size_t>(getCurr() - entries.from_run);
    return entries;
  }

 public:
  /// The executable address of code written at `written`.
  const uint8_t* executable(const uint8_t* written) const {
    return rw == nullptr ? written : rx + (written - rw);
  }

  /// Guest instructions translated to native code so far (the rest are
  /// calls into the interpreter's handlers).
  uint64_t native_instructions() const { return native_instructions_; }

  /// A direct exit of the last emitted block: the `jmp rel32` at `jump`
  /// (written address) and the guest PC it leaves for.
  struct ExitSite {
    uint8_t* jump;
    uint32_t target;
  };
  const std::vector<ExitSite>& exit_sites() const { return exit_sites_; }
  /// Points the exit jump at `jump` to `destination` (executable address),
  /// or back to its dispatch-table lookup (nullptr).
  void set_exit_jump(uint8_t* jump, const void* destination) {
    // E9 rel32; the lookup starts right after the 5 bytes.
    const uint8_t* next = executable(jump) + 5;
    const int32_t displacement =
        destination == nullptr
            ? 0
            : static_cast<int32_t>(static_cast<const uint8_t*>(destination) - next);
    std::memcpy(jump + 1, &displacement, sizeof displacement);
  }

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
  SlowPath& new_slow_path(const Op& op, const Op& stop) {
    SlowPath& path = slow_paths_.emplace_back();
    path.op = &op;
    path.stop = &stop;
    path.index = current_index_;
    path.entry_state = cache_.state();
    if (!register_only(op)) handler_may_have_run_ = true;  // when the path is taken
    return path;
  }
  /// Where `path` rejoins the fast path (after the instruction).
  void resume(SlowPath& path) {
    path.resume_state = cache_.state();
    L(path.resume);
  }

  /// The call of `op`'s interpreter handler; leaves through `exit` when the
  /// instruction left the block.
  void emit_handler_call(const Op& op, const Op& stop, const Xbyak::Label& exit) {
    using namespace Xbyak::util;
    if (!register_only(op)) {
      mov(byte[r15 + static_cast<uint32_t>(offsetof(ChainContext, handler_ran))], 1);
      handler_may_have_run_ = true;
    }
    mov(rdi, rbx);
    mov(rsi, reinterpret_cast<uint64_t>(&op));
    mov(rax, reinterpret_cast<uint64_t>(op.handler));
    call(rax);
    mov(rcx, reinterpret_cast<uint64_t>(&stop));
    cmp(rax, rcx);
    jne(exit, T_NEAR);
  }

  static constexpr uint16_t kAllFlags = psr::kC | psr::kF | psr::kZ | psr::kN | psr::kL;

  /// True when `op` is translated natively with nothing that could look at
  /// the PSR (no handler call, slow path or exit: register ALU forms, nop,
  /// immediate shifts, extensions — the same conditions as emit_arith,
  /// emit_shift and emit_extend); then *reads / *writes are the flags it
  /// reads and writes.
  static bool quiet_flag_effect(const Op& op, uint16_t* reads, uint16_t* writes) {
    using isa::Mnemonic;
    using isa::OperandType;
    if (op.handler == &exec::op_undefined) return false;
    const isa::Decoded d = isa::decode(op.words[0], op.words[1], op.words[2]);
    if (!d.valid()) return false;
    *reads = 0;
    *writes = 0;
    if (d.mnemonic == Mnemonic::kNop) return true;
    if (d.mnemonic >= Mnemonic::kSeq && d.mnemonic <= Mnemonic::kSge) {
      *reads = kAllFlags;
      return d.operand_count == 1;
    }
    if (d.operand_count != 2) return false;
    const auto is_register = [](OperandType type) {
      return type == OperandType::kRegr || type == OperandType::kRegp;
    };
    const bool immediate = isa::is_immediate(d.operands[0].type);
    if (!is_register(d.operands[1].type)) return false;
    AluOp kind;
    unsigned bits;
    if (alu_form(d.mnemonic, &kind, &bits)) {
      if (!immediate && !is_register(d.operands[0].type)) return false;
      if (bits == 32 && (op.a >= 11 || (!immediate && op.b >= 11))) return false;
      switch (kind) {
        case AluOp::kAdd:
        case AluOp::kSub:
          *writes = psr::kC | psr::kF;
          break;
        case AluOp::kAddCarry:
        case AluOp::kSubCarry:
          *reads = psr::kC;
          *writes = psr::kC | psr::kF;
          break;
        case AluOp::kCompare:
          *writes = psr::kZ | psr::kN | psr::kL;
          break;
        default:
          break;
      }
      return true;
    }
    switch (d.mnemonic) {
      case Mnemonic::kAshub:
      case Mnemonic::kAshuw:
      case Mnemonic::kLshb:
      case Mnemonic::kLshw:
        return immediate;
      case Mnemonic::kAshud:
      case Mnemonic::kLshd:
        return immediate && op.a < 11;
      case Mnemonic::kMovxb:
      case Mnemonic::kMovzb:
        return !immediate;
      case Mnemonic::kMovxw:
      case Mnemonic::kMovzw:
        return !immediate && op.a < 11;
      default:
        return false;
    }
  }

  /// True when `op`'s handler, if it continues the block, has changed only
  /// guest registers and the PSR's flags: no memory (a device could raise
  /// an interrupt), no stack, nothing privileged, no trap; so the block's
  /// exits may still enter the next translation directly. (Handlers that
  /// leave the block always return to run().)
  static bool register_only(const Op& op) {
    if (op.handler == &exec::op_undefined) return false;
    const isa::Decoded d = isa::decode(op.words[0], op.words[1], op.words[2]);
    if (!d.valid()) return false;
    const isa::Entry& entry = isa::table()[d.entry];
    return entry.memory_access() == isa::MemoryAccess::kNone && !entry.stack_access() &&
           !entry.privileged() && !entry.ends_block() && d.mnemonic != isa::Mnemonic::kExcp;
  }

  /// Native code for `op` when it has a native form; false: the caller
  /// emits the handler call.
  bool emit_native_instruction(const Op& op, const Op& stop, const Xbyak::Label& exit) {
    if (op.handler == &exec::op_undefined) return false;
    const isa::Decoded d = isa::decode(op.words[0], op.words[1], op.words[2]);
    if (!d.valid()) return false;
    return d.mnemonic == isa::Mnemonic::kNop || emit_branch(d, op, exit) ||
           emit_arith(d, op, stop) || emit_multiply(d, op) || emit_shift(d, op) ||
           emit_extend(d, op) || emit_memory(d, op, stop) || emit_stack(d, op, stop) ||
           emit_set_on_condition(d, op) || emit_conditional_jump(d, op, stop) ||
           emit_call_jump(d, op, stop, exit);
  }

  // ---- Block exits.

  Xbyak::Address icount_qword() const {
    using namespace Xbyak::util;
    return qword[r12 + static_cast<uint32_t>(offsetof(CpuState, icount))];
  }
  /// The instruction current_index_ left the block: the ones after it did
  /// not retire.
  void give_back(uint32_t index) {
    const uint32_t unretired = block_count_ - (index + 1);
    if (unretired != 0) sub(icount_qword(), unretired);
  }
  /// Common part of a native exit: PC is set; on to the next translation
  /// unless the chain budget is spent or, after a handler with side effects
  /// ran, the core needs run() (Cpu::needs_run_loop, halted).
  void chain_checks() {
    using namespace Xbyak::util;
    give_back(current_index_);
    sub(dword[r15 + static_cast<uint32_t>(offsetof(ChainContext, chain_left))], 1);
    jb(*leave_, T_NEAR);
    // handler_ran is 0 on entry (run() clears it, a chained exit only
    // continues with it clear): without a handler call or slow path before
    // this exit, there is nothing to ask.
    if (!handler_may_have_run_) return;
    Xbyak::Label checked;
    const Xbyak::Address handler_ran =
        byte[r15 + static_cast<uint32_t>(offsetof(ChainContext, handler_ran))];
    cmp(handler_ran, 0);
    je(checked, T_NEAR);
    // A handler with side effects ran (a device may have raised an
    // interrupt, a stop may be pending): ask the core, as run() would.
    mov(rdi, rbx);
    mov(rax, reinterpret_cast<uint64_t>(&may_continue));
    call(rax);
    test(al, al);
    jz(*leave_, T_NEAR);
    mov(handler_ran, 0);
    mov(ecx, pc_dword());  // the call clobbered it (exit_to_ecx)
    L(checked);
  }
  /// From the generated code: nothing needs run() at this block boundary
  /// (what run()'s loop checks between blocks).
  static bool may_continue(Cpu* cpu) { return !cpu->needs_run_loop() && !cpu->halted(); }
  /// Native exit to a known PC: through its dispatch-table slot (filled when
  /// the target is translated, emptied on invalidation and flush).
  void exit_to_constant(uint32_t target, bool store = true) {
    using namespace Xbyak::util;
    target &= kAddressMask;
    if (store) cache_.store_all();
    mov(pc_dword(), target);
    chain_checks();
    // A direct jump, patched to the target's translation once it exists
    // (JitEngine::link); until then (and after an unlink) it jumps to the
    // dispatch-table lookup right after it.
    if (rw != nullptr) {
      Xbyak::Label lookup;
      exit_sites_.push_back(ExitSite{const_cast<uint8_t*>(getCurr()), target});
      jmp(lookup, T_NEAR);
      L(lookup);
    }
    const DispatchEntry* slot = &dispatch_[(target >> 1) & dispatch_mask_];
    mov(rdx, reinterpret_cast<uint64_t>(slot));
    cmp(dword[rdx + static_cast<uint32_t>(offsetof(DispatchEntry, pc))], target);
    jne(*leave_, T_NEAR);
    jmp(qword[rdx + static_cast<uint32_t>(offsetof(DispatchEntry, code))]);
  }
  /// Native exit to the PC in ecx (jump, jal): the dispatch table is the
  /// indirect-branch cache.
  void exit_to_ecx() {
    using namespace Xbyak::util;
    cache_.store_all();  // r8 only: ecx stays
    mov(pc_dword(), ecx);
    chain_checks();
    mov(eax, ecx);
    shr(eax, 1);
    and_(eax, dispatch_mask_);
    shl(rax, 4);
    mov(rdx, reinterpret_cast<uint64_t>(dispatch_));
    add(rdx, rax);
    cmp(dword[rdx + static_cast<uint32_t>(offsetof(DispatchEntry, pc))], ecx);
    jne(*leave_, T_NEAR);
    jmp(qword[rdx + static_cast<uint32_t>(offsetof(DispatchEntry, code))]);
  }

  // ---- Guest state operands.

  Xbyak::Address psr_word() const {
    using namespace Xbyak::util;
    return word[r12 + static_cast<uint32_t>(offsetof(CpuState, psr))];
  }
  Xbyak::Address pc_dword() const {
    using namespace Xbyak::util;
    return dword[r12 + static_cast<uint32_t>(offsetof(CpuState, pc))];
  }
  /// `host` register's 8/16/32-bit view.
  static Xbyak::Reg sized(const Xbyak::Reg32& host, unsigned bits) {
    if (bits == 8) return host.cvt8();
    if (bits == 16) return host.cvt16();
    return host;
  }
  /// target := source unless they are the same register.
  void copy(const Xbyak::Reg32& target, const Xbyak::Reg32& source) {
    if (target.getIdx() != source.getIdx()) mov(target, source);
  }
  /// Pair `code` 12..15 as the interpreter reads it: the whole register,
  /// unless CFG.SR selects CR16B pairs (codes 12..14) — then `slow`.
  void check_long_pair(unsigned code, const Xbyak::Label& slow) {
    if (code >= 15) return;
    test(word[r12 + static_cast<uint32_t>(offsetof(CpuState, cfg))], cfg::kSr);
    jnz(slow, T_NEAR);
  }

  // ---- PSR flags from the host's, after the host operation. `psr` is the
  // cached PSR (RegisterCache::modify_psr, asked for before the operation:
  // the cache may emit code that changes the host flags).

  /// C := CF, F := OF (ADD/ADDC/SUB/SUBC of the same width).
  void set_carry_overflow_flags(const Xbyak::Reg32& psr) {
    using namespace Xbyak::util;
    setc(al);  // C is bit 0
    seto(cl);
    shl(cl, 5);  // F is bit 5
    or_(al, cl);
    and_(psr, static_cast<uint32_t>(static_cast<uint16_t>(~(psr::kC | psr::kF))));
    or_(psr.cvt8(), al);  // both in the low byte
  }
  /// After host `cmp dest, src`: Z = equal, N = src > dest signed (dest <
  /// src: SF != OF), L = src > dest unsigned (borrow: CF).
  void set_compare_flags(const Xbyak::Reg32& psr) {
    using namespace Xbyak::util;
    setb(al);
    setl(cl);
    sete(dl);
    shl(al, 2);
    shl(cl, 7);
    shl(dl, 6);
    or_(al, cl);
    or_(al, dl);
    and_(psr, static_cast<uint32_t>(static_cast<uint16_t>(~(psr::kZ | psr::kN | psr::kL))));
    or_(psr.cvt8(), al);  // all three in the low byte
  }

  // ---- Branches.

  /// Bcond/BR, BEQ0/BNE0: PC := target or the next instruction; then the
  /// block's exit for this instruction (the interpreter's branch leaves the
  /// block the same way).
  bool emit_branch(const isa::Decoded& d, const Op& op, const Xbyak::Label& exit) {
    using isa::Mnemonic;
    using namespace Xbyak::util;
    (void)exit;
    const uint32_t target = static_cast<uint32_t>(op.imm) & kAddressMask;
    const uint32_t next = (op.pc + op.size) & kAddressMask;
    Xbyak::Label taken;
    if (d.mnemonic == Mnemonic::kBeq0b || d.mnemonic == Mnemonic::kBne0b ||
        d.mnemonic == Mnemonic::kBeq0w || d.mnemonic == Mnemonic::kBne0w) {
      const bool byte_wide = d.mnemonic == Mnemonic::kBeq0b || d.mnemonic == Mnemonic::kBne0b;
      const bool if_zero = d.mnemonic == Mnemonic::kBeq0b || d.mnemonic == Mnemonic::kBeq0w;
      const Xbyak::Reg32 value = cache_.read(op.b, ecx);
      copy(ecx, value);
      const bool loop = back_edge(target);
      const bool side = mid_block();
      // Before the test: write-backs change host flags (a side exit writes
      // back on its own path).
      if (!loop && !side) cache_.store_all();
      if (byte_wide) {
        test(cl, cl);
      } else {
        test(cx, cx);
      }
      Xbyak::Label& to = side ? new_side_exit(target) : taken;
      if (if_zero) {
        jz(to, T_NEAR);
      } else {
        jnz(to, T_NEAR);
      }
      if (side) {
        continue_after_branch();
      } else {
        emit_branch_exits(taken, next, target, loop);
      }
      return true;
    }
    if (d.mnemonic != Mnemonic::kB || d.operand_count != 2) return false;
    const unsigned condition = op.a & 15u;
    if (condition >= 14) {
      if (back_edge(target)) emit_loop_jump();
      exit_to_constant(target);
      return true;
    }
    const Xbyak::Reg32 psr = cache_.psr();
    const bool loop = back_edge(target);
    const bool side = mid_block();
    if (!loop && !side) cache_.store_all();
    Xbyak::Label& to = side ? new_side_exit(target) : taken;
    if (test_condition(psr, condition)) {
      jnz(to, T_NEAR);
    } else {
      jz(to, T_NEAR);
    }
    if (side) {
      continue_after_branch();
    } else {
      emit_branch_exits(taken, next, target, loop);
    }
    return true;
  }

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
  Xbyak::Label& new_side_exit(uint32_t target) {
    SideExit& side = side_exits_.emplace_back();
    side.target = target & kAddressMask;
    side.index = current_index_;
    side.handler_may_have_run = handler_may_have_run_;
    side.state = cache_.state();
    return side.label;
  }
  /// The fall-through of a conditional branch inside the block: where the
  /// interpreter's block would have ended, a core that needs run() after a
  /// handler with side effects leaves here too (as a chained exit would).
  void continue_after_branch() {
    using namespace Xbyak::util;
    if (!handler_may_have_run_) return;
    const Op& op = current_block_->ops[2 * current_index_];
    cmp(byte[r15 + static_cast<uint32_t>(offsetof(ChainContext, handler_ran))], 0);
    jne(new_side_exit(op.pc + op.size), T_NEAR);
  }
  void emit_side_exits() {
    const uint32_t index = current_index_;
    const bool handler_may_have_run = handler_may_have_run_;
    for (SideExit& side : side_exits_) {
      L(side.label);
      current_index_ = side.index;
      handler_may_have_run_ = side.handler_may_have_run;
      cache_.emit_store(side.state);
      exit_to_constant(side.target, /*store=*/false);
    }
    current_index_ = index;
    handler_may_have_run_ = handler_may_have_run;
  }

  /// True when the current instruction, the block's last, branches to `target`
  /// = the block's start and this emission is a loop whose back edge holds
  /// what its head was given (see emit()). The first emission records the
  /// cache's state there.
  bool back_edge(uint32_t target) {
    if (current_index_ + 1 != block_count_ || (target & kAddressMask) != block_pc_) return false;
    if (!loop_state_) {
      back_edge_state_ = cache_.state();
      return false;
    }
    return RegisterCache::same_values(cache_.state(), *loop_state_);
  }
  /// After the test of a conditional branch: the not-taken exit, then at
  /// `taken` the taken one; for a loop's back edge, the taken side first
  /// tries the jump to the loop's head.
  void emit_branch_exits(Xbyak::Label& taken, uint32_t next, uint32_t target, bool loop) {
    if (!loop) {
      exit_to_constant(next);
      L(taken);
      exit_to_constant(target);
      return;
    }
    const RegisterCache::State at_branch = cache_.state();
    exit_to_constant(next);  // writes back on this path only
    cache_.set_state(at_branch, /*dirty=*/true);
    L(taken);
    emit_loop_jump();
    exit_to_constant(target);
  }
  /// A loop's back edge: the chain budget, what a chained exit would ask
  /// (handler_ran) and the next iteration's instruction budget allowing,
  /// straight to the head with the cache as it is (one chained entry);
  /// otherwise on to the normal exit emitted after this.
  void emit_loop_jump() {
    using namespace Xbyak::util;
    // Nothing is changed before the jump is certain: the normal exit counts
    // the chain budget itself.
    Xbyak::Label normal_exit;
    const Xbyak::Address chain_left =
        dword[r15 + static_cast<uint32_t>(offsetof(ChainContext, chain_left))];
    cmp(chain_left, 0);
    je(normal_exit, T_NEAR);
    if (handler_may_have_run_) {
      cmp(byte[r15 + static_cast<uint32_t>(offsetof(ChainContext, handler_ran))], 0);
      jne(normal_exit, T_NEAR);
    }
    mov(rax, icount_qword());
    add(rax, block_count_);
    cmp(rax, qword[r15 + static_cast<uint32_t>(offsetof(ChainContext, until))]);
    ja(normal_exit, T_NEAR);
    mov(icount_qword(), rax);
    sub(chain_left, 1);
    jmp(*loop_head_, T_NEAR);
    L(normal_exit);
  }

  /// Tests the PSR bits condition `condition` (0..13) looks at; returns
  /// true when it holds if any is set (jnz), false when it holds if all are
  /// clear (jz). Per alu::condition.
  bool test_condition(const Xbyak::Reg32& psr, unsigned condition) {
    struct Test {
      uint16_t mask;
      bool taken_if_set;
    };
    static constexpr Test kTests[14] = {
        {psr::kZ, true},
        {psr::kZ, false},
        {psr::kC, true},
        {psr::kC, false},
        {psr::kL, true},
        {psr::kL, false},
        {psr::kN, true},
        {psr::kN, false},
        {psr::kF, true},
        {psr::kF, false},
        {psr::kZ | psr::kL, false},
        {psr::kZ | psr::kL, true},
        {psr::kZ | psr::kN, false},
        {psr::kZ | psr::kN, true},
    };
    const Test flags = kTests[condition];
    test(psr, flags.mask);
    return flags.taken_if_set;
  }

  /// Scond: r[a] (16 bits) := condition ? 1 : 0.
  bool emit_set_on_condition(const isa::Decoded& d, const Op& op) {
    using namespace Xbyak::util;
    const auto m = static_cast<unsigned>(d.mnemonic);
    const auto first = static_cast<unsigned>(isa::Mnemonic::kSeq);
    if (m < first || m > static_cast<unsigned>(isa::Mnemonic::kSge)) return false;
    if (d.operand_count != 1) return false;
    const Xbyak::Reg32 psr = cache_.psr();
    const Xbyak::Reg32 target = cache_.modify(op.a);
    if (test_condition(psr, m - first)) {
      setnz(al);
    } else {
      setz(al);
    }
    movzx(eax, al);
    mov(target.cvt16(), ax);
    return true;
  }

  /// Jcond (pair target): the target or the next instruction, then the exit.
  bool emit_conditional_jump(const isa::Decoded& d, const Op& op, const Op& stop) {
    using namespace Xbyak::util;
    const auto m = static_cast<unsigned>(d.mnemonic);
    const auto first = static_cast<unsigned>(isa::Mnemonic::kJeq);
    if (m < first || m > static_cast<unsigned>(isa::Mnemonic::kJge)) return false;
    if (d.operand_count != 1 || op.b == 11) return false;
    const Xbyak::Reg32 psr = cache_.psr();
    copy(ecx, cache_.read_pair(op.b));
    SlowPath* path = nullptr;
    if (op.b >= 12 && op.b < 15) {
      path = &new_slow_path(op, stop);
      check_long_pair(14, path->entry);
    }
    cache_.store_all();
    Xbyak::Label taken;
    if (test_condition(psr, m - first)) {
      jnz(taken, T_NEAR);
    } else {
      jz(taken, T_NEAR);
    }
    exit_to_constant(op.pc + op.size);
    L(taken);
    shl(ecx, 1);
    and_(ecx, exec::kPcMask);
    exit_to_ecx();
    if (path) resume(*path);
    return true;
  }

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

  static bool alu_form(isa::Mnemonic mnemonic, AluOp* kind, unsigned* bits) {
    using isa::Mnemonic;
    struct Form {
      Mnemonic mnemonic;
      AluOp kind;
      unsigned bits;
    };
    static constexpr Form kForms[] = {
        {Mnemonic::kMovb, AluOp::kMov, 8},
        {Mnemonic::kMovw, AluOp::kMov, 16},
        {Mnemonic::kMovd, AluOp::kMov, 32},
        {Mnemonic::kAndb, AluOp::kAnd, 8},
        {Mnemonic::kAndw, AluOp::kAnd, 16},
        {Mnemonic::kAndd, AluOp::kAnd, 32},
        {Mnemonic::kOrb, AluOp::kOr, 8},
        {Mnemonic::kOrw, AluOp::kOr, 16},
        {Mnemonic::kOrd, AluOp::kOr, 32},
        {Mnemonic::kXorb, AluOp::kXor, 8},
        {Mnemonic::kXorw, AluOp::kXor, 16},
        {Mnemonic::kXord, AluOp::kXor, 32},
        {Mnemonic::kAddub, AluOp::kAddUnsigned, 8},
        {Mnemonic::kAdduw, AluOp::kAddUnsigned, 16},
        {Mnemonic::kAddb, AluOp::kAdd, 8},
        {Mnemonic::kAddw, AluOp::kAdd, 16},
        {Mnemonic::kAddd, AluOp::kAdd, 32},
        {Mnemonic::kAddcb, AluOp::kAddCarry, 8},
        {Mnemonic::kAddcw, AluOp::kAddCarry, 16},
        {Mnemonic::kSubb, AluOp::kSub, 8},
        {Mnemonic::kSubw, AluOp::kSub, 16},
        {Mnemonic::kSubd, AluOp::kSub, 32},
        {Mnemonic::kSubcb, AluOp::kSubCarry, 8},
        {Mnemonic::kSubcw, AluOp::kSubCarry, 16},
        {Mnemonic::kCmpb, AluOp::kCompare, 8},
        {Mnemonic::kCmpw, AluOp::kCompare, 16},
        {Mnemonic::kCmpd, AluOp::kCompare, 32},
    };
    for (const Form& form : kForms) {
      if (form.mnemonic == mnemonic) {
        *kind = form.kind;
        *bits = form.bits;
        return true;
      }
    }
    return false;
  }

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
  static uint32_t narrow_immediate(AluOp kind, uint32_t imm, unsigned bits) {
    if (bits == 32) return imm;
    const uint32_t mask = (1u << bits) - 1;
    if (kind == AluOp::kMov) return imm & mask;
    const uint32_t sign = 1u << (bits - 1);
    return ((imm & mask) ^ sign) - sign;
  }

  /// mov/and/or/xor/addu/add/addc/sub/subc/cmp with a register or
  /// immediate source and a register destination; 32-bit ones on pairs
  /// (codes 0..10, or r12..sp whole while CFG.SR is clear). The flags of the
  /// flag-setting ones go to the cached PSR from the host's.
  bool emit_arith(const isa::Decoded& d, const Op& op, const Op& stop) {
    using namespace Xbyak::util;
    AluOp kind;
    unsigned bits;
    if (!alu_form(d.mnemonic, &kind, &bits) || d.operand_count != 2) return false;
    if (d.operands[1].type != isa::OperandType::kRegr &&
        d.operands[1].type != isa::OperandType::kRegp) {
      return false;
    }
    const bool immediate = isa::is_immediate(d.operands[0].type);
    if (!immediate && d.operands[0].type != isa::OperandType::kRegr &&
        d.operands[0].type != isa::OperandType::kRegp) {
      return false;
    }
    if (bits == 32 && (op.a == 11 || (!immediate && op.b == 11))) return false;
    const auto imm = static_cast<uint32_t>(op.imm);
    const bool carry_in = kind == AluOp::kAddCarry || kind == AluOp::kSubCarry;
    const bool sets_carry = kind == AluOp::kAdd || kind == AluOp::kSub || carry_in;
    const uint16_t live = flags_live_after_[current_index_];
    const bool flags_needed = kind == AluOp::kCompare
                                  ? (live & (psr::kZ | psr::kN | psr::kL)) != 0
                                  : sets_carry && (live & (psr::kC | psr::kF)) != 0;
    // Operands first (the cache may emit loads and write-backs): the source
    // copied to ecx, so that taking the destination cannot disturb it.
    if (!immediate) {
      copy(ecx, bits == 32 ? cache_.read_pair(op.b) : cache_.read(op.b, ecx));
    }
    // CFG.SR set: r12..ra are short pairs, the handler's. Checked before the
    // destination is taken (a destination to be overwritten holds nothing
    // the slow path may write back yet).
    SlowPath* long_path = nullptr;
    if (bits == 32 && ((op.a >= 12 && op.a < 15) || (!immediate && op.b >= 12 && op.b < 15))) {
      long_path = &new_slow_path(op, stop);
      check_long_pair(14, long_path->entry);
    }
    Xbyak::Reg32 destination;
    if (kind == AluOp::kCompare) {
      destination = bits == 32 ? cache_.read_pair(op.a) : cache_.read(op.a, edx);
    } else if (bits == 32) {
      destination = kind == AluOp::kMov ? cache_.overwrite_pair(op.a) : cache_.modify_pair(op.a);
    } else {
      destination = cache_.modify(op.a);
    }
    const Xbyak::Reg32 psr =
        flags_needed || carry_in ? cache_.modify_psr() : Xbyak::Reg32(Xbyak::util::eax);
    if (carry_in) bt(psr, 0);  // CF := PSR.C
    const Xbyak::Reg target = sized(destination, bits);
    if (immediate) {
      apply(kind, target, narrow_immediate(kind, imm, bits));
    } else {
      apply(kind, target, sized(ecx, bits));
    }
    if (flags_needed) {
      if (kind == AluOp::kCompare) {
        set_compare_flags(psr);
      } else {
        set_carry_overflow_flags(psr);
      }
    }
    if (long_path) resume(*long_path);
    return true;
  }

  // ---- Shifts by an immediate count (no flags).

  bool emit_shift(const isa::Decoded& d, const Op& op) {
    using isa::Mnemonic;
    using namespace Xbyak::util;
    bool arithmetic;
    unsigned bits;
    switch (d.mnemonic) {
      case Mnemonic::kAshub:
        arithmetic = true;
        bits = 8;
        break;
      case Mnemonic::kAshuw:
        arithmetic = true;
        bits = 16;
        break;
      case Mnemonic::kAshud:
        arithmetic = true;
        bits = 32;
        break;
      case Mnemonic::kLshb:
        arithmetic = false;
        bits = 8;
        break;
      case Mnemonic::kLshw:
        arithmetic = false;
        bits = 16;
        break;
      case Mnemonic::kLshd:
        arithmetic = false;
        bits = 32;
        break;
      default:
        return false;
    }
    if (d.operand_count != 2 || !isa::is_immediate(d.operands[0].type)) return false;
    if (d.operands[1].type != isa::OperandType::kRegr &&
        d.operands[1].type != isa::OperandType::kRegp) {
      return false;
    }
    if (bits == 32 && op.a >= 11) return false;
    const int32_t count = op.imm;
    const auto width = static_cast<int32_t>(bits);
    const bool zero = count >= width || (!arithmetic && -count >= width);
    const int amount = count >= 0 ? count : (-count >= width ? width - 1 : -count);
    const Xbyak::Reg32 value = bits == 32 ? cache_.modify_pair(op.a) : cache_.modify(op.a);
    const Xbyak::Reg target = sized(value, bits);
    if (zero) {
      mov(target, 0);
    } else {
      shift_by(target, count, amount, arithmetic);
    }
    return true;
  }

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

  bool emit_extend(const isa::Decoded& d, const Op& op) {
    using isa::Mnemonic;
    using namespace Xbyak::util;
    const Mnemonic m = d.mnemonic;
    if (m != Mnemonic::kMovxb && m != Mnemonic::kMovzb && m != Mnemonic::kMovxw &&
        m != Mnemonic::kMovzw) {
      return false;
    }
    if (d.operand_count != 2 || isa::is_immediate(d.operands[0].type)) return false;
    const bool byte_source = m == Mnemonic::kMovxb || m == Mnemonic::kMovzb;
    if (!byte_source && op.a >= 11) return false;
    const bool sign = m == Mnemonic::kMovxb || m == Mnemonic::kMovxw;
    const Xbyak::Reg source = sized(cache_.read(op.b, ecx), byte_source ? 8 : 16);
    if (sign) {
      movsx(edx, source);
    } else {
      movzx(edx, source);
    }
    if (byte_source) {
      mov(cache_.modify(op.a).cvt16(), dx);
    } else {
      mov(cache_.overwrite_pair(op.a), edx);
    }
    return true;
  }

  // ---- Loads and stores through the bus's host-pointer page table.

  /// loadb/w/d and storb/w/d in every addressing mode whose base is a plain
  /// register, a pair 0..10 or r12/r13 (index): the page's host pointer
  /// (Bus::read_page / write_page, the interpreter's fast path) when the
  /// access lies inside one page that has one; otherwise (MMIO, unmapped,
  /// code pages, dirty logging, watchpoints, beyond 24 bits) the slow path
  /// runs the instruction in its handler.
  bool emit_memory(const isa::Decoded& d, const Op& op, const Op& stop) {
    using namespace Xbyak::util;
    exec::LoadStoreForm form;
    if (!exec::load_store_form(d, &form)) return false;
    const unsigned bits = form.bits;
    const bool is_load = form.is_load;
    const isa::Operand& memory = *form.memory;
    const isa::Operand& data = *form.data;
    exec::AddressMode mode;
    Op scratch;
    if (!exec::memory_operand(memory, &mode, scratch)) return false;
    const bool pair_base =
        mode == exec::AddressMode::kPairBase || mode == exec::AddressMode::kIndexPair;
    if (pair_base && op.b == 11) return false;
    const bool register_data =
        data.type == isa::OperandType::kRegr || data.type == isa::OperandType::kRegp;
    if (!is_load && !register_data && bits == 32) return false;
    const bool pair_data = bits == 32 && (is_load || register_data);
    if (pair_data && op.a == 11) return false;

    // The address in eax (the cache's loads and write-backs leave it alone).
    const auto disp = static_cast<uint32_t>(op.imm);
    switch (mode) {
      case exec::AddressMode::kAbsolute:
        mov(eax, disp);
        break;
      case exec::AddressMode::kRegisterBase:
        copy(eax, cache_.read(op.b, eax));
        break;
      case exec::AddressMode::kPairBase:
        copy(eax, cache_.read_pair(op.b));
        break;
      case exec::AddressMode::kIndexAbsolute:
        copy(eax, cache_.read(op.c, eax));
        break;
      case exec::AddressMode::kIndexPair:
        copy(eax, cache_.read_pair(op.b));
        add(eax, cache_.read(op.c, ecx));
        break;
    }
    if (mode != exec::AddressMode::kAbsolute && disp != 0) add(eax, disp);
    // A store's data: a host register (r8d, the cache's own, holds a pair
    // half copied out; nothing uses the cache until the store).
    Xbyak::Reg32 value;
    if (!is_load && register_data)
      value = pair_data ? cache_.read_pair(op.a) : cache_.read(op.a, r8d);

    SlowPath& path = new_slow_path(op, stop);
    // r12..sp as base or data pair: whole, unless CFG.SR (then the handler).
    if ((pair_base && op.b >= 12 && op.b < 15) || (pair_data && op.a >= 12 && op.a < 15)) {
      check_long_pair(14, path.entry);
    }
    const unsigned bytes = bits / 8;
    // An aligned access never straddles two pages (a misaligned one, rare in
    // compiled code, takes the slow path even inside one page).
    if (bytes > 1) {
      test(al, bytes - 1);
      jnz(path.entry, T_NEAR);
    }
    cmp(eax, kAddressMask);
    ja(path.entry, T_NEAR);
    mov(edx, eax);
    shr(edx, kPageBits);
    mov(rcx, qword[(is_load ? r13 : r14) + rdx * 8]);
    test(rcx, rcx);
    jz(path.entry, T_NEAR);
    and_(eax, kPageSize - 1);
    if (is_load) {
      if (bits == 8) {
        mov(cache_.modify(op.a).cvt8(), byte[rcx + rax]);
      } else if (bits == 16) {
        mov(cache_.modify(op.a).cvt16(), word[rcx + rax]);
      } else {
        mov(cache_.overwrite_pair(op.a), dword[rcx + rax]);
      }
    } else if (!register_data) {
      const auto stored = static_cast<uint32_t>(op.imm2);
      if (bits == 8) {
        mov(byte[rcx + rax], stored & 0xFFu);
      } else {
        mov(word[rcx + rax], stored & 0xFFFFu);
      }
    } else if (bits == 8) {
      mov(byte[rcx + rax], value.cvt8());
    } else if (bits == 16) {
      mov(word[rcx + rax], value.cvt16());
    } else {
      mov(dword[rcx + rax], value);
    }
    resume(path);
    return true;
  }

  // ---- Multiplies (no flags).

  /// mulb/mulw (register or immediate source): the low byte/half of r[a]
  /// := the low bits of the product (the rest of r[a] stays);
  /// muluw/mulsw into a plain pair (codes 0..10): pair := zero/sign-extended
  /// r[b] (16 bits) * the pair's low word. The low bits of a product do not
  /// depend on how the operands are extended, so imul serves mulb/mulw.
  bool emit_multiply(const isa::Decoded& d, const Op& op) {
    using isa::Mnemonic;
    using namespace Xbyak::util;
    const bool is_byte = d.mnemonic == Mnemonic::kMulb;
    if (is_byte || d.mnemonic == Mnemonic::kMulw) {
      if (d.operand_count != 2) return false;
      if (d.operands[1].type != isa::OperandType::kRegr) return false;
      const bool immediate = isa::is_immediate(d.operands[0].type);
      if (!immediate && d.operands[0].type != isa::OperandType::kRegr) return false;
      const unsigned bits = is_byte ? 8 : 16;
      if (!immediate) movzx(ecx, sized(cache_.read(op.b, ecx), bits));
      const Xbyak::Reg32 target = cache_.modify(op.a);
      movzx(eax, sized(target, bits));
      if (immediate) {
        imul(eax, eax, static_cast<int32_t>(static_cast<uint32_t>(op.imm) & 0xFFFFu));
      } else {
        imul(eax, ecx);
      }
      mov(sized(target, bits), sized(eax, bits));
      return true;
    }
    const bool is_unsigned = d.mnemonic == Mnemonic::kMuluw;
    if (!is_unsigned && d.mnemonic != Mnemonic::kMulsw) return false;
    if (d.operand_count != 2 || op.a >= 11) return false;
    if (d.operands[0].type != isa::OperandType::kRegr) return false;
    const Xbyak::Reg16 source = cache_.read(op.b, ecx).cvt16();
    if (is_unsigned) {
      movzx(eax, source);
    } else {
      movsx(eax, source);
    }
    const Xbyak::Reg32 pair = cache_.modify_pair(op.a);
    if (is_unsigned) {
      movzx(ecx, pair.cvt16());
    } else {
      movsx(ecx, pair.cvt16());
    }
    imul(eax, ecx);
    mov(pair, eax);
    return true;
  }

  // ---- push, pop, popret.

  /// push/pop/popret when the whole stack range is in one page with a host
  /// pointer (the usual case: RAM); otherwise the slow path runs the
  /// instruction in its handler (nothing has changed by then). The register
  /// layout (op.a first, op.imm words, op.b = RA on top) is unrolled here as
  /// the handler's loop walks it.
  bool emit_stack(const isa::Decoded& d, const Op& op, const Op& stop) {
    using isa::Mnemonic;
    using namespace Xbyak::util;
    const bool is_push = d.mnemonic == Mnemonic::kPush;
    const bool is_popret = d.mnemonic == Mnemonic::kPopret;
    if (!is_push && !is_popret && d.mnemonic != Mnemonic::kPop) return false;
    const auto count = static_cast<uint32_t>(op.imm);
    if (count > 16) return false;
    const bool with_ra = op.b != 0;
    const uint32_t total = 2 * count + (with_ra ? 4u : 0u);
    if (total == 0 || total > 64) return false;
    struct Slot {
      unsigned reg;
      uint32_t offset;
      bool dword;
    };
    Slot slots[16];
    unsigned slot_count = 0;
    {
      uint32_t offset = 0;
      uint32_t remaining = count;
      for (unsigned reg = op.a; remaining > 0 && reg <= 15; ++reg) {
        const bool dword = !(reg < 12 || remaining == 1);
        slots[slot_count++] = Slot{reg, offset, dword};
        offset += dword ? 4 : 2;
        remaining -= dword ? 2 : 1;
      }
    }
    copy(eax, cache_.read(kRegSp, eax));
    SlowPath& path = new_slow_path(op, stop);
    if (is_push) sub(eax, total);
    cmp(eax, kAddressMask);
    ja(path.entry, T_NEAR);
    mov(edx, eax);
    shr(edx, kPageBits);
    mov(ecx, eax);
    and_(ecx, kPageSize - 1);
    cmp(ecx, kPageSize - total);
    ja(path.entry, T_NEAR);
    mov(rdx, qword[(is_push ? r14 : r13) + rdx * 8]);
    test(rdx, rdx);
    jz(path.entry, T_NEAR);
    add(rdx, rcx);
    // From here on the cache may load and write back (through r8 only):
    // rax (the new SP) and rdx (the host address) stay.
    bool sp_loaded = false;
    for (unsigned i = 0; i < slot_count; ++i) {
      const Slot& slot = slots[i];
      if (is_push) {
        const Xbyak::Reg32 value = cache_.read(slot.reg, r8d);
        if (slot.dword) {
          mov(dword[rdx + slot.offset], value);
        } else {
          mov(word[rdx + slot.offset], value.cvt16());
        }
      } else if (slot.dword) {
        mov(cache_.overwrite(slot.reg), dword[rdx + slot.offset]);
      } else if (slot.reg < 12) {
        movzx(cache_.overwrite(slot.reg), word[rdx + slot.offset]);
      } else {
        mov(cache_.modify(slot.reg).cvt16(), word[rdx + slot.offset]);  // the upper half stays
      }
      if (slot.reg == kRegSp) sp_loaded = true;
    }
    if (with_ra) {
      if (is_push) {
        mov(dword[rdx + 2 * count], cache_.read(kRegRa, r8d));
      } else {
        mov(cache_.overwrite(kRegRa), dword[rdx + 2 * count]);
      }
    }
    if (is_push) {
      mov(cache_.overwrite(kRegSp), eax);
    } else if (!sp_loaded) {
      add(eax, total);
      mov(cache_.overwrite(kRegSp), eax);
    }
    if (is_popret) {
      copy(ecx, cache_.read(kRegRa, ecx));
      shl(ecx, 1);
      and_(ecx, exec::kPcMask);
      cache_.store_all();
      exit_to_ecx();
    }
    resume(path);
    return true;
  }

  // ---- bal, jal, jump: the link and the PC, then the block's exit.

  void write_link(unsigned code, uint32_t link) { mov(cache_.overwrite_pair(code), link); }

  bool emit_call_jump(const isa::Decoded& d, const Op& op, const Op& stop,
                      const Xbyak::Label& exit) {
    using isa::Mnemonic;
    using namespace Xbyak::util;
    (void)exit;
    const uint32_t link = ((op.pc + op.size) & kAddressMask) >> 1;
    const bool is_bal = d.mnemonic == Mnemonic::kBal;
    const bool is_jal = d.mnemonic == Mnemonic::kJal;
    const bool is_jump = d.mnemonic == Mnemonic::kJump && d.operand_count == 1;
    if (!is_bal && !is_jal && !is_jump) return false;
    const bool links = is_bal || is_jal;
    if (links && op.a == 11) return false;
    if (!is_bal && op.b == 11) return false;
    const bool long_link = links && op.a >= 12 && op.a < 15;
    const bool long_target = !is_bal && op.b >= 12 && op.b < 15;
    if (!is_bal) copy(ecx, cache_.read_pair(op.b));
    SlowPath* path = nullptr;
    if (long_link || long_target) {
      path = &new_slow_path(op, stop);
      check_long_pair(14, path->entry);  // any of 12..14: CFG.SR is the test
    }
    if (links) write_link(op.a, link);
    cache_.store_all();
    if (is_bal) {
      exit_to_constant(static_cast<uint32_t>(op.imm));
    } else {
      shl(ecx, 1);
      and_(ecx, exec::kPcMask);
      exit_to_ecx();
    }
    if (path) resume(*path);
    return true;
  }

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
  uint64_t native_instructions_ = 0;
  /// A handler call or slow path comes before the current point of the
  /// block (handler_ran may be set there).
  bool handler_may_have_run_ = false;
  std::vector<ExitSite> exit_sites_;
  std::deque<SideExit> side_exits_;  // stable addresses for their labels
  const Block* current_block_ = nullptr;
  uint32_t block_pc_ = 0;
  bool loops_allowed_ = true;
  uint64_t loops_ = 0;
  /// The cache's state at the back edge of the first emission (set when
  /// the last instruction branches to the block's start).
  std::optional<RegisterCache::State> back_edge_state_;
  /// Second emission of a loop: the values loaded before the head.
  std::optional<RegisterCache::State> loop_state_;
  Xbyak::Label* loop_head_ = nullptr;
  RegisterCache cache_{*this};
};

unsigned JitEngine::default_translate_after() {
  const char* text = std::getenv("CR16_JIT_TRANSLATE_AFTER");
  if (text == nullptr || *text == 0) return kDefaultTranslateAfter;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (*end != 0 || value > 255) return kDefaultTranslateAfter;
  return static_cast<unsigned>(value);
}

JitEngine::JitEngine(Cpu& cpu, size_t code_cache_bytes, unsigned translate_after)
    : Interpreter(cpu),
      dispatch_(std::make_unique<DispatchEntry[]>(kDispatchSlots)),
      heat_(std::make_unique<uint8_t[]>(kHeatSlots)),
      translate_after_(std::min(translate_after, 255u)),
      emitter_(std::make_unique<CodeEmitter>(code_cache_bytes, bus_.read_page.data(),
                                             bus_.write_page.data(), dispatch_.get(),
                                             kDispatchSlots - 1)) {}

JitEngine::~JitEngine() = default;

void JitEngine::invalidate_page(uint32_t page_index) {
  Interpreter::invalidate_page(page_index);
  blocks_.invalidate_page(page_index);
  clear_dispatch();
  clear_heat();
}

void JitEngine::clear_heat() {
  std::fill_n(heat_.get(), kHeatSlots, uint8_t{0});
}

void JitEngine::clear_dispatch() {
  for (uint32_t i = 0; i < kDispatchSlots; ++i) dispatch_[i] = DispatchEntry{};
  // Direct jumps went to translations that may be gone: back to lookups.
  for (const LinkSite& site : linked_) {
    emitter_->set_exit_jump(site.jump, nullptr);
    unlinked_[site.target].push_back(site.jump);
  }
  linked_.clear();
}

void JitEngine::link(uint32_t target, const void* code) {
  const auto waiting = unlinked_.find(target);
  if (waiting == unlinked_.end()) return;
  for (uint8_t* jump : waiting->second) {
    emitter_->set_exit_jump(jump, code);
    linked_.push_back(LinkSite{jump, target});
  }
  unlinked_.erase(waiting);
}

void JitEngine::publish(const Block& block) {
  if (cpu_.breakpoint_at(block.pc)) return;
  DispatchEntry& slot = dispatch_[(block.pc >> 1) & (kDispatchSlots - 1)];
  slot.pc = block.pc;
  slot.code = static_cast<const uint8_t*>(block.host_code) + chain_offset_;
  link(block.pc, slot.code);
}

void JitEngine::flush() {
  // Blocks still run by the interpreter (not yet translated) count too.
  const bool interpreted_blocks = cache_.block_count() != 0;
  const uint64_t flushes = code_flushes_;
  Interpreter::flush();
  drop_translations();
  clear_heat();
  if (interpreted_blocks && code_flushes_ == flushes) ++code_flushes_;
}

void JitEngine::drop_translations() {
  // Safe from inside a running translation (an instruction that ends its
  // block, e.g. a CFG.SR change): the code and Ops are only overwritten by
  // the next translation, which run() makes after the current block left.
  // Only a cache that held something counts as flushed (a reset or a new
  // engine flushes an empty one).
  if (emitter_->used() != 0 || blocks_.block_count() != 0) ++code_flushes_;
  blocks_.flush();
  linked_.clear();
  unlinked_.clear();
  clear_dispatch();
  emitter_->clear();
}

EngineStatistics JitEngine::statistics() const {
  EngineStatistics statistics = Interpreter::statistics();
  statistics.translations += blocks_.translations();
  statistics.invalidations += blocks_.invalidations();
  statistics.flushes = code_flushes_;
  // Translations and the blocks the interpreter runs until they are hot.
  statistics.cached_blocks = blocks_.block_count() + statistics.cached_blocks;
  statistics.code_cache_bytes = emitter_->capacity();
  statistics.code_cache_used = emitter_->used();
  return statistics;
}

Block* JitEngine::translation_at(uint32_t pc) {
  if (Block* block = blocks_.find(pc)) return block;
  if (blocks_.full() || !emitter_->fits(kMaxTranslationBytes)) drop_translations();
  return translate_block(pc);
}

bool JitEngine::is_conditional_branch(const isa::Decoded& decoded, const Op& op) {
  using isa::Mnemonic;
  switch (decoded.mnemonic) {
    case Mnemonic::kBeq0b:
    case Mnemonic::kBne0b:
    case Mnemonic::kBeq0w:
    case Mnemonic::kBne0w:
      return true;
    case Mnemonic::kB:
      return decoded.operand_count == 2 && (op.a & 15u) < 14;
    default:
      return false;
  }
}

uint32_t JitEngine::branch_target(const Op& op) {
  return static_cast<uint32_t>(op.imm) & kAddressMask;
}

Block* JitEngine::translate_block(uint32_t pc) {
  Block* block = blocks_.begin(pc);
  uint32_t interpreter_end = 0;  // instructions up to its first conditional branch
  const BlockExtent extent =
      scan_block(cpu_, pc, kMaxBlockInstructions,
                 [&](const isa::Decoded& decoded, uint32_t address, uint32_t index) {
                   Op& op = block->ops[2 * index];
                   bool ends = exec::predecode_instruction(decoded, address, &op);
                   // A conditional branch that is not a back edge to the block's start
                   // ends the interpreter's block; the translation looks further, for a
                   // loop (a later branch back to the start) with this one as side exit.
                   if (ends && is_conditional_branch(decoded, op) && branch_target(op) != pc) {
                     if (interpreter_end == 0) interpreter_end = index + 1;
                     ends = false;
                   }
                   Op& stop = block->ops[2 * index + 1];
                   stop = Op{};
                   stop.handler = &return_to_translation;
                   stop.pc = address + op.size;
                   return !ends;
                 });
  uint32_t count = extent.count;
  uint32_t address = extent.end;
  if (count == 0) {
    cpu_.raise_fetch_fault(pc);
    return nullptr;
  }
  block->first_page = pc >> kPageBits;
  block->last_page = (address - 1) >> kPageBits;
  // No loop found: the block ends where the interpreter's does.
  if (interpreter_end != 0 && interpreter_end < count) {
    const Op& last = block->ops[2 * (count - 1)];
    const isa::Decoded decoded = isa::decode(last.words[0], last.words[1], last.words[2]);
    const bool loops_back =
        decoded.valid() && decoded.mnemonic == isa::Mnemonic::kB && branch_target(last) == pc;
    if (!loops_back) {
      count = interpreter_end;
      const Op& end = block->ops[2 * (count - 1)];
      address = end.pc + end.size;
      block->last_page = (address - 1) >> kPageBits;
    }
  }
  block->instruction_count = count;
  block->end_pc = address;
  bus_.watch_code_page(block->first_page);
  if (block->last_page != block->first_page) bus_.watch_code_page(block->last_page);
  const uint8_t* code = nullptr;
  size_t code_bytes = 0;
  try {
    emitter_->set_loops_allowed(!cpu_.breakpoint_at(pc));
    const CodeEmitter::Entries entries = emitter_->emit(*block);
    code = entries.from_run;
    code_bytes = entries.bytes;
    chain_offset_ = static_cast<size_t>(entries.from_chain - entries.from_run);
  } catch (const Xbyak::Error& error) {
    // Our bug, never the guest's: log it and let the interpreter run this
    // stretch (run() sees emit_failed_). The partly written buffer goes.
    log_printf(LogCategory::kUnimp, "jit: cannot emit block 0x%06x (%s); interpreting it", pc,
               error.what());
    emitter_->abandon();
    drop_translations();
    emit_failed_ = true;
    return nullptr;
  }
  blocks_.commit(block, 2 * size_t{count});
  block->host_code = code;
  // Its direct exits wait for their targets' translations; those already
  // published are linked at once.
  for (const CodeEmitter::ExitSite& site : emitter_->exit_sites()) {
    unlinked_[site.target].push_back(site.jump);
    const DispatchEntry& slot = dispatch_[(site.target >> 1) & (kDispatchSlots - 1)];
    if (slot.pc == site.target) link(site.target, slot.code);
  }
  publish(*block);
  if (log_enabled(LogCategory::kInAsm) || log_enabled(LogCategory::kOutAsm)) {
    trace_translation_jit(*block, code, code_bytes);
  }
  return block;
}

void JitEngine::trace_translation_jit(const Block& block, const uint8_t* code, size_t size) {
  if (log_enabled(LogCategory::kInAsm)) {
    log_printf(LogCategory::kInAsm, "IN: block 0x%06x (%u instructions)", block.pc,
               block.instruction_count);
    for (uint32_t i = 0; i < block.instruction_count; ++i) {
      const Op& op = block.ops[2 * i];
      const isa::Decoded decoded = isa::decode(op.words[0], op.words[1], op.words[2]);
      log_printf(LogCategory::kInAsm, "0x%06x:  %s", op.pc, disassemble(decoded, op.pc).c_str());
    }
  }
  if (log_enabled(LogCategory::kOutAsm)) {
    log_printf(LogCategory::kOutAsm, "OUT: [guest 0x%06x] %zu bytes at %p", block.pc, size,
               static_cast<const void*>(code));
    for (const std::string& line : disassemble_host_code(code, size)) {
      log_printf(LogCategory::kOutAsm, "  %s", line.c_str());
    }
  }
}

void JitEngine::run(uint64_t until) {
  CpuState& s = cpu_.state();
  if (s.icount >= until) return;
  if ((s.psr & (psr::kT | psr::kP)) || cpu_.breakpoint_at(s.pc)) [[unlikely]] {
    step_one();
    return;
  }
  Block* block = blocks_.find(s.pc);
  if (block == nullptr) {
    if (heat(s.pc) < translate_after_) {
      interpret_cold_block(until);
      return;
    }
    block = translation_at(s.pc);
  }
  if (!block && emit_failed_) [[unlikely]] {
    emit_failed_ = false;
    Interpreter::run(until);
    return;
  }
  if (!block) [[unlikely]] {
    ++s.icount;  // the fetch fault counts as a step
    return;
  }
  if (block->instruction_count > until - s.icount) [[unlikely]] {
    step_one();
    return;
  }
  const bool tracing = log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu);
#if CR16_DISPATCH_TRAMPOLINE
  depth_left_ = UINT_MAX;  // each handler dispatches once (to its stop Op)
#endif
  // Translations enter each other directly (through the dispatch table)
  // while nothing needs this loop: only handlers change what
  // needs_run_loop() and halted() look at (every device access is a handler
  // call), so an exit asks the core only after one with side effects ran;
  // the budget allows the next block (checked on its entry), within
  // kMaxChain direct entries; never when tracing, and never into a block at
  // a breakpoint (publish() leaves those out of the table). Between such
  // runs, this loop continues as the interpreter chains: the same condition
  // and bound.
  const bool direct = !tracing;
  context_.until = until;
  for (unsigned chained = 0;; ++chained) {
    if (tracing) [[unlikely]]
      trace_block(*block);
    // One bound for the blocks entered here and those entered directly.
    const uint32_t chain_budget = direct ? kMaxChain - chained : 0;
    context_.handler_ran = 0;
    context_.handler_left = 0;
    context_.chain_left = chain_budget;
    reinterpret_cast<TranslatedBlock>(const_cast<void*>(block->host_code))(&cpu_, &s, &context_);
    if (context_.chain_left < chain_budget) chained += chain_budget - context_.chain_left;
    if (unretired_) [[unlikely]] {
      --s.icount;
      unretired_ = false;
      return;
    }
    // A handler that left its block returns to the core, as the
    // interpreter's do (what it changed may concern the core beyond
    // needs_run_loop(): a stop requested from an SVC hook, say).
    if (context_.handler_left || tracing || chained >= kMaxChain || cpu_.needs_run_loop() ||
        cpu_.halted() || cpu_.breakpoint_at(s.pc)) {
      return;
    }
    block = blocks_.find(s.pc);
    if (block == nullptr || block->instruction_count > until - s.icount) return;
    publish(*block);
  }
}

void JitEngine::interpret_cold_block(uint64_t until) {
  CpuState& s = cpu_.state();
  Block* block = block_at(cache_, s.pc);
  if (!block) [[unlikely]] {
    ++s.icount;  // the fetch fault counts as a step
    return;
  }
  if (block->instruction_count > until - s.icount) {
    step_one();
    return;
  }
  ++heat(s.pc);
  if (log_enabled(LogCategory::kExec) || log_enabled(LogCategory::kCpu)) [[unlikely]]
    trace_block(*block);
  // One block, back to the core after it (Interpreter::chain sees no
  // budget): each block entered is counted, and whatever its last
  // instruction asks of the core is seen as under the interpreter.
  chain_budget_ = 0;
  until_ = until;
  enter_block(s, block);
  settle(s, execute(block->ops));
}

}  // namespace cr16::jit
