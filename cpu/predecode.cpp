// Translation of guest code into predecoded blocks: fetch, decode once,
// pick the specialised handler for each instruction's exact form.
#include "cpu/cpu.h"
#include "cpu/exec.h"
#include "util/log.h"

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
  return cpu.continue_at(op - 1, op->pc);
}

namespace {

/// Chooses the handler; false when no group accepts the form (-> UND).
bool select_handler(const Decoded& d, Op& op) {
  return select_arith(d, op) || select_logic(d, op) || select_move(d, op) ||
         select_load_store(d, op) || select_branch(d, op) || select_shift(d, op) ||
         select_multiply(d, op) || select_bit(d, op) || select_stack(d, op) ||
         select_multiple(d, op) || select_processor(d, op) || select_misc(d, op);
}

/// Instructions after which the block must end: control transfers and
/// instructions that change PSR/CFG or the run state.
bool ends_block(Mnemonic m) {
  const auto v = static_cast<unsigned>(m);
  if (v >= static_cast<unsigned>(Mnemonic::kB) && v <= static_cast<unsigned>(Mnemonic::kJusr)) {
    return true;  // b, beq0/bne0, Jcond, jump, jusr
  }
  switch (m) {
    case Mnemonic::kBal:
    case Mnemonic::kJal:
    case Mnemonic::kPopret:
    case Mnemonic::kExcp:
    case Mnemonic::kRetx:
    case Mnemonic::kDi:
    case Mnemonic::kEi:
    case Mnemonic::kWait:
    case Mnemonic::kEiwait:
    case Mnemonic::kLpr:
    case Mnemonic::kLprd:
      return true;
    default:
      return false;
  }
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
  return ends_block(d.mnemonic);
}

}  // namespace exec

Block* Cpu::translate(BlockCache& cache, uint32_t pc) {
  Block* block = cache.begin(pc);
  block->first_page = pc >> kPageBits;
  block->last_page = block->first_page;
  uint32_t address = pc;
  size_t count = 0;
  bool ended = false;
  while (count < cache.block_instructions()) {
    if (count > 0 && (address >> kPageBits) != block->first_page) break;
    uint16_t words[3] = {0, 0, 0};
    if (!fetch_word(address, &words[0])) break;
    const bool have_second = fetch_word(address + 2, &words[1]);
    const bool have_third = have_second && fetch_word(address + 4, &words[2]);
    const isa::Decoded decoded = isa::decode(words[0], words[1], words[2]);
    const unsigned size_words = decoded.valid() ? decoded.size_words : 1;
    if ((size_words >= 2 && !have_second) || (size_words >= 3 && !have_third)) break;

    Op& op = block->ops[count];
    const bool ends = exec::predecode_instruction(decoded, address, &op);
    if (count > 0 && exec::is_conditional_branch(op)) {
      // Superinstruction: CMP followed by Bcond dispatches once.
      if (OpHandler fused = exec::fuse_compare_branch(block->ops[count - 1].handler)) {
        block->ops[count - 1].handler = fused;
      }
    }
    address += op.size;
    block->last_page = (address - 1) >> kPageBits;
    ++count;
    if (ends) {
      ended = true;
      break;
    }
  }
  if (count == 0) {
    // The first instruction cannot be fetched: IAD with the faulting PC.
    if (log_enabled(LogCategory::kGuestErrors)) {
      log_printf(LogCategory::kGuestErrors, "cpu: instruction fetch failed at 0x%06x", pc);
    }
    enter_exception(vector::kIad, pc, psr::kP | psr::kT | psr::kU);
    return nullptr;
  }
  size_t op_total = count;
  if (!ended) {
    Op& end = block->ops[count];
    end = Op{};
    end.handler = &exec::op_end_of_block;
    end.pc = address;
    ++op_total;
  }
  block->instruction_count = static_cast<uint32_t>(count);
  block->end_pc = address;
  bus_.watch_code_page(block->first_page);
  if (block->last_page != block->first_page) bus_.watch_code_page(block->last_page);
  cache.commit(block, op_total);
  if (log_enabled(LogCategory::kInAsm)) trace_translation(*block);
  return block;
}

}  // namespace cr16
