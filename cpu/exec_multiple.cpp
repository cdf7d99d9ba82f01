// LOADM/LOADMP and STORM/STORMP: move `count` words between memory and the
// registers r2, r3, r4, r5, r8, r9, r10, r11 (in that order). The pointer
// (LOADM: r0, LOADMP: (r1,r0), STORM: r1, STORMP: (r7,r6)) advances by two
// per word.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

constexpr uint8_t kRegisterOrder[8] = {2, 3, 4, 5, 8, 9, 10, 11};

enum class Pointer : uint8_t { kR0, kR1R0, kR1, kR7R6 };

uint32_t read_pointer(const Cpu& cpu, Pointer p) {
  switch (p) {
    case Pointer::kR0:
      return cpu.reg16(0);
    case Pointer::kR1R0:
      return cpu.pair(0);
    case Pointer::kR1:
      return cpu.reg16(1);
    case Pointer::kR7R6:
      return cpu.pair(6);
  }
  return 0;
}

void write_pointer(Cpu& cpu, Pointer p, uint32_t value) {
  switch (p) {
    case Pointer::kR0:
      cpu.set_reg16(0, value);
      break;
    case Pointer::kR1R0:
      cpu.set_pair(0, value);
      break;
    case Pointer::kR1:
      cpu.set_reg16(1, value);
      break;
    case Pointer::kR7R6:
      cpu.set_pair(6, value);
      break;
  }
}

template <Pointer kPointer>
const Op* load_multiple(Cpu& cpu, const Op* op) {
  const uint32_t count = static_cast<uint32_t>(op->imm);
  const uint32_t base = read_pointer(cpu, kPointer);
  uint32_t values[8];
  for (uint32_t i = 0; i < count; ++i) {
    if (!cpu.read16(base + 2 * i, &values[i], op->pc)) return fault_address(cpu, op);
  }
  for (uint32_t i = 0; i < count; ++i) cpu.set_reg16(kRegisterOrder[i], values[i]);
  write_pointer(cpu, kPointer, base + 2 * count);
  CR16_MUSTTAIL return next(cpu, op);
}

template <Pointer kPointer>
const Op* store_multiple(Cpu& cpu, const Op* op) {
  const uint32_t count = static_cast<uint32_t>(op->imm);
  const uint32_t base = read_pointer(cpu, kPointer);
  for (uint32_t i = 0; i < count; ++i) {
    if (!cpu.write16(base + 2 * i, cpu.reg16(kRegisterOrder[i]), op->pc))
      return fault_address(cpu, op);
  }
  write_pointer(cpu, kPointer, base + 2 * count);
  CR16_MUSTTAIL return after_store(cpu, op);
}

}  // namespace

bool select_multiple(const Decoded& d, Op& op) {
  switch (d.mnemonic) {
    case Mnemonic::kLoadm:
      op.handler = &load_multiple<Pointer::kR0>;
      break;
    case Mnemonic::kLoadmp:
      op.handler = &load_multiple<Pointer::kR1R0>;
      break;
    case Mnemonic::kStorm:
      op.handler = &store_multiple<Pointer::kR1>;
      break;
    case Mnemonic::kStormp:
      op.handler = &store_multiple<Pointer::kR7R6>;
      break;
    default:
      return false;
  }
  if (d.operand_count != 1) return false;
  const int32_t count = d.operands[0].value;
  if (count < 1 || count > 8) return false;
  op.imm = count;
  return true;
}

}  // namespace cr16::exec
