// LPR/LPRD (load processor register, privileged) and SPR/SPRD (store
// processor register). Codes per PRM: 0 DBS, 1 DSR, 2/3 DCR, 4/5 CAR0,
// 6/7 CAR1, 8 CFG, 9 PSR, 10/11 INTBASE, 12/13 ISP, 14/15 USP (odd = high
// half for the 16-bit forms).
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

constexpr uint32_t kEven24 = 0xFFFFFEu;
constexpr uint32_t kMask24 = 0xFFFFFFu;

void write_user_sp(Cpu& cpu, uint32_t value) {
  CpuState& s = cpu.state();
  if (s.psr & psr::kU) {
    s.r[kRegSp] = value;
  } else {
    s.banked_sp = value;
  }
}

/// Reads the 32-bit register behind a LPRD/SPRD code; false when undefined.
bool read_processor32(const Cpu& cpu, unsigned code, uint32_t* value) {
  const CpuState& s = cpu.state();
  switch (code) {
    case 0:
      *value = s.dbs;
      return true;
    case 1:
      *value = s.dsr;
      return true;
    case 2:
      *value = s.dcr;
      return true;
    case 4:
      *value = s.car0;
      return true;
    case 6:
      *value = s.car1;
      return true;
    case 8:
      *value = s.cfg;
      return true;
    case 9:
      *value = s.psr;
      return true;
    case 10:
      *value = s.intbase;
      return true;
    case 12:
      *value = s.isp;
      return true;
    case 14:
      *value = s.user_sp();
      return true;
    default:
      return false;
  }
}

bool write_processor32(Cpu& cpu, unsigned code, uint32_t value) {
  CpuState& s = cpu.state();
  switch (code) {
    case 0:
      s.dbs = static_cast<uint16_t>(value);
      return true;
    case 1:
      s.dsr = static_cast<uint16_t>(value);
      return true;
    case 2:
      s.dcr = value;
      return true;
    case 4:
      s.car0 = value & kMask24;
      return true;
    case 6:
      s.car1 = value & kMask24;
      return true;
    case 8:
      cpu.set_cfg(static_cast<uint16_t>(value));
      return true;
    case 9:
      cpu.set_psr(static_cast<uint16_t>(value));
      return true;
    case 10:
      s.intbase = value & kEven24;
      return true;
    case 12:
      s.isp = value & kEven24;
      return true;
    case 14:
      write_user_sp(cpu, value & kMask24);
      return true;
    default:
      return false;
  }
}

/// 16-bit view: even codes 2..14 are the low half, odd codes 3..15 the high half.
uint32_t read_processor16(const Cpu& cpu, unsigned code) {
  uint32_t value = 0;
  if (code <= 1 || code == 8 || code == 9) {
    read_processor32(cpu, code, &value);
    return value & 0xFFFFu;
  }
  read_processor32(cpu, code & ~1u, &value);
  return (code & 1u) ? (value >> 16) : (value & 0xFFFFu);
}

void write_processor16(Cpu& cpu, unsigned code, uint32_t value) {
  value &= 0xFFFFu;
  if (code <= 1 || code == 8 || code == 9) {
    write_processor32(cpu, code, value);
    return;
  }
  uint32_t old = 0;
  read_processor32(cpu, code & ~1u, &old);
  const uint32_t merged =
      (code & 1u) ? ((old & 0xFFFFu) | (value << 16)) : ((old & 0xFFFF0000u) | value);
  write_processor32(cpu, code & ~1u, merged);
}

// Op::a = processor register code, Op::b = general register / pair code.
const Op* load_processor16(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return trap(cpu, op, vector::kUnd);
  write_processor16(cpu, op->a, cpu.reg16(op->b));
  return exit_to(cpu, op, op->pc + op->size);
}

const Op* load_processor32(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return trap(cpu, op, vector::kUnd);
  if (!write_processor32(cpu, op->a, cpu.pair(op->b))) return trap(cpu, op, vector::kUnd);
  return exit_to(cpu, op, op->pc + op->size);
}

const Op* store_processor16(Cpu& cpu, const Op* op) {
  cpu.set_reg16(op->b, read_processor16(cpu, op->a));
  CR16_MUSTTAIL return next(cpu, op);
}

const Op* store_processor32(Cpu& cpu, const Op* op) {
  uint32_t value;
  if (!read_processor32(cpu, op->a, &value)) return trap(cpu, op, vector::kUnd);
  cpu.set_pair(op->b, value);
  CR16_MUSTTAIL return next(cpu, op);
}

}  // namespace

bool select_processor(const Decoded& d, Op& op) {
  if (d.operand_count != 2) {
    return false;
  }
  switch (d.mnemonic) {
    case Mnemonic::kLpr:
      op.b = d.operands[0].reg;
      op.a = d.operands[1].reg;
      op.handler = &load_processor16;
      return true;
    case Mnemonic::kLprd:
      op.b = d.operands[0].reg;
      op.a = d.operands[1].reg;
      op.handler = &load_processor32;
      return true;
    case Mnemonic::kSpr:
      op.a = d.operands[0].reg;
      op.b = d.operands[1].reg;
      op.handler = &store_processor16;
      return true;
    case Mnemonic::kSprd:
      op.a = d.operands[0].reg;
      op.b = d.operands[1].reg;
      op.handler = &store_processor32;
      return true;
    default:
      return false;
  }
}

}  // namespace cr16::exec
