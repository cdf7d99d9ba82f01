// Control transfer: Bcond (disp8/16/24), BEQ0/BNE0, BAL, JAL, Jcond, JUMP,
// JUSR, and the flag-to-register Scond. Link registers receive the address
// of the next instruction shifted right by one (PRM BAL/JAL).
#include <array>
#include <utility>

#include "cpu/exec.h"

namespace cr16::exec {
namespace {

inline uint32_t next_pc(const Op* op) {
  return op->pc + op->size;
}

// Op::imm = absolute target, Op::a = condition code.
template <unsigned kCondition>
const Op* branch(Cpu& cpu, const Op* op) {
  set_pc(cpu, alu::condition(cpu.state().psr, kCondition) ? static_cast<uint32_t>(op->imm)
                                                          : next_pc(op));
  CR16_MUSTTAIL return chain(cpu, op);
}

const Op* branch_always(Cpu& cpu, const Op* op) {
  set_pc(cpu, static_cast<uint32_t>(op->imm));
  CR16_MUSTTAIL return chain(cpu, op);
}

// beq0/bne0: Op::b = register, Op::imm = target.
template <unsigned kBits, bool kIfZero>
const Op* branch_on_zero(Cpu& cpu, const Op* op) {
  const bool zero = (cpu.state().r[op->b] & alu::mask<kBits>()) == 0;
  set_pc(cpu, zero == kIfZero ? static_cast<uint32_t>(op->imm) : next_pc(op));
  CR16_MUSTTAIL return chain(cpu, op);
}

// bal: Op::a = link pair code, Op::imm = target.
const Op* branch_and_link(Cpu& cpu, const Op* op) {
  cpu.set_pair(op->a, next_pc(op) >> 1);
  set_pc(cpu, static_cast<uint32_t>(op->imm));
  CR16_MUSTTAIL return chain(cpu, op);
}

// jal: Op::a = link pair code, Op::b = target pair code.
const Op* jump_and_link(Cpu& cpu, const Op* op) {
  const uint32_t target = (cpu.pair(op->b) << 1) & kPcMask;
  cpu.set_pair(op->a, next_pc(op) >> 1);
  set_pc(cpu, target);
  CR16_MUSTTAIL return chain(cpu, op);
}

// Jcond / jump: Op::b = target pair code.
template <unsigned kCondition>
const Op* jump(Cpu& cpu, const Op* op) {
  set_pc(cpu, alu::condition(cpu.state().psr, kCondition) ? (cpu.pair(op->b) << 1) & kPcMask
                                                          : next_pc(op));
  CR16_MUSTTAIL return chain(cpu, op);
}

// jusr: jump and enter user mode.
const Op* jump_user(Cpu& cpu, const Op* op) {
  const uint32_t target = (cpu.pair(op->b) << 1) & kPcMask;
  cpu.set_psr(cpu.state().psr | psr::kU);
  return exit_to(cpu, op, target);
}

// Scond: Op::a = register.
template <unsigned kCondition>
const Op* set_on_condition(Cpu& cpu, const Op* op) {
  cpu.set_reg16(op->a, alu::condition(cpu.state().psr, kCondition) ? 1u : 0u);
  CR16_MUSTTAIL return next(cpu, op);
}

template <unsigned... kIndex>
constexpr std::array<OpHandler, 16> make_branches(std::integer_sequence<unsigned, kIndex...>) {
  return {&branch<kIndex>...};
}
template <unsigned... kIndex>
constexpr std::array<OpHandler, 16> make_jumps(std::integer_sequence<unsigned, kIndex...>) {
  return {&jump<kIndex>...};
}
template <unsigned... kIndex>
constexpr std::array<OpHandler, 16> make_sets(std::integer_sequence<unsigned, kIndex...>) {
  return {&set_on_condition<kIndex>...};
}

constexpr auto kBranches = make_branches(std::make_integer_sequence<unsigned, 16>());
constexpr auto kJumps = make_jumps(std::make_integer_sequence<unsigned, 16>());
constexpr auto kSets = make_sets(std::make_integer_sequence<unsigned, 16>());

uint32_t relative_target(const Op& op, int32_t displacement) {
  return (op.pc + static_cast<uint32_t>(displacement)) & kPcMask;
}

}  // namespace

bool is_conditional_branch(const Op& op) {
  for (unsigned condition = 0; condition < 14; ++condition) {
    if (op.handler == kBranches[condition]) return true;
  }
  return false;
}

bool select_branch(const Decoded& d, Op& op) {
  const auto m = static_cast<unsigned>(d.mnemonic);
  if (d.mnemonic == Mnemonic::kB) {
    if (d.operand_count != 2) return false;
    const unsigned condition = static_cast<unsigned>(d.operands[0].value) & 15u;
    op.a = static_cast<uint8_t>(condition);
    op.imm = static_cast<int32_t>(relative_target(op, d.operands[1].value));
    op.handler = condition >= 14 ? &branch_always : kBranches[condition];
    return true;
  }
  if (m >= static_cast<unsigned>(Mnemonic::kBeq0b) &&
      m <= static_cast<unsigned>(Mnemonic::kBne0w)) {
    if (d.operand_count != 2) return false;
    op.b = d.operands[0].reg;
    op.imm = static_cast<int32_t>(relative_target(op, d.operands[1].value));
    switch (d.mnemonic) {
      case Mnemonic::kBeq0b:
        op.handler = &branch_on_zero<8, true>;
        break;
      case Mnemonic::kBne0b:
        op.handler = &branch_on_zero<8, false>;
        break;
      case Mnemonic::kBeq0w:
        op.handler = &branch_on_zero<16, true>;
        break;
      default:
        op.handler = &branch_on_zero<16, false>;
        break;
    }
    return true;
  }
  if (d.mnemonic == Mnemonic::kBal) {
    if (d.operand_count != 2) return false;
    op.a = d.operands[0].type == OperandType::kRra ? kRegRa : d.operands[0].reg;
    op.imm = static_cast<int32_t>(relative_target(op, d.operands[1].value));
    op.handler = &branch_and_link;
    return true;
  }
  if (d.mnemonic == Mnemonic::kJal) {
    if (d.operand_count == 1) {
      op.a = kRegRa;
      op.b = d.operands[0].reg;
    } else if (d.operand_count == 2) {
      op.a = d.operands[0].reg;
      op.b = d.operands[1].reg;
    } else {
      return false;
    }
    op.handler = &jump_and_link;
    return true;
  }
  if (m >= static_cast<unsigned>(Mnemonic::kJeq) && m <= static_cast<unsigned>(Mnemonic::kJump)) {
    if (d.operand_count != 1) return false;
    op.b = d.operands[0].reg;
    op.handler = kJumps[m - static_cast<unsigned>(Mnemonic::kJeq)];
    return true;
  }
  if (d.mnemonic == Mnemonic::kJusr) {
    if (d.operand_count != 1) return false;
    op.b = d.operands[0].reg;
    op.handler = &jump_user;
    return true;
  }
  if (m >= static_cast<unsigned>(Mnemonic::kSeq) && m <= static_cast<unsigned>(Mnemonic::kSge)) {
    if (d.operand_count != 1) return false;
    op.a = d.operands[0].reg;
    op.handler = kSets[m - static_cast<unsigned>(Mnemonic::kSeq)];
    return true;
  }
  return false;
}

}  // namespace cr16::exec
