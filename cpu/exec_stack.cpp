// PUSH, POP and POPRET: `count` words of consecutive registers starting at
// Rsrc (r0-r11 take one word, r12/r13/ra/sp two, the low word first), plus
// RA as a double word on top when requested. POPRET returns through RA.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

constexpr unsigned kLastRegister = 15;

// Op::imm = count of words, Op::a = first register, Op::b = 1 when RA too.
const Op* push(Cpu& cpu, const Op* op) {
  CpuState& s = cpu.state();
  const uint32_t count = static_cast<uint32_t>(op->imm);
  const uint32_t new_sp = s.r[kRegSp] - 2 * count - (op->b ? 4u : 0u);
  uint32_t address = new_sp;
  uint32_t remaining = count;
  for (unsigned reg = op->a; remaining > 0 && reg <= kLastRegister; ++reg) {
    if (reg < 12 || remaining == 1) {
      if (!cpu.write16(address, s.r[reg], op->pc)) return fault_address(cpu, op);
      address += 2;
      remaining -= 1;
    } else {
      if (!cpu.write32(address, s.r[reg], op->pc)) return fault_address(cpu, op);
      address += 4;
      remaining -= 2;
    }
  }
  if (op->b && !cpu.write32(new_sp + 2 * count, s.r[kRegRa], op->pc)) return fault_address(cpu, op);
  s.r[kRegSp] = new_sp;
  CR16_MUSTTAIL return after_store(cpu, op);
}

// Pops into the registers; returns false on a faulting read.
bool pop_registers(Cpu& cpu, const Op* op) {
  CpuState& s = cpu.state();
  const uint32_t count = static_cast<uint32_t>(op->imm);
  uint32_t address = s.r[kRegSp];
  uint32_t remaining = count;
  uint32_t values[16];
  bool loaded[16] = {};
  for (unsigned reg = op->a; remaining > 0 && reg <= kLastRegister; ++reg) {
    uint32_t value;
    if (reg < 12 || remaining == 1) {
      if (!cpu.read16(address, &value, op->pc)) return false;
      values[reg] = reg < 12 ? value : ((s.r[reg] & 0xFFFF0000u) | value);
      address += 2;
      remaining -= 1;
    } else {
      if (!cpu.read32(address, &value, op->pc)) return false;
      values[reg] = value;
      address += 4;
      remaining -= 2;
    }
    loaded[reg] = true;
  }
  uint32_t ra = s.r[kRegRa];
  const uint32_t ra_address = s.r[kRegSp] + 2 * count;
  if (op->b && !cpu.read32(ra_address, &ra, op->pc)) return false;
  // Commit only after every read succeeded (a faulting POP changes nothing).
  const uint32_t new_sp = s.r[kRegSp] + 2 * count + (op->b ? 4u : 0u);
  for (unsigned reg = 0; reg <= kLastRegister; ++reg) {
    if (loaded[reg]) s.r[reg] = values[reg];
  }
  if (op->b) s.r[kRegRa] = ra;
  if (!loaded[kRegSp]) s.r[kRegSp] = new_sp;
  return true;
}

const Op* pop(Cpu& cpu, const Op* op) {
  if (!pop_registers(cpu, op)) return fault_address(cpu, op);
  CR16_MUSTTAIL return next(cpu, op);
}

const Op* pop_return(Cpu& cpu, const Op* op) {
  if (!pop_registers(cpu, op)) return fault_address(cpu, op);
  return exit_to(cpu, op, (cpu.state().r[kRegRa] << 1) & kPcMask);
}

}  // namespace

bool select_stack(const Decoded& d, Op& op) {
  if (d.mnemonic != Mnemonic::kPush && d.mnemonic != Mnemonic::kPop &&
      d.mnemonic != Mnemonic::kPopret) {
    return false;
  }
  if (d.operand_count == 1) {  // "push RA" form: RA only
    op.imm = 0;
    op.a = 0;
    op.b = 1;
  } else if (d.operand_count == 2 || d.operand_count == 3) {
    op.imm = d.operands[0].value;
    op.a = d.operands[1].reg;
    // Word0 bit 7 is the RA flag (the table's later 8-bit-opcode entry wins
    // the match for both values of the bit).
    op.b = (d.operand_count == 3 || (d.words[0] & 0x80u) != 0) ? 1 : 0;
  } else {
    return false;
  }
  op.handler = d.mnemonic == Mnemonic::kPush  ? &push
               : d.mnemonic == Mnemonic::kPop ? &pop
                                              : &pop_return;
  return true;
}

}  // namespace cr16::exec
