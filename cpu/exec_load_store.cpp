// LOADB/LOADW/LOADD, STORB/STORW/STORD (register and 4-bit immediate
// sources) in every addressing mode. LOADB replaces the low byte only.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

template <unsigned kBits>
struct Load {
  template <AddressMode kMode>
  struct Form {
    static const Op* run(Cpu& cpu, const Op* op) {
      uint32_t value;
      if (!load<kBits>(cpu, effective_address<kMode>(cpu, op), &value, op->pc)) [[unlikely]] {
        return fault_address(cpu, op);
      }
      set_reg<kBits>(cpu, op->a, value);
      CR16_MUSTTAIL return next(cpu, op);
    }
  };
};

// Stores: register Op::a, or the immediate Op::imm2 when kImmediate.
template <unsigned kBits, bool kImmediate>
struct Store {
  template <AddressMode kMode>
  struct Form {
    static const Op* run(Cpu& cpu, const Op* op) {
      const uint32_t value =
          kImmediate ? static_cast<uint32_t>(op->imm2) : get_reg<kBits>(cpu, op->a);
      if (!store<kBits>(cpu, effective_address<kMode>(cpu, op), value, op->pc)) [[unlikely]] {
        return fault_address(cpu, op);
      }
      CR16_MUSTTAIL return after_store(cpu, op);
    }
  };
};

}  // namespace

bool select_load_store(const Decoded& d, Op& op) {
  unsigned bits;
  bool is_load;
  switch (d.mnemonic) {
    case Mnemonic::kLoadb:
      bits = 8;
      is_load = true;
      break;
    case Mnemonic::kLoadw:
      bits = 16;
      is_load = true;
      break;
    case Mnemonic::kLoadd:
      bits = 32;
      is_load = true;
      break;
    case Mnemonic::kStorb:
      bits = 8;
      is_load = false;
      break;
    case Mnemonic::kStorw:
      bits = 16;
      is_load = false;
      break;
    case Mnemonic::kStord:
      bits = 32;
      is_load = false;
      break;
    default:
      return false;
  }
  if (d.operand_count != 2) return false;
  const isa::Operand& memory = is_load ? d.operands[0] : d.operands[1];
  const isa::Operand& data = is_load ? d.operands[1] : d.operands[0];
  AddressMode mode;
  if (!memory_operand(memory, &mode, op)) return false;
  if (is_load) {
    op.a = data.reg;
    op.handler = bits == 8    ? by_mode<Load<8>::Form>(mode)
                 : bits == 16 ? by_mode<Load<16>::Form>(mode)
                              : by_mode<Load<32>::Form>(mode);
    return true;
  }
  if (data.type == OperandType::kRegr || data.type == OperandType::kRegp) {
    op.a = data.reg;
    op.handler = bits == 8    ? by_mode<Store<8, false>::Form>(mode)
                 : bits == 16 ? by_mode<Store<16, false>::Form>(mode)
                              : by_mode<Store<32, false>::Form>(mode);
    return true;
  }
  // Store of a 4-bit immediate (storb/storw $imm4, mem).
  op.imm2 = data.value;
  if (bits == 8) {
    op.handler = by_mode<Store<8, true>::Form>(mode);
  } else if (bits == 16) {
    op.handler = by_mode<Store<16, true>::Form>(mode);
  } else {
    return false;
  }
  return true;
}

}  // namespace cr16::exec
