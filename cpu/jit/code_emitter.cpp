// The JIT emitter's block frame: entries, budget, exits, slow paths, side
// exits and loops (see code_emitter.h).
#include "cpu/jit/code_emitter.h"

#include <algorithm>

#include "cpu/exec.h"

namespace cr16::jit {

void CodeEmitter::abandon() {
  if (rw == nullptr) setProtectModeRE(false);
}

CodeEmitter::Entries CodeEmitter::emit(const Block& block) {
  // Only the pages this block may use become writable (a whole-buffer
  // mprotect per block made translation, and so booting, slow).
  const auto page_mask = ~uintptr_t{kPageBytes - 1};
  const uintptr_t writable_begin = reinterpret_cast<uintptr_t>(getCurr()) & page_mask;
  const uintptr_t buffer_end =
      (reinterpret_cast<uintptr_t>(getCode()) + capacity_ + kPageBytes - 1) & page_mask;
  const uintptr_t writable_end = std::min(
      buffer_end,
      (reinterpret_cast<uintptr_t>(getCurr()) + kMaxTranslationBytes + kPageBytes - 1) & page_mask);
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
  }
  if (rw == nullptr && !protect(writable, writable_bytes, PROTECT_RE)) {
    throw Xbyak::Error(Xbyak::ERR_CANT_PROTECT);
  }
  entries.from_run = executable(entries.from_run);
  entries.from_chain = executable(entries.from_chain);
  return entries;
}

CodeEmitter::Entries CodeEmitter::emit_block(const Block& block) {
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
    if (emit_native_instruction(op, stop)) continue;
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

const uint8_t* CodeEmitter::executable(const uint8_t* written) const {
  return rw == nullptr ? written : rx + (written - rw);
}

void CodeEmitter::set_exit_jump(uint8_t* jump, const void* destination) {
  // E9 rel32; the lookup starts right after the 5 bytes.
  const uint8_t* next = executable(jump) + 5;
  const int32_t displacement =
      destination == nullptr
          ? 0
          : static_cast<int32_t>(static_cast<const uint8_t*>(destination) - next);
  std::memcpy(jump + 1, &displacement, sizeof displacement);
}

CodeEmitter::SlowPath& CodeEmitter::new_slow_path(const Op& op, const Op& stop) {
  SlowPath& path = slow_paths_.emplace_back();
  path.op = &op;
  path.stop = &stop;
  path.index = current_index_;
  path.entry_state = cache_.state();
  if (!register_only(op)) handler_may_have_run_ = true;  // when the path is taken
  return path;
}

void CodeEmitter::resume(SlowPath& path) {
  path.resume_state = cache_.state();
  L(path.resume);
}

void CodeEmitter::emit_handler_call(const Op& op, const Op& stop, const Xbyak::Label& exit) {
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

bool CodeEmitter::quiet_flag_effect(const Op& op, uint16_t* reads, uint16_t* writes) {
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

bool CodeEmitter::register_only(const Op& op) {
  if (op.handler == &exec::op_undefined) return false;
  const isa::Decoded d = isa::decode(op.words[0], op.words[1], op.words[2]);
  if (!d.valid()) return false;
  const isa::Entry& entry = isa::table()[d.entry];
  return entry.memory_access() == isa::MemoryAccess::kNone && !entry.stack_access() &&
         !entry.privileged() && !entry.ends_block() && d.mnemonic != isa::Mnemonic::kExcp;
}

bool CodeEmitter::emit_native_instruction(const Op& op, const Op& stop) {
  if (op.handler == &exec::op_undefined) return false;
  const isa::Decoded d = isa::decode(op.words[0], op.words[1], op.words[2]);
  if (!d.valid()) return false;
  return d.mnemonic == isa::Mnemonic::kNop || emit_branch(d, op) || emit_arith(d, op, stop) ||
         emit_multiply(d, op) || emit_shift(d, op) || emit_extend(d, op) ||
         emit_memory(d, op, stop) || emit_stack(d, op, stop) || emit_set_on_condition(d, op) ||
         emit_conditional_jump(d, op, stop) || emit_call_jump(d, op, stop);
}

Xbyak::Address CodeEmitter::icount_qword() const {
  using namespace Xbyak::util;
  return qword[r12 + static_cast<uint32_t>(offsetof(CpuState, icount))];
}

void CodeEmitter::give_back(uint32_t index) {
  const uint32_t unretired = block_count_ - (index + 1);
  if (unretired != 0) sub(icount_qword(), unretired);
}

void CodeEmitter::chain_checks() {
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

void CodeEmitter::exit_to_constant(uint32_t target, bool store) {
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

void CodeEmitter::exit_to_ecx() {
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

Xbyak::Address CodeEmitter::psr_word() const {
  using namespace Xbyak::util;
  return word[r12 + static_cast<uint32_t>(offsetof(CpuState, psr))];
}

Xbyak::Address CodeEmitter::pc_dword() const {
  using namespace Xbyak::util;
  return dword[r12 + static_cast<uint32_t>(offsetof(CpuState, pc))];
}

Xbyak::Reg CodeEmitter::sized(const Xbyak::Reg32& host, unsigned bits) {
  if (bits == 8) return host.cvt8();
  if (bits == 16) return host.cvt16();
  return host;
}

void CodeEmitter::copy(const Xbyak::Reg32& target, const Xbyak::Reg32& source) {
  if (target.getIdx() != source.getIdx()) mov(target, source);
}

void CodeEmitter::check_long_pair(unsigned code, const Xbyak::Label& slow) {
  if (code >= 15) return;
  test(word[r12 + static_cast<uint32_t>(offsetof(CpuState, cfg))], cfg::kSr);
  jnz(slow, T_NEAR);
}

Xbyak::Label& CodeEmitter::new_side_exit(uint32_t target) {
  SideExit& side = side_exits_.emplace_back();
  side.target = target & kAddressMask;
  side.index = current_index_;
  side.handler_may_have_run = handler_may_have_run_;
  side.state = cache_.state();
  return side.label;
}

void CodeEmitter::continue_after_branch() {
  using namespace Xbyak::util;
  if (!handler_may_have_run_) return;
  const Op& op = current_block_->ops[2 * current_index_];
  cmp(byte[r15 + static_cast<uint32_t>(offsetof(ChainContext, handler_ran))], 0);
  jne(new_side_exit(op.pc + op.size), T_NEAR);
}

void CodeEmitter::emit_side_exits() {
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

bool CodeEmitter::back_edge(uint32_t target) {
  if (current_index_ + 1 != block_count_ || (target & kAddressMask) != block_pc_) return false;
  if (!loop_state_) {
    back_edge_state_ = cache_.state();
    return false;
  }
  return RegisterCache::same_values(cache_.state(), *loop_state_);
}

void CodeEmitter::emit_branch_exits(Xbyak::Label& taken, uint32_t next, uint32_t target,
                                    bool loop) {
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

void CodeEmitter::emit_loop_jump() {
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

}  // namespace cr16::jit
