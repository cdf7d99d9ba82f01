// EXCP, RETX, DI, EI, WAIT, EIWAIT, CINV and NOP. RETX, DI, EI, WAIT,
// EIWAIT and CINV are privileged: in user mode they raise UND.
#include "cpu/exec.h"

namespace cr16::exec {
namespace {

inline uint32_t next_pc(const Op* op) {
  return op->pc + op->size;
}

// excp vector: Op::a = vector. Only SVC, DVZ, FLG, BPT and UND exist.
const Op* exception_trap(Cpu& cpu, const Op* op) {
  switch (op->a) {
    case vector::kSvc:
      if (cpu.call_svc_hook(op)) return cpu.exit_to(op, next_pc(op));
      return cpu.trap(op, vector::kSvc);
    case vector::kDvz:
    case vector::kFlg:
    case vector::kBpt:
    case vector::kUnd:
      return cpu.trap(op, op->a);
    default:
      return cpu.trap(op, vector::kUnd);
  }
}

const Op* return_from_exception(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return cpu.trap(op, vector::kUnd);
  CpuState& s = cpu.state();
  uint32_t pc_half, saved_psr;
  if (!cpu.read32(s.isp, &pc_half) || !cpu.read16(s.isp + 4, &saved_psr)) {
    return cpu.fault_address(op);
  }
  s.isp = (s.isp + 6) & 0xFFFFFEu;
  cpu.set_psr(static_cast<uint16_t>(saved_psr));
  return cpu.exit_to(op, (pc_half << 1) & kPcMask);
}

template <bool kEnable>
const Op* set_interrupt_enable(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return cpu.trap(op, vector::kUnd);
  CpuState& s = cpu.state();
  s.psr = alu::update(s.psr, psr::kE, kEnable ? psr::kE : 0);
  return cpu.exit_to(op, next_pc(op));
}

template <bool kEnableFirst>
const Op* wait(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return cpu.trap(op, vector::kUnd);
  if (kEnableFirst) cpu.state().psr |= psr::kE;
  return cpu.enter_wait(op);
}

// cinv: the caches are not modelled; predecoded code is kept coherent by
// code-page write tracking instead.
const Op* cache_invalidate(Cpu& cpu, const Op* op) {
  if (cpu.user_mode()) return cpu.trap(op, vector::kUnd);
  return next(cpu, op);
}

const Op* no_operation(Cpu& cpu, const Op* op) {
  return next(cpu, op);
}

}  // namespace

const Op* op_undefined(Cpu& cpu, const Op* op) {
  return cpu.trap(op, vector::kUnd);
}

bool select_misc(const Decoded& d, Op& op) {
  switch (d.mnemonic) {
    case Mnemonic::kExcp:
      if (d.operand_count != 1) return false;
      op.a = static_cast<uint8_t>(d.operands[0].value & 15);
      op.handler = &exception_trap;
      return true;
    case Mnemonic::kRetx:
      op.handler = &return_from_exception;
      return true;
    case Mnemonic::kDi:
      op.handler = &set_interrupt_enable<false>;
      return true;
    case Mnemonic::kEi:
      op.handler = &set_interrupt_enable<true>;
      return true;
    case Mnemonic::kWait:
      op.handler = &wait<false>;
      return true;
    case Mnemonic::kEiwait:
      op.handler = &wait<true>;
      return true;
    case Mnemonic::kCinvI:
    case Mnemonic::kCinvIU:
    case Mnemonic::kCinvD:
    case Mnemonic::kCinvDU:
    case Mnemonic::kCinvDI:
    case Mnemonic::kCinvDIU:
      op.handler = &cache_invalidate;
      return true;
    case Mnemonic::kNop:
      op.handler = &no_operation;
      return true;
    default:
      return false;
  }
}

}  // namespace cr16::exec
