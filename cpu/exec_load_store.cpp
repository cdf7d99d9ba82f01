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

bool load_store_form(const Decoded& d, LoadStoreForm* form) {
  switch (d.mnemonic) {
    case Mnemonic::kLoadb:
    case Mnemonic::kStorb:
      form->bits = 8;
      break;
    case Mnemonic::kLoadw:
    case Mnemonic::kStorw:
      form->bits = 16;
      break;
    case Mnemonic::kLoadd:
    case Mnemonic::kStord:
      form->bits = 32;
      break;
    default:
      return false;
  }
  if (d.operand_count != 2) return false;
  form->is_load = d.mnemonic == Mnemonic::kLoadb || d.mnemonic == Mnemonic::kLoadw ||
                  d.mnemonic == Mnemonic::kLoadd;
  form->memory = &d.operands[form->is_load ? 0 : 1];
  form->data = &d.operands[form->is_load ? 1 : 0];
  return true;
}

bool select_load_store(const Decoded& d, Op& op) {
  LoadStoreForm form;
  if (!load_store_form(d, &form)) return false;
  const unsigned bits = form.bits;
  const bool is_load = form.is_load;
  const isa::Operand& memory = *form.memory;
  const isa::Operand& data = *form.data;
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
