// The JIT's code cache, translation and run loop (see jit_engine.h and
// docs/jit.md).
#include "cpu/jit/jit_engine.h"

#include <xbyak/xbyak.h>
#include <climits>
#include <cstddef>

#include "cpu/decode.h"
#include "cpu/disas.h"
#include "cpu/exec.h"
#include "cpu/jit/host_disassembly.h"
#include "util/log.h"

namespace cr16::jit {

namespace {

/// Worst-case host bytes per guest instruction (the call sequence and its
/// exit stub; measured ~50) and per block (prologue, epilogue).
constexpr size_t kMaxBytesPerInstruction = 96;
constexpr size_t kMaxBytesPerBlockFrame = 64;
constexpr size_t kMaxBlockBytes =
    JitEngine::kMaxBlockInstructions * kMaxBytesPerInstruction + kMaxBytesPerBlockFrame;

/// The Op after each instruction in a translation: the handler's threaded
/// dispatch lands here and it returns itself, telling the generated code that
/// the instruction continued (did not leave the block).
const Op* return_to_translation(Cpu&, const Op* op) {
  return op;
}

/// A translation: returns 0 when the block ran to its end (PC is then the
/// block's end), else 1 + the index of the instruction that left the block
/// (it set the PC). `state` is cpu->state(), for the native code.
using TranslatedBlock = uint32_t (*)(Cpu* cpu, CpuState* state);

/// Byte offset of guest register r[index] in CpuState.
constexpr uint32_t register_offset(unsigned index) {
  return static_cast<uint32_t>(offsetof(CpuState, r) + 4 * index);
}

}  // namespace

/// The host code buffer and the emitter writing into it. Memory is RW while
/// a block is emitted and RX otherwise (never both: W^X).
class CodeEmitter : public Xbyak::CodeGenerator {
 public:
  explicit CodeEmitter(size_t bytes)
      : Xbyak::CodeGenerator(bytes, Xbyak::DontSetProtectRWE), capacity_(bytes) {
    setProtectModeRE();
  }
  ~CodeEmitter() override { setProtectModeRW(false); }

  size_t capacity() const { return capacity_; }
  size_t used() const { return getSize(); }
  bool fits(size_t bytes) const { return used() + bytes <= capacity(); }
  /// Forgets every block (the memory is reused by the next ones).
  void clear() { reset(); }
  /// After an emission error: back to RX (the caller then drops everything).
  void abandon() { setProtectModeRE(false); }

  /// Emits `block` (its Ops in instruction/stop pairs) and returns its entry.
  const uint8_t* emit(const Block& block) {
    setProtectModeRW();
    const uint8_t* entry = getCurr();
    using namespace Xbyak::util;
    // System V: rdi = Cpu*, rsi = CpuState*. rbx and r12 keep them across
    // the calls; the pushes and the sub keep rsp 16-byte aligned at each call.
    push(rbx);
    push(r12);
    sub(rsp, 8);
    mov(rbx, rdi);
    mov(r12, rsi);
    Xbyak::Label epilogue;
    std::vector<Xbyak::Label> exits(block.instruction_count);
    for (uint32_t i = 0; i < block.instruction_count; ++i) {
      const Op& op = block.ops[2 * i];
      const Op& stop = block.ops[2 * i + 1];
      if (emit_branch(op, exits[i]) || emit_native(op)) {
        ++native_instructions_;
        continue;
      }
      mov(rdi, rbx);
      mov(rsi, reinterpret_cast<uint64_t>(&op));
      mov(rax, reinterpret_cast<uint64_t>(op.handler));
      call(rax);
      mov(rcx, reinterpret_cast<uint64_t>(&stop));
      cmp(rax, rcx);
      jne(exits[i], T_NEAR);
    }
    xor_(eax, eax);
    jmp(epilogue, T_NEAR);
    for (uint32_t i = 0; i < block.instruction_count; ++i) {
      L(exits[i]);
      mov(eax, i + 1);
      jmp(epilogue, T_NEAR);
    }
    L(epilogue);
    add(rsp, 8);
    pop(r12);
    pop(rbx);
    ret();
    setProtectModeRE();
    return entry;
  }

  /// Guest instructions translated to native code so far (the rest are
  /// calls into the interpreter's handlers).
  uint64_t native_instructions() const { return native_instructions_; }

 private:
  /// The two-operand register/immediate forms this stage translates natively:
  /// moves, the logic operations and ADDU (none changes a flag).
  enum class NativeOp : uint8_t { kMov, kAnd, kOr, kXor, kAddUnsigned };

  static bool native_form(isa::Mnemonic mnemonic, NativeOp* kind, unsigned* bits) {
    using isa::Mnemonic;
    switch (mnemonic) {
      case Mnemonic::kMovb:
        *kind = NativeOp::kMov;
        *bits = 8;
        return true;
      case Mnemonic::kMovw:
        *kind = NativeOp::kMov;
        *bits = 16;
        return true;
      case Mnemonic::kMovd:
        *kind = NativeOp::kMov;
        *bits = 32;
        return true;
      case Mnemonic::kAndb:
        *kind = NativeOp::kAnd;
        *bits = 8;
        return true;
      case Mnemonic::kAndw:
        *kind = NativeOp::kAnd;
        *bits = 16;
        return true;
      case Mnemonic::kAndd:
        *kind = NativeOp::kAnd;
        *bits = 32;
        return true;
      case Mnemonic::kOrb:
        *kind = NativeOp::kOr;
        *bits = 8;
        return true;
      case Mnemonic::kOrw:
        *kind = NativeOp::kOr;
        *bits = 16;
        return true;
      case Mnemonic::kOrd:
        *kind = NativeOp::kOr;
        *bits = 32;
        return true;
      case Mnemonic::kXorb:
        *kind = NativeOp::kXor;
        *bits = 8;
        return true;
      case Mnemonic::kXorw:
        *kind = NativeOp::kXor;
        *bits = 16;
        return true;
      case Mnemonic::kXord:
        *kind = NativeOp::kXor;
        *bits = 32;
        return true;
      case Mnemonic::kAddub:
        *kind = NativeOp::kAddUnsigned;
        *bits = 8;
        return true;
      case Mnemonic::kAdduw:
        *kind = NativeOp::kAddUnsigned;
        *bits = 16;
        return true;
      default:
        return false;
    }
  }

  /// `kind` of `source` into `destination` (a memory operand or a register
  /// of the same width).
  template <typename Destination, typename Source>
  void apply(NativeOp kind, const Destination& destination, const Source& source) {
    switch (kind) {
      case NativeOp::kMov:
        mov(destination, source);
        break;
      case NativeOp::kAnd:
        and_(destination, source);
        break;
      case NativeOp::kOr:
        or_(destination, source);
        break;
      case NativeOp::kXor:
        xor_(destination, source);
        break;
      case NativeOp::kAddUnsigned:
        add(destination, source);
        break;
    }
  }

  /// Native code for Bcond/BR (entry kB): PC := target when the condition
  /// holds on PSR, else the next instruction; then the block's exit for this
  /// instruction (the interpreter's branch leaves the block the same way).
  bool emit_branch(const Op& op, const Xbyak::Label& exit) {
    using namespace Xbyak::util;
    if (op.handler == &exec::op_undefined) return false;
    const isa::Decoded d = isa::decode(op.words[0], op.words[1], op.words[2]);
    if (!d.valid() || d.mnemonic != isa::Mnemonic::kB || d.operand_count != 2) return false;
    const uint32_t target = static_cast<uint32_t>(op.imm) & kAddressMask;
    const uint32_t next = (op.pc + op.size) & kAddressMask;
    const uint32_t pc_offset = offsetof(CpuState, pc);
    // (PSR bits tested, taken when any is set or when all are clear), per
    // alu::condition.
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
    const unsigned condition = op.a & 15u;
    if (condition >= 14) {
      mov(dword[r12 + pc_offset], target);
      jmp(exit, T_NEAR);
      return true;
    }
    const Test flags = kTests[condition];
    Xbyak::Label taken;
    test(word[r12 + static_cast<uint32_t>(offsetof(CpuState, psr))], flags.mask);
    if (flags.taken_if_set) {
      jnz(taken, T_NEAR);
    } else {
      jz(taken, T_NEAR);
    }
    mov(dword[r12 + pc_offset], next);
    jmp(exit, T_NEAR);
    L(taken);
    mov(dword[r12 + pc_offset], target);
    jmp(exit, T_NEAR);
    return true;
  }

  /// An 8/16-bit immediate as xbyak accepts it: zero-extended for mov,
  /// sign-extended for the ALU forms (same bits in the instruction).
  static uint32_t narrow_immediate(NativeOp kind, uint32_t imm, unsigned bits) {
    const uint32_t mask = (1u << bits) - 1;
    if (kind == NativeOp::kMov) return imm & mask;
    const uint32_t sign = 1u << (bits - 1);
    return ((imm & mask) ^ sign) - sign;
  }

  /// ecx (or `target`) := the register pair `code` (0..10) as the
  /// interpreter's fast path reads it: r[code] | r[code+1] << 16.
  void load_pair(const Xbyak::Reg32& target, unsigned code) {
    using namespace Xbyak::util;
    mov(target, dword[r12 + register_offset(code + 1)]);
    shl(target, 16);
    or_(target, dword[r12 + register_offset(code)]);
  }

  /// Native code for nop and the forms native_form() names, register or
  /// immediate source, register destination; 32-bit ones only on plain
  /// pairs (codes 0..10). False: emit the handler call instead.
  bool emit_native(const Op& op) {
    using namespace Xbyak::util;
    if (op.handler == &exec::op_undefined) return false;
    const isa::Decoded d = isa::decode(op.words[0], op.words[1], op.words[2]);
    if (!d.valid()) return false;
    if (d.mnemonic == isa::Mnemonic::kNop) return true;
    NativeOp kind;
    unsigned bits;
    if (!native_form(d.mnemonic, &kind, &bits) || d.operand_count != 2) return false;
    const bool immediate = isa::is_immediate(d.operands[0].type);
    const auto imm = static_cast<uint32_t>(op.imm);
    if (bits == 8) {  // the low byte of r[a]
      if (immediate) {
        apply(kind, byte[r12 + register_offset(op.a)], narrow_immediate(kind, imm, 8));
      } else {
        mov(al, byte[r12 + register_offset(op.b)]);
        apply(kind, byte[r12 + register_offset(op.a)], al);
      }
      return true;
    }
    if (bits == 16) {  // the low half of r[a]
      if (immediate) {
        apply(kind, word[r12 + register_offset(op.a)], narrow_immediate(kind, imm, 16));
      } else {
        mov(ax, word[r12 + register_offset(op.b)]);
        apply(kind, word[r12 + register_offset(op.a)], ax);
      }
      return true;
    }
    if (op.a >= 11 || (!immediate && op.b >= 11)) return false;
    if (immediate && kind == NativeOp::kMov) {  // two constant halves
      mov(dword[r12 + register_offset(op.a)], imm & 0xFFFFu);
      mov(dword[r12 + register_offset(op.a + 1)], imm >> 16);
      return true;
    }
    // value = pair(a) kind source; r[a] = value & 0xFFFF; r[a+1] = value >> 16
    if (immediate) {
      mov(ecx, imm);
    } else {
      load_pair(ecx, op.b);
    }
    if (kind == NativeOp::kMov) {
      mov(edx, ecx);
    } else {
      load_pair(edx, op.a);
      apply(kind, edx, ecx);
    }
    movzx(eax, dx);
    shr(edx, 16);
    mov(dword[r12 + register_offset(op.a)], eax);
    mov(dword[r12 + register_offset(op.a + 1)], edx);
    return true;
  }

  size_t capacity_;
  uint64_t native_instructions_ = 0;
};

JitEngine::JitEngine(Cpu& cpu, size_t code_cache_bytes)
    : Interpreter(cpu), emitter_(std::make_unique<CodeEmitter>(code_cache_bytes)) {}

JitEngine::~JitEngine() = default;

void JitEngine::invalidate_page(uint32_t page_index) {
  Interpreter::invalidate_page(page_index);
  blocks_.invalidate_page(page_index);
}

void JitEngine::flush() {
  Interpreter::flush();
  drop_translations();
}

void JitEngine::drop_translations() {
  // Safe from inside a running translation (an instruction that ends its
  // block, e.g. a CFG.SR change): the code and Ops are only overwritten by
  // the next translation, which run() makes after the current block left.
  blocks_.flush();
  emitter_->clear();
  ++code_flushes_;
}

EngineStatistics JitEngine::statistics() const {
  EngineStatistics statistics = Interpreter::statistics();
  statistics.translations += blocks_.translations();
  statistics.invalidations += blocks_.invalidations();
  statistics.flushes = code_flushes_;
  statistics.cached_blocks = blocks_.block_count();
  statistics.code_cache_bytes = emitter_->capacity();
  statistics.code_cache_used = emitter_->used();
  return statistics;
}

Block* JitEngine::translation_at(uint32_t pc) {
  if (Block* block = blocks_.find(pc)) return block;
  if (blocks_.full() || !emitter_->fits(kMaxBlockBytes)) drop_translations();
  return translate_block(pc);
}

Block* JitEngine::translate_block(uint32_t pc) {
  Block* block = blocks_.begin(pc);
  block->first_page = pc >> kPageBits;
  block->last_page = block->first_page;
  // As in the interpreter: with watchpoints, a block ends after each
  // memory-accessing instruction; it never runs past a breakpoint.
  const bool split_memory_instructions = cpu_.watchpoints_active();
  const auto table = isa::table();
  uint32_t address = pc;
  uint32_t count = 0;
  while (count < kMaxBlockInstructions) {
    if (count > 0 && (address >> kPageBits) != block->first_page) break;
    if (count > 0 && cpu_.breakpoint_at(address)) break;
    uint16_t words[3] = {0, 0, 0};
    if (!cpu_.fetch_word(address, &words[0])) break;
    const bool have_second = cpu_.fetch_word(address + 2, &words[1]);
    const bool have_third = have_second && cpu_.fetch_word(address + 4, &words[2]);
    const isa::Decoded decoded = isa::decode(words[0], words[1], words[2]);
    const unsigned size_words = decoded.valid() ? decoded.size_words : 1;
    if ((size_words >= 2 && !have_second) || (size_words >= 3 && !have_third)) break;

    Op& op = block->ops[2 * count];
    const bool ends = exec::predecode_instruction(decoded, address, &op);
    Op& stop = block->ops[2 * count + 1];
    stop = Op{};
    stop.handler = &return_to_translation;
    stop.pc = address + op.size;
    const bool split = split_memory_instructions && decoded.valid() &&
                       table[decoded.entry].memory_access() != isa::MemoryAccess::kNone;
    address += op.size;
    block->last_page = (address - 1) >> kPageBits;
    ++count;
    if (ends || split) break;
  }
  if (count == 0) {
    cpu_.raise_fetch_fault(pc);
    return nullptr;
  }
  block->instruction_count = count;
  block->end_pc = address;
  bus_.watch_code_page(block->first_page);
  if (block->last_page != block->first_page) bus_.watch_code_page(block->last_page);
  const uint8_t* code = nullptr;
  try {
    code = emitter_->emit(*block);
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
  if (log_enabled(LogCategory::kInAsm) || log_enabled(LogCategory::kOutAsm)) {
    trace_translation_jit(*block, code, static_cast<size_t>(emitter_->getCurr() - code));
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
  Block* block = translation_at(s.pc);
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
  // Blocks follow each other here without returning to the core's run loop
  // while nothing needs it: the same condition (and bound) as the
  // interpreter's chaining, plus wait/eiwait, which the interpreter's
  // handlers leave by returning rather than chaining.
  for (unsigned chained = 0;; ++chained) {
    if (tracing) [[unlikely]]
      trace_block(*block);
    // The interpreter's accounting: the whole block counts on entry (what a
    // device reading the instruction count mid-block sees), the
    // instructions after the one that left are given back.
    const uint32_t count = block->instruction_count;
    const uint32_t end_pc = block->end_pc;
    s.icount += count;
    const uint32_t left =
        reinterpret_cast<TranslatedBlock>(const_cast<void*>(block->host_code))(&cpu_, &s);
    uint32_t retired = count;
    if (left == 0) {
      s.pc = end_pc;
    } else {
      retired = left;
    }
    s.icount -= count - retired;
    if (unretired_) [[unlikely]] {
      --s.icount;
      unretired_ = false;
      return;
    }
    if (tracing || chained >= kMaxChain || cpu_.needs_run_loop() || cpu_.halted() ||
        cpu_.breakpoint_at(s.pc)) {
      return;
    }
    block = blocks_.find(s.pc);
    if (block == nullptr || block->instruction_count > until - s.icount) return;
  }
}

}  // namespace cr16::jit
