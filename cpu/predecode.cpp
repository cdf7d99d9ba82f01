// Predecoding: pick the specialised handler for each instruction's exact
// form and pre-extract its operands (the interpreter's translate() calls it
// per instruction).
#include "cpu/exec.h"

namespace cr16 {
namespace exec {

bool two_operand_form(const Decoded& d, Op& op, bool* immediate) {
  if (d.operand_count != 2) return false;
  const isa::Operand& src = d.operands[0];
  const isa::Operand& dest = d.operands[1];
  if (dest.type != OperandType::kRegr && dest.type != OperandType::kRegp) return false;
  op.a = dest.reg;
  if (src.type == OperandType::kRegr || src.type == OperandType::kRegp) {
    op.b = src.reg;
    *immediate = false;
    return true;
  }
  if (isa::is_immediate(src.type)) {
    op.imm = src.value;
    *immediate = true;
    return true;
  }
  return false;
}

bool memory_operand(const isa::Operand& operand, AddressMode* mode, Op& op) {
  op.imm = operand.value;
  switch (operand.type) {
    case OperandType::kAbs20:
    case OperandType::kAbs24:
      *mode = AddressMode::kAbsolute;
      return true;
    case OperandType::kRbaseDisps20:
    case OperandType::kRbaseDispe20:
      *mode = AddressMode::kRegisterBase;
      op.b = operand.reg;
      return true;
    case OperandType::kRpbaseDisps0:
    case OperandType::kRpbaseDispe4:
    case OperandType::kRpbaseDisps4:
    case OperandType::kRpbaseDisps16:
    case OperandType::kRpbaseDisps20:
    case OperandType::kRpbaseDispe20:
      *mode = AddressMode::kPairBase;
      op.b = operand.reg;
      return true;
    case OperandType::kRindex7Abs20:
    case OperandType::kRindex8Abs20:
      *mode = AddressMode::kIndexAbsolute;
      op.c = static_cast<uint8_t>(kRegR12 + (operand.index & 1));
      return true;
    case OperandType::kRpindexDisps0:
    case OperandType::kRpindexDisps14:
    case OperandType::kRpindexDisps20:
      *mode = AddressMode::kIndexPair;
      op.b = operand.reg;
      op.c = static_cast<uint8_t>(kRegR12 + (operand.index & 1));
      return true;
    default:
      return false;
  }
}

const Op* op_end_of_block(Cpu& cpu, const Op* op) {
  cpu.state().pc = op->pc;
  CR16_MUSTTAIL return Interpreter::chain(cpu, op - 1);
}

namespace {

/// Chooses the handler; false when no group accepts the form (-> UND).
bool select_handler(const Decoded& d, Op& op) {
  return select_arith(d, op) || select_logic(d, op) || select_move(d, op) ||
         select_load_store(d, op) || select_branch(d, op) || select_shift(d, op) ||
         select_multiply(d, op) || select_bit(d, op) || select_stack(d, op) ||
         select_multiple(d, op) || select_processor(d, op) || select_misc(d, op);
}

}  // namespace

bool predecode_instruction(const Decoded& d, uint32_t pc, Op* op) {
  *op = Op{};
  op->pc = pc;
  op->size = static_cast<uint8_t>(2 * (d.valid() ? d.size_words : 1));
  op->entry = d.entry;
  for (unsigned i = 0; i < 3; ++i) op->words[i] = d.words[i];
  if (!d.valid() || !select_handler(d, *op)) {
    op->handler = &op_undefined;
    return true;
  }
  return isa::table()[d.entry].ends_block();
}

}  // namespace exec
}  // namespace cr16
