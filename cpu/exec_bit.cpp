// TBIT on a register, and CBIT/SBIT/TBIT on a byte or word in memory: PSR.F
// receives the bit's old value; CBIT clears it, SBIT sets it.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

enum class BitOp : uint8_t { kTest, kSet, kClear };

inline void set_flag(CpuState& s, bool bit) {
  s.psr = alu::update(s.psr, psr::kF, bit ? psr::kF : 0);
}

template <BitOp kOp, unsigned kBits>
struct MemoryBit {
  template <AddressMode kMode>
  struct Form {
    static const Op* run(Cpu& cpu, const Op* op) {
      const uint32_t address = effective_address<kMode>(cpu, op);
      uint32_t value;
      if (!load<kBits>(cpu, address, &value, op->pc)) [[unlikely]]
        return fault_address(cpu, op);
      const uint32_t bit = 1u << (op->imm2 & (kBits - 1));
      set_flag(cpu.state(), (value & bit) != 0);
      if constexpr (kOp == BitOp::kTest) {
        CR16_MUSTTAIL return next(cpu, op);
      } else {
        value = kOp == BitOp::kSet ? (value | bit) : (value & ~bit);
        if (!store<kBits>(cpu, address, value, op->pc)) [[unlikely]]
          return fault_address(cpu, op);
        CR16_MUSTTAIL return after_store(cpu, op);
      }
    }
  };
};

template <SourceKind kSource>
const Op* test_register_bit(Cpu& cpu, const Op* op) {
  const uint32_t position =
      (kSource == SourceKind::kImmediate ? static_cast<uint32_t>(op->imm) : cpu.state().r[op->b]) &
      15u;
  set_flag(cpu.state(), (cpu.reg16(op->a) >> position) & 1u);
  CR16_MUSTTAIL return next(cpu, op);
}

template <BitOp kOp>
OpHandler memory_handler(unsigned bits, AddressMode mode) {
  return bits == 8 ? by_mode<MemoryBit<kOp, 8>::template Form>(mode)
                   : by_mode<MemoryBit<kOp, 16>::template Form>(mode);
}

}  // namespace

bool select_bit(const Decoded& d, Op& op) {
  if (d.mnemonic == Mnemonic::kTbit) {
    bool immediate = false;
    if (!two_operand_form(d, op, &immediate)) return false;
    op.handler = immediate ? &test_register_bit<SourceKind::kImmediate>
                           : &test_register_bit<SourceKind::kRegister>;
    return true;
  }
  BitOp kind;
  unsigned bits;
  switch (d.mnemonic) {
    case Mnemonic::kTbitb:
      kind = BitOp::kTest;
      bits = 8;
      break;
    case Mnemonic::kSbitb:
      kind = BitOp::kSet;
      bits = 8;
      break;
    case Mnemonic::kCbitb:
      kind = BitOp::kClear;
      bits = 8;
      break;
    case Mnemonic::kTbitw:
      kind = BitOp::kTest;
      bits = 16;
      break;
    case Mnemonic::kSbitw:
      kind = BitOp::kSet;
      bits = 16;
      break;
    case Mnemonic::kCbitw:
      kind = BitOp::kClear;
      bits = 16;
      break;
    default:
      return false;
  }
  if (d.operand_count != 2) return false;
  AddressMode mode;
  if (!memory_operand(d.operands[1], &mode, op)) return false;
  op.imm2 = d.operands[0].value;
  op.handler = kind == BitOp::kTest  ? memory_handler<BitOp::kTest>(bits, mode)
               : kind == BitOp::kSet ? memory_handler<BitOp::kSet>(bits, mode)
                                     : memory_handler<BitOp::kClear>(bits, mode);
  return true;
}

}  // namespace cr16::exec
