// Internal interface between the predecoder and the instruction handlers
// (exec_*.cpp). Each group's select_* function looks at a decoded instruction
// and, when it belongs to the group, fills the Op (handler + pre-extracted
// operands) and returns true.
#pragma once

#include <cstdint>

#include "cpu/alu.h"
#include "cpu/block_cache.h"
#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/interpreter.h"

namespace cr16::exec {

using isa::Decoded;
using isa::Mnemonic;
using isa::OperandType;

bool select_arith(const Decoded& d, Op& op);       // add/addc/addu/sub/subc/cmp
bool select_logic(const Decoded& d, Op& op);       // and/or/xor
bool select_shift(const Decoded& d, Op& op);       // ashu/lsh
bool select_multiply(const Decoded& d, Op& op);    // mul*, mac*
bool select_move(const Decoded& d, Op& op);        // mov*, movx*, movz*
bool select_load_store(const Decoded& d, Op& op);  // load*/stor*
bool select_bit(const Decoded& d, Op& op);         // tbit, cbit/sbit/tbit b/w
bool select_branch(const Decoded& d, Op& op);    // b, beq0/bne0, bal, jal, Jcond, jump, jusr, Scond
bool select_stack(const Decoded& d, Op& op);     // push/pop/popret
bool select_multiple(const Decoded& d, Op& op);  // loadm/loadmp/storm/stormp
bool select_processor(const Decoded& d, Op& op);  // lpr/lprd/spr/sprd
bool select_misc(const Decoded& d, Op& op);       // excp, retx, di, ei, wait, eiwait, cinv, nop

// ---- How a handler ends. Every handler returns the last Op that retired
// (Interpreter's contract); the ones that continue do so with a tail call
// marked CR16_MUSTTAIL (see interpreter.h).

/// Continues with the next Op of the block (threaded dispatch: a tail call,
/// so a block runs as a chain of jumps without returning to the run loop).
inline const Op* next(Cpu& cpu, const Op* op) {
  ++op;
  CR16_MUSTTAIL return Interpreter::dispatch(cpu, op);
}

/// PC := target (24 bits). A handler that transfers control sets the PC,
/// then leaves with chain() or exit_to().
inline void set_pc(Cpu& cpu, uint32_t target) {
  cpu.state().pc = target & kAddressMask;
}

/// Leaves the block after `op` and continues at state().pc, chaining into
/// the next block when nothing needs the run loop (branches, jumps, calls,
/// block fall-through).
inline const Op* chain(Cpu& cpu, const Op* op) {
  CR16_MUSTTAIL return Interpreter::chain(cpu, op);
}

/// Leaves the block after `op` with PC := new_pc, back to the run loop
/// (instructions that change PSR, CFG or the run state).
inline const Op* exit_to(Cpu& cpu, const Op* op, uint32_t new_pc) {
  set_pc(cpu, new_pc);
  return op;
}

/// After a store: ends the block when the store hit translated code, so
/// self-modifying code takes effect on the very next instruction.
inline const Op* after_store(Cpu& cpu, const Op* op) {
  if (cpu.take_code_written()) [[unlikely]] {
    return exit_to(cpu, op, op->pc + op->size);
  }
  CR16_MUSTTAIL return next(cpu, op);
}

/// The instruction `op` traps (SVC, DVZ, FLG, BPT, UND): saved PC = op's PC.
inline const Op* trap(Cpu& cpu, const Op* op, uint8_t vector) {
  cpu.raise_trap(vector, op->pc);
  return op;
}

/// IAD for a faulting data access of `op` (saved PC = next instruction).
inline const Op* fault_address(Cpu& cpu, const Op* op) {
  cpu.raise_address_fault(op->pc, op->pc + op->size);
  return op;
}

/// Enters wait (sleep until an interrupt); PC := next instruction.
inline const Op* enter_wait(Cpu& cpu, const Op* op) {
  cpu.enter_wait(op->pc + op->size);
  return op;
}

/// Fills `op` (handler and operands) for one decoded instruction at `pc`.
/// Unassigned encodings and forms no handler accepts get op_undefined.
/// Returns true when the instruction must end its block.
bool predecode_instruction(const Decoded& d, uint32_t pc, Op* op);

/// The fused CMP+Bcond handler for a CMP handler, or nullptr when
/// `compare_handler` is not a CMP. The fused handler runs on the CMP's Op and
/// expects the Bcond Op right after it.
OpHandler fuse_compare_branch(OpHandler compare_handler);
/// True when `op` is a conditional branch (Bcond, condition 0..13) with
/// Op::a = condition and Op::imm = target.
bool is_conditional_branch(const Op& op);

/// Handler for encodings no table entry claims (and unsupported forms): UND.
const Op* op_undefined(Cpu& cpu, const Op* op);
/// Closes a block that did not end with a control transfer.
const Op* op_end_of_block(Cpu& cpu, const Op* op);

// ---- Operand access by width (8, 16, 32 bits). For 32 bits the register
// code is a pair code.
// kFastPair: the predecoder proved the pair code is 0..10, i.e. two plain
// 16-bit registers (no r12 half, no CFG.SR dependence).
template <unsigned kBits, bool kFastPair = false>
inline uint32_t get_reg(const Cpu& cpu, unsigned code) {
  const uint32_t* r = cpu.state().r;
  if constexpr (kBits == 8) return r[code] & 0xFFu;
  if constexpr (kBits == 16) return cpu.reg16(code);
  if constexpr (kBits == 32 && kFastPair) return r[code] | (r[code + 1] << 16);
  if constexpr (kBits == 32 && !kFastPair) return cpu.pair(code);
}

template <unsigned kBits, bool kFastPair = false>
inline void set_reg(Cpu& cpu, unsigned code, uint32_t value) {
  if constexpr (kBits == 8) cpu.set_reg8(code, value);
  if constexpr (kBits == 16) cpu.set_reg16(code, value);
  if constexpr (kBits == 32 && kFastPair) {
    uint32_t* r = cpu.state().r;
    r[code] = value & 0xFFFFu;
    r[code + 1] = value >> 16;
  }
  if constexpr (kBits == 32 && !kFastPair) cpu.set_pair(code, value);
}

/// True when the ALU form's register operands allow the kFastPair variant.
inline bool fast_pairs(const Op& op, bool immediate) {
  return op.a < 11 && (immediate || op.b < 11);
}

/// A data access of the instruction at `pc` (Cpu::access_pc() for devices).
template <unsigned kBits>
inline bool load(Cpu& cpu, uint32_t address, uint32_t* value, uint32_t pc) {
  if constexpr (kBits == 8) return cpu.read8(address, value, pc);
  if constexpr (kBits == 16) return cpu.read16(address, value, pc);
  if constexpr (kBits == 32) return cpu.read32(address, value, pc);
}

template <unsigned kBits>
inline bool store(Cpu& cpu, uint32_t address, uint32_t value, uint32_t pc) {
  if constexpr (kBits == 8) return cpu.write8(address, value, pc);
  if constexpr (kBits == 16) return cpu.write16(address, value, pc);
  if constexpr (kBits == 32) return cpu.write32(address, value, pc);
}

/// Width in bits of a b/w/d instruction (from the mnemonic's group).
enum class SourceKind : uint8_t { kImmediate, kRegister };

/// Source of a two-operand ALU instruction: Op::imm for immediates, register
/// Op::b otherwise. Destination is always register Op::a.
template <unsigned kBits, SourceKind kSource, bool kFastPair = false>
inline uint32_t source(const Cpu& cpu, const Op* op) {
  if constexpr (kSource == SourceKind::kImmediate) {
    return static_cast<uint32_t>(op->imm) & alu::mask<kBits>();
  } else {
    return get_reg<kBits, kFastPair>(cpu, op->b);
  }
}

/// Picks one of the four (source kind x fast pair) instances of a handler
/// template `Handler<kSource, kFast>`.
template <template <SourceKind, bool> class Handler>
inline OpHandler pick_form(bool immediate, bool fast) {
  if (immediate) {
    return fast ? &Handler<SourceKind::kImmediate, true>::run
                : &Handler<SourceKind::kImmediate, false>::run;
  }
  return fast ? &Handler<SourceKind::kRegister, true>::run
              : &Handler<SourceKind::kRegister, false>::run;
}

/// Fills op.a/op.b/op.imm for a "src, dest" ALU form and tells whether the
/// source is an immediate. Returns false when the operands are not of the
/// form (immediate or register, register).
bool two_operand_form(const Decoded& d, Op& op, bool* immediate);

/// Addressing mode of a memory operand, resolved at predecode time.
enum class AddressMode : uint8_t {
  kAbsolute,       // imm
  kRegisterBase,   // r[b] + imm
  kPairBase,       // pair(b) + imm
  kIndexAbsolute,  // r[c] (r12/r13) + imm
  kIndexPair,      // r[c] + pair(b) + imm
};

/// Resolves a memory operand into (mode, op.b, op.c, op.imm). Returns false
/// when `operand` is not a memory operand.
bool memory_operand(const isa::Operand& operand, AddressMode* mode, Op& op);

/// The shape of a loadb/loadw/loadd or storb/storw/stord: width, direction
/// and which operand is the memory one (the interpreter's handlers and the
/// JIT's native loads and stores decode it alike).
struct LoadStoreForm {
  unsigned bits = 0;
  bool is_load = false;
  const isa::Operand* memory = nullptr;
  const isa::Operand* data = nullptr;
};
/// False for any other instruction (or a malformed operand count).
bool load_store_form(const Decoded& d, LoadStoreForm* form);

template <AddressMode kMode>
inline uint32_t effective_address(const Cpu& cpu, const Op* op) {
  const uint32_t* r = cpu.state().r;
  const auto disp = static_cast<uint32_t>(op->imm);
  if constexpr (kMode == AddressMode::kAbsolute) return disp;
  if constexpr (kMode == AddressMode::kRegisterBase) return r[op->b] + disp;
  if constexpr (kMode == AddressMode::kPairBase) return cpu.pair(op->b) + disp;
  if constexpr (kMode == AddressMode::kIndexAbsolute) return r[op->c] + disp;
  if constexpr (kMode == AddressMode::kIndexPair) return r[op->c] + cpu.pair(op->b) + disp;
}

/// Picks Handler<kMode> for a runtime mode (used by the selectors).
template <template <AddressMode> class Family>
inline OpHandler by_mode(AddressMode mode) {
  switch (mode) {
    case AddressMode::kAbsolute:
      return &Family<AddressMode::kAbsolute>::run;
    case AddressMode::kRegisterBase:
      return &Family<AddressMode::kRegisterBase>::run;
    case AddressMode::kPairBase:
      return &Family<AddressMode::kPairBase>::run;
    case AddressMode::kIndexAbsolute:
      return &Family<AddressMode::kIndexAbsolute>::run;
    case AddressMode::kIndexPair:
      return &Family<AddressMode::kIndexPair>::run;
  }
  return nullptr;
}

/// Branch/jump target masking: PC is 24 bits, even.
inline constexpr uint32_t kPcMask = 0xFFFFFEu;

}  // namespace cr16::exec
